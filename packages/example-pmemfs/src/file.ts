/**
 * Block maps and file data.
 *
 * An inode's blocks are found through a radix tree of 4 KiB pointer blocks (1024 u32 block numbers
 * each), rooted in i_on_disk (root block number + height):
 *   height 0: the root is the data block of index 0 (a one-block file costs no pointer block),
 *   height h: the root is a pointer block; the tree maps indexes below 1024^h.
 * A zero pointer is a hole: it reads as zeros and owns no block. The tree grows a level on top when
 * an index past its reach is mapped; subtrees are freed as soon as they are empty. Height 3 maps
 * 2^30 blocks, so a file may reach 4 TiB (sparse, of course: the device itself stops at 4 GiB).
 *
 * Directories use the same map for their hash table (dir.ts).
 */

import {
  APP_COPY_COPYING,
  APP_COPY_DONE,
  Errno,
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  FALLOC_FL_ZERO_RANGE,
  S_IFREG,
  SEEK_DATA,
  SEEK_HOLE,
} from '@zufs/zuf-core/api';
import { ZusError as ZufsError, zeroShared } from '@zufs/zus-server';
import {
  addBlocks,
  allocBlock,
  allocIno,
  freeBlock,
  freeBlockCount,
  freeIno,
  freeInodeCount,
  needBlocks,
} from './alloc.js';
import { clearInode, initInode, OD_FLAGS, OD_HEIGHT, OD_ROOT, setSize, size, stamp } from './inode.js';
import { BLOCK_SHIFT, BLOCK_SIZE, type Super } from './super.js';

const FANOUT_SHIFT = 10;
const FANOUT = 1 << FANOUT_SHIFT;
export const MAX_HEIGHT = 3;
/** Largest file size: what a height-3 tree maps. */
export const MAX_FILE_SIZE = 2 ** (FANOUT_SHIFT * MAX_HEIGHT + BLOCK_SHIFT);
/** i_on_disk flag: the file may own blocks past its size (fallocate with KEEP_SIZE). */
export const OD_F_PREALLOC = 2;

const REACH = [1, 2 ** 10, 2 ** 20, 2 ** 30, 2 ** 40];
const NO_DATA = new Uint8Array(0);
/** Indexes a tree of height `h` maps (also: indexes under one slot of a level h + 1 block). */
const reach = (h: number) => REACH[h];

/** The smallest height that maps index `idx`. */
function heightFor(idx: number): number {
  let h = 0;
  while (idx >= reach(h)) h++;
  return h;
}

// The root pointer is a u32 of the inode: word index (zi + OD_ROOT) / 4. Pointer slots are addressed
// by word index too: slot i of block bn is word bn * 1024 + i.
const rootW = (zi: number) => (zi + OD_ROOT) >>> 2;

function setWord(sb: Super, w: number, v: number): void {
  sb.u32[w] = v;
  sb.touch(w * 4, 4);
}

function setHeight(sb: Super, zi: number, h: number): void {
  sb.u8[zi + OD_HEIGHT] = h;
  sb.touch(zi + OD_HEIGHT, 1);
}

/** The block map's height, EIO past MAX_HEIGHT (a damaged inode). */
function heightOf(sb: Super, zi: number): number {
  const h = sb.u8[zi + OD_HEIGHT];
  if (h > MAX_HEIGHT) corruptHeight(h);
  return h;
}

function corruptHeight(h: number): never {
  throw new ZufsError(Errno.EIO, `corrupt block map height ${h}`);
}

export function odFlags(sb: Super, zi: number): number {
  return sb.dv.getUint16(zi + OD_FLAGS, true);
}

export function setOdFlags(sb: Super, zi: number, flags: number): void {
  sb.dv.setUint16(zi + OD_FLAGS, flags, true);
  sb.touch(zi + OD_FLAGS, 2);
}

/** The block mapped at index `idx`, or 0 for a hole. */
export function mapGet(sb: Super, zi: number, idx: number): number {
  let h = heightOf(sb, zi);
  if (idx >= reach(h)) return 0;
  const u32 = sb.u32;
  let bn = sb.ptr(u32[rootW(zi)]);
  while (h > 0 && bn !== 0) {
    h--;
    bn = sb.ptr(u32[bn * FANOUT + (Math.floor(idx / reach(h)) & (FANOUT - 1))]);
  }
  return bn;
}

