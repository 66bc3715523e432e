/**
 * ZUFS_OP_SETATTR: the app side has already written the new values into the zus_inode; `zuf_attr`
 * says which changed (STATX_* bits, as Linux's statx(2) numbers them, plus two of ZUFS's own).
 */
import { IocHdrLayout } from './hdr.js';
import { defineStruct, field } from './layout.js';

export const STATX_TYPE = 0x1;
export const STATX_MODE = 0x2;
export const STATX_NLINK = 0x4;
export const STATX_UID = 0x8;
export const STATX_GID = 0x10;
export const STATX_ATIME = 0x20;
export const STATX_MTIME = 0x40;
export const STATX_CTIME = 0x80;
export const STATX_INO = 0x100;
export const STATX_SIZE = 0x200;
export const STATX_BLOCKS = 0x400;
export const STATX_BASIC_STATS = 0x7ff;
export const STATX_BTIME = 0x800;
/** i_flags changed (chattr). */
export const ZUFS_STATX_FLAGS = 0x20000000;
/** i_generation changed. */
export const ZUFS_STATX_VERSION = 0x40000000;

export const IocAttrLayout = defineStruct('zufs_ioc_attr', [
  /*  0 */ field.struct('hdr', IocHdrLayout),
  /* 24 */ field.cookie('zus_ii'),
  /* 32 */ field.u32('zuf_attr'), // STATX_* | ZUFS_STATX_*
  /* 36 */ field.u32('pad'),
]); /* 40 */
export const IocAttr = IocAttrLayout.off;
