/**
 * Data operations: ZUFS_OP_READ, PRE_READ, WRITE, FALLOCATE, GET_MULTY, PUT_MULTY (struct
 * zufs_ioc_IO and its io-map), MMAP_CLOSE, SYNC, CLONE / COPY and LLSEEK; and the tail area of the
 * operation buffer where a piggy-backed request rides (ZUFS_H_HAS_PIGY_PUT).
 */
import { dppBn, encodeDppBn } from './dpp.js';
import { IocHdr, IocHdrLayout } from './hdr.js';
import { defineStruct, field, setU64 } from './layout.js';

// ~~~ zufs_ioc_IO.rw ~~~
export const ZUFS_RW_WRITE = 1 << 0;
export const ZUFS_RW_MMAP = 1 << 1;
/** The app said fadvise(RANDOM). */
export const ZUFS_RW_RAND = 1 << 4;
/** First of the bits that mirror the kernel's IOCB_* flags. */
export const ZUFS_RW_KERN = 8;
export const ZUFS_RW_EVENTFD = 1 << (ZUFS_RW_KERN + 0);
export const ZUFS_RW_APPEND = 1 << (ZUFS_RW_KERN + 1);
export const ZUFS_RW_DIRECT = 1 << (ZUFS_RW_KERN + 2);
export const ZUFS_RW_HIPRI = 1 << (ZUFS_RW_KERN + 3);
export const ZUFS_RW_DSYNC = 1 << (ZUFS_RW_KERN + 4);
export const ZUFS_RW_SYNC = 1 << (ZUFS_RW_KERN + 5);
export const ZUFS_RW_NOWAIT = 1 << (ZUFS_RW_KERN + 7);
export const ZUFS_RW_LAST_USED_BIT = ZUFS_RW_KERN + 7;
/**
 * Ours (a bit zus_api.h leaves free): WRITE whose data the app copies itself, straight into the
 * filesystem's shared pmem. The request carries no data; the filesystem allocates under its lock,
 * and the ZT hands the app the runs to fill in a mid-operation reply (ZUFS_RET_APP_COPY), waits for
 * it to post again, then finishes. Only for a filesystem that says it can (SuperBlock.appCopy).
 */
export const ZUFS_RW_APP_COPY = 1 << (ZUFS_RW_KERN + 8);
/** The top 8 bits of the low word are the filesystem's own. */
export const ZUFS_RW_USER_BITS = 0xff000000;
export const ZUFS_RW_USER = 1 << 24;

// ~~~ zufs_ioc_IO.ret_flags ~~~
export const ZUFS_RET_RESERVED = 0x1;
/** WRITE allocated a new block. */
export const ZUFS_RET_NEW = 0x2;
/** The io-map holds pmem block numbers (IOM_T1_READ entries). */
export const ZUFS_RET_IOM_ALL_PMEM = 0x4;
/** GET_MULTY: send the PUT_MULTY now, do not piggy-back it. */
export const ZUFS_RET_PUT_NOW = 0x8;
/** Like PUT_NOW, and the PUT must go on a channel of its own (the GET took a lock). */
export const ZUFS_RET_LOCKED_PUT = 0x10;
/**
 * Ours: a mid-operation reply to a ZUFS_RW_APP_COPY WRITE. The window holds `last_pos` runs, each
 * three float64s (pmem byte offset, offset in the app's data, length); IocIO.cookie's low word is
 * the APP_COPY_* state, moved with Atomics.
 */
export const ZUFS_RET_APP_COPY = 0x20;
/** The ZT asked for the copy and waits. */
export const APP_COPY_REQUESTED = 1;
/** The app took it (CAS from REQUESTED): the ZT waits until it posts. */
export const APP_COPY_COPYING = 2;
/** The app copied every run (CAS from COPYING; it posts right after). */
export const APP_COPY_DONE = 3;
/**
 * The ZT stopped waiting: before the app began (CAS from REQUESTED: the app must not copy), or
 * while it copied and then went silent (CAS from COPYING: the app does not post, it takes the
 * final reply; its copy may land later, so the filesystem keeps those bytes from anyone else).
 */
export const APP_COPY_ABANDONED = 4;
/** Bytes of one run in the window. */
export const APP_COPY_RUN_BYTES = 24;

