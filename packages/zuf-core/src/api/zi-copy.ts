/**
 * Attributes travel with the reply (see docs/decisions.md): every reply that names an inode carries
 * a 128-byte zus_inode copy right after the operation's struct. These are the byte offsets of that
 * copy in the operation buffer.
 */
import { IocAttr } from './attr.js';
import { IocDentry, IocLookup, IocNewInode } from './dentry.js';
import { ZUFS_INODE_SIZE } from './inode.js';

export const ZI_COPY = Object.freeze({
  /** LOOKUP */
  LOOKUP: IocLookup.SIZE,
  /** NEW_INODE */
  NEW_INODE: IocNewInode.SIZE,
  /** ADD_DENTRY, REMOVE_DENTRY */
  DENTRY: IocDentry.SIZE,
  /** SETATTR: carries the new values in and the result out */
  SETATTR: IocAttr.SIZE,
  /**
   * SETATTR, OUT: after the copy, the dpp of the zus_inode in pmem (0: not there), as LOOKUP's `_zi`:
   * an app thread that never looked the inode up (another FUSE reader) learns where to read it.
   */
  SETATTR_ZI: IocAttr.SIZE + ZUFS_INODE_SIZE,
  /** The length of a SETATTR request and reply: struct, copy, dpp. */
  SETATTR_END: IocAttr.SIZE + ZUFS_INODE_SIZE + 8,
});
