/**
 * @zufs/zus-server: the server half of zufs (the zus of ZUFS). startServer() runs a supervisor, a
 * mount thread and a grid of ZT worker threads; filesystem types are ES modules (the plugin API).
 */
// What a plugin needs of zuf-core besides its layouts (@zufs/zuf-core/api): errors, locks and the
// copies into shared memory, so a plugin imports this package and the api only.
export {
  copyShared,
  InodeGens,
  type InodeGensDescriptor,
  isZufsError as isZusError,
  LockTimeoutError,
  SharedBytes,
  SharedMutex,
  SharedRwLock,
  SharedSeqlock,
  ZufsError as ZusError,
  zeroShared,
} from '@zufs/zuf-core';
export { Errno } from '@zufs/zuf-core/api';
export { iiCookie, iiIno, iiSb } from './cookies.js';
export { type InlineZt, type InlineZtOptions, serveInline } from './inline-zt.js';
export type {
  AppCopyResult,
  AttachContext,
  FsType,
  MountRequest,
  MountResult,
  OpContext,
  RestartInfo,
  SuperBlock,
  ZName,
  ZPath,
} from './plugin.js';
export { defineFsType } from './plugin.js';
export { type ServerOptions, type ServerRestart, startServer, type ZusServer } from './server.js';
