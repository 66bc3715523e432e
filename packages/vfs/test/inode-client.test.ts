import { Worker } from 'node:worker_threads';
import { InodeClient } from '@zufs/vfs';
import { attachZufRoot, type MountInfo, mountFs, type ZufRoot, type ZufsError } from '@zufs/zuf-core';
import {
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  RENAME_EXCHANGE,
  RENAME_NOREPLACE,
  S_IFCHR,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  SEEK_DATA,
  SEEK_END,
  SEEK_HOLE,
  STATX_MODE,
  STATX_MTIME,
  STATX_SIZE,
  STATX_UID,
  XATTR_CREATE,
  XATTR_REPLACE,
} from '@zufs/zuf-core/api';
// vfs must not depend on the server in src; the tests reach its build by path (no new dependency).
import { startServer, type ZusServer } from '@zufs/zus-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MEM_FS = new URL('../../zus-server/test/fixtures/mem-fs.mjs', import.meta.url);
const WORKER = new URL('./fixtures/inode-worker.mjs', import.meta.url);
const WINDOW = 64 * 1024;

let server: ZusServer;
let root: ZufRoot;
let mount: MountInfo;
let c: InodeClient;

beforeAll(async () => {
  server = await startServer({ zts: 2, channels: 2, windowSize: WINDOW, filesystems: [MEM_FS] });
  root = attachZufRoot(server.root);
  mount = mountFs(root, 'memfs', 'inodes=2048,blocks=8192');
  c = new InodeClient(root, mount);
});
afterAll(async () => {
  await server?.stop();
});

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as ZufsError).code;
  }
  return undefined;
}

function pattern(n: number, seed = 1): Uint8Array {
  const a = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    a[i] = x >>> 24;
  }
  return a;
}

