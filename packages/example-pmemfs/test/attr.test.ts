// setattr, symlinks (inline and in a block), xattrs.
import { type PmemFs, ROOT_INO, SYMLINK_MAX, XATTR_SIZE_MAX } from '@zufs/example-pmemfs';
import {
  S_IFLNK,
  STATX_ATIME,
  STATX_CTIME,
  STATX_GID,
  STATX_MODE,
  STATX_MTIME,
  STATX_SIZE,
  STATX_UID,
  XATTR_CREATE,
  XATTR_REPLACE,
  ZusInode,
} from '@zufs/zuf-core/api';
import { beforeEach, describe, expect, it } from 'vitest';
import { DIR, dec, enc, expectClean, expectErrno, memFs, REG } from './helpers.js';

const R = ROOT_INO;
let fs: PmemFs;
beforeEach(() => {
  fs = memFs();
});

describe('setattr', () => {
  it('changes what the mask names and stamps ctime', async () => {
    const f = fs.newInode(R, 'f', { mode: REG });
    fs.write(f, 0, new Uint8Array(10000).fill(1));
    const before = fs.getattr(f);
    await new Promise((r) => setTimeout(r, 2));
    fs.setattr(f, STATX_MODE | STATX_UID | STATX_GID, { mode: 0o4600 | 0o170000, uid: 1000, gid: 2000 });
    const a = fs.getattr(f);
    expect(a.mode).toBe(0o104600); // the type stays
    expect([a.uid, a.gid]).toEqual([1000, 2000]);
    expect(a.ctimeNs).toBeGreaterThan(before.ctimeNs);
    expect(a.mtimeNs).toBe(before.mtimeNs);
    const t = 1.6e18 + 123_456_768; // times past 2^53 ns are doubles: exact to 256 ns
    fs.setattr(f, STATX_ATIME | STATX_MTIME | STATX_CTIME, { atime: t, mtime: t + 1e9, ctime: 5e17 });
    const b = fs.getattr(f);
    expect(b.atimeNs).toBe(t);
    expect(b.mtimeNs).toBe(t + 1e9);
    expect(b.ctimeNs).toBe(5e17);
    fs.setattr(f, STATX_SIZE, { size: 100 });
    expect(fs.getattr(f).size).toBe(100);
    expect(fs.getattr(f).blocks).toBe(2 * 8); // block 0 and the pointer block
    expect(fs.getattr(f).mtimeNs).toBeGreaterThan(t + 1e9);
    fs.setattr(f, STATX_SIZE | STATX_MTIME, { size: 50, mtime: 7e17 });
    expect(fs.getattr(f).mtimeNs).toBe(7e17);
    // The zus_inode in pmem is what changed: the app side reads it there.
    expect(fs.device.dv.getUint32(fs.iget(f) + ZusInode.i_uid, true)).toBe(1000);
    const d = fs.newInode(R, 'd', { mode: DIR });
    expectErrno(() => fs.setattr(d, STATX_SIZE, { size: 0 }), 'EISDIR');
    expectErrno(() => fs.setattr(f, STATX_SIZE, { size: -5 }), 'EINVAL');
    expectErrno(() => fs.setattr(f, STATX_MTIME, {}), 'EINVAL');
    expectClean(fs);
  });
});

describe('symlinks', () => {
  it('keeps short targets inline and long ones in a block', () => {
    const short = 'x'.repeat(31);
    const long = 'y'.repeat(32);
    const s = fs.newInode(R, 's', { mode: S_IFLNK | 0o777, symlinkTarget: short });
    const l = fs.newInode(R, 'l', { mode: S_IFLNK | 0o777, symlinkTarget: enc(long) });
    const max = fs.newInode(R, 'm', { mode: S_IFLNK | 0o777, symlinkTarget: 'z'.repeat(SYMLINK_MAX) });
    expect(dec(fs.readlink(s))).toBe(short);
    expect(dec(fs.readlink(l))).toBe(long);
    expect(fs.readlink(max).length).toBe(SYMLINK_MAX);
    expect(fs.getattr(s)).toMatchObject({ size: 31, blocks: 0 });
    expect(fs.getattr(l)).toMatchObject({ size: 32, blocks: 8 });
    // Inline: the bytes are in the zus_inode's union; long: i_sym_dpp is the block's pmem offset.
    const zi = fs.iget(s);
    expect(dec(fs.device.u8.subarray(zi + ZusInode.i_symlink, zi + ZusInode.i_symlink + 31))).toBe(short);
    const dpp = fs.device.dv.getUint32(fs.iget(l) + ZusInode.i_sym_dpp, true);
    expect(dec(fs.device.u8.subarray(dpp, dpp + 32))).toBe(long);
    const free = fs.statfs().bfree;
    fs.evict(fs.removeDentry(R, 'l'));
    expect(fs.statfs().bfree).toBe(free + 1);
    expectErrno(() => fs.newInode(R, 'e', { mode: S_IFLNK | 0o777, symlinkTarget: '' }), 'ENOENT');
    expectErrno(
      () => fs.newInode(R, 'e', { mode: S_IFLNK | 0o777, symlinkTarget: 'z'.repeat(SYMLINK_MAX + 1) }),
      'ENAMETOOLONG',
    );
    expectErrno(() => fs.readlink(R), 'EINVAL');
    expectClean(fs);
  });
});

