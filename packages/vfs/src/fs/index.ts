export { Dir } from './dir.js';
export { type FsError, systemError, uvError } from './errors.js';
export { FdTable, type OpenCounter, type OpenFile, parseFlags } from './fds.js';
export { FileHandle } from './file-handle.js';
export { makeFs, type ZufsFs } from './forms.js';
export {
  attachMount,
  type MountDescriptor,
  type MountOptions,
  mount,
  mountOpenCounts,
  NS_ADD,
  NS_GEN,
  type ZufsMount,
} from './mount.js';
export { OpenCounts, openCountsBytes } from './open-counts.js';
export { type Cred, Resolver } from './paths.js';
export { modeAfterKillPriv } from './permissions.js';
export { BigIntStats, Dirent, Stats } from './stats.js';
export { type Volume, ZufsSync } from './sync.js';
