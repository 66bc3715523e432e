/**
 * Hashed directories (extendible hashing).
 *
 * A directory's names hash to 32 bits (hash.ts). Its hash table is an array of 2^G u32 bucket
 * block numbers (G, the global depth, is in i_on_disk), stored in the directory's block map (1024
 * slots per table block). Slot i serves the hashes whose top G bits are i. A bucket is a 4 KiB
 * block serving the hashes whose top d bits (its local depth, d <= G) are a common prefix, so it
 * fills the 2^(G-d) consecutive slots of that prefix. A full bucket splits on its next hash bit;
 * when d = G the table doubles first. A lookup is one table read and a scan of one bucket (~100
 * entries, compared by hash first). At depth MAX_DEPTH a full bucket chains an overflow bucket
 * (only when some 100 names share 20 hash bits: not by chance).
 *
 * Bucket: header 16 bytes
 *   +0 u16 magic 0x4244 | +2 u8 local depth | +4 u16 entries | +6 u16 end of entries | +8 u32 next
 * then packed entries, 4-byte aligned:
 *   +0 u32 ino | +4 u32 hash | +8 u16 cidx | +10 u8 name length | +11 u8 DT_ type | +12 name
 * (hash, cidx) is the entry's key: cidx tells apart names whose hashes collide. Entries are kept in
 * key order within a bucket (an insert shifts the ones after it), so readdir emits a bucket as it
 * lies; it sorts only a bucket that is out of order (an overflow chain, or an image written before
 * buckets were kept sorted: both are valid).
 *
 * Readdir goes in key order, and an entry's position is 2 + hash * 65536 + cidx (0 is '.', 1 is
 * '..'). A position stays valid for ever: entries added or removed meanwhile never move others, so
 * a readdir resumed at any position returns every entry that existed throughout exactly once.
 * (Entries added during the walk may or may not appear, as POSIX allows.)
 */

import { DT_DIR, Errno } from '@zufs/zuf-core/api';
import { ZusError as ZufsError } from '@zufs/zus-server';
import { allocBlock, freeBlock, needBlocks } from './alloc.js';
import { mapCost, mapEnsure, mapFree, mapGet, mapRangeCost } from './file.js';
import { nameHash } from './hash.js';
import { dirCount, dirParent, OD_DEPTH, OD_ROOT, setDirCount } from './inode.js';
import { BLOCK_SIZE, type Super } from './super.js';

const B_MAGIC = 0;
const B_DEPTH = 2;
const B_COUNT = 4;
const B_END = 6;
const B_NEXT = 8;
const B_HDR = 16;
const BUCKET_MAGIC = 0x4244;

const E_INO = 0;
const E_HASH = 4;
const E_CIDX = 8;
const E_LEN = 10;
const E_TYPE = 11;
const E_NAME = 12;

/** Deepest hash table: 2^20 slots (1024 table blocks). */
export const MAX_DEPTH = 20;
const SLOTS_PER_BLOCK = BLOCK_SIZE / 4;
const CIDX_LIMIT = 65536;

export const DIR_POS_DOT = 0;
export const DIR_POS_DOTDOT = 1;
const POS_FIRST = 2;
/** The position readdir returns when the directory is done. */
export const DIR_POS_END = POS_FIRST + 2 ** 48;

export const entrySize = (nameLen: number) => (E_NAME + nameLen + 3) & ~3;

const DOT = new Uint8Array([0x2e]);
const DOTDOT = new Uint8Array([0x2e, 0x2e]);

/** Receives one entry; returns false when it cannot take it (readdir stops before it). */
export type ReaddirEmit = (ino: number, type: number, nextPos: number, name: Uint8Array) => boolean;
/** ReaddirEmit with the name as `bytes[at .. at + len)` (pmem itself: no view made per entry). */
export type ReaddirRawEmit = (
  ino: number,
  type: number,
  nextPos: number,
  bytes: Uint8Array,
  at: number,
  len: number,
) => boolean;