// ~~~ ZUFS_OP_FALLOCATE modes (zufs_ioc_IO.rw), as Linux's fallocate(2) ~~~
export const FALLOC_FL_KEEP_SIZE = 0x01;
export const FALLOC_FL_PUNCH_HOLE = 0x02;
export const FALLOC_FL_NO_HIDE_STALE = 0x04;
export const FALLOC_FL_COLLAPSE_RANGE = 0x08;
export const FALLOC_FL_ZERO_RANGE = 0x10;
export const FALLOC_FL_INSERT_RANGE = 0x20;
export const FALLOC_FL_UNSHARE_RANGE = 0x40;
/** ZUFS's own mode: truncate (set i_size to `filepos`, free what is past it); last_pos is all ones. */
export const ZUFS_FL_TRUNCATE = 0x80000000;

// ~~~ io-map: what GET_MULTY answers (and PUT_MULTY gives back) ~~~
// Each entry starts with a u64: the type in its top 8 bits, a value in its low 56 bits.
export const IOM_NONE = 0;
export const IOM_T1_WRITE = 1;
export const IOM_T1_READ = 2;
export const IOM_T2_WRITE = 3;
export const IOM_T2_READ = 4;
export const IOM_T2_WRITE_LEN = 5;
export const IOM_T2_READ_LEN = 6;
export const IOM_T2_ZUSMEM_WRITE = 7;
export const IOM_T2_ZUSMEM_READ = 8;
export const IOM_UNMAP = 9;
export const IOM_WBINV = 10;
export const IOM_REPEAT = 11;
export const IOM_NUM_LEGAL_OPT = 12;
export const ZUFS_IOM_VAL_BITS = 56;

/** IOM_T1_WRITE / IOM_T1_READ: a "bn" dpp (block << 3 | pool). */
export const ZufsIomT1IoLayout = defineStruct('zufs_iom_t1_io', [/* 0 */ field.u64('t1_val')]); /* 8 */

/** IOM_T2_WRITE / IOM_T2_READ */
export const ZufsIomT2IoLayout = defineStruct('zufs_iom_t2_io', [
  /* 0 */ field.u64('t2_val'),
  /* 8 */ field.dpp('t1_val'),
]); /* 16 */

/** IOM_T2_WRITE_LEN / IOM_T2_READ_LEN */
export const ZufsIomT2IoLenLayout = defineStruct('zufs_iom_t2_io_len', [
  /*  0 */ field.struct('iom', ZufsIomT2IoLayout),
  /* 16 */ field.u64('num_pages'),
]); /* 24 */

/** IOM_T2_ZUSMEM_WRITE / IOM_T2_ZUSMEM_READ */
export const ZufsIomT2ZusmemIoLayout = defineStruct('zufs_iom_t2_zusmem_io', [
  /*  0 */ field.u64('t2_val'),
  /*  8 */ field.u64('zus_mem_ptr'),
  /* 16 */ field.u64('len'),
]); /* 24 */

/** IOM_UNMAP: drop mappings of pages of an inode. */
export const ZufsIomUnmapLayout = defineStruct('zufs_iom_unmap', [
  /*  0 */ field.u64('unmap_index'), // first page
  /*  8 */ field.u64('unmap_n'), //     pages (0: to the end)
  /* 16 */ field.u64('ino'),
]); /* 24 */

/** io-map entries (u64s) a zufs_ioc_IO carries in place: an unmap and a T2 IO, plus 8. */
export const ZUFS_WRITE_OP_SPACE = (ZufsIomUnmapLayout.SIZE + ZufsIomT2IoLayout.SIZE) / 8 + 8;

export const ZufsIomapLayout = defineStruct('zufs_iomap', [
  /*  0 */ field.cookie('iomb'), //   the server's cookie for the io-map
  /*  8 */ field.u32('iom_max'), //   u64 entries there is room for
  /* 12 */ field.u32('iom_n'), //     u64 entries used
  /* 16 */ field.mark('iom_e', 8),
]); /* 16 */
export const ZufsIomap = ZufsIomapLayout.off;

const ZufsRaLayout = defineStruct('__zufs_ra', [
  /*  0 */ field.u64('start'),
  /*  8 */ field.u64('prev_pos'),
  /* 16 */ field.u32('ra_pages'),
  /* 20 */ field.u32('ra_pad'),
]); /* 24 */

