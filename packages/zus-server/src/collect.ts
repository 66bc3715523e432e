/**
 * A full garbage collection of this thread's heap. A ZT that detached a mount holds the mount's
 * memory (its SharedArrayBuffers: a pmemfs image) through objects nothing reaches any more, and a
 * ZT blocked on its relay allocates nothing, so V8 never collects them: the volume's memory would
 * stay until the server stops. V8 offers no collection without its flag, set here at first use
 * (it exposes `gc` to contexts made after it; the flag changes nothing else).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}