export function hashOf(sb: Super, name: Uint8Array): number {
  return nameHash(sb.g.hashSeed, name, 0, name.length);
}

// Everything read from pmem that steers a loop or a write is range-checked: a damaged directory
// answers EIO, it does not loop for ever or write into another block.
const corrupt = (why: string) => new ZufsError(Errno.EIO, `corrupt directory: ${why}`);
/** Overflow chains longer than this are loops (it takes 100 names sharing 20 hash bits per bucket). */
const MAX_CHAIN = 1 << 14;

function depthG(sb: Super, dzi: number): number {
  const G = sb.u8[dzi + OD_DEPTH];
  if (G > MAX_DEPTH) throw corrupt(`table depth ${G}`);
  return G;
}
const hasTable = (sb: Super, dzi: number) => sb.u32[(dzi + OD_ROOT) >>> 2] !== 0;
const slotOf = (hash: number, G: number) => (G === 0 ? 0 : hash >>> (32 - G));

/** Word index of table slot i. */
function slotW(sb: Super, dzi: number, i: number): number {
  const t = mapGet(sb, dzi, Math.floor(i / SLOTS_PER_BLOCK));
  if (t === 0) throw corrupt(`hole in the hash table at slot ${i}`);
  return t * SLOTS_PER_BLOCK + (i % SLOTS_PER_BLOCK);
}

/** The bucket table slot `i` points at (a table has no empty slot). */
function headAt(sb: Super, dzi: number, i: number): number {
  const b = sb.u32[slotW(sb, dzi, i)];
  if (!sb.isDataBlock(b)) throw corrupt(`slot ${i} points at block ${b}`);
  return b;
}

function setSlot(sb: Super, w: number, bucket: number): void {
  sb.u32[w] = bucket;
  sb.touch(w * 4, 4);
}

const bAt = (b: number) => b * BLOCK_SIZE;
const bDepth = (sb: Super, b: number) => sb.u8[bAt(b) + B_DEPTH];
const bCount = (sb: Super, b: number) => sb.dv.getUint16(bAt(b) + B_COUNT, true);
function bEnd(sb: Super, b: number): number {
  const end = sb.dv.getUint16(bAt(b) + B_END, true);
  if (end < B_HDR || end > BLOCK_SIZE) throw corrupt(`bucket ${b} ends at ${end}`);
  return end;
}
/** The next bucket of a chain; `step` counts the chain's links, to stop a loop. */
function bNext(sb: Super, b: number, step = 0): number {
  const next = sb.u32[(bAt(b) + B_NEXT) >>> 2];
  if (next !== 0 && (!sb.isDataBlock(next) || step > MAX_CHAIN)) throw corrupt(`bucket ${b} chains ${next}`);
  return next;
}

function setHeader(sb: Super, b: number, depth: number, count: number, end: number, next: number): void {
  const at = bAt(b);
  sb.dv.setUint16(at + B_MAGIC, BUCKET_MAGIC, true);
  sb.u8[at + B_DEPTH] = depth;
  sb.dv.setUint16(at + B_COUNT, count, true);
  sb.dv.setUint16(at + B_END, end, true);
  sb.u32[(at + B_NEXT) >>> 2] = next;
  sb.touch(at, B_HDR);
}

const eLen = (sb: Super, e: number) => sb.u8[e + E_LEN];
const eHash = (sb: Super, e: number) => sb.u32[(e + E_HASH) >>> 2];
const eCidx = (sb: Super, e: number) => sb.dv.getUint16(e + E_CIDX, true);
const eKey = (sb: Super, e: number) => eHash(sb, e) * CIDX_LIMIT + eCidx(sb, e);
export const eIno = (sb: Super, e: number) => sb.u32[(e + E_INO) >>> 2];
export const eType = (sb: Super, e: number) => sb.u8[e + E_TYPE];
export const eName = (sb: Super, e: number) => sb.u8.subarray(e + E_NAME, e + E_NAME + eLen(sb, e));