const ZufsWriteUnmapLayout = defineStruct('__zufs_write_unmap', [
  /* 0 */ field.u32('offset'),
  /* 4 */ field.u32('len'),
]); /* 8 */

/** ZUFS_OP_READ, PRE_READ, WRITE, FALLOCATE, GET_MULTY, PUT_MULTY */
export const IocIOLayout = defineStruct('zufs_ioc_IO', [
  /*   0 */ field.struct('hdr', IocHdrLayout), //      offset / len: the app's data
  // IN
  /*  24 */ field.cookie('zus_ii'),
  /*  32 */ field.u64('filepos'),
  /*  40 */ field.u64('rw'), //                       ZUFS_RW_* (FALLOCATE: FALLOC_FL_* mode)
  /*  48 */ field.u32('ret_flags'), //                OUT: ZUFS_RET_*
  /*  52 */ field.u32('pool'), //                     the pool of every dpp of this IO
  /*  56 */ field.u64('cookie'), //                   the filesystem's own
  // IN / OUT: read-ahead (or allocate-ahead) state
  /*  64 */ field.struct('ra', ZufsRaLayout),
  /*  88 */ field.struct('wr_unmap', ZufsWriteUnmapLayout),
  /*  96 */ field.u64('last_pos'), //                 OUT: end of the IO (FALLOCATE: IN, the end asked)
  /* 104 */ field.struct('ziom', ZufsIomapLayout),
  /* 120 */ field.array('iom_e', 'u64', ZUFS_WRITE_OP_SPACE), // the io-map's first entries
]); /* 224 */
export const IocIO = IocIOLayout.off;
/**
 * IocIO.pool 7: the app's data is its own buffer, lent for the call to an inline ZT in the same
 * thread (Slot.lent; hdr offset / len are within it): no bounce through the window. (0: the window,
 * 1-6: a shared pool.) A grid ZT, in another thread, cannot see such a buffer: EINVAL there.
 */
export const IO_POOL_LENT = 7;
export type IocIOValue = ReturnType<typeof IocIOLayout.create>;

/** Bytes of a zufs_ioc_IO whose io-map has `iomN` entries (_ioc_IO_size). */
export function iocIOSize(iomN: number): number {
  return IocIO.iom_e + iomN * 8;
}

/** The type (IOM_*) of the io-map entry at `at`; IOM_NONE for an unknown type. */
export function iomType(dv: DataView, at: number): number {
  const t = dv.getUint8(at + 7);
  return t < IOM_NUM_LEGAL_OPT ? t : IOM_NONE;
}

/** The 56-bit value of the io-map entry at `at`. */
export function iomValue(dv: DataView, at: number): number {
  return (dv.getUint16(at + 4, true) + dv.getUint8(at + 6) * 65536) * 4294967296 + dv.getUint32(at, true);
}

/** Writes an io-map entry: `type` in the top 8 bits, `value` (safe integer, < 2^56) below. */
export function iomEncode(dv: DataView, at: number, type: number, value: number): void {
  setU64(dv, at, value);
  dv.setUint8(at + 7, type);
}

/** The high word of an IOM_T1_READ entry whose value fits the low word. */
const T1_HIGH = IOM_T1_READ * 2 ** 24;

/** Writes an IOM_T1_READ entry for block `bn` of `pool` (_zufs_iom_enc_bn). */
export function iomEncodeBn(dv: DataView, at: number, bn: number, pool: number): void {
  // A GET_MULTY writes one per block: the common case (a dpp below 2^32) is two stores.
  if (
    bn >= 0 &&
    bn < 2 ** 29 &&
    Math.floor(bn) === bn &&
    pool >= 0 &&
    pool <= 7 &&
    Math.floor(pool) === pool
  ) {
    dv.setUint32(at, bn * 8 + pool, true);
    dv.setUint32(at + 4, T1_HIGH, true);
    return;
  }
  iomEncode(dv, at, IOM_T1_READ, encodeDppBn(bn, pool));
}

/** The block number of an IOM_T1_READ entry, or -1 for another type (_zufs_iom_t1_bn). */
export function iomT1Bn(dv: DataView, at: number): number {
  if (dv.getUint32(at + 4, true) === T1_HIGH) return dv.getUint32(at, true) >>> 3;
  if (iomType(dv, at) !== IOM_T1_READ) return -1;
  return dppBn(iomValue(dv, at));
}