describe('InodeClient', () => {
  it('looks up the root and reads its attributes', () => {
    const a = c.getattr(c.rootIi);
    expect(a.mode & S_IFMT).toBe(S_IFDIR);
    expect(a.nlink).toBe(2);
    expect(a.ino).toBe(1);
  });

  it('creates, looks up, links, unlinks (with free at nlink 0) and reports errors', () => {
    const d = c.mkdir(c.rootIi, 'names');
    expect(d.attr.mode & S_IFMT).toBe(S_IFDIR);
    expect(c.getattr(c.rootIi).nlink).toBe(3);
    const f = c.create(d.ii, 'a', 0o640, 1000, 1001);
    expect(f.attr).toMatchObject({ mode: S_IFREG | 0o640, nlink: 1, size: 0, uid: 1000, gid: 1001 });
    const l = c.lookup(d.ii, 'a');
    expect(l.ii).toBe(f.ii);
    expect(l.ino).toBe(f.ino);
    expect(code(() => c.create(d.ii, 'a'))).toBe('EEXIST');
    expect(code(() => c.lookup(d.ii, 'missing'))).toBe('ENOENT');
    expect(code(() => c.lookup(f.ii, 'x'))).toBe('ENOTDIR');
    expect(code(() => c.create(f.ii, 'x'))).toBe('ENOTDIR');
    expect(code(() => c.lookup(d.ii, 'n'.repeat(256)))).toBe('ENAMETOOLONG');
    expect(code(() => c.create(d.ii, 'é'.repeat(128)))).toBe('ENAMETOOLONG');
    const long = c.create(d.ii, 'n'.repeat(255));
    expect(c.lookup(d.ii, 'n'.repeat(255)).ino).toBe(long.ino);
    expect(c.link(f.ii, d.ii, 'b').nlink).toBe(2);
    expect(code(() => c.link(f.ii, d.ii, 'b'))).toBe('EEXIST');
    expect(code(() => c.link(d.ii, c.rootIi, 'dirlink'))).toBe('EPERM');
    expect(c.unlink(d.ii, 'a').nlink).toBe(1);
    expect(c.read(c.lookup(d.ii, 'b').ii, 0, new Uint8Array(4))).toBe(0);
    const before = c.statfs().ffree;
    expect(c.unlink(d.ii, 'b').nlink).toBe(0);
    expect(c.statfs().ffree).toBe(before + 1); // FREE_INODE went out
    expect(code(() => c.getattr(f.ii))).toBe('ESTALE');
    expect(code(() => c.unlink(d.ii, 'b'))).toBe('ENOENT');
    expect(code(() => c.unlink(c.rootIi, 'names'))).toBe('EISDIR');
    expect(code(() => c.rmdir(d.ii, 'n'.repeat(255)))).toBe('ENOTDIR');
    expect(code(() => c.rmdir(c.rootIi, 'names'))).toBe('ENOTEMPTY');
    c.unlink(d.ii, 'n'.repeat(255));
    c.rmdir(c.rootIi, 'names');
    expect(c.getattr(c.rootIi).nlink).toBe(2);
    expect(code(() => c.lookup(c.rootIi, 'names'))).toBe('ENOENT');
  });

  it('makes symlinks, device nodes and tmpfiles', () => {
    const s = c.symlink(c.rootIi, 'sl', 'target/of/the/link');
    expect(s.attr.mode & S_IFMT).toBe(S_IFLNK);
    expect(c.readlink(s.ii)).toBe('target/of/the/link');
    const long = 'x/'.repeat(600);
    expect(c.readlink(c.symlink(c.rootIi, 'sl2', long).ii)).toBe(long);
    const n = c.mknod(c.rootIi, 'chr', S_IFCHR | 0o600, 0x0501);
    expect(n.attr.mode & S_IFMT).toBe(S_IFCHR);
    expect(n.attr.rdev).toBe(0x0501);
    const t = c.tmpfile();
    expect(t.attr.nlink).toBe(0);
    c.write(t.ii, 0, new Uint8Array([1, 2, 3]));
    expect(c.link(t.ii, c.rootIi, 'was-tmp').nlink).toBe(1);
    expect(c.lookup(c.rootIi, 'was-tmp').attr.size).toBe(3);
    for (const x of ['sl', 'sl2', 'chr', 'was-tmp']) c.unlink(c.rootIi, x);
  });

  it('reads and writes 0 bytes, 1 byte, 4 KiB and 5 MiB (bigger than the window)', () => {
    const f = c.create(c.rootIi, 'data');
    expect(c.write(f.ii, 0, new Uint8Array(0))).toBe(0);
    expect(c.getattr(f.ii).size).toBe(0);
    expect(c.read(f.ii, 0, new Uint8Array(0))).toBe(0);
    expect(c.write(f.ii, 0, new Uint8Array([42]))).toBe(1);
    const one = new Uint8Array(1);
    expect(c.read(f.ii, 0, one)).toBe(1);
    expect(one[0]).toBe(42);
    const k4 = pattern(4096, 2);
    expect(c.write(f.ii, 1, k4)).toBe(4097);
    const b4 = new Uint8Array(4096);
    expect(c.read(f.ii, 1, b4)).toBe(4096);
    expect(b4).toEqual(k4);
    const big = pattern(5 * 1024 * 1024, 3);
    expect(big.length).toBeGreaterThan(WINDOW);
    expect(c.write(f.ii, 0, big)).toBe(big.length);
    expect(c.getattr(f.ii).size).toBe(big.length);
    const back = new Uint8Array(big.length + 100);
    expect(c.read(f.ii, 0, back)).toBe(big.length); // short at end of file
    expect(Buffer.from(back.subarray(0, big.length)).equals(Buffer.from(big))).toBe(true);
    expect(c.read(f.ii, big.length + 10, one)).toBe(0);
    // append
    expect(c.write(f.ii, 0, new Uint8Array([7, 8]), true)).toBe(big.length + 2);
    expect(code(() => c.read(c.rootIi, 0, one))).toBe('EISDIR');
    c.unlink(c.rootIi, 'data');
  });

  it('uses a shared pool buffer without bouncing', () => {
    const f = c.create(c.rootIi, 'pooled');
    const pool = root.pool(1);
    const buf = pool.bytes.subarray(0, 200_000);
    buf.set(pattern(200_000, 4));
    expect(c.write(f.ii, 0, buf)).toBe(200_000);
    const back = pool.bytes.subarray(200_000, 400_000);
    expect(c.read(f.ii, 0, back)).toBe(200_000);
    expect(Buffer.from(back).equals(Buffer.from(pattern(200_000, 4)))).toBe(true);
    c.unlink(c.rootIi, 'pooled');
  });

  it('truncates, setattrs, fallocates, seeks data and holes, syncs', () => {
    const f = c.create(c.rootIi, 'attrs');
    c.write(f.ii, 0, pattern(10_000));
    c.truncate(f.ii, 5000);
    expect(c.getattr(f.ii).size).toBe(5000);
    const a = c.setattr(f.ii, STATX_MODE | STATX_UID | STATX_MTIME | STATX_SIZE, {
      mode: 0o600,
      uid: 42,
      mtimeNs: 1_000_000_000_123,
      size: 20_000,
    });
    expect(a).toMatchObject({ mode: S_IFREG | 0o600, uid: 42, mtimeNs: 1_000_000_000_123, size: 20_000 });
    const tail = new Uint8Array(100);
    tail.fill(9);
    expect(c.read(f.ii, 5000, tail)).toBe(100);
    expect(tail.every((b) => b === 0)).toBe(true); // zeros past the old size
    c.write(f.ii, 16_384, pattern(3616, 5)); // data again in the last block
    // a hole at [8192, 16384)
    c.fallocate(f.ii, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 8192, 8192);
    expect(c.seek(f.ii, 0, SEEK_DATA)).toBe(0);
    expect(c.seek(f.ii, 0, SEEK_HOLE)).toBe(8192);
    expect(c.seek(f.ii, 9000, SEEK_DATA)).toBe(16384);
    expect(c.seek(f.ii, 0, SEEK_END)).toBe(20_000);
    expect(code(() => c.seek(f.ii, 20_000, SEEK_DATA))).toBe('ENXIO');
    c.fallocate(f.ii, 0, 0, 40_000);
    expect(c.getattr(f.ii).size).toBe(40_000);
    c.fallocate(f.ii, FALLOC_FL_KEEP_SIZE, 40_000, 4096);
    expect(c.getattr(f.ii).size).toBe(40_000);
    c.fsync(f.ii);
    c.fsync(f.ii, true);
    const ext = c.fiemap(f.ii, 0, 40_000);
    expect(ext.length).toBeGreaterThan(0);
    c.unlink(c.rootIi, 'attrs');
  });

  it('renames with replace, NOREPLACE, EXCHANGE and across directories', () => {
    const d1 = c.mkdir(c.rootIi, 'r1');
    const d2 = c.mkdir(c.rootIi, 'r2');
    const x = c.create(d1.ii, 'x');
    const y = c.create(d1.ii, 'y');
    c.write(y.ii, 0, new Uint8Array([1]));
    expect(code(() => c.rename(d1.ii, 'x', d1.ii, 'y', RENAME_NOREPLACE))).toBe('EEXIST');
    c.rename(d1.ii, 'x', d1.ii, 'y', RENAME_EXCHANGE);
    expect(c.lookup(d1.ii, 'y').ino).toBe(x.ino);
    expect(c.lookup(d1.ii, 'x').ino).toBe(y.ino);
    const free = c.statfs().ffree;
    c.rename(d1.ii, 'x', d1.ii, 'y'); // replaces x's old inode... y (was x) loses its last link
    expect(c.lookup(d1.ii, 'y').ino).toBe(y.ino);
    expect(code(() => c.lookup(d1.ii, 'x'))).toBe('ENOENT');
    expect(c.statfs().ffree).toBe(free + 1);
    c.rename(d1.ii, 'y', d2.ii, 'moved');
    expect(c.lookup(d2.ii, 'moved').ino).toBe(y.ino);
    const sub = c.mkdir(d1.ii, 'sub');
    c.rename(d1.ii, 'sub', d2.ii, 'sub');
    expect(c.getattr(d1.ii).nlink).toBe(2);
    expect(c.getattr(d2.ii).nlink).toBe(3);
    expect(c.lookup(d2.ii, 'sub').ino).toBe(sub.ino);
    expect(code(() => c.rename(d2.ii, 'moved', d2.ii, 'sub'))).toBe('EISDIR');
    expect(code(() => c.rename(d2.ii, 'sub', d2.ii, 'moved'))).toBe('ENOTDIR');
    expect(code(() => c.rename(d2.ii, 'nope', d2.ii, 'x'))).toBe('ENOENT');
    c.create(d2.ii, 'sub-child-holder');
    c.mkdir(d1.ii, 'full');
    c.create(c.lookup(d1.ii, 'full').ii, 'child');
    expect(code(() => c.rename(d2.ii, 'sub', d1.ii, 'full'))).toBe('ENOTEMPTY');
  });

  it('reads a directory in pieces and resumes across calls', () => {
    const d = c.mkdir(c.rootIi, 'many');
    const want: string[] = [];
    for (let i = 0; i < 120; i++) {
      const n = `file-${i}-${'z'.repeat(i % 40)}`;
      want.push(n);
      c.create(d.ii, n);
    }
    c.unlink(d.ii, want[5]);
    want.splice(5, 1);
    const small = new InodeClient(root, mount, { readdirBytes: 512 }); // many dispatches
    const all: string[] = [];
    expect(small.readdir(d.ii, 0, (n) => void all.push(n))).toBe(-1);
    expect(all.sort()).toEqual([...want].sort());
    // resume: stop every 7 entries and go on from the cookie returned
    const resumed: string[] = [];
    let pos = 0;
    let calls = 0;
    while (pos !== -1) {
      let k = 0;
      pos = c.readdir(d.ii, pos, (n) => {
        resumed.push(n);
        return ++k < 7;
      });
      calls++;
    }
    expect(calls).toBeGreaterThan(10);
    expect(resumed.sort()).toEqual([...want].sort());
    const empty: string[] = [];
    expect(c.readdir(c.mkdir(c.rootIi, 'empty').ii, 0, (n) => void empty.push(n))).toBe(-1);
    expect(empty).toEqual([]);
  });

  it('gets, sets, lists and removes xattrs', () => {
    const f = c.create(c.rootIi, 'xa');
    const v = new TextEncoder().encode('value-1');
    c.setxattr(f.ii, 'user.one', v);
    c.setxattr(f.ii, 'user.empty', new Uint8Array(0));
    c.setxattr(f.ii, 'trusted.t', new Uint8Array([1, 2]));
    expect(c.getxattr(f.ii, 'user.one')).toEqual(v);
    expect(c.getxattr(f.ii, 'user.empty')).toEqual(new Uint8Array(0));
    expect(code(() => c.setxattr(f.ii, 'user.one', v, XATTR_CREATE))).toBe('EEXIST');
    expect(code(() => c.setxattr(f.ii, 'user.two', v, XATTR_REPLACE))).toBe('ENODATA');
    c.setxattr(f.ii, 'user.one', new Uint8Array(3000).fill(5), XATTR_REPLACE);
    expect(c.getxattr(f.ii, 'user.one').length).toBe(3000);
    expect(c.listxattr(f.ii).sort()).toEqual(['trusted.t', 'user.empty', 'user.one']);
    c.removexattr(f.ii, 'user.one');
    expect(code(() => c.getxattr(f.ii, 'user.one'))).toBe('ENODATA');
    expect(code(() => c.removexattr(f.ii, 'user.one'))).toBe('ENODATA');
    expect(code(() => c.getxattr(f.ii, 'bogus.x'))).toBe('ENOTSUP');
    expect(c.listxattr(f.ii).sort()).toEqual(['trusted.t', 'user.empty']);
  });

  it('statfs, show options, copy and clone', () => {
    const s = c.statfs();
    expect(s).toMatchObject({ type: 0x6d656d66, bsize: 4096, blocks: 8191, files: 2047 });
    expect(c.showOptions()).toBe('inodes=2048,blocks=8192');
    const a = c.create(c.rootIi, 'src');
    const b = c.create(c.rootIi, 'dst');
    c.write(a.ii, 0, pattern(10_000, 8));
    c.clone(a.ii, b.ii, 0, 0, 0, true);
    const back = new Uint8Array(10_000);
    expect(c.read(b.ii, 0, back)).toBe(10_000);
    expect(back).toEqual(pattern(10_000, 8));
    c.clone(a.ii, b.ii, 100, 20_000, 50);
    expect(c.getattr(b.ii).size).toBe(20_050);
  });

  it('serves a worker thread, which sees the main thread files and the other way round', async () => {
    const d = c.mkdir(c.rootIi, 'shared');
    const f = c.create(d.ii, 'from-main');
    c.write(f.ii, 0, new TextEncoder().encode('hello'));
    const out = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const w = new Worker(WORKER, { workerData: { root: server.root, mount, dir: 'shared' } });
      w.once('message', resolve);
      w.once('error', reject);
    });
    expect(out.error).toBeUndefined();
    expect(out).toMatchObject({
      read: 100_000,
      same: true,
      mainBytes: 5,
      mainText: 'hello',
      names: ['from-main', 'from-worker'],
      enoent: 'ENOENT',
    });
    const wf = c.lookup(d.ii, 'from-worker');
    expect(wf.attr.size).toBe(100_000);
  });
});
