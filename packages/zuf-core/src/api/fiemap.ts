/**
 * ZUFS_OP_FIEMAP: the file's extents, as Linux's struct fiemap_extent records written into the
 * app's buffer (hdr.offset / hdr.len), at most extents_max of them.
 */
import { IocHdrLayout } from './hdr.js';
import { defineStruct, field, setU64 } from './layout.js';

// ~~~ zufs_ioc_fiemap.flags (request) ~~~
export const FIEMAP_FLAG_SYNC = 0x1;
export const FIEMAP_FLAG_XATTR = 0x2;
export const FIEMAP_FLAG_CACHE = 0x4;

// ~~~ fiemap_extent.fe_flags ~~~
export const FIEMAP_EXTENT_LAST = 0x1;
export const FIEMAP_EXTENT_UNKNOWN = 0x2;
export const FIEMAP_EXTENT_DELALLOC = 0x4;
export const FIEMAP_EXTENT_ENCODED = 0x8;
export const FIEMAP_EXTENT_DATA_ENCRYPTED = 0x80;
export const FIEMAP_EXTENT_NOT_ALIGNED = 0x100;
export const FIEMAP_EXTENT_DATA_INLINE = 0x200;
export const FIEMAP_EXTENT_DATA_TAIL = 0x400;
export const FIEMAP_EXTENT_UNWRITTEN = 0x800;
export const FIEMAP_EXTENT_MERGED = 0x1000;
export const FIEMAP_EXTENT_SHARED = 0x2000;

export const IocFiemapLayout = defineStruct('zufs_ioc_fiemap', [
  /*  0 */ field.struct('hdr', IocHdrLayout),
  // IN
  /* 24 */ field.cookie('zus_ii'),
  /* 32 */ field.u64('start'),
  /* 40 */ field.u64('length'),
  /* 48 */ field.u32('flags'), //          FIEMAP_FLAG_*
  /* 52 */ field.u32('extents_max'), //    0: only count them
  // OUT
  /* 56 */ field.u32('extents_mapped'),
  /* 60 */ field.u32('pad'),
]); /* 64 */
export const IocFiemap = IocFiemapLayout.off;

/** struct fiemap_extent (linux/fiemap.h) */
export const FiemapExtentLayout = defineStruct('fiemap_extent', [
  /*  0 */ field.u64('fe_logical'),
  /*  8 */ field.u64('fe_physical'),
  /* 16 */ field.u64('fe_length'),
  /* 24 */ field.array('fe_reserved64', 'u64', 2),
  /* 40 */ field.u32('fe_flags'),
  /* 44 */ field.array('fe_reserved', 'u32', 3),
]); /* 56 */
export const FiemapExtent = FiemapExtentLayout.off;

/** Where extents go and how many so far (zufs_fiemap_extent_info). */
export interface FiemapFill {
  dv: DataView;
  /** Byte offset of the first fiemap_extent. */
  at: number;
  extentsMax: number;
  extentsMapped: number;
}

/**
 * Adds an extent; returns 1 when the caller should stop (the buffer is full or this was the
 * FIEMAP_EXTENT_LAST extent), else 0. With extentsMax 0 it only counts.
 */
export function fiemapFillNextExtent(
  fi: FiemapFill,
  logical: number,
  physical: number,
  length: number,
  flags: number,
): 0 | 1 {
  const last = (flags & FIEMAP_EXTENT_LAST) !== 0 ? 1 : 0;
  if (fi.extentsMax === 0) {
    fi.extentsMapped++;
    return last;
  }
  if (fi.extentsMapped >= fi.extentsMax) return 1;
  const at = fi.at + fi.extentsMapped * FiemapExtent.SIZE;
  const dv = fi.dv;
  setU64(dv, at + FiemapExtent.fe_logical, logical);
  setU64(dv, at + FiemapExtent.fe_physical, physical);
  setU64(dv, at + FiemapExtent.fe_length, length);
  for (let i = FiemapExtent.fe_reserved64; i < FiemapExtent.fe_flags; i += 4) dv.setUint32(at + i, 0, true);
  dv.setUint32(at + FiemapExtent.fe_flags, flags >>> 0, true);
  for (let i = FiemapExtent.fe_reserved; i < FiemapExtent.SIZE; i += 4) dv.setUint32(at + i, 0, true);
  fi.extentsMapped++;
  if (fi.extentsMapped === fi.extentsMax) return 1;
  return last;
}