/** The pool of an IOM_T1_* entry. */
export function iomT1Pool(dv: DataView, at: number): number {
  return dv.getUint8(at) & 7;
}

// ~~~ the piggy-backed request ~~~
// A request (a PUT_MULTY) may ride on the next operation of the same thread: it is written in the
// last PIGY_BYTES of the operation buffer and ZUFS_H_HAS_PIGY_PUT is set; the server serves it first.
// (ZUFS put it right after the operation, at hdr + in_len; a fixed tail lets either side find it
// without reading the first request.) Operations and replies use the buffer up to pigyOffset().

/** Bytes at the tail of every operation buffer kept for a piggy-backed request. */
export const PIGY_BYTES = 1024;
/** io-map entries a piggy-backed zufs_ioc_IO can carry. */
export const PIGY_MAX_IOM = (PIGY_BYTES - IocIO.iom_e) / 8;

/** Where the piggy-backed request starts in an operation buffer of `opBytes` bytes (a multiple of 8). */
export function pigyOffset(opBytes: number): number {
  if (!(opBytes >= PIGY_BYTES + IocHdr.SIZE))
    throw new RangeError(`operation buffer of ${opBytes} bytes is too small`);
  return opBytes - PIGY_BYTES;
}

/** ZUFS_OP_MMAP_CLOSE: the last mapping of the file went away. */
export const IocMmapCloseLayout = defineStruct('zufs_ioc_mmap_close', [
  /*  0 */ field.struct('hdr', IocHdrLayout),
  /* 24 */ field.cookie('zus_ii'),
  /* 32 */ field.u64('rw'), // ZUFS_RW_* of the mapping
]); /* 40 */
export const IocMmapClose = IocMmapCloseLayout.off;

// ~~~ ZUFS_OP_SYNC ~~~
/** fdatasync: data only (and the size). */
export const ZUFS_SF_DATASYNC = 0x1;
/** The range will not be needed soon (fadvise DONTNEED). */
export const ZUFS_SF_DONTNEED = 0x100;

/** ZUFS_OP_SYNC: make [offset, offset + length) durable (length 0: the whole file). */
export const IocSyncLayout = defineStruct('zufs_ioc_sync', [
  /*  0 */ field.struct('hdr', IocHdrLayout),
  /* 24 */ field.cookie('zus_ii'), //        IN
  /* 32 */ field.u64('offset'), //          IN
  /* 40 */ field.u64('length'), //          IN
  /* 48 */ field.u64('flags'), //           IN: ZUFS_SF_*
  /* 56 */ field.u64('write_unmapped'), //  OUT
]); /* 64 */
export const IocSync = IocSyncLayout.off;

/** ZUFS_OP_CLONE (share the blocks) and ZUFS_OP_COPY (copy them): `len` bytes, 0 meaning to the end. */
export const IocCloneLayout = defineStruct('zufs_ioc_clone', [
  /*  0 */ field.struct('hdr', IocHdrLayout),
  /* 24 */ field.cookie('src_zus_ii'),
  /* 32 */ field.cookie('dst_zus_ii'),
  /* 40 */ field.u64('pos_in'),
  /* 48 */ field.u64('pos_out'),
  /* 56 */ field.u64('len'),
  /* 64 */ field.u64('len_up'), // len rounded up to whole blocks
]); /* 72 */
export const IocClone = IocCloneLayout.off;

// ~~~ ZUFS_OP_LLSEEK whence ~~~
export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;
export const SEEK_DATA = 3;
export const SEEK_HOLE = 4;

/** ZUFS_OP_LLSEEK: SEEK_DATA / SEEK_HOLE (the app side does the others itself). */
export const IocSeekLayout = defineStruct('zufs_ioc_seek', [
  /*  0 */ field.struct('hdr', IocHdrLayout),
  /* 24 */ field.cookie('zus_ii'), //   IN
  /* 32 */ field.u64('offset_in'), //  IN
  /* 40 */ field.u32('whence'), //     IN
  /* 44 */ field.u32('pad'),
  /* 48 */ field.u64('offset_out'), // OUT
]); /* 56 */
export const IocSeek = IocSeekLayout.off;
