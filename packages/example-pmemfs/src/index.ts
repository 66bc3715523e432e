/**
 * @zufs/example-pmemfs: the reference persistent-memory filesystem of zufs. An image in one
 * SharedArrayBuffer (optionally backed by a file), shared by every thread that mounts it.
 */
export type { CheckOptions } from './check.js';
export { crc32c } from './crc32c.js';
export {
  type DeviceDescriptor,
  MAX_DEVICE_SIZE,
  type OpenFileOptions,
  PAGE_SIZE,
  PmemDevice,
  readImageInto,
} from './device.js';
export {
  DIR_POS_DOT,
  DIR_POS_DOTDOT,
  DIR_POS_END,
  MAX_DEPTH as DIR_MAX_DEPTH,
  type ReaddirEmit,
  type ReaddirRawEmit,
} from './dir.js';
export { MAX_FILE_SIZE } from './file.js';
export {
  type InodeAttr,
  type MountOptions,
  type MountReport,
  type Name,
  type NewInodeOptions,
  PmemFs,
  REMOVE_DIR,
  type SetattrIn,
} from './fs.js';
export {
  defaultHolderName,
  ImageBusyError,
  type ImageLock,
  imageHolder,
  type LockHolder,
  lockImage,
  readLockHolder,
} from './image-lock.js';
export { DIR_ENTRY_NOMINAL, nowNs } from './inode.js';
export { JOURNAL_MAGIC, MAX_JOURNALED_PAGES, type RecoveryResult } from './journal.js';
export { MAX_INODES, MIN_DEVICE_SIZE, type MkfsOptions, mkfs, planLayout } from './mkfs.js';
export { type FsckOptions, type FsckReport, fsck } from './repair.js';
export {
  BLOCK_SIZE,
  FORMAT_VERSION,
  type Geometry,
  INODE_SIZE,
  LABEL_MAX,
  PMEMFS_MAGIC,
  ROOT_INO,
} from './super.js';
export { SYMLINK_MAX } from './symlink.js';
export { XATTR_NAME_MAX, XATTR_SIZE_MAX } from './xattr.js';
/** The filesystem type module, to pass to startServer({ filesystems: [PMEMFS_TYPE] }). */
export const PMEMFS_TYPE: string = new URL('./fs-type.js', import.meta.url).href;
