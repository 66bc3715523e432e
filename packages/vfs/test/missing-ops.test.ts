// An operation a plugin does not implement reaches a user as the errno Linux's VFS gives for a
// filesystem without it (fixtures/trimmed-fs.mjs: tiny-fs with methods left out), worded as
// strerror words it: never libuv's "operation not supported on socket".
import { mount, type ZufsMount } from '@zufs/vfs';
import { startServer, type ZusServer } from '@zufs/zus-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const TRIMMED = new URL('./fixtures/trimmed-fs.mjs', import.meta.url);
const READS_ONLY = 'newInode+addDentry+removeDentry+rename+write+setattr+fallocate+freeInode';

let server: ZusServer;
beforeAll(async () => {
  server = await startServer({ zts: 1, channels: 2, filesystems: [TRIMMED.href] });
});
afterAll(async () => {
  await server?.stop();
});

function error(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected the call to fail');
}

function withMount(omit: string, fn: (fs: ZufsMount) => void, more = ''): void {
  const fs = mount(server.root, {
    type: 'trimmedfs',
    options: `inodes=64,slot=4096,omit=${omit}${more}`,
    uid: 0,
    gid: 0,
  });
  try {
    fn(fs);
  } finally {
    fs.umount();
  }
}

describe('operations a plugin does not implement', () => {
  it('LOOKUP_PATH declared without lookupPath: EOPNOTSUPP once, then the walk looks up a name at a time', () => {
    withMount(
      '',
      (fs) => {
        fs.mkdirSync('/a/b', { recursive: true });
        fs.writeFileSync('/a/b/f', 'x');
        const fresh = fs.asUser({ uid: 0, gid: 0 }); // names this face made are cached: a new one walks
        expect(fs.client.asksPaths).toBe(true);
        expect(fresh.statSync('/a/b/f').size).toBe(1);
        expect(fs.client.asksPaths).toBe(false);
        expect(error(() => fresh.statSync('/a/nope/f')).code).toBe('ENOENT');
        expect(fresh.readFileSync('/a/b/f', 'utf8')).toBe('x');
      },
      ',lookup_path',
    );
  });

  it('xattrs are EOPNOTSUPP, worded "operation not supported"', () => {
    withMount('', (fs) => {
      fs.writeFileSync('/f', 'x');
      for (const call of [
        () => fs.setxattrSync('/f', 'user.a', 'v'),
        () => fs.getxattrSync('/f', 'user.a'),
        () => fs.listxattrSync('/f'),
      ]) {
        const e = error(call);
        expect(e.code).toBe('ENOTSUP'); // Node's name for errno 95 (EOPNOTSUPP on Linux)
        expect(e.message).toMatch(/^ENOTSUP: operation not supported, /);
        expect(e.message).not.toMatch(/socket/);
      }
    });
  });

  it('a filesystem that implements no change is read-only: every change is EROFS', () => {
    withMount(READS_ONLY, (fs) => {
      expect(fs.readdirSync('/')).toEqual([]);
      for (const call of [
        () => fs.writeFileSync('/new', 'x'),
        () => fs.mkdirSync('/d'),
        () => fs.symlinkSync('/t', '/l'),
        () => fs.chmodSync('/', 0o700),
        () => fs.setxattrSync('/', 'user.a', 'v'),
      ])
        expect(error(call).code).toBe('EROFS');
    });
  });

  it('a writable filesystem without one change answers as Linux: create EACCES, mkdir/link/unlink/rename/chmod EPERM', () => {
    withMount('addDentry+removeDentry+rename+setattr', (fs) => {
      fs.mkdirSync('/d');
      fs.writeFileSync('/f', 'x');
      expect(error(() => fs.linkSync('/f', '/g')).code).toBe('EPERM');
      expect(error(() => fs.unlinkSync('/f')).code).toBe('EPERM');
      expect(error(() => fs.rmdirSync('/d')).code).toBe('EPERM');
      expect(error(() => fs.renameSync('/f', '/g')).code).toBe('EPERM');
      expect(error(() => fs.chmodSync('/f', 0o600)).code).toBe('EPERM');
    });
    withMount('newInode', (fs) => {
      expect(error(() => fs.writeFileSync('/f', 'x')).code).toBe('EACCES');
      expect(error(() => fs.mkdirSync('/d')).code).toBe('EPERM');
      expect(error(() => fs.symlinkSync('/t', '/l')).code).toBe('EPERM');
    });
  });

  it('statfs without the method is ENOSYS, reading a file without read EINVAL', () => {
    withMount('statfs+read', (fs) => {
      fs.writeFileSync('/f', 'x');
      expect(error(() => fs.statfsSync('/')).code).toBe('ENOSYS');
      expect(error(() => fs.readFileSync('/f')).code).toBe('EINVAL');
    });
  });
});
