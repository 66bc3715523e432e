// The journal: every crash point of a commit leaves the old state or the new one, never a mix;
// torn commits are discarded; fsync costs what changed; background commits; format upgrade.
import { createHash } from 'node:crypto';
import nodeFs, { readFileSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import {
  crc32c,
  DIR_POS_END,
  FORMAT_VERSION,
  mkfs,
  PmemDevice,
  PmemFs,
  ROOT_INO,
} from '@zufs/example-pmemfs';
import { isDir, isReg } from '@zufs/zuf-core/api';
import { afterEach, describe, expect, it } from 'vitest';
import { DIR, dec, enc, REG, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir> | null = null;
afterEach(() => {
  tmp?.cleanup();
  tmp = null;
});

/** path -> what a user sees of it (type, size, content hash, link count). */
function dump(fs: PmemFs, dir = ROOT_INO, prefix = '/', out = new Map<string, string>()) {
  const list: [string, number][] = [];
  let pos = 0;
  while (pos !== DIR_POS_END) {
    pos = fs.readdir(dir, pos, (ino, _t, _n, name) => {
      list.push([dec(name), ino]);
      return true;
    });
  }
  for (const [name, ino] of list) {
    if (name === '.' || name === '..') continue;
    const a = fs.getattr(ino);
    let v = `${a.mode.toString(8)} ${a.nlink} ${a.size}`;
    if (isReg(a.mode)) {
      const b = new Uint8Array(a.size);
      fs.read(ino, 0, b);
      v += ` ${createHash('sha1').update(b).digest('hex')}`;
    }
    out.set(prefix + name, v);
    if (isDir(a.mode)) dump(fs, ino, `${prefix + name}/`, out);
  }
  return out;
}

/**
 * Runs `fn` recording every pwrite it makes (buffer copies), through node:fs's writeSync, and its
 * fdatasyncs: `syncs[j]` is how many writes came before the j-th one.
 */
function recordIo(fn: () => void): { writes: { pos: number; bytes: Uint8Array }[]; syncs: number[] } {
  const writes: { pos: number; bytes: Uint8Array }[] = [];
  const syncs: number[] = [];
  const write = nodeFs.writeSync;
  const sync = nodeFs.fdatasyncSync;
  // biome-ignore lint/suspicious/noExplicitAny: wrapping an overloaded function
  const f = nodeFs as any;
  f.writeSync = (fd: number, buf: Uint8Array, off: number, len: number, pos: number) => {
    writes.push({ pos, bytes: buf.slice(off, off + len) });
    return write(fd, buf, off, len, pos);
  };
  f.fdatasyncSync = (fd: number) => {
    syncs.push(writes.length);
    return sync(fd);
  };
  syncBuiltinESMExports();
  try {
    fn();
  } finally {
    f.writeSync = write;
    f.fdatasyncSync = sync;
    syncBuiltinESMExports();
  }
  return { writes, syncs };
}

const recordWrites = (fn: () => void) => recordIo(fn).writes;

/** Mounts a copy of `image` as it would be read after a crash (recovery runs at mount). */
function mountCopy(image: Uint8Array): PmemFs {
  const dev = PmemDevice.memory(image.length);
  dev.u8.set(image);
  return PmemFs.mount(dev);
}

/** The same from the image file `path` opened sparse: recovery reads what it replays (load.ts). */
function mountSparseCopy(image: Uint8Array, path: string): PmemFs {
  writeFileSync(path, image);
  return PmemFs.mount(PmemDevice.openFile(path, { sparse: true }), { commitIntervalMs: 0 });
}

/**
 * The crash images of one segment of `writes` (those from `from` to `to`, after an fdatasync): all
 * before `from` applied to `base`, then a subset of the segment, in every way that matters: all,
 * none, each one alone, each one missing, and `randoms` random ones (a fixed seed).
 */
function segmentImages(
  base: Uint8Array,
  writes: { pos: number; bytes: Uint8Array }[],
  from: number,
  to: number,
  randoms: number,
): { img: Uint8Array; what: string }[] {
  let seed = 12345 + from;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const n = to - from;
  const subsets: boolean[][] = [Array(n).fill(true), Array(n).fill(false)];
  for (let i = 0; i < n; i++) {
    subsets.push(Array.from({ length: n }, (_, k) => k === i));
    subsets.push(Array.from({ length: n }, (_, k) => k !== i));
  }
  for (let r = 0; r < randoms; r++) subsets.push(Array.from({ length: n }, () => random() < 0.5));
  return subsets.map((kept) => {
    const img = new Uint8Array(base);
    for (let i = 0; i < from; i++) img.set(writes[i].bytes, writes[i].pos);
    for (let i = 0; i < n; i++) if (kept[i]) img.set(writes[from + i].bytes, writes[from + i].pos);
    return { img, what: `writes ${from}..${to}, kept ${kept.map((k) => (k ? 1 : 0)).join('')}` };
  });
}

describe('journal', () => {
  /**
   * A committed image, then a transaction of everything in memory: overwrites of committed blocks
   * (more than the 16-block journal holds: overflow storage), new blocks, creates, a rename over a
   * name, unlinks, a new directory, a new file of `newBytes` (1 MiB: more new blocks than a commit
   * lists in its descriptors). `before` and `after` are what a user sees of each state.
   */
  function bigTransaction(newBytes = 1 << 20) {
    tmp = tempDir();
    const path = join(tmp.dir, 'j.img');
    const dev = PmemDevice.createFile(path, 8 << 20);
    mkfs(dev, { journalBlocks: 16 });
    const fs = PmemFs.mount(dev, { commitIntervalMs: 0 });
    const docs = fs.newInode(ROOT_INO, 'docs', { mode: DIR });
    const kept = fs.newInode(docs, 'kept', { mode: REG });
    fs.write(kept, 0, new Uint8Array(300_000).fill(1));
    for (let i = 0; i < 40; i++) fs.newInode(docs, `n${i}`, { mode: REG });
    fs.sync();
    const before = dump(fs);
    const base = readFileSync(path);
    fs.write(kept, 4096, new Uint8Array(200_000).fill(2));
    const big = fs.newInode(ROOT_INO, 'big', { mode: REG });
    fs.write(big, 0, new Uint8Array(newBytes).fill(3));
    for (let i = 0; i < 20; i++) fs.evict(fs.removeDentry(docs, `n${i}`));
    fs.rename(docs, 'n30', docs, 'n31');
    const sub = fs.newInode(docs, 'sub', { mode: DIR });
    fs.newInode(sub, 'inner', { mode: REG });
    return { fs, path, base, before, after: dump(fs) };
  }

  /** Whether the image a crash left mounts consistent, as `before` or as `after` (null: neither). */
  function stateAfterCrash(
    img: Uint8Array,
    before: Map<string, string>,
    after: Map<string, string>,
    what: string,
  ) {
    const crashed = mountCopy(img);
    expect(crashed.check(), what).toEqual([]);
    const seen = JSON.stringify([...dump(crashed)]);
    if (seen === JSON.stringify([...before])) return 'old';
    if (seen === JSON.stringify([...after])) return 'new';
    return null;
  }

  it('leaves the old or the new state at every crash point of a commit, torn or not', () => {
    const { fs, path, base, before, after } = bigTransaction();
    const writes = recordWrites(() => fs.sync());
    expect(writes.length).toBeGreaterThan(5);
    expect(readFileSync(path).equals(base)).toBe(false);
    let olds = 0;
    let news = 0;
    for (let k = 0; k <= writes.length; k++) {
      for (const torn of k < writes.length ? [false, true] : [false]) {
        const img = new Uint8Array(base);
        for (let i = 0; i < k; i++) img.set(writes[i].bytes, writes[i].pos);
        // A torn k-th write: the first half reached the file.
        if (torn) img.set(writes[k].bytes.subarray(0, writes[k].bytes.length >>> 1), writes[k].pos);
        const what = `crash after ${k} writes${torn ? ' + a torn one' : ''}`;
        const state = stateAfterCrash(img, before, after, what);
        expect(state, what).not.toBeNull();
        if (state === 'old') olds++;
        else news++;
        const sparse = mountSparseCopy(img, join(tmp!.dir, 'crashed.img'));
        expect(sparse.check(), `sparse, ${what}`).toEqual([]);
        expect(JSON.stringify([...dump(sparse)])).toBe(JSON.stringify([...dump(mountCopy(img))]));
        sparse.close();
      }
    }
    // Early crash points give the old state, late ones the new.
    expect(olds).toBeGreaterThan(0);
    expect(news).toBeGreaterThan(0);
    fs.close();
  });

  it('leaves the old or the new state when the disk keeps any part of what came after the last fdatasync', () => {
    // The disk may keep the writes between two fdatasyncs in any order and drop any of them: the
    // commit block without the copies or the new blocks must read as torn, not as a commit.
    const { fs, base, before, after } = bigTransaction(512 * 1024); // new blocks the descriptors list
    const { writes, syncs } = recordIo(() => fs.sync());
    expect(syncs.length).toBe(2); // the commit block's, the checkpoint's
    const seen = { old: 0, new: 0 };
    for (let j = 0; j < syncs.length; j++) {
      for (const { img, what } of segmentImages(base, writes, j === 0 ? 0 : syncs[j - 1], syncs[j], 40)) {
        const state = stateAfterCrash(img, before, after, what);
        expect(state, what).not.toBeNull();
        seen[state!]++;
      }
    }
    expect(seen.old).toBeGreaterThan(0);
    expect(seen.new).toBeGreaterThan(0);
    fs.close();
  });

  it('replays a committed transaction that did not reach home, and replays again idempotently', () => {
    tmp = tempDir();
    const path = join(tmp.dir, 'r.img');
    const dev = PmemDevice.createFile(path, 4 << 20);
    mkfs(dev);
    const fs = PmemFs.mount(dev, { commitIntervalMs: 0 });
    fs.sync();
    const base = readFileSync(path);
    const f = fs.newInode(ROOT_INO, 'f', { mode: REG });
    fs.write(f, 0, enc('journaled'));
    const writes = recordWrites(() => fs.sync());
    fs.close();
    // Up to and including the commit block, none of the home writes after it.
    // The commit block, in either slot (journal block 0 or 1).
    const slots = [0, 1].map((k) => (fs.geometry.journalStart + k) * 4096);
    const commitAt = writes.findIndex((w) => slots.includes(w.pos));
    expect(commitAt).toBeGreaterThan(0);
    const img = new Uint8Array(base);
    for (let i = 0; i <= commitAt; i++) img.set(writes[i].bytes, writes[i].pos);
    const first = mountCopy(img);
    expect(first.mountReport?.recovery?.replayed).toBeGreaterThan(0);
    const buf = new Uint8Array(9);
    first.read(first.lookup(ROOT_INO, 'f'), 0, buf);
    expect(dec(buf)).toBe('journaled');
    expect(first.check()).toEqual([]);
    const sparse = mountSparseCopy(img, join(tmp.dir, 'sparse.img'));
    expect(sparse.mountReport?.recovery?.replayed).toBe(first.mountReport?.recovery?.replayed);
    expect(Buffer.from(sparse.device.u8).equals(Buffer.from(first.device.u8))).toBe(true);
    sparse.close();
    // Recovery again on the recovered image: nothing differs, nothing changes.
    const again = mountCopy(first.device.u8);
    expect(again.mountReport?.recovery?.replayed).toBe(0);
    expect(again.device.u8.every((x, i) => x === first.device.u8[i])).toBe(true);
  });

  it('survives a crash at every write of recovery itself', () => {
    tmp = tempDir();
    const path = join(tmp.dir, 'rr.img');
    const dev = PmemDevice.createFile(path, 4 << 20);
    mkfs(dev);
    const fs = PmemFs.mount(dev, { commitIntervalMs: 0 });
    fs.sync();
    const base = readFileSync(path);
    const d = fs.newInode(ROOT_INO, 'dir', { mode: DIR });
    for (let i = 0; i < 30; i++) fs.write(fs.newInode(d, `f${i}`, { mode: REG }), 0, enc(`file ${i}`));
    const after = dump(fs);
    const writes = recordWrites(() => fs.sync());
    fs.close();
    // The commit block, in either slot (journal block 0 or 1).
    const slots = [0, 1].map((k) => (fs.geometry.journalStart + k) * 4096);
    const commitAt = writes.findIndex((w) => slots.includes(w.pos));
    const crashed = new Uint8Array(base);
    for (let i = 0; i <= commitAt; i++) crashed.set(writes[i].bytes, writes[i].pos);
    // Recover from a file, recording recovery's own writes; then crash after each of them.
    const img = join(tmp.dir, 'crashed.img');
    nodeFs.writeFileSync(img, crashed);
    let first: PmemFs | null = null;
    const replay = recordWrites(() => {
      first = PmemFs.mount(PmemDevice.openFile(img), { commitIntervalMs: 0 });
    });
    expect(replay.length).toBeGreaterThan(1);
    (first as unknown as PmemFs).close();
    for (let k = 0; k < replay.length; k++) {
      const partial = new Uint8Array(crashed);
      for (let i = 0; i < k; i++) partial.set(replay[i].bytes, replay[i].pos);
      const again = mountCopy(partial);
      expect(again.check(), `recovery crashed after ${k} writes`).toEqual([]);
      expect(dump(again)).toEqual(after);
    }
  });

  it('discards a damaged journal whole and mounts the previous state (200 random flips)', () => {
    tmp = tempDir();
    const path = join(tmp.dir, 'flip.img');
    const dev = PmemDevice.createFile(path, 8 << 20);
    mkfs(dev, { journalBlocks: 16 });
    const fs = PmemFs.mount(dev, { commitIntervalMs: 0 });
    const f = fs.newInode(ROOT_INO, 'f', { mode: REG });
    fs.write(f, 0, new Uint8Array(120_000).fill(5));
    fs.sync();
    const before = dump(fs);
    const base = readFileSync(path);
    fs.write(f, 0, new Uint8Array(120_000).fill(6)); // overwrites: journaled, past the journal
    for (let i = 0; i < 10; i++) fs.newInode(ROOT_INO, `n${i}`, { mode: REG });
    const after = dump(fs);
    const writes = recordWrites(() => fs.sync());
    fs.close();
    // The image with the transaction committed but not home: only its journal writes applied.
    // The commit block, in either slot (journal block 0 or 1).
    const slots = [0, 1].map((k) => (fs.geometry.journalStart + k) * 4096);
    const commitAt = writes.findIndex((w) => slots.includes(w.pos));
    const committed = new Uint8Array(base);
    for (let i = 0; i <= commitAt; i++) committed.set(writes[i].bytes, writes[i].pos);
    expect(dump(mountCopy(committed))).toEqual(after);
    // Journal-only writes: the ones that did not go home (home pages are not journal storage).
    const journalWrites = writes.slice(0, commitAt + 1).filter((w) => {
      const b = w.pos / 4096;
      return b < fs.geometry.dataStart || committed.subarray(w.pos, w.pos + 8).some((x) => x !== 0);
    });
    let rnd = 7;
    const next = () => {
      rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0;
      return rnd / 2 ** 32;
    };
    let discarded = 0;
    for (let r = 0; r < 200; r++) {
      const img = new Uint8Array(committed);
      const w = journalWrites[Math.floor(next() * journalWrites.length)];
      img[w.pos + Math.floor(next() * w.bytes.length)] ^= 1 << Math.floor(next() * 8);
      const m = mountCopy(img);
      expect(m.check()).toEqual([]);
      const seen = JSON.stringify([...dump(m)]);
      expect([JSON.stringify([...before]), JSON.stringify([...after])]).toContain(seen);
      if (m.mountReport?.recovery?.discarded) discarded++;
    }
    // Flips in the unchecksummed padding of the commit and descriptor blocks change nothing.
    expect(discarded).toBeGreaterThan(50);
  });

  it('discards a commit block whose checksum does not match', () => {
    tmp = tempDir();
    const path = join(tmp.dir, 'd.img');
    const dev = PmemDevice.createFile(path, 4 << 20);
    mkfs(dev);
    const fs = PmemFs.mount(dev, { commitIntervalMs: 0 });
    fs.newInode(ROOT_INO, 'a', { mode: REG });
    fs.sync();
    fs.close();
    const img = new Uint8Array(readFileSync(path));
    const at = fs.geometry.journalStart * 4096;
    img[at + 30] ^= 0x10;
    const m = mountCopy(img);
    expect(m.mountReport?.recovery?.discarded).toMatch(/checksum/);
    expect(m.lookup(ROOT_INO, 'a')).toBeGreaterThan(0); // it was home already
    expect(m.check()).toEqual([]);
  });

  it('makes an fsync cost what changed, not the device', () => {
    tmp = tempDir();
    const path = join(tmp.dir, 'c.img');
    const dev = PmemDevice.createFile(path, 64 << 20);
    mkfs(dev);
    const fs = PmemFs.mount(dev, { commitIntervalMs: 0 });
    const big = fs.newInode(ROOT_INO, 'big', { mode: REG });
    fs.write(big, 0, new Uint8Array(16 << 20).fill(9));
    expect(fs.fsync(big)).toBeGreaterThan(16 << 20);
    const small = fs.newInode(ROOT_INO, 'small', { mode: REG });
    fs.write(small, 0, enc('x'));
    const bytes = fs.fsync(small);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(8 * 4096);
    expect(fs.fsync(small)).toBe(0);
    fs.close();
  });

  it('makes a 4 KiB overwrite durable with one fdatasync and five pwrites', () => {
    tmp = tempDir();
    const dev = PmemDevice.createFile(join(tmp.dir, 'o.img'), 8 << 20);
    mkfs(dev);
    const fs = PmemFs.mount(dev, { commitIntervalMs: 0 });
    const f = fs.newInode(ROOT_INO, 'f', { mode: REG });
    fs.write(f, 0, new Uint8Array(1 << 20).fill(1));
    fs.sync();
    const { writes, syncs } = recordIo(() => {
      fs.write(f, 8192, new Uint8Array(4096).fill(5));
      fs.fsync(f);
    });
    // Descriptor, the copies (data page, inode page), the commit block, fdatasync; both home.
    expect(syncs).toHaveLength(1);
    expect(writes.length).toBeLessThanOrEqual(5);
    expect(writes.length - syncs[0]).toBe(2);
    const back = new Uint8Array(4096);
    fs.read(f, 8192, back);
    expect(back.every((b) => b === 5)).toBe(true);
    // The pages went home unsynced: the next commit's fdatasync covers them, or an idle one's.
    const idle = recordIo(() => fs.sync());
    expect(idle).toEqual({ writes: [], syncs: [0] });
    expect(recordIo(() => fs.sync())).toEqual({ writes: [], syncs: [] });
    fs.close();
  });

  it('keeps the last commit across the next one, whatever part of the writes between their fdatasyncs the disk kept', () => {
    // Commit A's pages go home unsynced; commit B writes its copies and its commit block in the
    // other slot. A crash may leave any subset of what followed the last fdatasync: A's home pages,
    // B's new blocks, copies, descriptors, commit block. Recovery must give A (or B once B is whole).
    tmp = tempDir();
    const path = join(tmp.dir, 'ab.img');
    const dev = PmemDevice.createFile(path, 8 << 20);
    mkfs(dev, { journalBlocks: 64 });
    const fs = PmemFs.mount(dev, { commitIntervalMs: 0 });
    const f = fs.newInode(ROOT_INO, 'f', { mode: REG });
    fs.write(f, 0, new Uint8Array(64 * 1024).fill(1));
    const g = fs.newInode(ROOT_INO, 'g', { mode: REG });
    fs.write(g, 0, enc('g'));
    fs.sync();
    const base = readFileSync(path);
    const states: Map<string, string>[] = [dump(fs)];
    const { writes, syncs } = recordIo(() => {
      fs.write(f, 8192, new Uint8Array(4096).fill(2)); // A: an overwrite, a new file
      fs.newInode(ROOT_INO, 'a', { mode: REG });
      fs.sync();
      states.push(dump(fs));
      fs.write(f, 4096, new Uint8Array(8192).fill(3)); // B: overwrites, a rename, an unlink
      fs.rename(ROOT_INO, 'a', ROOT_INO, 'b');
      fs.evict(fs.removeDentry(ROOT_INO, 'g'));
      fs.sync();
      states.push(dump(fs));
    });
    expect(syncs).toHaveLength(2); // one a commit
    const names = ['before', 'A', 'B'];
    const seen = new Set<string>();
    // Segment j: the writes after the j-th fdatasync (all before it reached the disk), up to the next.
    for (let j = 0; j <= syncs.length; j++) {
      const from = j === 0 ? 0 : syncs[j - 1];
      const to = j < syncs.length ? syncs[j] : writes.length;
      // Durable before the segment: the commit its fdatasync ended (none for the first).
      const allowed = j === 0 ? [0, 1] : j === 1 ? [1, 2] : [2];
      for (const { img, what } of segmentImages(base, writes, from, to, 60)) {
        const crashed = mountCopy(img);
        expect(crashed.check(), what).toEqual([]);
        const got = JSON.stringify([...dump(crashed)]);
        const state = states.findIndex((m) => JSON.stringify([...m]) === got);
        expect(allowed, `${what}: ${state < 0 ? 'no state' : names[state]}`).toContain(state);
        seen.add(`${j}:${names[state]}`);
      }
    }
    // Each segment's crashes give both states it allows.
    expect([...seen].sort()).toEqual(['0:A', '0:before', '1:A', '1:B', '2:B']);
    fs.close();
  });

  it('commits in the background at the mount interval', async () => {
    tmp = tempDir();
    const path = join(tmp.dir, 'bg.img');
    const dev = PmemDevice.createFile(path, 4 << 20);
    mkfs(dev);
    const fs = PmemFs.mount(dev, { commitIntervalMs: 30 });
    fs.write(fs.newInode(ROOT_INO, 'later', { mode: REG }), 0, enc('no fsync'));
    const deadline = Date.now() + 5000;
    while (dev.dirtyRanges().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const seen = mountCopy(new Uint8Array(readFileSync(path)));
    expect(seen.lookup(ROOT_INO, 'later')).toBeGreaterThan(0);
    fs.close();
    expect(fs.lastCommitError).toBe(null);
  });

  it('keeps every transaction within the journal: a full device still commits the removal of a big tree', () => {
    tmp = tempDir();
    const image = join(tmp.dir, 'full.img');
    const dev0 = PmemDevice.createFile(image, 8 << 20);
    mkfs(dev0, { label: 'full', journalBlocks: 16, inodes: 4096 });
    dev0.close();
    let fs = PmemFs.mount(PmemDevice.openFile(image), { commitIntervalMs: 0 });
    // Fill the device: many directories of small files (metadata spread over many pages).
    const dirs: number[] = [];
    let full = false;
    for (let d = 0; !full && d < 400; d++) {
      const dir = fs.newInode(ROOT_INO, `d${d}`, { mode: DIR });
      dirs.push(dir);
      for (let f = 0; f < 20; f++) {
        try {
          const ino = fs.newInode(dir, `f${f}`, { mode: REG });
          if (fs.write(ino, 0, new Uint8Array(6000).fill(f)) < 6000) full = true;
        } catch (e) {
          if ((e as { code?: string }).code !== 'ENOSPC') throw e;
          full = true;
        }
        if (full) break;
      }
    }
    expect(full).toBe(true);
    fs.sync();
    expect(fs.statfs().bfree).toBeLessThan(8);
    // Remove it all, no sync of our own: hundreds of metadata pages, no free block for overflow copies.
    for (let d = 0; d < dirs.length; d++) {
      let pos = 0;
      const names: string[] = [];
      while (pos !== DIR_POS_END) {
        pos = fs.readdir(dirs[d], pos, (_ino, _t, _n, name) => {
          const n = dec(name);
          if (n !== '.' && n !== '..') names.push(n);
          return true;
        });
      }
      for (const n of names) fs.evict(fs.removeDentry(dirs[d], n));
      fs.evict(fs.removeDentry(ROOT_INO, `d${d}`, 1));
    }
    expect(fs.lastCommitError).toBeNull();
    fs.close(); // the last commit: it must fit, as every early one did
    fs = PmemFs.mount(PmemDevice.openFile(image), { commitIntervalMs: 0 });
    try {
      expect(dump(fs).size).toBe(0);
      expect(fs.check()).toEqual([]);
      expect(fs.statfs().bfree).toBeGreaterThan(1000);
    } finally {
      fs.close();
    }
  });

  it('commits before a write larger than its step: a file rewritten in 1 MiB writes over half the device still commits', () => {
    // Found as a user: a 32 MiB file on a 64 MiB image, rewritten (O_TRUNC, then 1 MiB writes), and
    // unmounting failed with "journal: no room for a 8228-block transaction": each write grew the
    // transaction by 256 pages where the checks after each operation kept room for 63.
    tmp = tempDir();
    const image = join(tmp.dir, 'half.img');
    const dev0 = PmemDevice.createFile(image, 64 << 20);
    mkfs(dev0);
    dev0.close();
    const chunk = new Uint8Array(1 << 20);
    for (let round = 0; round < 3; round++) {
      const fs = PmemFs.mount(PmemDevice.openFile(image), { commitIntervalMs: 0 });
      let ino = fs.lookup(ROOT_INO, 'f');
      if (ino === 0) ino = fs.newInode(ROOT_INO, 'f', { mode: REG });
      fs.truncate(ino, 0);
      for (let at = 0; at < 32 << 20; at += chunk.length)
        expect(fs.write(ino, at, chunk.fill(round + 1))).toBe(chunk.length);
      expect(fs.lastCommitError).toBeNull();
      fs.close(); // the last commit
    }
    const fs = PmemFs.mount(PmemDevice.openFile(image), { commitIntervalMs: 0 });
    try {
      const back = new Uint8Array(1 << 20);
      const ino = fs.lookup(ROOT_INO, 'f');
      expect(fs.getattr(ino).size).toBe(32 << 20);
      fs.read(ino, (32 << 20) - back.length, back);
      expect(back.every((b) => b === 3)).toBe(true);
      expect(fs.check()).toEqual([]);
    } finally {
      fs.close();
    }
  });

  it('reuses a block freed since the last commit first, and not one the last commit uses', () => {
    tmp = tempDir();
    const dev = PmemDevice.createFile(join(tmp.dir, 'r.img'), 8 << 20);
    mkfs(dev);
    const fs = PmemFs.mount(dev, { commitIntervalMs: 0 });
    const page = new Uint8Array(4096).fill(1);
    const f = fs.newInode(ROOT_INO, 'f', { mode: REG });
    const where = () => {
      const out = [0];
      fs.getMulty(f, 0, 4096, out);
      return out[0];
    };
    const moveRotor = (name: string) =>
      fs.write(fs.newInode(ROOT_INO, name, { mode: REG }), 0, new Uint8Array(100 * 4096).fill(2));
    fs.write(f, 0, page);
    const first = where();
    moveRotor('g');
    // Rewritten in place (truncate, write): the block it just gave back, still in the CPU's cache.
    fs.truncate(f, 0);
    fs.write(f, 0, page);
    expect(where()).toBe(first);
    // Once a commit uses it, reusing it would cost journaling: the allocation goes on elsewhere.
    fs.sync();
    moveRotor('h');
    fs.truncate(f, 0);
    fs.write(f, 0, page);
    expect(where()).not.toBe(first);
    expect(fs.check()).toEqual([]);
    fs.close();
  });

  it('upgrades a format-1 image when it mounts it', () => {
    const dev = PmemDevice.memory(4 << 20);
    mkfs(dev);
    for (const at of [0, 4096]) {
      const dv = new DataView(dev.data, at, 256);
      dv.setUint32(4, 1, true);
      dv.setUint32(8, 0, true);
      dv.setUint32(8, crc32c(dev.u8, at, at + 256), true);
    }
    const fs = PmemFs.mount(dev);
    expect(fs.mountReport?.upgraded).toBe(true);
    expect(fs.geometry.version).toBe(FORMAT_VERSION);
    expect(fs.check()).toEqual([]);
  });
});
