// Mounting reads only what the image uses (load.ts): a device opened sparse reads the superblocks,
// the journal's commit block, the bitmaps, the inode table's used blocks and the used data blocks;
// the rest stays zero pages. What the mount sees is what a full read sees.
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BLOCK_SIZE, fsck, type Geometry, mkfs, PmemDevice, PmemFs, ROOT_INO } from '@zufs/example-pmemfs';
import { afterEach, describe, expect, it } from 'vitest';
import { DIR, enc, expectBytes, expectClean, listDir, REG, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir> | null = null;
afterEach(() => {
  tmp?.cleanup();
  tmp = null;
});

/** Every name under `dir` with its size and content, as one string. */
function tree(fs: PmemFs, dir = ROOT_INO, prefix = '/'): string {
  let out = '';
  for (const e of listDir(fs, dir)) {
    if (e.name === '.' || e.name === '..') continue;
    const a = fs.getattr(e.ino);
    const data = new Uint8Array(a.size);
    if ((a.mode & 0o170000) === 0o100000) fs.read(e.ino, 0, data);
    out += `${prefix}${e.name} ${a.mode.toString(8)} ${a.size} ${Buffer.from(data).toString('base64').slice(0, 64)}\n`;
    if ((a.mode & 0o170000) === 0o040000) out += tree(fs, e.ino, `${prefix}${e.name}/`);
  }
  return out;
}

/** An image with a small tree; every free data block and free inode slot on the file is 0xAA. */
function staleImage(path: string): Geometry {
  const dev = PmemDevice.createFile(path, 16 << 20);
  mkfs(dev, { inodes: 1024 });
  const fs = PmemFs.mount(dev, { commitIntervalMs: 0 });
  const docs = fs.newInode(ROOT_INO, 'docs', { mode: DIR });
  for (let i = 0; i < 50; i++) {
    const f = fs.newInode(docs, `f${i}`, { mode: REG });
    fs.write(f, 0, new Uint8Array(i * 1000 + 1).fill(i + 1));
  }
  fs.setxattr(docs, 'user.k', enc('v'));
  fs.newInode(ROOT_INO, 'link', { mode: 0o120777, symlinkTarget: 'docs/f1' });
  const g = fs.geometry;
  const bbm = dev.u32.slice(
    (g.bbmStart * BLOCK_SIZE) / 4,
    (g.bbmStart * BLOCK_SIZE) / 4 + g.dataBlocks / 32 + 1,
  );
  fs.close();
  const fd = openSync(path, 'r+');
  const junk = new Uint8Array(BLOCK_SIZE).fill(0xaa);
  for (let i = 0; i < g.dataBlocks; i++) {
    if ((bbm[i >>> 5] & (1 << (i & 31))) === 0)
      writeSync(fd, junk, 0, BLOCK_SIZE, (g.dataStart + i) * BLOCK_SIZE);
  }
  closeSync(fd);
  return g;
}

/** Free data blocks (all 0xAA on the file) that hold anything but zeros in memory. */
function freeBlocksRead(dev: PmemDevice, g: Geometry): number {
  const bbm = (g.bbmStart * BLOCK_SIZE) / 4;
  let read = 0;
  for (let i = 0; i < g.dataBlocks; i++) {
    if ((dev.u32[bbm + (i >>> 5)] & (1 << (i & 31))) !== 0) continue;
    const at = (g.dataStart + i) * BLOCK_SIZE;
    if (dev.u8.subarray(at, at + BLOCK_SIZE).some((x) => x !== 0)) read++;
  }
  return read;
}

describe('mounting a sparse open', () => {
  it('reads only the used blocks and sees the same tree as a full read', () => {
    tmp = tempDir();
    const path = join(tmp.dir, 'a.img');
    const g = staleImage(path);
    const full = PmemFs.mount(PmemDevice.openFile(path), { commitIntervalMs: 0 });
    const want = tree(full);
    const lastFull = full.device.u8.subarray((g.dataStart + g.dataBlocks - 1) * BLOCK_SIZE);
    expect(lastFull[0]).toBe(0xaa); // a full read reads free blocks too
    full.close();

    const dev = PmemDevice.openFile(path, { sparse: true });
    const fs = PmemFs.mount(dev, { commitIntervalMs: 0 });
    expect(tree(fs)).toBe(want);
    expect(want).toContain('/docs/f49 100644 49001');
    expectClean(fs);
    expect(freeBlocksRead(dev, fs.geometry)).toBe(0);
    const buf = new Uint8Array(7);
    fs.read(fs.lookup(fs.lookup(ROOT_INO, 'docs'), 'f6'), 0, buf);
    expect([...buf]).toEqual([7, 7, 7, 7, 7, 7, 7]);
    fs.close();
  });

  it('writes new blocks whole: stale bytes on the file never come back', () => {
    tmp = tempDir();
    const path = join(tmp.dir, 'b.img');
    staleImage(path);
    const fs = PmemFs.mount(PmemDevice.openFile(path, { sparse: true }), { commitIntervalMs: 0 });
    const f = fs.newInode(ROOT_INO, 'new', { mode: REG });
    const data = new Uint8Array(5000).fill(0x33);
    fs.write(f, 0, data);
    fs.truncate(f, 3 * BLOCK_SIZE);
    fs.close();

    const again = PmemFs.mount(PmemDevice.openFile(path), { commitIntervalMs: 0 });
    const back = new Uint8Array(3 * BLOCK_SIZE);
    again.read(again.lookup(ROOT_INO, 'new'), 0, back);
    const expected = new Uint8Array(3 * BLOCK_SIZE);
    expected.set(data);
    expectBytes(back, expected);
    expectClean(again);
    again.close();
  });

  it('fsck on a sparse open reads what the image uses and finds it clean', () => {
    tmp = tempDir();
    const path = join(tmp.dir, 'c.img');
    const g = staleImage(path);
    const dev = PmemDevice.openFile(path, { sparse: true });
    try {
      const r = fsck(dev);
      expect(r.problems).toEqual([]);
      expect(r.clean).toBe(true);
      expect(freeBlocksRead(dev, g)).toBe(0);
    } finally {
      dev.close();
    }
  });
});
