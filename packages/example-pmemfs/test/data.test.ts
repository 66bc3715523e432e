// File data: read, write, block maps, sparse and large files, truncate, fallocate, seek, NIO, copy.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BLOCK_SIZE, MAX_FILE_SIZE, mkfs, PmemDevice, PmemFs, ROOT_INO } from '@zufs/example-pmemfs';
import {
  APP_COPY_ABANDONED,
  APP_COPY_COPYING,
  APP_COPY_DONE,
  FALLOC_FL_COLLAPSE_RANGE,
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  FALLOC_FL_ZERO_RANGE,
  S_IFIFO,
  S_IFLNK,
  SEEK_DATA,
  SEEK_END,
  SEEK_HOLE,
} from '@zufs/zuf-core/api';
import { beforeEach, describe, expect, it } from 'vitest';
import { DIR, enc, expectBytes, expectClean, expectErrno, memFs, REG } from './helpers.js';

const R = ROOT_INO;
const B = BLOCK_SIZE;
let fs: PmemFs;
let f: number;
beforeEach(() => {
  fs = memFs(32 << 20);
  f = fs.newInode(R, 'f', { mode: REG });
});

/** Deterministic bytes: byte i of the pattern is a function of (seed, offset). */
function pattern(len: number, seed: number, offset = 0): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = ((offset + i) * 31 + seed * 7 + ((offset + i) >>> 12)) & 0xff;
  return out;
}

function readAll(ino: number): Uint8Array {
  const out = new Uint8Array(fs.getattr(ino).size);
  expect(fs.read(ino, 0, out)).toBe(out.length);
  return out;
}

const blocksOf = (ino: number) => fs.getattr(ino).blocks / 8;

describe('read and write', () => {
  it('writes, extends, overwrites and reads back at odd offsets', async () => {
    const t0 = fs.getattr(f).mtimeNs;
    await new Promise((r) => setTimeout(r, 2));
    expect(fs.write(f, 0, enc('hello'))).toBe(5);
    expect(fs.getattr(f).mtimeNs).toBeGreaterThan(t0);
    expect(fs.write(f, 3, enc('p me'))).toBe(4);
    expect(new TextDecoder().decode(readAll(f))).toBe('help me');
    const big = pattern(3 * B + 123, 1);
    expect(fs.write(f, B - 7, big)).toBe(big.length);
    expect(fs.getattr(f).size).toBe(B - 7 + big.length);
    const back = new Uint8Array(big.length);
    expect(fs.read(f, B - 7, back)).toBe(big.length);
    expect(back).toEqual(big);
    // Reads stop at the end of the file.
    const tail = new Uint8Array(100);
    expect(fs.read(f, fs.getattr(f).size - 10, tail)).toBe(10);
    expect(fs.read(f, fs.getattr(f).size, tail)).toBe(0);
    expect(fs.read(f, 10 ** 12, tail)).toBe(0);
    expect(fs.write(f, 0, new Uint8Array(0))).toBe(0);
    expect(blocksOf(f)).toBe(5 + 1); // 5 data blocks and one pointer block
    expectClean(fs);
  });

  it('keeps holes as zeros that cost no blocks', () => {
    fs.write(f, 10 * B + 5, enc('x'));
    expect(fs.getattr(f).size).toBe(10 * B + 6);
    expect(blocksOf(f)).toBe(2); // the data block and its pointer block
    const all = readAll(f);
    expect(all.subarray(0, 10 * B + 5).every((b) => b === 0)).toBe(true);
    expect(all[10 * B + 5]).toBe(0x78);
    // A one-block file at index 0 needs no pointer block.
    const g = fs.newInode(R, 'g', { mode: REG });
    fs.write(g, 0, enc('tiny'));
    expect(blocksOf(g)).toBe(1);
    expectClean(fs);
  });

  it('handles a huge sparse file cheaply', () => {
    const offsets = [0, 5 * 2 ** 20, 3 * 2 ** 30 + 17, 2 ** 40 - 1, MAX_FILE_SIZE - 4];
    for (const [i, off] of offsets.entries()) expect(fs.write(f, off, pattern(4, i))).toBe(4);
    expect(fs.getattr(f).size).toBe(MAX_FILE_SIZE);
    expect(blocksOf(f)).toBeLessThan(20);
    for (const [i, off] of offsets.entries()) {
      const b = new Uint8Array(4);
      fs.read(f, off, b);
      expectBytes(b, pattern(4, i));
    }
    const hole = new Uint8Array(8);
    fs.read(f, 2 ** 35, hole);
    expect(hole.every((b) => b === 0)).toBe(true);
    expectErrno(() => fs.write(f, MAX_FILE_SIZE, enc('x')), 'EFBIG');
    expect(fs.write(f, MAX_FILE_SIZE - 2, enc('abcd'))).toBe(2); // cut at the limit
    expectClean(fs);
    fs.truncate(f, 0);
    expect(blocksOf(f)).toBe(0);
    expectClean(fs);
  });

  it('refuses what is not a regular file, and bad offsets', () => {
    const d = fs.newInode(R, 'd', { mode: DIR });
    const l = fs.newInode(R, 'l', { mode: S_IFLNK | 0o777, symlinkTarget: 'f' });
    const buf = new Uint8Array(4);
    expectErrno(() => fs.read(d, 0, buf), 'EISDIR');
    expectErrno(() => fs.write(d, 0, buf), 'EISDIR');
    expectErrno(() => fs.write(l, 0, buf), 'EINVAL');
    expectErrno(() => fs.read(f, -1, buf), 'EINVAL');
    expectErrno(() => fs.write(f, 1.5, buf), 'EINVAL');
    expectErrno(() => fs.truncate(d, 0), 'EISDIR');
    expectErrno(() => fs.truncate(f, -1), 'EINVAL');
    expectErrno(() => fs.truncate(f, MAX_FILE_SIZE + 1), 'EFBIG');
    expectErrno(() => fs.read(12345, 0, buf), 'ESTALE');
  });
});

