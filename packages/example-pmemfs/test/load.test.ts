// Mounting reads only what the image uses (load.ts): a device opened sparse reads the superblocks,
// the journal's commit block, the bitmaps, the inode table's used blocks and the used data blocks;
// the rest stays zero pages. What the mount sees is what a full read sees. A mount leaves regular
// files' data on the file until an operation needs it (lazy pages).
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
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

describe('file data a mount leaves lazy', () => {
  /** The pmem byte offset of block `idx` of `ino` (GET_MULTY's answer; it reads the block first). */
  const blockAt = (fs: PmemFs, ino: number, idx: number): number => {
    const out = [0];
    fs.getMulty(ino, idx * BLOCK_SIZE, BLOCK_SIZE, out);
    return out[0];
  };

  it('is read when first needed, by a read, a GET_MULTY or a partial write, and nothing is lost', () => {
    tmp = tempDir();
    const path = join(tmp.dir, 'd.img');
    staleImage(path);
    const dev = PmemDevice.openFile(path, { sparse: true });
    const fs = PmemFs.mount(dev, { commitIntervalMs: 0 });
    // f1..f49 hold i * 1000 + 1 bytes: 1 + 1 + ... blocks, every one lazy.
    let blocks = 0;
    for (let i = 0; i < 50; i++) blocks += Math.ceil((i * 1000 + 1) / BLOCK_SIZE);
    expect(dev.lazyPages).toBe(blocks);
    const docs = fs.lookup(ROOT_INO, 'docs');
    const f20 = fs.lookup(docs, 'f20');
    const at = blockAt(fs, f20, 2); // GET_MULTY: the reader copies from pmem itself
    expect(dev.u8[at]).toBe(21);
    expect(dev.lazyPages).toBe(blocks - 1);
    // A partial write of a lazy block keeps the rest of it.
    const f30 = fs.lookup(docs, 'f30');
    fs.write(f30, BLOCK_SIZE + 10, new Uint8Array(5).fill(0xee));
    fs.truncate(fs.lookup(docs, 'f40'), 4000 + BLOCK_SIZE); // zeroes a partial lazy block's tail
    const want = tree(fs);
    expect(dev.lazyPages).toBe(0); // tree() read every file; truncate dropped the blocks it freed
    expectClean(fs);
    fs.close();
    const again = PmemFs.mount(PmemDevice.openFile(path), { commitIntervalMs: 0 });
    expect(tree(again)).toBe(want);
    const back = new Uint8Array(30 * 1000 + 1);
    again.read(again.lookup(again.lookup(ROOT_INO, 'docs'), 'f30'), 0, back);
    const expected = new Uint8Array(30 * 1000 + 1).fill(31);
    expected.fill(0xee, BLOCK_SIZE + 10, BLOCK_SIZE + 15);
    expectBytes(back, expected);
    again.close();
  });

  it('a freed lazy block given to another file is never read from the image over its new data', () => {
    tmp = tempDir();
    const path = join(tmp.dir, 'e.img');
    staleImage(path);
    const names = Array.from({ length: 25 }, (_, i) => `f${25 + i}`);
    // Where those files' blocks are (a mount that reads everything, so as not to load them below).
    const old = new Set<number>();
    const full = PmemFs.mount(PmemDevice.openFile(path), { commitIntervalMs: 0 });
    for (const name of names) {
      const f = full.lookup(full.lookup(ROOT_INO, 'docs'), name);
      for (let b = 0; b * BLOCK_SIZE < full.getattr(f).size; b++) old.add(blockAt(full, f, b));
    }
    full.close();

    const dev = PmemDevice.openFile(path, { sparse: true });
    const fs = PmemFs.mount(dev, { commitIntervalMs: 0 });
    const docs = fs.lookup(ROOT_INO, 'docs');
    for (const name of names) fs.truncate(fs.lookup(docs, name), 0); // lazy blocks, unread, freed
    // Nearly fill the device (room left for the commit): the freed blocks are handed out again,
    // each written half (and zeroed).
    const big = fs.newInode(ROOT_INO, 'big', { mode: REG });
    const half = new Uint8Array(BLOCK_SIZE / 2).fill(0x77);
    let blocks = 0;
    while (fs.statfs().bfree > 400) fs.write(big, blocks++ * BLOCK_SIZE + BLOCK_SIZE / 2, half);
    const expected = new Uint8Array(blocks * BLOCK_SIZE);
    for (let b = 0; b < blocks; b++)
      expected.fill(0x77, b * BLOCK_SIZE + BLOCK_SIZE / 2, (b + 1) * BLOCK_SIZE);
    const back = new Uint8Array(blocks * BLOCK_SIZE);
    fs.read(big, 0, back);
    expectBytes(back, expected);
    let reused = 0;
    for (let b = 0; b < blocks; b++) if (old.has(blockAt(fs, big, b))) reused++;
    expect(reused).toBeGreaterThan(old.size / 2);
    fs.close();
    const again = PmemFs.mount(PmemDevice.openFile(path, { sparse: true }), { commitIntervalMs: 0 });
    back.fill(0);
    again.read(again.lookup(ROOT_INO, 'big'), 0, back);
    expectBytes(back, expected);
    expectClean(again);
    again.close();
  });

  it('threads racing to read the same lazy pages all read the data', async () => {
    tmp = tempDir();
    const path = join(tmp.dir, 'f.img');
    staleImage(path);
    const dev = PmemDevice.openFile(path, { sparse: true });
    const fs = PmemFs.mount(dev, { commitIntervalMs: 0 });
    const dir = fs.lookup(ROOT_INO, 'docs');
    expect(dev.lazyPages).toBeGreaterThan(0);
    const url = new URL('./fixtures/lazy-reader.mjs', import.meta.url);
    const results = await Promise.all(
      [0, 1, 2, 3].map(
        (id) =>
          new Promise<{ bad: string[] }>((resolve, reject) => {
            const w = new Worker(url, { workerData: { desc: fs.descriptor(), id, dir, files: 50 } });
            w.once('message', resolve);
            w.once('error', reject);
            w.once('exit', (code) => code !== 0 && reject(new Error(`reader ${id} exited with ${code}`)));
          }),
      ),
    );
    expect(results.map((r) => r.bad)).toEqual([[], [], [], []]);
    expect(dev.lazyPages).toBe(0);
    expect(dev.quiescent(100)).toBe(true); // the lazy-load lock was let go
    expectClean(fs);
    fs.close();
  });
});
