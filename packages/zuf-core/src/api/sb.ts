/**
 * Superblock operations: ZUFS_OP_STATFS (with Linux's struct statfs64, 64-bit) and
 * ZUFS_OP_SHOW_OPTIONS.
 */
import { IocHdrLayout } from './hdr.js';
import { defineStruct, field } from './layout.js';

/** struct statfs64 as 64-bit Linux lays it out (the "word" fields are 8 bytes). */
export const Statfs64Layout = defineStruct('statfs64', [
  /*   0 */ field.u64('f_type'), //      the filesystem's magic
  /*   8 */ field.u64('f_bsize'),
  /*  16 */ field.u64('f_blocks'),
  /*  24 */ field.u64('f_bfree'),
  /*  32 */ field.u64('f_bavail'),
  /*  40 */ field.u64('f_files'),
  /*  48 */ field.u64('f_ffree'),
  /*  56 */ field.array('f_fsid', 's32', 2),
  /*  64 */ field.u64('f_namelen'),
  /*  72 */ field.u64('f_frsize'),
  /*  80 */ field.u64('f_flags'),
  /*  88 */ field.array('f_spare', 'u64', 4),
]); /* 120 */
export const Statfs64 = Statfs64Layout.off;

/**
 * What statfs says, as numbers, with statfs64's names less their `f_` (f_fsid and the spares left
 * out). The one statfs type of every package: a plugin's SuperBlock.statfs fills one in place, the
 * inode-level client returns one, the kernel bridge encodes one.
 */
export interface Statfs {
  /** The filesystem's magic. */
  type: number;
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  namelen: number;
  frsize: number;
  flags: number;
}

/** ZUFS_OP_STATFS */
export const IocStatfsLayout = defineStruct('zufs_ioc_statfs', [
  /*  0 */ field.struct('hdr', IocHdrLayout),
  /* 24 */ field.cookie('zus_sbi'), //                 IN
  /* 32 */ field.struct('statfs_out', Statfs64Layout), // OUT
]); /* 152 */
export const IocStatfs = IocStatfsLayout.off;

/** ZUFS_OP_SHOW_OPTIONS: the reply is the mount options as text, at most ZUFS_MO_MAX bytes, at `buf`. */
export const IocMountOptionsLayout = defineStruct('zufs_ioc_mount_options', [
  /*  0 */ field.struct('hdr', IocHdrLayout),
  /* 24 */ field.cookie('zus_sbi'), // IN
  /* 32 */ field.mark('buf'), //        OUT
]); /* 32 */
export const IocMountOptions = IocMountOptionsLayout.off;