describe('a 64 MiB file', () => {
  it('writes and reads back 64 MiB in 1 MiB pieces, contiguously placed', () => {
    const big = memFs(96 << 20);
    const g = big.newInode(R, 'big', { mode: REG });
    const MiB = 1 << 20;
    for (let i = 0; i < 64; i++) expect(big.write(g, i * MiB, pattern(MiB, 3, i * MiB))).toBe(MiB);
    expect(big.getattr(g).size).toBe(64 * MiB);
    expect(big.getattr(g).blocks / 8).toBe(16384 + 16 + 1); // data + level-1 + level-2 pointer blocks
    const buf = new Uint8Array(MiB);
    for (let i = 0; i < 64; i += 7) {
      big.read(g, i * MiB, buf);
      expectBytes(buf, pattern(MiB, 3, i * MiB));
    }
    // Sequential writes get consecutive blocks (but where a pointer block took the next one).
    const out = new Float64Array(16384);
    expect(big.getMulty(g, 0, 64 * MiB, out)).toBe(16384);
    let jumps = 0;
    for (let i = 1; i < 16384; i++) if (out[i] !== out[i - 1] + B) jumps++;
    expect(jumps).toBeLessThanOrEqual(17);
    expect(big.check()).toEqual([]);
  });

  it('writes a range whose blocks lie apart in pmem (one copy per contiguous run) exactly', () => {
    // Two files written block by block in turn: each gets every other block.
    const g = fs.newInode(R, 'g', { mode: REG });
    for (let i = 0; i < 8; i++) {
      fs.write(f, i * B, pattern(B, 1, i * B));
      fs.write(g, i * B, pattern(B, 2, i * B));
    }
    const out = new Float64Array(8);
    fs.getMulty(f, 0, 8 * B, out);
    expect(out.some((at, i) => i > 0 && at !== out[i - 1] + B)).toBe(true);
    // Overwrite across all of them from an odd offset, then extend into new (contiguous) blocks.
    const data = pattern(12 * B - 100, 5);
    expect(fs.write(f, 50, data)).toBe(data.length);
    const want = pattern(12 * B - 50, 0);
    want.set(pattern(50, 1), 0);
    want.set(data, 50);
    expectBytes(readAll(f), want);
    expectBytes(readAll(g), pattern(8 * B, 2));
    expect(fs.check()).toEqual([]);
  });
});

