/**
 * The operations a ZT serves (zufs_ioc_hdr.operation), and the struct each one's buffer holds.
 * Numbers are zus_api.h's (gaps included: 18 and 26 are unused).
 */
import { IocAttrLayout } from './attr.js';
import {
  IocDentryLayout,
  IocEvictInodeLayout,
  IocLookupLayout,
  IocLookupPathLayout,
  IocNewInodeLayout,
  IocRenameLayout,
} from './dentry.js';
import { IocFiemapLayout } from './fiemap.js';
import { IocHdrLayout } from './hdr.js';
import { IocCloneLayout, IocIOLayout, IocMmapCloseLayout, IocSeekLayout, IocSyncLayout } from './io.js';
import { IocIoctlLayout } from './ioctl.js';
import type { Layout } from './layout.js';
import { IocReaddirLayout } from './readdir.js';
import { IocMountOptionsLayout, IocStatfsLayout } from './sb.js';
import { IocXattrLayout } from './xattr.js';

export const ZUFS_OP_NULL = 0;
/** The app side tells a ZT to exit. */
export const ZUFS_OP_BREAK = 1;
export const ZUFS_OP_STATFS = 2;
export const ZUFS_OP_SHOW_OPTIONS = 3;
export const ZUFS_OP_NEW_INODE = 4;
export const ZUFS_OP_FREE_INODE = 5;
export const ZUFS_OP_EVICT_INODE = 6;
export const ZUFS_OP_LOOKUP = 7;
export const ZUFS_OP_ADD_DENTRY = 8;
export const ZUFS_OP_REMOVE_DENTRY = 9;
export const ZUFS_OP_RENAME = 10;
export const ZUFS_OP_READDIR = 11;
export const ZUFS_OP_CLONE = 12;
export const ZUFS_OP_COPY = 13;
export const ZUFS_OP_READ = 14;
export const ZUFS_OP_PRE_READ = 15;
export const ZUFS_OP_WRITE = 16;
export const ZUFS_OP_MMAP_CLOSE = 17;
export const ZUFS_OP_SETATTR = 19;
export const ZUFS_OP_SYNC = 20;
export const ZUFS_OP_FALLOCATE = 21;
export const ZUFS_OP_LLSEEK = 22;
export const ZUFS_OP_IOCTL = 23;
export const ZUFS_OP_XATTR_GET = 24;
export const ZUFS_OP_XATTR_SET = 25;
export const ZUFS_OP_XATTR_LIST = 27;
export const ZUFS_OP_FIEMAP = 28;
export const ZUFS_OP_GET_MULTY = 29;
export const ZUFS_OP_PUT_MULTY = 30;
export const ZUFS_OP_NOOP = 31;
/** zufs's own: a path's names in one operation (dentry.ts); only to a mount with ZUFS_FSC_LOOKUP_PATH. */
export const ZUFS_OP_LOOKUP_PATH = 32;
/** One past the highest operation. */
export const ZUFS_OP_MAX_OPT = 33;

/** name -> number of every ZUFS_OP_* (without MAX_OPT). */
export const ZUFS_OPS = Object.freeze({
  ZUFS_OP_NULL,
  ZUFS_OP_BREAK,
  ZUFS_OP_STATFS,
  ZUFS_OP_SHOW_OPTIONS,
  ZUFS_OP_NEW_INODE,
  ZUFS_OP_FREE_INODE,
  ZUFS_OP_EVICT_INODE,
  ZUFS_OP_LOOKUP,
  ZUFS_OP_ADD_DENTRY,
  ZUFS_OP_REMOVE_DENTRY,
  ZUFS_OP_RENAME,
  ZUFS_OP_READDIR,
  ZUFS_OP_CLONE,
  ZUFS_OP_COPY,
  ZUFS_OP_READ,
  ZUFS_OP_PRE_READ,
  ZUFS_OP_WRITE,
  ZUFS_OP_MMAP_CLOSE,
  ZUFS_OP_SETATTR,
  ZUFS_OP_SYNC,
  ZUFS_OP_FALLOCATE,
  ZUFS_OP_LLSEEK,
  ZUFS_OP_IOCTL,
  ZUFS_OP_XATTR_GET,
  ZUFS_OP_XATTR_SET,
  ZUFS_OP_XATTR_LIST,
  ZUFS_OP_FIEMAP,
  ZUFS_OP_GET_MULTY,
  ZUFS_OP_PUT_MULTY,
  ZUFS_OP_NOOP,
  ZUFS_OP_LOOKUP_PATH,
});

const OP_NAMES: string[] = [];
for (const [name, op] of Object.entries(ZUFS_OPS)) OP_NAMES[op] = name;

/** 'ZUFS_OP_LOOKUP' for 7; 'ZUFS_OP_UNKNOWN(n)' for a number that is no operation. */
export function opName(op: number): string {
  return OP_NAMES[op] ?? `ZUFS_OP_UNKNOWN(${op})`;
}

/** The struct each operation's buffer holds (the header alone for NULL, BREAK and NOOP). */
export const ZUFS_OP_LAYOUT: Readonly<Record<number, Layout>> = Object.freeze({
  [ZUFS_OP_NULL]: IocHdrLayout,
  [ZUFS_OP_BREAK]: IocHdrLayout,
  [ZUFS_OP_STATFS]: IocStatfsLayout,
  [ZUFS_OP_SHOW_OPTIONS]: IocMountOptionsLayout,
  [ZUFS_OP_NEW_INODE]: IocNewInodeLayout,
  [ZUFS_OP_FREE_INODE]: IocEvictInodeLayout,
  [ZUFS_OP_EVICT_INODE]: IocEvictInodeLayout,
  [ZUFS_OP_LOOKUP]: IocLookupLayout,
  [ZUFS_OP_ADD_DENTRY]: IocDentryLayout,
  [ZUFS_OP_REMOVE_DENTRY]: IocDentryLayout,
  [ZUFS_OP_RENAME]: IocRenameLayout,
  [ZUFS_OP_READDIR]: IocReaddirLayout,
  [ZUFS_OP_CLONE]: IocCloneLayout,
  [ZUFS_OP_COPY]: IocCloneLayout,
  [ZUFS_OP_READ]: IocIOLayout,
  [ZUFS_OP_PRE_READ]: IocIOLayout,
  [ZUFS_OP_WRITE]: IocIOLayout,
  [ZUFS_OP_MMAP_CLOSE]: IocMmapCloseLayout,
  [ZUFS_OP_SETATTR]: IocAttrLayout,
  [ZUFS_OP_SYNC]: IocSyncLayout,
  [ZUFS_OP_FALLOCATE]: IocIOLayout,
  [ZUFS_OP_LLSEEK]: IocSeekLayout,
  [ZUFS_OP_IOCTL]: IocIoctlLayout,
  [ZUFS_OP_XATTR_GET]: IocXattrLayout,
  [ZUFS_OP_XATTR_SET]: IocXattrLayout,
  [ZUFS_OP_XATTR_LIST]: IocXattrLayout,
  [ZUFS_OP_FIEMAP]: IocFiemapLayout,
  [ZUFS_OP_GET_MULTY]: IocIOLayout,
  [ZUFS_OP_PUT_MULTY]: IocIOLayout,
  [ZUFS_OP_NOOP]: IocHdrLayout,
  [ZUFS_OP_LOOKUP_PATH]: IocLookupPathLayout,
});
