// Extended attributes through the face (zufs's extension of node:fs): the sync, callback and promises
// forms; l* (no follow) and f* (fd) variants; create/replace flags; errors and permissions as Linux's
// (ENODATA, EEXIST, EPERM on a symlink's user.*, EACCES for others' files, trusted.* root only).
import { PMEMFS_TYPE } from '@zufs/example-pmemfs';
import { mount, type ZufsMount } from '@zufs/vfs';
import { startServer, type ZusServer } from '@zufs/zus-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let server: ZusServer;
let fs: ZufsMount;

beforeAll(async () => {
  server = await startServer({ zts: 1, channels: 2, filesystems: [PMEMFS_TYPE] });
  fs = mount(server.root, { type: 'pmemfs', options: `memory=${8 * 1024 * 1024}`, uid: 0, gid: 0 });
  fs.writeFileSync('/f', 'data');
  fs.symlinkSync('f', '/link');
});
afterAll(async () => {
  fs?.umount();
  await server?.stop();
});

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as NodeJS.ErrnoException).code;
  }
  return 'ok';
};

describe('xattrs on the face', () => {
  it('set, get, list and remove, following symlinks or not', () => {
    fs.setxattrSync('/f', 'user.color', 'blue');
    fs.setxattrSync('/link', 'user.size', Buffer.from([1, 2, 3])); // follows: lands on /f
    expect(fs.getxattrSync('/f', 'user.color')).toEqual(Buffer.from('blue'));
    expect(fs.getxattrSync('/f', 'user.color', 'utf8')).toBe('blue');
    expect(fs.getxattrSync('/link', 'user.size')).toEqual(Buffer.from([1, 2, 3]));
    expect(fs.listxattrSync('/f').sort()).toEqual(['user.color', 'user.size']);
    expect(fs.llistxattrSync('/link')).toEqual([]);
    expect(code(() => fs.lsetxattrSync('/link', 'user.x', 'y'))).toBe('EPERM');
    fs.removexattrSync('/f', 'user.size');
    expect(fs.listxattrSync('/f')).toEqual(['user.color']);
    const err = (() => {
      try {
        fs.getxattrSync('/f', 'user.size');
      } catch (e) {
        return e as NodeJS.ErrnoException;
      }
    })();
    expect(err).toMatchObject({ code: 'ENODATA', syscall: 'getxattr', path: '/f' });
    expect(err?.message).toBe("ENODATA: no data available, getxattr '/f'");
  });

  it('create and replace flags, fd forms', () => {
    const fd = fs.openSync('/f', 'r+');
    try {
      fs.fsetxattrSync(fd, 'user.k', 'v1', { flag: 'create' });
      expect(code(() => fs.fsetxattrSync(fd, 'user.k', 'v2', { flag: 'create' }))).toBe('EEXIST');
      fs.fsetxattrSync(fd, 'user.k', 'v2', { flag: 'replace' });
      expect(fs.fgetxattrSync(fd, 'user.k', { encoding: 'utf8' })).toBe('v2');
      expect(code(() => fs.fsetxattrSync(fd, 'user.none', 'v', { flag: 'replace' }))).toBe('ENODATA');
      expect(fs.flistxattrSync(fd)).toContain('user.k');
      fs.fremovexattrSync(fd, 'user.k');
      expect(code(() => fs.fremovexattrSync(fd, 'user.k'))).toBe('ENODATA');
    } finally {
      fs.closeSync(fd);
    }
    expect(() => fs.setxattrSync('/f', 'user.k', 'v', { flag: 'sometimes' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });

  it('permissions: others cannot write user.* of a file they cannot write; trusted.* is root only', () => {
    fs.writeFileSync('/mine', 'x', { mode: 0o644 });
    fs.setxattrSync('/mine', 'trusted.secret', 's');
    fs.setxattrSync('/mine', 'user.public', 'p');
    const other = fs.asUser({ uid: 1000, gid: 1000 });
    expect(other.getxattrSync('/mine', 'user.public', 'utf8')).toBe('p');
    expect(code(() => other.setxattrSync('/mine', 'user.a', 'b'))).toBe('EACCES');
    expect(code(() => other.removexattrSync('/mine', 'user.public'))).toBe('EACCES');
    expect(code(() => other.setxattrSync('/mine', 'trusted.x', 'y'))).toBe('EPERM');
    expect(other.listxattrSync('/mine')).toEqual(['user.public']);
    expect(fs.listxattrSync('/mine').sort()).toEqual(['trusted.secret', 'user.public']);
  });

  it('callback and promises forms', async () => {
    await fs.promises.setxattr('/f', 'user.p', 'promised');
    expect(await fs.promises.getxattr('/f', 'user.p', 'utf8')).toBe('promised');
    expect(await fs.promises.listxattr('/f')).toContain('user.p');
    const got = await new Promise<Buffer | string | undefined>((resolve, reject) =>
      fs.getxattr('/f', 'user.p', 'buffer', (err, v) => (err ? reject(err) : resolve(v))),
    );
    expect(got).toEqual(Buffer.from('promised'));
    const missing = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
      fs.removexattr('/f', 'user.none', (err) => resolve(err)),
    );
    expect(missing?.code).toBe('ENODATA');
    await expect(fs.promises.getxattr('/f', 'user.none')).rejects.toMatchObject({ code: 'ENODATA' });
  });
});
