/**
 * Error numbers. Operations answer 0 or a negative errno in zufs_ioc_hdr.err; the numbers are Linux's
 * (x86_64, aarch64), which is what Node reports in `err.errno` (negated) on Linux.
 */

/** The server asks the caller to dispatch again (after handling the reply, e.g. a bigger buffer). */
export const EZUFS_RETRY = 531;
/** Private to the app side (zuf): "dispatch once more". Never sent by a server. */
export const EZUF_RETRY_DONE = 540;

/** Linux errno values, name -> number. Aliases (EWOULDBLOCK, ENOTSUP, ...) share a number. */
export const Errno = Object.freeze({
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  EWOULDBLOCK: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  ENOTBLK: 15,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  ETXTBSY: 26,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EMLINK: 31,
  EPIPE: 32,
  EDOM: 33,
  ERANGE: 34,
  EDEADLK: 35,
  ENAMETOOLONG: 36,
  ENOLCK: 37,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENOMSG: 42,
  EIDRM: 43,
  ENOSTR: 60,
  ENODATA: 61,
  ENOATTR: 61,
  ETIME: 62,
  ENOSR: 63,
  ENOLINK: 67,
  EPROTO: 71,
  EMULTIHOP: 72,
  EBADMSG: 74,
  EOVERFLOW: 75,
  EILSEQ: 84,
  EUSERS: 87,
  ENOTSOCK: 88,
  EDESTADDRREQ: 89,
  EMSGSIZE: 90,
  EPROTOTYPE: 91,
  ENOPROTOOPT: 92,
  EPROTONOSUPPORT: 93,
  ESOCKTNOSUPPORT: 94,
  EOPNOTSUPP: 95,
  ENOTSUP: 95,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETDOWN: 100,
  ENETUNREACH: 101,
  ENETRESET: 102,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOBUFS: 105,
  EISCONN: 106,
  ENOTCONN: 107,
  ESHUTDOWN: 108,
  ETOOMANYREFS: 109,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTDOWN: 112,
  EHOSTUNREACH: 113,
  EALREADY: 114,
  EINPROGRESS: 115,
  ESTALE: 116,
  EUCLEAN: 117,
  EREMOTEIO: 121,
  EDQUOT: 122,
  ECANCELED: 125,
  EOWNERDEAD: 130,
  ENOTRECOVERABLE: 131,
});

export type ErrnoName = keyof typeof Errno;

// number -> name. Where two names share a number, the one Node (libuv) reports wins.
const PREFERRED: Partial<Record<number, string>> = { 11: 'EAGAIN', 61: 'ENODATA', 95: 'ENOTSUP' };
const NAMES = new Map<number, string>();
for (const [name, n] of Object.entries(Errno)) if (!NAMES.has(n)) NAMES.set(n, PREFERRED[n] ?? name);
NAMES.set(EZUFS_RETRY, 'EZUFS_RETRY');
NAMES.set(EZUF_RETRY_DONE, 'EZUF_RETRY_DONE');

/** The name of an errno (positive or negative), as Node spells it ('ENOENT'), or undefined. */
export function errnoName(errno: number): string | undefined {
  return NAMES.get(errno < 0 ? -errno : errno);
}