/** Byte offset of the entry named `name` (hash `hash`), or -1. */
export function dirFind(sb: Super, dzi: number, name: Uint8Array, hash: number): number {
  if (!hasTable(sb, dzi)) return -1;
  const u8 = sb.u8;
  const u32 = sb.u32;
  const len = name.length;
  const head = headAt(sb, dzi, slotOf(hash, depthG(sb, dzi)));
  for (let b = head, n = 0; b !== 0; b = bNext(sb, b, ++n)) {
    const end = bAt(b) + bEnd(sb, b);
    for (let e = bAt(b) + B_HDR; e < end; e += entrySize(u8[e + E_LEN])) {
      if (u32[(e + E_HASH) >>> 2] !== hash || u8[e + E_LEN] !== len) continue;
      let i = 0;
      while (i < len && u8[e + E_NAME + i] === name[i]) i++;
      if (i === len) return e;
    }
  }
  return -1;
}

/** Points an existing entry at another inode (rename over, exchange). */
export function dirRetarget(sb: Super, e: number, ino: number, type: number): void {
  sb.u32[(e + E_INO) >>> 2] = ino;
  sb.u8[e + E_TYPE] = type;
  sb.touch(e, E_NAME);
}

/** The smallest collision index no entry with `hash` uses in the chain of bucket `b`. */
function freeCidx(sb: Super, b: number, hash: number): number {
  let used: number[] | null = null;
  for (let c = b, n = 0; c !== 0; c = bNext(sb, c, ++n)) {
    const end = bAt(c) + bEnd(sb, c);
    for (let e = bAt(c) + B_HDR; e < end; e += entrySize(eLen(sb, e))) {
      if (eHash(sb, e) === hash) (used ??= []).push(eCidx(sb, e));
    }
  }
  if (used === null) return 0;
  used.sort((x, y) => x - y);
  let cidx = 0;
  for (const u of used) if (u === cidx) cidx++;
  if (cidx >= CIDX_LIMIT) throw new ZufsError(Errno.ENOSPC, 'too many names with one hash');
  return cidx;
}

/** Puts an entry into bucket `b` (which has room) before the first entry with a larger key. */
function insertEntry(
  sb: Super,
  b: number,
  ino: number,
  hash: number,
  cidx: number,
  type: number,
  name: Uint8Array,
) {
  const end = bEnd(sb, b);
  const u8 = sb.u8;
  const u32 = sb.u32;
  const stop = bAt(b) + end;
  let e = bAt(b) + B_HDR;
  for (; e < stop; e += entrySize(u8[e + E_LEN])) {
    const h = u32[(e + E_HASH) >>> 2];
    if (h > hash || (h === hash && sb.dv.getUint16(e + E_CIDX, true) > cidx)) break;
  }
  const size = entrySize(name.length);
  if (e < stop) {
    u8.copyWithin(e + size, e, stop);
    sb.touch(e + size, stop - e);
  }
  sb.u32[(e + E_INO) >>> 2] = ino;
  sb.u32[(e + E_HASH) >>> 2] = hash;
  sb.dv.setUint16(e + E_CIDX, cidx, true);
  sb.u8[e + E_LEN] = name.length;
  sb.u8[e + E_TYPE] = type;
  sb.u8.set(name, e + E_NAME);
  sb.u8.fill(0, e + E_NAME + name.length, e + size);
  sb.touch(e, size);
  setHeader(sb, b, bDepth(sb, b), bCount(sb, b) + 1, end + size, bNext(sb, b));
}

/** The first table block and bucket of a directory that had no entries yet. */
function createTable(sb: Super, dzi: number): void {
  needBlocks(sb, mapCost(sb, dzi, 0) + 1, true);
  const table = mapEnsure(sb, dzi, 0, 0, true);
  const b = allocBlock(sb, dzi, table + 1, true);
  setHeader(sb, b, 0, 0, B_HDR, 0);
  setSlot(sb, table * SLOTS_PER_BLOCK, b);
  sb.u8[dzi + OD_DEPTH] = 0;
  sb.touch(dzi + OD_DEPTH, 1);
}

