// errno: Linux's numbers (what Node reports on Linux) and ZUFS's own.
import { constants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { Errno, EZUF_RETRY_DONE, EZUFS_RETRY, errnoName } from '@zufs/zuf-core/api';
import { describe, expect, it } from 'vitest';

const usual = [
  'ENOENT',
  'EEXIST',
  'ENOTDIR',
  'EISDIR',
  'ENOTEMPTY',
  'EINVAL',
  'EIO',
  'ENOSPC',
  'ENAMETOOLONG',
  'ELOOP',
  'EXDEV',
  'EPERM',
  'EACCES',
  'EBADF',
  'EMLINK',
  'EFBIG',
  'ENODATA',
  'ERANGE',
  'EOVERFLOW',
  'EOPNOTSUPP',
  'ENOSYS',
  'EBUSY',
  'EROFS',
  'E2BIG',
  'ESHUTDOWN',
  'ETIMEDOUT',
  'EINTR',
  'EAGAIN',
  'ENXIO',
  'ESPIPE',
  'EFAULT',
  'ENOMEM',
  'ENOTTY',
  'ETXTBSY',
  'EMFILE',
  'ENFILE',
  'EDQUOT',
  'ESTALE',
  'ECANCELED',
] as const;

describe('errno', () => {
  it('has ZUFS retry codes past the Linux range', () => {
    expect(EZUFS_RETRY).toBe(531);
    expect(EZUF_RETRY_DONE).toBe(540);
    expect(errnoName(EZUFS_RETRY)).toBe('EZUFS_RETRY');
    expect(errnoName(-EZUFS_RETRY)).toBe('EZUFS_RETRY');
  });

  it('has the usual codes', () => {
    for (const name of usual) expect(Errno[name], name).toBeGreaterThan(0);
    expect(Errno.ENOENT).toBe(2);
    expect(Errno.EIO).toBe(5);
    expect(Errno.ENOTEMPTY).toBe(39);
    expect(Errno.ENODATA).toBe(61);
    expect(Errno.EOPNOTSUPP).toBe(95);
    expect(Errno.ESHUTDOWN).toBe(108);
  });

  it.runIf(process.platform === 'linux')('agrees with os.constants.errno on Linux', () => {
    const os = constants.errno as Record<string, number>;
    for (const [name, n] of Object.entries(Errno)) if (name in os) expect(n, name).toBe(os[name]);
  });

  it.runIf(process.platform === 'linux')('names numbers as Node does', () => {
    for (const name of usual) {
      const n = Errno[name];
      const node = getSystemErrorName(-n); // 'Unknown system error -122' where libuv has no name
      expect(errnoName(n), name).toBe(node.startsWith('E') ? node : name);
      expect(errnoName(-n)).toBe(errnoName(n));
    }
    expect(errnoName(Errno.EOPNOTSUPP)).toBe('ENOTSUP');
    expect(errnoName(Errno.EWOULDBLOCK)).toBe('EAGAIN');
  });

  it('maps every number back to a name, and unknown numbers to undefined', () => {
    for (const n of Object.values(Errno)) expect(Errno[errnoName(n) as keyof typeof Errno]).toBe(n);
    expect(errnoName(0)).toBeUndefined();
    expect(errnoName(4000)).toBeUndefined();
    expect(Object.isFrozen(Errno)).toBe(true);
  });
});

describe('ZufsError', () => {
  it('carries its errno, code and message, and no stack frames (an answer, not a bug)', async () => {
    const { ZufsError, isZufsError } = await import('@zufs/zuf-core');
    const limit = Error.stackTraceLimit;
    const e = new ZufsError(Errno.ENODATA, 'no such attribute', 'getxattr');
    expect(e).toBeInstanceOf(Error);
    expect(isZufsError(e)).toBe(true);
    expect([e.errno, e.code, e.syscall, e.message]).toEqual([
      Errno.ENODATA,
      'ENODATA',
      'getxattr',
      'ENODATA: no such attribute',
    ]);
    expect(e.stack).toBe('ZufsError: ENODATA: no such attribute');
    // Other errors keep their stacks.
    expect(Error.stackTraceLimit).toBe(limit);
    expect(new Error('x').stack).toContain('\n    at ');
  });
});
