/**
 * A full garbage collection of this thread's heap. A ZT that detached a mount holds the mount's
 * memory (its SharedArrayBuffers: a pmemfs image) through objects nothing reaches any more, and a
 * ZT blocked on its relay allocates nothing, so V8 never collects them: the volume's memory would
 * stay until the server stops. V8 offers no collection without its flag, set here at first use
 * (it exposes `gc` to contexts made after it; the flag changes nothing else). node:v8 and node:vm
 * are loaded then too, not with the thread: loading them costs each server thread ~5 ms of CPU as it
 * starts.
 */
import { createRequire } from 'node:module';

let gc: (() => void) | undefined;

export function collectGarbage(): void {
  if (!gc) {
    const require = createRequire(import.meta.url);
    (require('node:v8') as typeof import('node:v8')).setFlagsFromString('--expose-gc');
    gc = (require('node:vm') as typeof import('node:vm')).runInNewContext('gc') as () => void;
  }
  gc();
}