/** Doubles the hash table: slot j of the new table is slot j / 2 of the old one. */
function doubleTable(sb: Super, dzi: number): void {
  const G = depthG(sb, dzi);
  const oldBlocks = Math.ceil(2 ** G / SLOTS_PER_BLOCK);
  const newBlocks = Math.ceil(2 ** (G + 1) / SLOTS_PER_BLOCK);
  needBlocks(sb, mapRangeCost(sb, dzi, oldBlocks, newBlocks) + 1, true); // + the bucket the split makes
  for (let t = oldBlocks; t < newBlocks; t++) mapEnsure(sb, dzi, t, 0, true);
  // From the top down, so that no old slot is overwritten before it is read.
  let dstBlk = -1;
  let dstBn = 0;
  let srcBlk = -1;
  let srcBn = 0;
  for (let j = 2 ** (G + 1) - 1; j >= 0; j--) {
    const s = j >>> 1;
    if (Math.floor(j / SLOTS_PER_BLOCK) !== dstBlk)
      dstBn = mapGet(sb, dzi, (dstBlk = Math.floor(j / SLOTS_PER_BLOCK)));
    if (Math.floor(s / SLOTS_PER_BLOCK) !== srcBlk)
      srcBn = mapGet(sb, dzi, (srcBlk = Math.floor(s / SLOTS_PER_BLOCK)));
    sb.u32[dstBn * SLOTS_PER_BLOCK + (j % SLOTS_PER_BLOCK)] =
      sb.u32[srcBn * SLOTS_PER_BLOCK + (s % SLOTS_PER_BLOCK)];
  }
  for (let t = 0; t < newBlocks; t++) sb.touch(mapGet(sb, dzi, t) * BLOCK_SIZE, BLOCK_SIZE);
  sb.u8[dzi + OD_DEPTH] = G + 1;
  sb.touch(dzi + OD_DEPTH, 1);
}

/**
 * Splits bucket `b` (which serves `hash`) on its next hash bit: the entries with that bit set move
 * to a new bucket, which takes over the upper half of b's slots.
 */
function splitBucket(sb: Super, dzi: number, b: number, hash: number): void {
  const d = bDepth(sb, b);
  if (d === depthG(sb, dzi)) doubleTable(sb, dzi);
  else needBlocks(sb, 1, true);
  const G = depthG(sb, dzi);
  const nb = allocBlock(sb, dzi, b + 1, true);
  setHeader(sb, nb, d + 1, 0, B_HDR, 0);
  const u8 = sb.u8;
  const base = bAt(b);
  let w = base + B_HDR;
  let kept = 0;
  const end = base + bEnd(sb, b);
  for (let e = base + B_HDR; e < end; ) {
    const size = entrySize(eLen(sb, e));
    if ((eHash(sb, e) >>> (31 - d)) & 1) {
      const to = bAt(nb) + bEnd(sb, nb);
      u8.copyWithin(to, e, e + size);
      setHeader(sb, nb, d + 1, bCount(sb, nb) + 1, bEnd(sb, nb) + size, 0);
    } else {
      if (w !== e) u8.copyWithin(w, e, e + size);
      w += size;
      kept++;
    }
    e += size;
  }
  sb.zero(w, end - w);
  sb.touch(base, BLOCK_SIZE);
  sb.touch(bAt(nb), BLOCK_SIZE);
  setHeader(sb, b, d + 1, kept, w - base, 0);
  // b served 2^(G-d) slots from `first`; the upper half goes to nb.
  const span = 2 ** (G - d);
  const first = slotOf(hash, G) - (slotOf(hash, G) % span);
  for (let i = first + span / 2; i < first + span; i++) setSlot(sb, slotW(sb, dzi, i), nb);
}