/**
 * out[i] = the block mapped at index first + i (0 for a hole), for i < n: one walk from the root per
 * pointer block of the last level, not per index (a 1 MiB GET_MULTY: 256 lookups, 1 walk).
 */
export function mapGetRange(
  sb: Super,
  zi: number,
  first: number,
  n: number,
  out: number[] | Float64Array,
): void {
  const h = heightOf(sb, zi);
  const u32 = sb.u32;
  let i = 0;
  while (i < n) {
    const idx = first + i;
    if (h === 0 || idx >= reach(h)) {
      out[i] = idx === 0 ? sb.ptr(u32[rootW(zi)]) : 0;
      i++;
      continue;
    }
    // Down to the pointer block of level 1 that holds idx's slot.
    let bn = sb.ptr(u32[rootW(zi)]);
    for (let level = h - 1; level > 0 && bn !== 0; level--) {
      bn = sb.ptr(u32[bn * FANOUT + (Math.floor(idx / reach(level)) & (FANOUT - 1))]);
    }
    const slot = idx & (FANOUT - 1);
    const m = Math.min(n - i, FANOUT - slot);
    const base = bn * FANOUT + slot;
    for (let k = 0; k < m; k++) out[i + k] = bn === 0 ? 0 : sb.ptr(u32[base + k]);
    i += m;
  }
}

/** How many blocks mapping index `idx` would allocate (0 when it is mapped). */
export function mapCost(sb: Super, zi: number, idx: number): number {
  const root = sb.ptr(sb.u32[rootW(zi)]);
  const need = heightFor(idx);
  if (root === 0) return need + 1;
  const h = heightOf(sb, zi);
  if (need > h) {
    // New levels on top; below the highest non-zero digit of idx nothing exists yet.
    let level = need;
    while (Math.floor(idx / reach(level - 1)) % FANOUT === 0) level--;
    return need - h + level;
  }
  let w = rootW(zi);
  for (let level = h; level > 0; level--) {
    const p = sb.ptr(sb.u32[w]);
    if (p === 0) return level + 1;
    w = p * FANOUT + (Math.floor(idx / reach(level - 1)) & (FANOUT - 1));
  }
  return sb.u32[w] === 0 ? 1 : 0;
}

/**
 * Maps index `idx` (allocating the pointer blocks and the data block it lacks, near block `goal`)
 * and returns its block. A new data block is zeroed when `zero`; `adopt` (a block in use that no
 * inode owns) is mapped instead of a new one. The caller checked mapCost.
 */
export function mapEnsure(
  sb: Super,
  zi: number,
  idx: number,
  goal: number,
  zero: boolean,
  adopt = 0,
): number {
  const u32 = sb.u32;
  const need = heightFor(idx);
  let h = heightOf(sb, zi);
  if (sb.ptr(u32[rootW(zi)]) === 0) {
    if (h !== need) setHeight(sb, zi, (h = need));
  } else {
    while (h < need) {
      const top = allocBlock(sb, zi, goal, true);
      setWord(sb, top * FANOUT, u32[rootW(zi)]);
      setWord(sb, rootW(zi), top);
      setHeight(sb, zi, ++h);
    }
  }
  let w = rootW(zi);
  for (let level = h; level > 0; level--) {
    let p = sb.ptr(u32[w]);
    if (p === 0) setWord(sb, w, (p = allocBlock(sb, zi, goal, true)));
    w = p * FANOUT + (Math.floor(idx / reach(level - 1)) & (FANOUT - 1));
  }
  let bn = sb.ptr(u32[w]);
  if (bn === 0 && adopt !== 0) {
    setWord(sb, w, (bn = adopt));
    addBlocks(sb, zi, 1);
  } else if (bn === 0) setWord(sb, w, (bn = allocBlock(sb, zi, goal, zero)));
  return bn;
}

/**
 * Visits the mapped blocks of indexes in [from, to) in ascending order: `onData(idx, bn)` for data
 * (return false to stop), `onPtr(bn, level)` for each pointer block on the way. Returns false when
 * stopped.
 */
