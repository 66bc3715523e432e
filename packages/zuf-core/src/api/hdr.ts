/**
 * struct zufs_ioc_hdr: the 24 bytes that start every operation buffer, in both directions.
 */
import { defineStruct, field } from './layout.js';

// Bits of zufs_ioc_hdr.flags
/** The app's wait was interrupted (timeout, abort): it keeps waiting, the reply may still come. */
export const ZUFS_H_INTR = 1 << 0;
/** A request rides at the tail of the operation buffer (see pigyOffset), to be served first. */
export const ZUFS_H_HAS_PIGY_PUT = 1 << 1;

export const IocHdrLayout = defineStruct('zufs_ioc_hdr', [
  /*  0 */ field.s32('err'), //            IN/OUT: 0 or a negative errno; must be first
  /*  4 */ field.u16('in_len'), //          bytes of request (header included)
  /*  6 */ field.u16('out_max'), //         room for the reply at the caller
  /*  8 */ field.u16('out_start'), //       where the reply starts in the buffer
  /* 10 */ field.u16('out_len'), //         reply bytes (set by the server)
  /* 12 */ field.u16('operation'), //       a ZUFS_OP_* (or a ZUFS_M_* on the mount channel)
  /* 14 */ field.u16('flags'), //           ZUFS_H_* bits
  /* 16 */ field.u32('offset'), //          start of the app data in the ZT's map window
  /* 20 */ field.u32('len'), //             length of the app data
]); /* 24 */

/** Byte offsets of struct zufs_ioc_hdr (and SIZE = 24). */
export const IocHdr = IocHdrLayout.off;
export type IocHdrValue = ReturnType<typeof IocHdrLayout.create>;