/** Adds the entry `name` -> `ino` (the caller checked that the name is new). ENOSPC when full. */
export function dirInsert(
  sb: Super,
  dzi: number,
  name: Uint8Array,
  hash: number,
  ino: number,
  type: number,
): void {
  if (!hasTable(sb, dzi)) createTable(sb, dzi);
  const size = entrySize(name.length);
  for (;;) {
    const head = headAt(sb, dzi, slotOf(hash, depthG(sb, dzi)));
    const cidx = freeCidx(sb, head, hash);
    let last = head;
    for (let c = head, n = 0; c !== 0; c = bNext(sb, c, ++n)) {
      if (bEnd(sb, c) + size <= BLOCK_SIZE) {
        insertEntry(sb, c, ino, hash, cidx, type, name);
        setDirCount(sb, dzi, dirCount(sb, dzi) + 1);
        return;
      }
      last = c;
    }
    if (bDepth(sb, head) < MAX_DEPTH) {
      splitBucket(sb, dzi, head, hash);
      continue;
    }
    needBlocks(sb, 1, true);
    const over = allocBlock(sb, dzi, last + 1, true);
    setHeader(sb, over, MAX_DEPTH, 0, B_HDR, 0);
    setHeader(sb, last, MAX_DEPTH, bCount(sb, last), bEnd(sb, last), over);
  }
}

/** Removes the entry at `e` (found by dirFind). */
export function dirRemove(sb: Super, dzi: number, e: number): void {
  const bucket = Math.floor(e / BLOCK_SIZE);
  const hash = eHash(sb, e);
  const size = entrySize(eLen(sb, e));
  const end = bAt(bucket) + bEnd(sb, bucket);
  sb.u8.copyWithin(e, e + size, end);
  sb.u8.fill(0, end - size, end);
  sb.touch(e, end - e);
  const count = bCount(sb, bucket) - 1;
  setHeader(sb, bucket, bDepth(sb, bucket), count, end - size - bAt(bucket), bNext(sb, bucket));
  setDirCount(sb, dzi, dirCount(sb, dzi) - 1);
  // An empty directory gives all its blocks back (and starts afresh with the next entry).
  if (dirCount(sb, dzi) === 0) {
    dirFreeAll(sb, dzi);
    return;
  }
  if (count > 0) return;
  // An emptied overflow bucket leaves its chain.
  const head = headAt(sb, dzi, slotOf(hash, depthG(sb, dzi)));
  if (head === bucket) return;
  let prev = head;
  for (let n = 0; bNext(sb, prev, n) !== bucket; n++) {
    prev = bNext(sb, prev, n);
    if (prev === 0) throw corrupt(`bucket ${bucket} is not in its chain`);
  }
  setHeader(sb, prev, bDepth(sb, prev), bCount(sb, prev), bEnd(sb, prev), bNext(sb, bucket));
  freeBlock(sb, dzi, bucket);
}

/** Calls `fn(bucket, firstSlot, slots)` for each bucket chain head of the table, in slot order. */
function forEachBucket(sb: Super, dzi: number, fn: (head: number, first: number, slots: number) => void) {
  if (!hasTable(sb, dzi)) return;
  const G = depthG(sb, dzi);
  for (let i = 0; i < 2 ** G; ) {
    const head = headAt(sb, dzi, i);
    if (bDepth(sb, head) > G) throw corrupt(`bucket ${head} deeper than its table`);
    const span = 2 ** (G - bDepth(sb, head));
    fn(head, i, span);
    i += span;
  }
}

/** Calls `fn(entry offset)` for each entry in the chain that starts at `head`. */
function forEachEntry(sb: Super, head: number, fn: (e: number, bucket: number) => void): void {
  for (let b = head, n = 0; b !== 0; b = bNext(sb, b, ++n)) {
    const end = bAt(b) + bEnd(sb, b);
    for (let e = bAt(b) + B_HDR; e < end; e += entrySize(eLen(sb, e))) fn(e, b);
  }
}

/**
 * Emits entries from position `pos` on ('.', '..', then the names in key order) until `emit`
 * declines one or none is left. Returns the position to resume at: that of the declined entry, or
 * DIR_POS_END when the directory is done.
 */
