/**
 * ZUFS_OP_NOOP with data (our extension; zus_api.h's NOOP is the header alone): the app's buffer is
 * named either by hdr.offset / hdr.len in the ZT's map window, or, when in_len covers `dpp`, by a dpp
 * into a shared pool (hdr.len bytes). It measures and tests the data paths without a filesystem.
 */
import { IocHdrLayout } from './hdr.js';
import { defineStruct, field } from './layout.js';

export const IocNoopLayout = defineStruct('zufs_ioc_noop', [
  /*  0 */ field.struct('hdr', IocHdrLayout),
  /* 24 */ field.dpp('dpp'), // the data's dpp when in_len >= 32, else the data is in the window
]); /* 32 */
export const IocNoop = IocNoopLayout.off;
