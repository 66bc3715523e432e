/**
 * ZUFS_OP_IOCTL: an ioctl(2) on a file, passed to the filesystem. The argument follows the request at
 * `arg`; when it needs more room than the app side guessed, the server answers -EZUFS_RETRY with
 * ZUFS_IOC_REALLOC and the size it needs in `new_size`.
 */
import { IocHdrLayout } from './hdr.js';
import { defineStruct, field } from './layout.js';

// ~~~ zufs_ioc_ioctl.kflags: the app side's state ~~~
/** The filesystem is frozen. */
export const ZUFS_IOC_FSFROZEN = 0x1;
/** The caller has CAP_SYS_ADMIN (root). */
export const ZUFS_IOC_CAP_ADMIN = 0x2;

// ~~~ zufs_ioc_ioctl.uflags: the server's answer with -EZUFS_RETRY ~~~
/** Dispatch again with an argument buffer of new_size bytes. */
export const ZUFS_IOC_REALLOC = 0x1;
/** Freeze the filesystem and dispatch again. */
export const ZUFS_IOC_FREEZE_REQ = 0x2;

const IoctlRetryLayout = defineStruct('', [
  /* 0 */ field.u32('uflags'), //   ZUFS_IOC_REALLOC | ZUFS_IOC_FREEZE_REQ
  /* 4 */ field.u32('new_size'),
]); /* 8 */

export const IocIoctlLayout = defineStruct('zufs_ioc_ioctl', [
  /*  0 */ field.struct('hdr', IocHdrLayout),
  // IN
  /* 24 */ field.cookie('zus_ii'),
  /* 32 */ field.time('time'), //     the time of the call, ns
  /* 40 */ field.u32('cmd'),
  /* 44 */ field.u32('kflags'), //    ZUFS_IOC_FSFROZEN | ZUFS_IOC_CAP_ADMIN
  // OUT
  /* 48 */ field.mark('out_start'),
  /* 48 */ field.union(field.inline(IoctlRetryLayout), field.mark('arg')),
]); /* 56 */
export const IocIoctl = IocIoctlLayout.off;
