/**
 * @zufs/fuse: a zufs filesystem mounted in the Linux kernel through /dev/fuse, in TypeScript: the FUSE
 * protocol (protocol.ts, codec.ts), the request handler on the inode-level client (handler.ts), the
 * kernel's lookup counts shared by the reader threads (lookups.ts), the mount session (session.ts) and
 * a pmemfs image mounted end to end (image-mount.ts).
 */

export type { FuseClient } from './client-types.js';
export * from './codec.js';
export {
  clampMaxWrite,
  FuseHandler,
  type FuseTransport,
  type HandlerOptions,
  type IdMap,
  replyBufferSize,
  requestBufferSize,
  sessionWords,
} from './handler.js';
export { type ImageMount, type ImageMountOptions, mountImage } from './image-mount.js';
export { LookupTable } from './lookups.js';
export * from './protocol.js';
export {
  type FuseMount,
  type FuseMountOptions,
  FuseUnavailableError,
  fuseUnavailable,
  mountFuse,
  type ReaderData,
} from './session.js';
