// Counts the operations this thread dispatches while `fn` runs, by name (a test's view of how many
// round trips a call costs).
import type { ZufsMount } from '@zufs/vfs';
import { dispatcherFor } from '@zufs/zuf-core';
import { IocHdr, opName } from '@zufs/zuf-core/api';

export function opsDuring(fs: ZufsMount, fn: () => void): Record<string, number> {
  const ch = dispatcherFor(fs.root).acquire();
  const proto = Object.getPrototypeOf(ch);
  ch.release();
  const call = proto.call;
  const seen: Record<string, number> = {};
  proto.call = function (this: { op: DataView }, o: unknown) {
    const name = opName(this.op.getUint16(IocHdr.operation, true));
    seen[name] = (seen[name] ?? 0) + 1;
    return call.call(this, o);
  };
  try {
    fn();
  } finally {
    proto.call = call;
  }
  return seen;
}