describe('xattrs', () => {
  it('sets, gets, lists, replaces and removes', () => {
    const f = fs.newInode(R, 'f', { mode: REG });
    expect(fs.listxattr(f, null)).toBe(0);
    fs.setxattr(f, 'user.a', enc('one'));
    fs.setxattr(f, enc('user.bb'), enc(''), XATTR_CREATE);
    expect(fs.getattr(f).blocks).toBe(8);
    expect(fs.getxattr(f, 'user.a', null)).toBe(3);
    const buf = new Uint8Array(10);
    expect(fs.getxattr(f, 'user.a', buf)).toBe(3);
    expect(dec(buf.subarray(0, 3))).toBe('one');
    expect(fs.getxattr(f, 'user.bb', buf)).toBe(0);
    fs.setxattr(f, 'user.a', enc('a longer value'), XATTR_REPLACE);
    expect(fs.getxattr(f, 'user.a', new Uint8Array(20))).toBe(14);
    const list = new Uint8Array(fs.listxattr(f, null));
    expect(fs.listxattr(f, list)).toBe(15);
    expect(dec(list).split('\0').filter(Boolean).sort()).toEqual(['user.a', 'user.bb']);
    fs.removexattr(f, 'user.bb');
    fs.removexattr(f, 'user.a');
    expect(fs.getattr(f).blocks).toBe(0); // the block goes with the last attribute
    expect(fs.listxattr(f, null)).toBe(0);
    // Directories and symlinks have them too.
    fs.setxattr(R, 'trusted.x', enc('root'));
    expect(fs.getxattr(R, 'trusted.x', null)).toBe(4);
    expectClean(fs);
  });

  it('fails with the right errno', () => {
    const f = fs.newInode(R, 'f', { mode: REG });
    expectErrno(() => fs.getxattr(f, 'user.none', null), 'ENODATA');
    expectErrno(() => fs.removexattr(f, 'user.none'), 'ENODATA');
    expectErrno(() => fs.setxattr(f, 'user.none', enc('x'), XATTR_REPLACE), 'ENODATA');
    fs.setxattr(f, 'user.a', enc('12345'));
    expectErrno(() => fs.setxattr(f, 'user.a', enc('x'), XATTR_CREATE), 'EEXIST');
    expectErrno(() => fs.getxattr(f, 'user.a', new Uint8Array(4)), 'ERANGE');
    expectErrno(() => fs.listxattr(f, new Uint8Array(3)), 'ERANGE');
    expectErrno(() => fs.setxattr(f, '', enc('x')), 'ERANGE');
    expectErrno(() => fs.setxattr(f, 'u'.repeat(256), enc('x')), 'ERANGE');
    expectErrno(() => fs.setxattr(f, 'user.b', enc('x'), 4), 'EINVAL');
    expectErrno(() => fs.setxattr(f, 'user.big', new Uint8Array(XATTR_SIZE_MAX + 1)), 'E2BIG');
    expectErrno(() => fs.setxattr(f, 'user.big', new Uint8Array(5000)), 'ENOSPC');
    // Fill the block: what fits goes in, the next one is ENOSPC, nothing is damaged.
    let i = 0;
    for (;;) {
      try {
        fs.setxattr(f, `user.k${i}`, new Uint8Array(100).fill(i));
        i++;
      } catch (e) {
        expect((e as { code: string }).code).toBe('ENOSPC');
        break;
      }
    }
    expect(i).toBeGreaterThan(30);
    const v = new Uint8Array(100);
    fs.getxattr(f, 'user.k7', v);
    expect(v.every((b) => b === 7)).toBe(true);
    expect(fs.listxattr(f, null)).toBe(6 + 1 + 10 * 8 + (i - 10) * 9);
    expectClean(fs);
  });
});
