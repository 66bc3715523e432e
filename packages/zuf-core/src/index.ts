/**
 * @zufs/zuf-core: the app half of zufs (the zuf of ZUFS), its runtime: the zuf-root (shared memory
 * and state), dispatch over the ZT grid, the mount channel, shared buffer pools and shared-memory
 * locks. The binary contract (layouts, operation codes, errnos) is `@zufs/zuf-core/api`, and only
 * there: import it from that subpath.
 */
export { changeBegin, changeEnd, changeTicket, changeValid } from './change.js';
export {
  type CallOptions,
  Channel,
  Dispatcher,
  dispatcherFor,
  MAX_RETRIES,
  NOT_IN_FLIGHT,
  notifyChannelFreed,
  type OverflowHandler,
} from './dispatch.js';
export { isZufsError, ZufsError } from './errors.js';
export { InodeGens, type InodeGensDescriptor } from './inode-gens.js';
export { LockTimeoutError, SharedMutex, SharedRwLock, SharedSeqlock } from './locks.js';
export {
  APP_OFFER_OPTION,
  type AppCacheOffer,
  fsTypes,
  type MountInfo,
  mountFs,
  remountFs,
  umountFs,
} from './mount.js';
export { POOL_PAGE, type PoolDescriptor, SharedPool } from './pools.js';
export { publishFsTypes, type RegisteredFsType, readFsInfo } from './registry.js';
export * from './root-layout.js';
export { attachZufRoot, createInlineSlot, inlineSlotRelay, Slot, ZufRoot } from './root-view.js';
export { copyShared, MEMCPY_MIN, SharedBytes, zeroShared } from './shared-bytes.js';
