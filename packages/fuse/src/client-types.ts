/**
 * What the handler needs of the inode-level client (@zufs/vfs's InodeClient has all of it). A
 * structural type, so tests can hand the handler a client that fails in ways a server would not.
 */
import type { InodeClient } from '@zufs/vfs';

export { type InodeAttr, type LookupResult, modeAfterKillPriv, newAttr, type SetAttr } from '@zufs/vfs';
export { isZufsError } from '@zufs/zuf-core';
export {
  Errno,
  S_IFDIR,
  S_IFMT,
  S_ISGID,
  S_ISUID,
  STATX_ATIME,
  STATX_CTIME,
  STATX_GID,
  STATX_MODE,
  STATX_MTIME,
  STATX_SIZE,
  STATX_UID,
} from '@zufs/zuf-core/api';

export type FuseClient = Pick<
  InodeClient,
  | 'rootIi'
  | 'find'
  | 'lookup'
  | 'getattr'
  | 'setattr'
  | 'truncate'
  | 'create'
  | 'mkdir'
  | 'mknod'
  | 'symlink'
  | 'link'
  | 'unlink'
  | 'rmdir'
  | 'rename'
  | 'release'
  | 'readdir'
  | 'read'
  | 'write'
  | 'fallocate'
  | 'fsync'
  | 'seek'
  | 'clone'
  | 'readlink'
  | 'getxattr'
  | 'setxattr'
  | 'removexattr'
  | 'listxattr'
  | 'statfs'
  | 'rollbacks'
>;