export function dirReaddir(sb: Super, dzi: number, ino: number, pos: number, emit: ReaddirRawEmit): number {
  if (pos === DIR_POS_DOT) {
    if (!emit(ino, DT_DIR, DIR_POS_DOTDOT, DOT, 0, 1)) return DIR_POS_DOT;
    pos = DIR_POS_DOTDOT;
  }
  if (pos === DIR_POS_DOTDOT) {
    if (!emit(dirParent(sb, dzi), DT_DIR, POS_FIRST, DOTDOT, 0, 2)) return DIR_POS_DOTDOT;
    pos = POS_FIRST;
  }
  if (!hasTable(sb, dzi) || !(pos >= POS_FIRST && pos < DIR_POS_END)) return DIR_POS_END;
  const G = depthG(sb, dzi);
  const slots = 2 ** G;
  let key = Math.floor(pos) - POS_FIRST;
  for (let i = slotOf(Math.floor(key / CIDX_LIMIT), G); i < slots; ) {
    const head = headAt(sb, dzi, i);
    if (bDepth(sb, head) > G) throw corrupt(`bucket ${head} deeper than its table`);
    const span = 2 ** (G - bDepth(sb, head));
    const stop =
      bNext(sb, head) === 0 && bucketSorted(sb, head)
        ? emitBucket(sb, head, key, emit)
        : emitSorted(sb, head, key, emit);
    if (stop >= 0) return POS_FIRST + stop;
    i = i - (i % span) + span;
    key = i * 2 ** (32 - G) * CIDX_LIMIT;
  }
  return DIR_POS_END;
}

/** True when bucket `b`'s entries are in key order (as inserts keep them). */
function bucketSorted(sb: Super, b: number): boolean {
  const u8 = sb.u8;
  const end = bAt(b) + bEnd(sb, b);
  let prev = -1;
  for (let e = bAt(b) + B_HDR; e < end; e += entrySize(u8[e + E_LEN])) {
    const k = eKey(sb, e);
    if (k <= prev) return false;
    prev = k;
  }
  return true;
}

/** Emits the entries of sorted bucket `b` at or after `key`; the key `emit` declined, or -1. */
function emitBucket(sb: Super, b: number, key: number, emit: ReaddirRawEmit): number {
  const u8 = sb.u8;
  const end = bAt(b) + bEnd(sb, b);
  for (let e = bAt(b) + B_HDR; e < end; e += entrySize(u8[e + E_LEN])) {
    const k = eKey(sb, e);
    if (k < key) continue;
    if (!emit(eIno(sb, e), u8[e + E_TYPE], POS_FIRST + k + 1, u8, e + E_NAME, u8[e + E_LEN])) return k;
  }
  return -1;
}

/** emitBucket for a chain, or a bucket out of order: its entries at or after `key`, sorted first. */
function emitSorted(sb: Super, head: number, key: number, emit: ReaddirRawEmit): number {
  const u8 = sb.u8;
  // The entries' offsets and keys, and their order by key (keys read once, not per comparison).
  const ents: number[] = [];
  const keys: number[] = [];
  const order: number[] = [];
  forEachEntry(sb, head, (e) => {
    const k = eKey(sb, e);
    if (k < key) return;
    order.push(ents.length);
    ents.push(e);
    keys.push(k);
  });
  order.sort((x, y) => keys[x] - keys[y]);
  for (let j = 0; j < order.length; j++) {
    const e = ents[order[j]];
    const k = keys[order[j]];
    if (!emit(eIno(sb, e), u8[e + E_TYPE], POS_FIRST + k + 1, u8, e + E_NAME, u8[e + E_LEN])) return k;
  }
  return -1;
}