export function mapScan(
  sb: Super,
  zi: number,
  from: number,
  to: number,
  onData: (idx: number, bn: number) => boolean | undefined,
  onPtr?: (bn: number, level: number) => void,
): boolean {
  const h = heightOf(sb, zi);
  if (from >= reach(h) || from >= to) return true;
  return scan(sb, rootW(zi), h, 0, from, to, onData, onPtr);
}

function scan(
  sb: Super,
  w: number,
  level: number,
  base: number,
  from: number,
  to: number,
  onData: (idx: number, bn: number) => boolean | undefined,
  onPtr?: (bn: number, level: number) => void,
): boolean {
  const p = sb.ptr(sb.u32[w]);
  if (p === 0) return true;
  if (level === 0) return onData(base, p) !== false;
  onPtr?.(p, level);
  const span = reach(level - 1);
  const lo = from > base ? Math.floor((from - base) / span) : 0;
  const hi = Math.min(FANOUT, Math.ceil((to - base) / span));
  for (let i = lo; i < hi; i++) {
    if (!scan(sb, p * FANOUT + i, level - 1, base + i * span, from, to, onData, onPtr)) return false;
  }
  return true;
}

/**
 * Frees the data blocks of indexes in [from, to), and the pointer blocks left empty. With `keep`,
 * the data blocks only leave the inode: still in use, owned by nobody (for mapEnsure's `adopt`).
 */
export function mapFree(sb: Super, zi: number, from: number, to: number, keep = false): void {
  const h = heightOf(sb, zi);
  if (from >= reach(h) || from >= to) return;
  unmap(sb, zi, rootW(zi), h, 0, from, to, keep);
  if (sb.u32[rootW(zi)] === 0 && h !== 0) setHeight(sb, zi, 0);
}

function unmap(
  sb: Super,
  zi: number,
  w: number,
  level: number,
  base: number,
  from: number,
  to: number,
  keep: boolean,
): void {
  const u32 = sb.u32;
  const p = sb.ptr(u32[w]);
  if (p === 0) return;
  if (level > 0) {
    const span = reach(level - 1);
    const lo = from > base ? Math.floor((from - base) / span) : 0;
    const hi = Math.min(FANOUT, Math.ceil((to - base) / span));
    for (let i = lo; i < hi; i++) unmap(sb, zi, p * FANOUT + i, level - 1, base + i * span, from, to, keep);
    const first = p * FANOUT;
    for (let i = 0; i < FANOUT; i++) if (u32[first + i] !== 0) return;
  }
  if (level === 0 && keep) addBlocks(sb, zi, -1);
  else freeBlock(sb, zi, p);
  setWord(sb, w, 0);
}

/** Exactly how many blocks mapping every index of [from, to) would allocate. */
export function mapRangeCost(sb: Super, zi: number, from: number, to: number): number {
  if (from >= to) return 0;
  const root = sb.ptr(sb.u32[rootW(zi)]);
  const h = root === 0 ? 0 : heightOf(sb, zi);
  const top = Math.max(h, heightFor(to - 1));
  const existing = new Array<number>(top + 1).fill(0);
  let mapped = 0;
  if (root !== 0) {
    mapScan(
      sb,
      zi,
      from,
      to,
      () => {
        mapped++;
        return true;
      },
      (_bn, level) => existing[level]++,
    );
  }
  let cost = to - from - mapped;
  for (let level = 1; level <= top; level++) {
    cost += Math.floor((to - 1) / reach(level)) - Math.floor(from / reach(level)) + 1 - existing[level];
    // A level added on top of a non-empty tree also holds the old root, range or not.
    if (root !== 0 && level > h && from >= reach(level)) cost++;
  }
  return cost;
}

// ~~~ file data ~~~

/**
 * Reads up to dest.length bytes at `off`; holes read as zeros. Returns the bytes read. Blocks that
 * lie one after another in pmem take one copy.
 */
