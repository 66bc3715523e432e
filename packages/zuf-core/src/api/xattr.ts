/**
 * ZUFS_OP_XATTR_GET, XATTR_SET, XATTR_LIST. After the request, at `buf`: the name (NUL included,
 * name_len bytes) and, for SET, the value (user_buf_size bytes). A GET / LIST reply puts the value
 * (or the NUL-separated names) at `buf` and its size in user_buf_size; with user_buf_size 0 on the
 * way in, only the size is asked.
 */
import { IocHdrLayout } from './hdr.js';
import { defineStruct, field } from './layout.js';

// ~~~ zufs_ioc_xattr.type: the name's namespace (the prefix is not sent) ~~~
export const ZUF_XF_SECURITY = 1;
export const ZUF_XF_SYSTEM = 2;
export const ZUF_XF_TRUSTED = 3;
export const ZUF_XF_USER = 4;

// ~~~ zufs_ioc_xattr.flags (setxattr(2) flags) ~~~
export const XATTR_CREATE = 0x1;
export const XATTR_REPLACE = 0x2;

// ~~~ zufs_ioc_xattr.ioc_flags ~~~
/** SET of an empty value (not a remove). */
export const ZUFS_XATTR_SET_EMPTY = 1 << 0;
/** LIST: the caller may see trusted.* names. */
export const ZUFS_XATTR_TRUSTED = 1 << 1;

export const IocXattrLayout = defineStruct('zufs_ioc_xattr', [
  /*  0 */ field.struct('hdr', IocHdrLayout),
  // IN
  /* 24 */ field.cookie('zus_ii'),
  /* 32 */ field.u32('flags'), //         XATTR_CREATE | XATTR_REPLACE
  /* 36 */ field.u32('type'), //          ZUF_XF_*
  /* 40 */ field.u16('name_len'), //      with the NUL
  /* 42 */ field.u16('ioc_flags'), //     ZUFS_XATTR_*
  // OUT (and IN: room in the caller's buffer / size of the value to set)
  /* 44 */ field.u32('user_buf_size'),
  /* 48 */ field.mark('buf'),
]); /* 48 */
export const IocXattr = IocXattrLayout.off;
