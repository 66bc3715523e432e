// Corruption fuzzer: random byte flips in a valid image (superblock, bitmaps, inode table,
// directory buckets, block maps, file data). Every damaged image must either be refused at
// mount with a ZufsError, or mount and then answer a full walk, fsck and a few changes with data or
// ZufsErrors only: never another exception, never a hang.
import { randomBytes } from 'node:crypto';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIR_POS_END, fsck, mkfs, PmemDevice, PmemFs, ROOT_INO } from '@zufs/example-pmemfs';
import { ZufsError } from '@zufs/zuf-core';
import { S_IFLNK } from '@zufs/zuf-core/api';
import { describe, expect, it } from 'vitest';
import { DIR, enc, REG, tempDir } from './helpers.js';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SIZE = 4 << 20;

/** A small but varied filesystem: nested dirs, a big dir (split buckets), sparse and big files, links, xattrs. */
function baseImage(): { image: Uint8Array; used: number[] } {
  const dev = PmemDevice.memory(SIZE);
  mkfs(dev, { inodes: 512, journalBlocks: 16 });
  const fs = PmemFs.mount(dev);
  const a = fs.newInode(ROOT_INO, 'a', { mode: DIR });
  const b = fs.newInode(a, 'b', { mode: DIR });
  for (let i = 0; i < 200; i++) fs.newInode(b, `entry-${i}`, { mode: REG });
  const f = fs.newInode(a, 'file', { mode: REG });
  fs.write(f, 0, new Uint8Array(50_000).fill(7));
  fs.write(f, 5 << 20, enc('sparse tail'));
  fs.setxattr(f, 'user.x', enc('value'));
  fs.addDentry(ROOT_INO, f, 'hard');
  fs.newInode(ROOT_INO, 'sym', { mode: S_IFLNK | 0o777, symlinkTarget: 'a/'.repeat(40) });
  fs.newInode(ROOT_INO, 'short', { mode: S_IFLNK | 0o777, symlinkTarget: 'a' });
  expect(fs.check()).toEqual([]);
  // Blocks worth hitting: every metadata block and every block in use.
  const g = fs.geometry;
  const used: number[] = [];
  for (let bn = 0; bn < g.dataStart; bn++)
    if (bn < g.journalStart || bn >= g.journalStart + g.journalBlocks) used.push(bn);
  for (let bn = g.dataStart; bn < g.totalBlocks; bn++) {
    const i = bn - g.dataStart;
    if (dev.u8[g.bbmStart * 4096 + (i >>> 3)] & (1 << (i & 7))) used.push(bn);
  }
  return { image: dev.u8.slice(), used };
}

/** Everything a user could do with a mounted image: walk, read, fsck, a few changes. */
function exercise(fs: PmemFs): void {
  const tolerate = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof ZufsError)) throw e;
    }
  };
  const seen = new Set<number>();
  const walk = (dir: number, depth: number) => {
    if (depth > 20 || seen.has(dir)) return;
    seen.add(dir);
    const kids: number[] = [];
    tolerate(() => {
      let pos = 0;
      for (let n = 0; pos !== DIR_POS_END && n < 10_000; n++) {
        pos = fs.readdir(dir, pos, (ino) => {
          kids.push(ino);
          return kids.length < 5000;
        });
      }
    });
    for (const ino of kids) {
      tolerate(() => {
        const a = fs.getattr(ino);
        if ((a.mode & 0o170000) === 0o040000) walk(ino, depth + 1);
        else if ((a.mode & 0o170000) === 0o120000) fs.readlink(ino);
        else fs.read(ino, 0, new Uint8Array(Math.min(a.size, 1 << 20)));
        fs.listxattr(ino, null);
        fs.seek(ino, 0, 3);
      });
    }
  };
  walk(ROOT_INO, 0);
  fs.check({ allowOrphans: true });
  tolerate(() => fs.newInode(ROOT_INO, 'new', { mode: REG }));
  tolerate(() => fs.write(fs.lookup(ROOT_INO, 'new'), 0, new Uint8Array(10_000).fill(1)));
  tolerate(() => fs.rename(ROOT_INO, 'hard', ROOT_INO, 'hard2'));
  tolerate(() => fs.removeDentry(fs.lookup(ROOT_INO, 'a'), 'file'));
  tolerate(() => fs.truncate(fs.lookup(ROOT_INO, 'hard2'), 10));
  tolerate(() => fs.newInode(fs.lookup(fs.lookup(ROOT_INO, 'a'), 'b'), 'entry-x', { mode: REG }));
  fs.check({ allowOrphans: true });
}