export function fileRead(sb: Super, zi: number, off: number, dest: Uint8Array): number {
  const sz = size(sb, zi);
  if (off >= sz) return 0;
  const n = Math.min(dest.length, sz - off);
  // The run to copy: pmem from runAt goes to dest[runFrom, done); runAt -1: none.
  let runAt = -1;
  let runFrom = 0;
  let done = 0;
  while (done < n) {
    const pos = off + done;
    const inner = pos % BLOCK_SIZE;
    const len = Math.min(BLOCK_SIZE - inner, n - done);
    const bn = mapGet(sb, zi, Math.floor(pos / BLOCK_SIZE));
    const at = bn === 0 ? -1 : bn * BLOCK_SIZE + inner;
    if (runAt < 0 || at !== runAt + (done - runFrom)) {
      if (runAt >= 0) readRun(sb, runAt, dest, runFrom, done - runFrom);
      runAt = at;
      runFrom = done;
    }
    // A hole. dest may be a ZT's window (shared memory): zeroShared, not fill().
    if (bn === 0) zeroShared(dest, done, len);
    done += len;
  }
  if (runAt >= 0) readRun(sb, runAt, dest, runFrom, done - runFrom);
  return n;
}

/** Copies `len` bytes of pmem at `at` into dest[from...], read from the image first if lazy. */
function readRun(sb: Super, at: number, dest: Uint8Array, from: number, len: number): void {
  sb.dev.loadLazy(at, len);
  sb.bytes.read(at, dest, from, len);
}

/** Where writeRange puts each run of contiguous pmem: src[from, to) belongs at pmem byte `at`. */
type RunSink = (sb: Super, src: Uint8Array, from: number, to: number, at: number) => void;

/**
 * Writes `len` bytes at `off`, allocating blocks, without touching size or times. When the device
 * fills up it stops at a block boundary and returns the bytes written (0: nothing fit). Blocks that
 * lie one after another in pmem form one run, handed to `sink` (the allocator places a file's blocks
 * so). New blocks are zeroed where the run will not cover them, or all of them when `zeroNew`.
 */
function writeRange(
  sb: Super,
  zi: number,
  off: number,
  len: number,
  src: Uint8Array,
  sink: RunSink,
  zeroNew: boolean,
): number {
  let goal = 0;
  let done = 0;
  // The run so far: [runFrom, done) goes to pmem at runAt.
  let runAt = 0;
  let runFrom = 0;
  while (done < len) {
    const pos = off + done;
    const idx = Math.floor(pos / BLOCK_SIZE);
    const inner = pos % BLOCK_SIZE;
    const n = Math.min(BLOCK_SIZE - inner, len - done);
    let bn = mapGet(sb, zi, idx);
    if (bn === 0) {
      if (mapCost(sb, zi, idx) > freeBlockCount(sb)) break;
      if (goal === 0 && idx > 0) goal = mapGet(sb, zi, idx - 1) + 1;
      bn = mapEnsure(sb, zi, idx, goal, zeroNew || n < BLOCK_SIZE);
    } else sb.dev.loadLazy(bn * BLOCK_SIZE, BLOCK_SIZE); // what the write leaves stays the file's
    const at = bn * BLOCK_SIZE + inner;
    if (at !== runAt + (done - runFrom)) {
      if (done > runFrom) sink(sb, src, runFrom, done, runAt);
      runAt = at;
      runFrom = done;
    }
    goal = bn + 1;
    done += n;
  }
  if (done > runFrom) sink(sb, src, runFrom, done, runAt);
  return done;
}

/** RunSink of a write with its data at hand: copies src[from, to) into pmem at `at` and records it. */
function copyRun(sb: Super, src: Uint8Array, from: number, to: number, at: number): void {
  sb.bytes.write(from === 0 && to === src.length ? src : src.subarray(from, to), at);
  sb.touch(at, to - from);
}

/**
 * Hands the app the runs to fill ((pmem byte offset, data offset, length) triples) and waits:
 * zus-server's OpContext.copyFromApp, returning APP_COPY_DONE, _ABANDONED (nothing written) or
 * _COPYING (began and went silent: the copy may land later).
 */
export type AppCopy = (runs: Float64Array, n: number) => number;

/** The runs of a write the app copies itself: (pmem byte offset, data offset, length) triples. */
let appRuns = new Float64Array(3 * 64);
let appRunCount = 0;

