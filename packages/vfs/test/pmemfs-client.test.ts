// The reference pmem filesystem served by a real server and used through the inode-level client:
// the plugin adapter, persistence of an image file across servers, attributes from shared pmem.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkfs, PMEMFS_TYPE, PmemDevice } from '@zufs/example-pmemfs';
import { InodeClient, mount } from '@zufs/vfs';
import { attachZufRoot, mountFs, umountFs } from '@zufs/zuf-core';
import { Errno, STATX_MODE } from '@zufs/zuf-core/api';
import { startServer, type ZusServer } from '@zufs/zus-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const enc = new TextEncoder();
const dec = new TextDecoder();
let dir: string;
let image: string;
const servers: ZusServer[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'zufs-pmemfs-'));
  image = join(dir, 'fs.img');
  const dev = PmemDevice.createFile(image, 64 * 1024 * 1024);
  mkfs(dev, { inodes: 4096, label: 'test' });
  dev.flush();
  dev.close();
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

async function open(options: string) {
  const s = await startServer({ zts: 2, channels: 2, windowSize: 256 * 1024, filesystems: [PMEMFS_TYPE] });
  servers.push(s);
  const root = attachZufRoot(s.root);
  const m = mountFs(root, 'pmemfs', options);
  return { s, root, m, c: new InodeClient(root, m) };
}

describe('pmemfs through the server', () => {
  it('creates a tree, reads it back, and keeps it in the image across servers', async () => {
    const a = await open(`image=${image}`);
    const top = a.c.mkdir(a.m.rootIi, 'docs', 0o755);
    const f = a.c.create(top.ii, 'hello.txt', 0o644);
    const data = enc.encode('hello, pmem\n'.repeat(1000));
    a.c.write(f.ii, 0, data);
    a.c.symlink(top.ii, 'link', 'hello.txt');
    a.c.setxattr(f.ii, 'user.color', enc.encode('blue'));
    const back = new Uint8Array(data.length);
    expect(a.c.read(f.ii, 0, back)).toBe(data.length);
    expect(back).toEqual(data);
    expect(() => a.c.mkdir(a.m.rootIi, 'docs', 0o755)).toThrow(
      expect.objectContaining({ errno: Errno.EEXIST }),
    );
    umountFs(a.root, a.m.sbId);
    await a.s.stop();

    const b = await open(`image=${image}`);
    const top2 = b.c.lookup(b.m.rootIi, 'docs');
    const f2 = b.c.lookup(top2.ii, 'hello.txt');
    expect(f2.attr.size).toBe(data.length);
    const again = new Uint8Array(data.length);
    b.c.read(f2.ii, 0, again);
    expect(again).toEqual(data);
    expect(b.c.readlink(b.c.lookup(top2.ii, 'link').ii)).toBe('hello.txt');
    const names: string[] = [];
    b.c.readdir(top2.ii, 0, (name) => {
      names.push(name);
      return true;
    });
    expect(names.sort()).toEqual(['hello.txt', 'link']);
    expect(dec.decode(b.c.getxattr(f2.ii, 'user.color'))).toBe('blue');
    b.c.unlink(top2.ii, 'hello.txt');
    expect(() => b.c.lookup(top2.ii, 'hello.txt')).toThrow(expect.objectContaining({ errno: Errno.ENOENT }));
    expect(() => b.c.rmdir(b.m.rootIi, 'docs')).toThrow(expect.objectContaining({ errno: Errno.ENOTEMPTY }));
  });

  it('unlink and rmdir with a stale known entry look again: the name is removed, nothing else', async () => {
    const a = await open(`memory=${16 * 1024 * 1024}`);
    const root = a.m.rootIi;
    const old = a.c.create(root, 'f', 0o644);
    a.c.unlink(root, 'f', old);
    const now = a.c.create(root, 'f', 0o600); // maybe the same number, maybe not
    const other = a.c.create(root, 'other', 0o644);
    // `old` as a cache would still hold it: the server refuses, the client looks the name up.
    const stale = { ...other, attr: { ...other.attr } };
    a.c.unlink(root, 'f', stale);
    expect(a.c.lastRemoved?.ii).toBe(now.ii);
    expect(a.c.find(root, 'f')).toBeNull();
    expect(a.c.lookup(root, 'other').attr.nlink).toBe(1);
    const d = a.c.mkdir(root, 'd', 0o755);
    a.c.rmdir(root, 'd', { ...other, attr: { ...d.attr } });
    expect(a.c.find(root, 'd')).toBeNull();
    expect(a.c.lookup(root, 'other').attr.nlink).toBe(1);
    umountFs(a.root, a.m.sbId);
  });

  it('rename frees the inode the filesystem replaced, not the one a stale view names', async () => {
    const a = await open(`memory=${16 * 1024 * 1024}`);
    const root = a.m.rootIi;
    const src = a.c.create(root, 'a', 0o644);
    const seen = a.c.create(root, 'b', 0o644); // what a cache would still hold for 'b'
    a.c.unlink(root, 'b');
    const keep = a.c.create(root, 'keep', 0o644); // likely takes the number 'b' had
    const now = a.c.create(root, 'b', 0o600); // another thread's 'b' since
    expect(now.ii).not.toBe(seen.ii);
    a.c.rename(root, 'a', root, 'b', 0, { src, dst: seen });
    expect(a.c.lastReplaced).toBe(now.ii);
    expect(() => a.c.getattr(now.ii)).toThrow(expect.objectContaining({ errno: Errno.ESTALE })); // freed
    expect(a.c.lookup(root, 'b').ii).toBe(src.ii);
    expect(a.c.lookup(root, 'keep').ii).toBe(keep.ii);
    expect(a.c.find(root, 'a')).toBeNull();
    umountFs(a.root, a.m.sbId);
  });

  it('answers getattr from pmem in a thread that never looked the inode up, after one SETATTR', async () => {
    const s = await startServer({ zts: 2, channels: 2, filesystems: [PMEMFS_TYPE] });
    servers.push(s);
    const fs = mount(s.root, { type: 'pmemfs', options: `memory=${16 * 1024 * 1024}` });
    const a = { c: fs.client };
    const f = a.c.create(fs.mount.rootIi, 'seen-elsewhere', 0o600);
    // A second client (another FUSE reader, say) knows the inode only by its cookie.
    const other = new InodeClient(fs.root, fs.descriptor.mount);
    const begin = vi.spyOn(InodeClient.prototype as unknown as { begin(): unknown }, 'begin');
    try {
      expect(other.getattr(f.ii).mode & 0o777).toBe(0o600);
      expect(begin).toHaveBeenCalledTimes(1); // the SETATTR that answers where the zus_inode lies
      a.c.setattr(f.ii, STATX_MODE, { mode: 0o640 });
      begin.mockClear();
      for (let i = 0; i < 10; i++) expect(other.getattr(f.ii).mode & 0o777).toBe(0o640);
      expect(begin).not.toHaveBeenCalled();
    } finally {
      begin.mockRestore();
    }
  });

  it('serves a memory filesystem with ENOSPC when full and space back after delete', async () => {
    const a = await open('memory=4194304,inodes=64');
    const f = a.c.create(a.m.rootIi, 'big', 0o644);
    const chunk = new Uint8Array(256 * 1024).fill(1);
    let pos = 0;
    let err: unknown;
    try {
      for (;;) pos += a.c.write(f.ii, pos, chunk);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ errno: Errno.ENOSPC });
    a.c.unlink(a.m.rootIi, 'big');
    const g = a.c.create(a.m.rootIi, 'again', 0o644);
    expect(a.c.write(g.ii, 0, chunk)).toBe(chunk.length);
  });
});