describe('bad images', () => {
  it('refuses what is not a pmemfs image, a truncated one and a newer format, with one clear error', () => {
    const t = tempDir();
    try {
      const junk = join(t.dir, 'junk.img');
      writeFileSync(junk, randomBytes(1 << 20));
      const dev = PmemDevice.openFile(junk);
      expect(() => PmemFs.mount(dev)).toThrow(/no valid pmemfs superblock \(copy 0: bad magic/);
      expect(() => fsck(dev)).toThrow(ZufsError);
      dev.close();

      const cut = join(t.dir, 'cut.img');
      const d2 = PmemDevice.createFile(cut, 4 << 20);
      mkfs(d2);
      d2.close();
      truncateSync(cut, 2 << 20);
      const d3 = PmemDevice.openFile(cut);
      expect(() => PmemFs.mount(d3)).toThrow(/larger than the device/);
      d3.abandon(); // the device a failed mount leaves is the caller's: it holds the image's lock

      truncateSync(cut, (1 << 20) + 100);
      expect(() => PmemDevice.openFile(cut)).toThrow(/multiple of 4096/);
      truncateSync(cut, 0);
      expect(() => PmemDevice.openFile(cut)).toThrow(/multiple of 4096/);
    } finally {
      t.cleanup();
    }
  });

  it('falls back to superblock copy 1 when copy 0 is damaged, and refuses when both are', () => {
    const dev = PmemDevice.memory(4 << 20);
    mkfs(dev);
    const image = dev.u8.slice();
    dev.u8[20] ^= 0x40;
    const fs = PmemFs.mount(dev);
    expect(fs.check()).toEqual([]); // copy 0 was rewritten from copy 1
    const both = PmemDevice.memory(4 << 20);
    both.u8.set(image);
    both.u8[20] ^= 0x40;
    both.u8[4096 + 40] ^= 0x01;
    expect(() => PmemFs.mount(both)).toThrow(/copy 0: checksum mismatch; copy 1: checksum mismatch/);
  });
});

describe('corruption fuzzer', () => {
  it('mounts or refuses 600 damaged images, never crashing or hanging; fsck repairs them all', () => {
    const { image, used } = baseImage();
    const rnd = mulberry32(20261123);
    let refused = 0;
    let mounted = 0;
    let slowest = 0;
    let repaired = 0;
    for (let round = 0; round < 600; round++) {
      const dev = PmemDevice.memory(SIZE);
      dev.u8.set(image);
      const flips = 1 + Math.floor(rnd() * 8);
      const where: string[] = [];
      for (let k = 0; k < flips; k++) {
        const bn = used[Math.floor(rnd() * used.length)];
        const at = bn * 4096 + Math.floor(rnd() * (rnd() < 0.5 ? 256 : 4096));
        dev.u8[at] ^= 1 << Math.floor(rnd() * 8) || 1;
        if (rnd() < 0.3) dev.u8[at] = Math.floor(rnd() * 256);
        where.push(`${bn}+${at - bn * 4096}`);
      }
      // fsck --repair on a copy of the damaged image: it must leave nothing broken, and the
      // repaired image must mount clean.
      const copy = PmemDevice.memory(SIZE);
      copy.u8.set(dev.u8);
      try {
        const rep = fsck(copy, { repair: true });
        if (rep.remaining.length > 0) throw new Error(`left: ${rep.remaining.join('; ')}`);
        if (rep.repairs.length > 0) repaired++;
        const again = PmemDevice.memory(SIZE);
        again.u8.set(copy.u8);
        expect(PmemFs.mount(again).check()).toEqual([]);
      } catch (e) {
        if (!(e instanceof ZufsError && e.code === 'EINVAL')) {
          throw new Error(`round ${round} (${where}): fsck --repair: ${(e as Error).stack}`);
        }
      }
      const t0 = performance.now();
      let fs: PmemFs;
      try {
        fs = PmemFs.mount(dev, { lockTimeoutMs: 1000 });
      } catch (e) {
        if (!(e instanceof ZufsError)) throw new Error(`round ${round} (${where}): mount threw ${e}`);
        refused++;
        continue;
      }
      try {
        exercise(fs);
      } catch (e) {
        throw new Error(`round ${round} (${where}): ${(e as Error).stack}`);
      }
      mounted++;
      slowest = Math.max(slowest, performance.now() - t0);
    }
    console.log(
      `fuzzer: 600 images, ${mounted} mounted and walked, ${refused} refused, ${repaired} repaired clean, slowest ${slowest.toFixed(0)} ms`,
    );
    expect(mounted + refused).toBe(600);
    expect(repaired).toBeGreaterThan(100);
    expect(slowest).toBeLessThan(5000);
  });
});