/** RunSink of a write the app copies: lists the run (and records the pages it will fill). */
function listRun(sb: Super, _src: Uint8Array, from: number, to: number, at: number): void {
  if (3 * (appRunCount + 1) > appRuns.length) {
    const more = new Float64Array(appRuns.length * 2);
    more.set(appRuns);
    appRuns = more;
  }
  appRuns[3 * appRunCount] = at;
  appRuns[3 * appRunCount + 1] = from;
  appRuns[3 * appRunCount + 2] = to - from;
  appRunCount++;
  sb.touch(at, to - from);
}

/** Where a write of `len` bytes at `off` must stop (EFBIG when it cannot start). */
function clampToMax(off: number, len: number): number {
  if (off >= MAX_FILE_SIZE && len > 0) throw new ZufsError(Errno.EFBIG, 'past the largest file size');
  return Math.min(len, MAX_FILE_SIZE - off);
}

/** Writes `src` at `off`, extending the size; a short count when the device filled up. */
export function fileWrite(sb: Super, zi: number, off: number, src: Uint8Array): number {
  const len = clampToMax(off, src.length);
  if (len === 0) return 0;
  const done = writeRange(sb, zi, off, len, src, copyRun, false);
  if (done === 0) throw new ZufsError(Errno.ENOSPC, 'no free blocks');
  if (off + done > size(sb, zi)) setSize(sb, zi, off + done);
  stamp(sb, zi, 'mc');
  return done;
}

/**
 * Writes `length` bytes at `off` that the app copies itself: allocates (new blocks zeroed, so that
 * a copy that never comes shows no stale bytes), lists the runs of pmem to fill and hands them to
 * `copy`, which returns once the app has copied them. Call it under the metadata lock: nothing may
 * free those blocks meanwhile. When the copy fails: EIO, the size unchanged, blocks allocated past
 * it freed again (or, when the copy may still land, the range's blocks quarantined).
 */
export function fileWriteByApp(sb: Super, zi: number, off: number, length: number, copy: AppCopy): number {
  const len = clampToMax(off, length);
  if (len === 0) return 0;
  appRunCount = 0;
  const done = writeRange(sb, zi, off, len, NO_DATA, listRun, true);
  if (done === 0) throw new ZufsError(Errno.ENOSPC, 'no free blocks');
  const got = copy(appRuns, appRunCount);
  if (got !== APP_COPY_DONE) {
    if (got === APP_COPY_COPYING) quarantine(sb, zi, off, done);
    if (!(odFlags(sb, zi) & OD_F_PREALLOC)) mapFree(sb, zi, Math.ceil(size(sb, zi) / BLOCK_SIZE), Infinity);
    throw new ZufsError(Errno.EIO, 'the app did not copy the data of its write');
  }
  if (off + done > size(sb, zi)) setSize(sb, zi, off + done);
  stamp(sb, zi, 'mc');
  return done;
}

/**
 * After an app began copying a write into the blocks of [off, off + len) and went silent: its copy
 * may still land there at any time, so those blocks must never hold anyone else's data. They leave
 * the file (which reads zeros there: a failed write promises nothing of its range) for a new
 * unlinked inode, an orphan that the next mount frees. With no inode or pointer block to spare,
 * they stay in use and owned by nobody, for fsck's repair.
 */
function quarantine(sb: Super, zi: number, off: number, len: number): void {
  const from = Math.floor(off / BLOCK_SIZE);
  const to = Math.ceil((off + len) / BLOCK_SIZE);
  const blocks: number[] = [];
  mapScan(sb, zi, from, to, (_idx, bn) => blocks.push(bn) > 0);
  mapFree(sb, zi, from, to, true);
  if (blocks.length === 0 || freeInodeCount(sb) === 0) return;
  const ino = allocIno(sb);
  const owner = initInode(sb, ino, S_IFREG, 0, 0, 0);
  if (mapRangeCost(sb, owner, 0, blocks.length) - blocks.length > freeBlockCount(sb)) {
    clearInode(sb, owner);
    freeIno(sb, ino);
    return;
  }
  for (let i = 0; i < blocks.length; i++) mapEnsure(sb, owner, i, 0, false, blocks[i]);
  setSize(sb, owner, blocks.length * BLOCK_SIZE);
}

