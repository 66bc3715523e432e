// Persistence across processes: a tree written through the node:fs face on an image-backed pmemfs,
// unmounted and its server stopped, is read back by a NEW process (fixtures/tree-dump.mjs, which
// imports the packages by name, starts its own server and mounts the same image) exactly as written.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { mkfs, PMEMFS_TYPE, PmemDevice } from '@zufs/example-pmemfs';
import { mount } from '@zufs/vfs';
import { startServer } from '@zufs/zus-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const DUMP = fileURLToPath(new URL('./fixtures/tree-dump.mjs', import.meta.url));
let dir: string;
let image: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'zufs-persist-'));
  image = join(dir, 'fs.img');
  const dev = PmemDevice.createFile(image, 64 * 1024 * 1024);
  mkfs(dev, { inodes: 4096, label: 'persist' });
  dev.flush();
  dev.close();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function pattern(len: number, seed: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (seed + i * 131 + (i >> 12)) & 0xff;
  return b;
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Entry {
  type: string;
  mode: number;
  nlink: number;
  ino: number;
  size?: number;
  sha256?: string;
  target?: string;
  xattrs?: Record<string, string>;
}

describe('persistence', () => {
  it('a tree written in one process is read back unchanged by a new process', async () => {
    const server = await startServer({
      zts: 2,
      channels: 2,
      windowSize: 256 * 1024,
      filesystems: [PMEMFS_TYPE],
    });
    // What was written: path -> expected (type, mode bits, size, sha256, target, xattrs).
    const want: Record<string, Partial<Entry>> = {};
    let before: Record<string, Entry> = {};
    try {
      const fs = mount(server.root, { type: 'pmemfs', options: `image=${image}` });
      const file = (p: string, data: Buffer, mode = 0o644) => {
        fs.writeFileSync(p, data, { mode });
        fs.chmodSync(p, mode);
        want[p] = { type: 'file', mode: 0o100000 | mode, size: data.length, sha256: sha(data), nlink: 1 };
      };
      const mkdir = (p: string, mode = 0o755) => {
        fs.mkdirSync(p, { mode });
        fs.chmodSync(p, mode);
        want[p] = { type: 'dir', mode: 0o040000 | mode };
      };
      mkdir('/docs');
      mkdir('/docs/deep');
      mkdir('/docs/deep/deeper', 0o700);
      mkdir('/empty');
      mkdir('/ünïcødé 日本 🙂');
      file('/empty.txt', Buffer.alloc(0));
      file('/docs/one-byte', Buffer.from('x'));
      file('/docs/block', pattern(4096, 1));
      file('/docs/odd', pattern(4097, 2), 0o600);
      file('/docs/deep/medium', pattern(100_000, 3));
      file('/docs/deep/deeper/big', pattern(1024 * 1024 + 12_345, 4), 0o640);
      file(`/ünïcødé 日本 🙂/${'n'.repeat(255)}`, pattern(777, 5));
      // Sparse: a hole at the start, data at 3 MiB, then extended by truncate.
      const sparse = Buffer.alloc(3 * 1024 * 1024 + 8192 + 5000);
      pattern(8192, 6).copy(sparse, 3 * 1024 * 1024);
      const fd = fs.openSync('/docs/sparse', 'w', 0o644);
      fs.writeSync(fd, pattern(8192, 6), 0, 8192, 3 * 1024 * 1024);
      fs.ftruncateSync(fd, sparse.length);
      fs.closeSync(fd);
      want['/docs/sparse'] = {
        type: 'file',
        mode: 0o100644,
        size: sparse.length,
        sha256: sha(sparse),
        nlink: 1,
      };
      // Overwritten in the middle and appended to.
      const edited = Buffer.concat([pattern(10_000, 7), Buffer.from('tail')]);
      Buffer.from('MIDDLE').copy(edited, 5000);
      fs.writeFileSync('/docs/edited', pattern(10_000, 7));
      const efd = fs.openSync('/docs/edited', 'r+');
      fs.writeSync(efd, Buffer.from('MIDDLE'), 0, 6, 5000);
      fs.closeSync(efd);
      fs.appendFileSync('/docs/edited', 'tail');
      want['/docs/edited'] = {
        type: 'file',
        mode: 0o100644,
        size: edited.length,
        sha256: sha(edited),
        nlink: 1,
      };
      // Symlinks: short, dangling, long (past any inline limit), to a directory.
      for (const [p, t] of [
        ['/link-to-big', 'docs/deep/deeper/big'],
        ['/dangling', 'nowhere/at/all'],
        ['/docs/long-link', `${'seg/'.repeat(300)}end`],
        ['/docs/deep/up', '../..'],
      ] as const) {
        fs.symlinkSync(t, p);
        want[p] = { type: 'symlink', mode: 0o120777, size: Buffer.byteLength(t), target: t, nlink: 1 };
      }
      // Hard links: three names for one inode, across directories.
      fs.writeFileSync('/docs/multi', pattern(20_000, 8));
      fs.linkSync('/docs/multi', '/docs/deep/multi-2');
      fs.linkSync('/docs/multi', '/empty-sibling-link');
      for (const p of ['/docs/multi', '/docs/deep/multi-2', '/empty-sibling-link'])
        want[p] = { type: 'file', mode: 0o100644, size: 20_000, sha256: sha(pattern(20_000, 8)), nlink: 3 };
      // A file renamed and one deleted: neither old name may come back.
      fs.writeFileSync('/docs/gone', 'bye');
      fs.unlinkSync('/docs/gone');
      fs.writeFileSync('/docs/old-name', 'renamed');
      fs.renameSync('/docs/old-name', '/docs/deep/new-name');
      want['/docs/deep/new-name'] = {
        type: 'file',
        mode: 0o100644,
        size: 7,
        sha256: sha(Buffer.from('renamed')),
        nlink: 1,
      };
      // Directory link counts: 2 + subdirectories.
      want['/docs'].nlink = 3;
      want['/docs/deep'].nlink = 3;
      want['/docs/deep/deeper'].nlink = 2;
      want['/empty'].nlink = 2;
      want['/ünïcødé 日本 🙂'].nlink = 2;
      // xattrs: the node:fs face has none, so through the mount's inode client.
      const c = fs.client;
      const docs = c.lookup(fs.mount.rootIi, 'docs').ii;
      const big = c.lookup(c.lookup(c.lookup(docs, 'deep').ii, 'deeper').ii, 'big').ii;
      c.setxattr(big, 'user.color', Buffer.from('blue'));
      c.setxattr(big, 'user.empty', new Uint8Array(0));
      c.setxattr(docs, 'user.big', pattern(3000, 9));
      want['/docs/deep/deeper/big'].xattrs = {
        'user.color': Buffer.from('blue').toString('hex'),
        'user.empty': '',
      };
      want['/docs'].xattrs = { 'user.big': pattern(3000, 9).toString('hex') };

      before = Object.fromEntries(
        Object.keys(want).map((p) => {
          const st = fs.lstatSync(p);
          return [p, { ino: st.ino, nlink: st.nlink } as Entry];
        }),
      );
      fs.umount();
    } finally {
      await server.stop();
    }

    const { stdout } = await promisify(execFile)(process.execPath, [DUMP, image], {
      cwd: dirname(DUMP),
      maxBuffer: 64 * 1024 * 1024,
    });
    const got = JSON.parse(stdout) as Record<string, Entry>;
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    for (const [p, w] of Object.entries(want)) {
      const g = got[p];
      const { ino: _ino, ...rest } = g;
      expect({ path: p, ...rest }).toEqual({
        path: p,
        xattrs: undefined,
        size: undefined,
        sha256: undefined,
        target: undefined,
        ...w,
      });
      // Inode numbers survive (the hard links still share one).
      expect(g.ino, p).toBe(before[p].ino);
    }
    expect(
      new Set(['/docs/multi', '/docs/deep/multi-2', '/empty-sibling-link'].map((p) => got[p].ino)).size,
    ).toBe(1);
  });
});

function dirname(p: string): string {
  return p.replace(/\/[^/]*$/, '');
}
