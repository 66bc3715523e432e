/**
 * @zufs/fuse: a zufs filesystem mounted in the Linux kernel through /dev/fuse, in TypeScript: the FUSE
 * protocol (protocol.ts, codec.ts), the request handler on the inode-level client (handler.ts), the
 * kernel's lookup counts shared by the reader threads (lookups.ts) and the mount session (session.ts).
 * It depends on no filesystem and no server: the caller mounts one and hands it in.
 */

export type { FuseClient } from './client-types.js';
export * from './codec.js';
export {
  COUNTED_OPCODES,
  clampMaxWrite,
  countsByOp,
  FuseHandler,
  type FuseTransport,
  type HandlerOptions,
  type IdMap,
  replyBufferSize,
  requestBufferSize,
  requestCounters,
  sessionWords,
} from './handler.js';
export { LookupTable } from './lookups.js';
export * from './protocol.js';
export {
  abortConnection,
  type FuseMount,
  type FuseMountOptions,
  FuseUnavailableError,
  fuseUnavailable,
  type InlineServer,
  mountFuse,
  type ReaderData,
} from './session.js';