describe('writeByApp (the app copies the data into pmem itself)', () => {
  /** A copy callback that plays the app: copies `data` into the device by the runs it is given. */
  const appCopying = (data: Uint8Array) => (runs: Float64Array, n: number) => {
    const pmem = fs.device.u8;
    for (let i = 0; i < n; i++) {
      const [at, from, len] = [runs[3 * i], runs[3 * i + 1], runs[3 * i + 2]];
      pmem.set(data.subarray(from, from + len), at);
    }
    return APP_COPY_DONE;
  };

  it('lands the data where the runs say, over old blocks, holes and new ones', () => {
    const g = fs.newInode(R, 'g', { mode: REG });
    // f's old blocks lie apart in pmem (g took every other one), and it gets a hole.
    for (let i = 0; i < 6; i++) {
      fs.write(f, i * B, pattern(B, 1, i * B));
      fs.write(g, i * B, pattern(B, 2, i * B));
    }
    fs.fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 2 * B, B);
    const data = pattern(9 * B + 77, 7);
    let calls = 0;
    const copy = appCopying(data);
    const counted = (r: Float64Array, n: number) => {
      calls++;
      return copy(r, n);
    };
    expect(fs.writeByApp(f, 100, data.length, counted)).toBe(data.length);
    expect(calls).toBe(1);
    const want = new Uint8Array(100 + data.length);
    want.set(pattern(100, 1), 0);
    want.set(data, 100);
    expectBytes(readAll(f), want);
    expectBytes(readAll(g), pattern(6 * B, 2));
    expect(fs.check()).toEqual([]);
  });

  it('fails with EIO when the app does not copy, keeping the size and freeing what it allocated past it', () => {
    fs.write(f, 0, pattern(B + 10, 3));
    const before = blocksOf(f);
    expectErrno(() => fs.writeByApp(f, 5, 5 * B, () => APP_COPY_ABANDONED), 'EIO');
    expect(fs.getattr(f).size).toBe(B + 10);
    expect(blocksOf(f)).toBe(before);
    // What was there stays (blocks the write had allocated inside the size are zeroed, not stale).
    expectBytes(readAll(f).subarray(0, 5), pattern(5, 3));
    expect(fs.check()).toEqual([]);
  });

  it('keeps blocks a late copy may still reach from everyone else, until the next mount frees them', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'pmemfs-late-'));
    try {
      const path = join(tmp, 'late.img');
      const dev = PmemDevice.createFile(path, 16 << 20);
      mkfs(dev);
      const fs1 = PmemFs.mount(dev, { commitIntervalMs: 0 });
      const h = fs1.newInode(R, 'h', { mode: REG });
      fs1.write(h, 0, pattern(3 * B, 4)); // the write goes over two old blocks and two new ones
      const free0 = fs1.statfs().bfree;
      const reached: number[] = [];
      const wentSilent = (runs: Float64Array, n: number) => {
        for (let i = 0; i < n; i++) {
          const at = runs[3 * i];
          const last = Math.floor((at + runs[3 * i + 2] - 1) / B);
          for (let bn = Math.floor(at / B); bn <= last; bn++) reached.push(bn);
        }
        return APP_COPY_COPYING;
      };
      expectErrno(() => fs1.writeByApp(h, B + 100, 3 * B, wentSilent), 'EIO');
      expect(reached.length).toBe(4);
      // The file keeps its size; the range's blocks left it (it reads zeros there) for an orphan.
      expect(fs1.getattr(h).size).toBe(3 * B);
      const back = new Uint8Array(3 * B);
      fs1.read(h, 0, back);
      expectBytes(back.subarray(0, B), pattern(B, 4));
      expect(back.subarray(B).every((b) => b === 0)).toBe(true);
      expect(fs1.getattr(h).blocks / 8).toBe(2); // block 0 and its pointer block
      expect(fs1.check({ allowOrphans: true })).toEqual([]);
      expect(fs1.check()).toEqual([expect.stringMatching(/orphan/)]);
      // Filling the device takes every free block but never one the late copy may write.
      const big = fs1.newInode(R, 'big', { mode: REG });
      const got = fs1.write(big, 0, new Uint8Array(free0 * B));
      const owned = new Float64Array(got / B);
      fs1.getMulty(big, 0, got, owned);
      const mine = new Set(Array.from(owned, (at) => at / B));
      expect(reached.filter((bn) => mine.has(bn))).toEqual([]);
      fs1.removeDentry(R, 'big');
      fs1.evict(big);
      fs1.close();
      // The next mount frees the orphan: the two old blocks and the two new ones come back.
      const fs2 = PmemFs.mount(PmemDevice.openFile(path), { commitIntervalMs: 0 });
      expect(fs2.mountReport?.orphansFreed).toBe(1);
      expect(fs2.check()).toEqual([]);
      expect(fs2.statfs().bfree).toBe(free0 + 2);
      fs2.close();
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('getMulty', () => {
  it('returns pmem offsets of the blocks, 0 for holes, clipped at the end', () => {
    fs.write(f, 0, pattern(B, 1));
    fs.write(f, 2 * B, pattern(B + 10, 2));
    const out = new Array<number>(10).fill(-1);
    expect(fs.getMulty(f, 100, 3 * B, out)).toBe(4);
    expect(out[1]).toBe(0);
    const view = fs.device.u8;
    expectBytes(view.subarray(out[0], out[0] + B), pattern(B, 1));
    expectBytes(view.subarray(out[2], out[2] + B), pattern(B + 10, 2).subarray(0, B));
    expect(out[3]).toBeGreaterThan(0);
    expect(out[4]).toBe(-1); // untouched: past the end
    expect(fs.getMulty(f, 3 * B + 10, 100, out)).toBe(0);
    expect(fs.getMulty(f, 0, 10 * B, new Float64Array(2))).toBe(2);
  });

  it('maps a sparse two-level file across missing pointer blocks as block-by-block lookups do', () => {
    const data = [0, 5, 1023, 1024, 1030, 3000, 70_000, 500_000];
    for (const [k, idx] of data.entries()) fs.write(f, idx * B, pattern(B, k + 3));
    const n = 500_001;
    const all = new Float64Array(n);
    expect(fs.getMulty(f, 0, n * B, all)).toBe(n);
    const one = new Float64Array(1);
    for (let i = 0; i < n; i++) {
      if (data.includes(i) || i % 997 === 0) {
        fs.getMulty(f, i * B, 1, one);
        expect(all[i]).toBe(one[0]);
      }
      expect(all[i] !== 0).toBe(data.includes(i));
    }
    for (const [k, idx] of data.entries()) {
      expectBytes(fs.device.u8.subarray(all[idx], all[idx] + B), pattern(B, k + 3));
    }
    // From the middle of a pointer block, over the end of one and into the next.
    const part = new Float64Array(40);
    expect(fs.getMulty(f, 1010 * B + 7, 40 * B, part)).toBe(40);
    expect(Array.from(part)).toEqual(Array.from(all.subarray(1010, 1050)));
  });
});

describe('truncate', () => {
  it('frees blocks past the size and zeroes the tail of the last block', () => {
    fs.write(f, 0, pattern(5 * B, 4));
    const free = fs.statfs().bfree;
    fs.truncate(f, 2 * B + 100);
    expect(fs.getattr(f).size).toBe(2 * B + 100);
    expect(fs.statfs().bfree).toBe(free + 2);
    // Growing again shows zeros past the old cut, not the old bytes.
    fs.truncate(f, 5 * B);
    const all = readAll(f);
    expectBytes(all.subarray(0, 2 * B + 100), pattern(5 * B, 4).subarray(0, 2 * B + 100));
    expect(all.subarray(2 * B + 100).every((b) => b === 0)).toBe(true);
    expect(blocksOf(f)).toBe(3 + 1);
    fs.truncate(f, 0);
    expect(blocksOf(f)).toBe(0);
    expect(fs.statfs().bfree).toBe(free + 5 + 1);
    expectClean(fs);
  });
});

describe('fallocate', () => {
  it('allocates and extends (mode 0), or keeps the size', () => {
    fs.fallocate(f, 0, 100, 3 * B);
    expect(fs.getattr(f).size).toBe(100 + 3 * B);
    expect(blocksOf(f)).toBe(4 + 1);
    expect(readAll(f).every((b) => b === 0)).toBe(true);
    const g = fs.newInode(R, 'g', { mode: REG });
    fs.fallocate(g, FALLOC_FL_KEEP_SIZE, 0, 8 * B);
    expect(fs.getattr(g).size).toBe(0);
    expect(blocksOf(g)).toBe(8 + 1);
    expectClean(fs); // blocks past the size are allowed after KEEP_SIZE
    fs.truncate(g, B); // and truncate drops them (the pointer block stays: the tree does not shrink)
    expect(blocksOf(g)).toBe(1 + 1);
    expectClean(fs);
  });

  it('punches holes (freeing whole blocks, zeroing partial ones)', () => {
    fs.write(f, 0, pattern(6 * B, 5));
    fs.fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, B + 10, 3 * B);
    expect(fs.getattr(f).size).toBe(6 * B);
    expect(blocksOf(f)).toBe(4 + 1); // blocks 2 and 3 freed; 1 and 4 partly zeroed
    const want = pattern(6 * B, 5);
    want.fill(0, B + 10, 4 * B + 10);
    expectBytes(readAll(f), want);
    expectClean(fs);
  });

  it('zeroes a range, allocating it', () => {
    fs.write(f, 0, pattern(2 * B, 6));
    fs.fallocate(f, FALLOC_FL_ZERO_RANGE, B / 2, 3 * B);
    expect(fs.getattr(f).size).toBe(B / 2 + 3 * B);
    const want = new Uint8Array(B / 2 + 3 * B);
    want.set(pattern(B / 2, 6));
    expectBytes(readAll(f), want);
    expect(blocksOf(f)).toBe(4 + 1);
    expectClean(fs);
  });

  it('fails with the right errno, and all or nothing on ENOSPC', () => {
    const d = fs.newInode(R, 'd', { mode: DIR });
    const p = fs.newInode(R, 'p', { mode: S_IFIFO | 0o600 });
    expectErrno(() => fs.fallocate(d, 0, 0, B), 'EISDIR');
    expectErrno(() => fs.fallocate(p, 0, 0, B), 'ENODEV');
    expectErrno(() => fs.fallocate(f, FALLOC_FL_PUNCH_HOLE, 0, B), 'ENOTSUP');
    expectErrno(() => fs.fallocate(f, FALLOC_FL_COLLAPSE_RANGE, 0, B), 'ENOTSUP');
    expectErrno(() => fs.fallocate(f, 0, 0, 0), 'EINVAL');
    expectErrno(() => fs.fallocate(f, 0, -1, B), 'EINVAL');
    expectErrno(() => fs.fallocate(f, 0, MAX_FILE_SIZE, 1), 'EFBIG');
    const free = fs.statfs().bfree;
    expectErrno(() => fs.fallocate(f, 0, 0, (free + 1) * B), 'ENOSPC');
    expect(fs.statfs().bfree).toBe(free);
    expect(fs.getattr(f).size).toBe(0);
    // Exactly what is left (data and pointer blocks) fits.
    const fit = free - Math.ceil(free / 1024) - 1;
    fs.fallocate(f, 0, 0, fit * B);
    expect(fs.statfs().bfree).toBe(0);
    expectClean(fs);
  });
});