/** Zeroes [off, off + len) in the blocks that are mapped; holes stay holes. */
function zeroMapped(sb: Super, zi: number, off: number, len: number): void {
  for (let done = 0; done < len; ) {
    const pos = off + done;
    const inner = pos % BLOCK_SIZE;
    const n = Math.min(BLOCK_SIZE - inner, len - done);
    const bn = mapGet(sb, zi, Math.floor(pos / BLOCK_SIZE));
    if (bn !== 0) {
      const at = bn * BLOCK_SIZE + inner;
      sb.dev.loadLazy(at, n);
      sb.zero(at, n);
      sb.touch(at, n);
    }
    done += n;
  }
}

/** Frees whole blocks inside [off, end) and zeroes the partial blocks at its edges. */
function punch(sb: Super, zi: number, off: number, end: number): void {
  const first = Math.ceil(off / BLOCK_SIZE);
  const last = Math.floor(end / BLOCK_SIZE);
  if (first >= last) {
    zeroMapped(sb, zi, off, end - off);
    return;
  }
  zeroMapped(sb, zi, off, first * BLOCK_SIZE - off);
  mapFree(sb, zi, first, last);
  zeroMapped(sb, zi, last * BLOCK_SIZE, end - last * BLOCK_SIZE);
}

/** Sets the size, freeing blocks past it and zeroing the tail of a partial last block. */
export function fileTruncate(sb: Super, zi: number, newSize: number): void {
  if (newSize > MAX_FILE_SIZE) throw new ZufsError(Errno.EFBIG, 'past the largest file size');
  const old = size(sb, zi);
  if (newSize < old || odFlags(sb, zi) & OD_F_PREALLOC) {
    const keep = Math.ceil(newSize / BLOCK_SIZE);
    if (newSize % BLOCK_SIZE !== 0) zeroMapped(sb, zi, newSize, keep * BLOCK_SIZE - newSize);
    mapFree(sb, zi, keep, Infinity);
    setOdFlags(sb, zi, odFlags(sb, zi) & ~OD_F_PREALLOC);
  }
  setSize(sb, zi, newSize);
  stamp(sb, zi, 'mc');
}

/** Maps every block of [off, end), zeroing new ones; all or nothing (ENOSPC before any change). */
function allocRange(sb: Super, zi: number, off: number, end: number): void {
  const from = Math.floor(off / BLOCK_SIZE);
  const to = Math.ceil(end / BLOCK_SIZE);
  needBlocks(sb, mapRangeCost(sb, zi, from, to));
  let goal = from > 0 ? mapGet(sb, zi, from - 1) + 1 : 0;
  for (let idx = from; idx < to; idx++) goal = mapEnsure(sb, zi, idx, goal, true) + 1;
}

const FALLOC_MODES = new Set([
  0,
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_ZERO_RANGE,
  FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
]);

/** fallocate(2): allocate (0, KEEP_SIZE), PUNCH_HOLE | KEEP_SIZE, ZERO_RANGE [| KEEP_SIZE]. */
export function fileFallocate(sb: Super, zi: number, mode: number, off: number, len: number): void {
  if (!FALLOC_MODES.has(mode)) throw new ZufsError(Errno.EOPNOTSUPP, `fallocate mode ${mode}`);
  if (off < 0 || len <= 0) throw new ZufsError(Errno.EINVAL, 'fallocate needs offset >= 0 and length > 0');
  const end = off + len;
  if (end > MAX_FILE_SIZE) throw new ZufsError(Errno.EFBIG, 'past the largest file size');
  if (mode & FALLOC_FL_PUNCH_HOLE) {
    punch(sb, zi, off, end);
  } else {
    allocRange(sb, zi, off, end);
    if (mode & FALLOC_FL_ZERO_RANGE) zeroMapped(sb, zi, off, len);
    const sz = size(sb, zi);
    if (end > sz) {
      if (mode & FALLOC_FL_KEEP_SIZE) setOdFlags(sb, zi, odFlags(sb, zi) | OD_F_PREALLOC);
      else setSize(sb, zi, end);
    }
  }
  stamp(sb, zi, 'mc');
}