/** Frees every bucket and table block of a directory (it is being freed). */
export function dirFreeAll(sb: Super, dzi: number): void {
  const heads: number[] = [];
  forEachBucket(sb, dzi, (head) => heads.push(head));
  for (const head of heads) {
    for (let b = head, n = 0; b !== 0; ) {
      const next = bNext(sb, b, ++n);
      freeBlock(sb, dzi, b);
      b = next;
    }
  }
  mapFree(sb, dzi, 0, Infinity);
  sb.u8[dzi + OD_DEPTH] = 0;
  sb.touch(dzi + OD_DEPTH, 1);
}

/**
 * Checks a directory's table and buckets (fsck): every run of slots pointing at one bucket has the
 * length and alignment its depth says, every entry's hash matches its name and its bucket, counts
 * add up. Calls `onBlock` for each bucket and `onEntry` for each entry. Returns the problems found.
 */
export function dirCheck(
  sb: Super,
  dzi: number,
  onBlock: (bn: number) => void,
  onEntry: (e: number) => void,
): string[] {
  const out: string[] = [];
  if (!hasTable(sb, dzi)) {
    if (dirCount(sb, dzi) !== 0) out.push(`${dirCount(sb, dzi)} entries but no hash table`);
    return out;
  }
  const G = depthG(sb, dzi);
  if (G > MAX_DEPTH) return [`hash table depth ${G} > ${MAX_DEPTH}`];
  const keys = new Set<number>();
  let total = 0;
  for (let first = 0; first < 2 ** G; ) {
    const head = sb.u32[slotW(sb, dzi, first)];
    if (!sb.isDataBlock(head)) return [...out, `table slot ${first}: bad bucket ${head}`];
    const d = bDepth(sb, head);
    if (d > G) return [...out, `bucket ${head}: depth ${d} > table depth ${G}`];
    const slots = 2 ** (G - d);
    if (first % slots !== 0) out.push(`bucket ${head}: misaligned in the table`);
    for (let i = first; i < first + slots; i++) {
      if (sb.u32[slotW(sb, dzi, i)] !== head) {
        out.push(`table slot ${i}: expected bucket ${head}`);
        break;
      }
    }
    for (let b = head, n = 0; b !== 0; b = bNext(sb, b, ++n)) {
      if (b !== head && !sb.isDataBlock(b)) {
        out.push(`bucket ${head}: bad overflow block ${b}`);
        break;
      }
      onBlock(b);
      if (sb.dv.getUint16(bAt(b) + B_MAGIC, true) !== BUCKET_MAGIC) out.push(`bucket ${b}: bad magic`);
      if (bDepth(sb, b) !== d) out.push(`bucket ${b}: chained bucket of another depth`);
      if (bNext(sb, b) !== 0 && d !== MAX_DEPTH)
        out.push(`bucket ${b}: overflow chain below the deepest level`);
      const end = bAt(b) + bEnd(sb, b);
      if (end > bAt(b) + BLOCK_SIZE || end < bAt(b) + B_HDR) {
        out.push(`bucket ${b}: end ${bEnd(sb, b)} out of range`);
        continue;
      }
      let n = 0;
      for (let e = bAt(b) + B_HDR; e < end; e += entrySize(eLen(sb, e))) {
        n++;
        const h = eHash(sb, e);
        const len = eLen(sb, e);
        if (len === 0) {
          out.push(`bucket ${b}: empty name`);
          break;
        }
        if (h !== nameHash(sb.g.hashSeed, sb.u8, e + E_NAME, len))
          out.push(`bucket ${b}: entry hash mismatch`);
        if (slotOf(h, G) - (slotOf(h, G) % slots) !== first)
          out.push(`bucket ${b}: entry in the wrong bucket`);
        if (keys.has(eKey(sb, e))) out.push(`bucket ${b}: duplicate key`);
        keys.add(eKey(sb, e));
        onEntry(e);
      }
      total += n;
      if (n !== bCount(sb, b)) out.push(`bucket ${b}: count ${bCount(sb, b)} but ${n} entries`);
    }
    first += slots;
  }
  if (total !== dirCount(sb, dzi)) out.push(`size says ${dirCount(sb, dzi)} entries, buckets hold ${total}`);
  return out;
}