describe('seek', () => {
  it('finds data and holes, ENXIO at or past the end', () => {
    fs.write(f, 2 * B, pattern(B, 1));
    fs.write(f, 5 * B, pattern(2 * B, 1));
    fs.truncate(f, 9 * B);
    expect(fs.seek(f, 0, SEEK_DATA)).toBe(2 * B);
    expect(fs.seek(f, 2 * B + 5, SEEK_DATA)).toBe(2 * B + 5);
    expect(fs.seek(f, 3 * B, SEEK_DATA)).toBe(5 * B);
    expect(fs.seek(f, 0, SEEK_HOLE)).toBe(0);
    expect(fs.seek(f, 2 * B, SEEK_HOLE)).toBe(3 * B);
    expect(fs.seek(f, 5 * B + 1, SEEK_HOLE)).toBe(7 * B);
    expect(fs.seek(f, 8 * B, SEEK_HOLE)).toBe(8 * B);
    expectErrno(() => fs.seek(f, 7 * B, SEEK_DATA), 'ENXIO');
    expectErrno(() => fs.seek(f, 9 * B, SEEK_HOLE), 'ENXIO');
    expectErrno(() => fs.seek(f, -1, SEEK_DATA), 'ENXIO');
    expectErrno(() => fs.seek(f, 0, SEEK_END), 'EINVAL');
    const full = fs.newInode(R, 'full', { mode: REG });
    fs.write(full, 0, pattern(B + 1, 2));
    expect(fs.seek(full, 0, SEEK_HOLE)).toBe(B + 1); // the end counts as a hole
  });
});

describe('copyRange', () => {
  it('copies data, keeps holes, extends the target', () => {
    fs.write(f, 0, pattern(B, 1));
    fs.write(f, 3 * B, pattern(B, 2));
    const g = fs.newInode(R, 'g', { mode: REG });
    fs.write(g, B, pattern(B, 9)); // stale bytes where the source has a hole
    expect(fs.copyRange(f, 0, g, 0, 100 * B)).toBe(4 * B); // clipped at the source's end
    expectBytes(readAll(g), readAll(f));
    expect(blocksOf(g)).toBe(3 + 1); // the hole at block 2 stayed a hole
    expect(fs.copyRange(f, 10, g, 4 * B + 3, 50)).toBe(50);
    const piece = new Uint8Array(50);
    fs.read(g, 4 * B + 3, piece);
    expectBytes(piece, pattern(B, 1).subarray(10, 60));
    expect(fs.copyRange(f, 100 * B, g, 0, 10)).toBe(0);
    expectErrno(() => fs.copyRange(f, 0, f, 10, 100), 'EINVAL');
    expect(fs.copyRange(f, 0, f, 8 * B, B)).toBe(B); // same file, no overlap
    expectClean(fs);
  });
});