/** lseek(2) with SEEK_DATA / SEEK_HOLE (ENXIO at or past the end of the file). */
export function fileSeek(sb: Super, zi: number, off: number, whence: number): number {
  if (whence !== SEEK_DATA && whence !== SEEK_HOLE) throw new ZufsError(Errno.EINVAL, `whence ${whence}`);
  const sz = size(sb, zi);
  if (off < 0 || off >= sz) throw new ZufsError(Errno.ENXIO, 'offset at or past the end of the file');
  const from = Math.floor(off / BLOCK_SIZE);
  const endIdx = Math.ceil(sz / BLOCK_SIZE);
  let found = -1;
  if (whence === SEEK_DATA) {
    mapScan(sb, zi, from, endIdx, (idx) => {
      found = idx;
      return false;
    });
    if (found < 0) throw new ZufsError(Errno.ENXIO, 'no data past the offset');
    return Math.max(off, found * BLOCK_SIZE);
  }
  let expect = from;
  mapScan(sb, zi, from, endIdx, (idx) => {
    if (idx !== expect) return false;
    expect++;
    return true;
  });
  return Math.min(sz, Math.max(off, expect * BLOCK_SIZE));
}

/**
 * The pmem byte offsets of the blocks that hold [off, off + len) (clipped at the end of the file),
 * one per block starting with the block of `off`; 0 for a hole. Fills at most out.length entries
 * and returns how many it filled. A reader copies from out[0] + off % 4096 onwards.
 */
export function fileGetMulty(
  sb: Super,
  zi: number,
  off: number,
  len: number,
  out: number[] | Float64Array,
): number {
  const sz = size(sb, zi);
  if (off >= sz || len <= 0) return 0;
  const end = Math.min(sz, off + len);
  const first = Math.floor(off / BLOCK_SIZE);
  const n = Math.min(out.length, Math.ceil(end / BLOCK_SIZE) - first);
  mapGetRange(sb, zi, first, n, out);
  // The reader copies from pmem itself: what is still on the image file is read first, a run of
  // blocks that lie one after another at a time.
  let run = 0;
  for (let i = 0; i < n; i++) {
    out[i] *= BLOCK_SIZE;
    if (i > run && out[i] !== out[i - 1] + BLOCK_SIZE) {
      if (out[run] !== 0) sb.dev.loadLazy(out[run], (i - run) * BLOCK_SIZE);
      run = i;
    }
  }
  if (n > 0 && out[run] !== 0) sb.dev.loadLazy(out[run], (n - run) * BLOCK_SIZE);
  return n;
}

/**
 * Copies `len` bytes (clipped at the source's end) from one file to another, keeping holes as
 * holes. Returns the bytes copied (short when the device fills up; ENOSPC when nothing fit).
 */
export function fileCopy(
  sb: Super,
  src: number,
  srcOff: number,
  dst: number,
  dstOff: number,
  len: number,
): number {
  const srcSize = size(sb, src);
  len = Math.min(len, Math.max(0, srcSize - srcOff));
  if (len === 0) return 0;
  len = clampToMax(dstOff, len);
  if (src === dst && srcOff < dstOff + len && dstOff < srcOff + len) {
    throw new ZufsError(Errno.EINVAL, 'overlapping ranges in the same file');
  }
  let done = 0;
  while (done < len) {
    const s = srcOff + done;
    const d = dstOff + done;
    const n = Math.min(BLOCK_SIZE - (s % BLOCK_SIZE), BLOCK_SIZE - (d % BLOCK_SIZE), len - done);
    const bn = mapGet(sb, src, Math.floor(s / BLOCK_SIZE));
    if (bn === 0) zeroMapped(sb, dst, d, n);
    else {
      sb.dev.loadLazy(bn * BLOCK_SIZE + (s % BLOCK_SIZE), n);
      const at = bn * BLOCK_SIZE + (s % BLOCK_SIZE) - sb.bytes.base(bn * BLOCK_SIZE);
      const from = sb.bytes.view(bn * BLOCK_SIZE).subarray(at, at + n);
      if (writeRange(sb, dst, d, n, from, copyRun, false) < n) break;
    }
    done += n;
  }
  if (done === 0) throw new ZufsError(Errno.ENOSPC, 'no free blocks');
  if (dstOff + done > size(sb, dst)) setSize(sb, dst, dstOff + done);
  stamp(sb, dst, 'mc');
  return done;
}
