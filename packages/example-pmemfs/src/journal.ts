/**
 * The journal: how a flush becomes one atomic, checksummed commit, and how mount finds the last one.
 *
 * A commit snapshots every dirty page under the metadata lock (so the snapshot is a state between
 * two operations), then, without the lock (operations go on; what they dirty waits for the next
 * commit), in this order:
 *   1. pages of blocks that are free in the committed state but used now (new file data, new
 *      directory buckets, new pointer blocks) go straight home: nothing durable points at them yet;
 *   2. every other dirty page (the metadata regions, and blocks the committed state uses: in-place
 *      overwrites) is copied into journal storage, with descriptor blocks listing home page, copy
 *      block and CRC-32C of each copy, and of each page of step 1 as well (its copy is its home);
 *   3. the commit block (journal block 0): sequence number, descriptor block list, CRC-32C of the
 *      descriptors, its own CRC-32C; fdatasync. The commit is durable now: whatever of steps 1-3
 *      did not reach the disk before a crash fails a CRC at recovery, so no fdatasync is needed
 *      between them (when step 1's pages do not fit in the descriptors, they are left out and an
 *      fdatasync before the commit block orders them instead);
 *   4. the journaled pages go home, with no fdatasync of their own: the next commit's fdatasync
 *      covers them. The committed block map becomes the snapshot's.
 * A 4 KiB overwrite + fsync thus costs one fdatasync (and five pwrites: descriptor, copies, commit
 * block, two pages home).
 *
 * Two commit slots (journal blocks 0 and 1) and two halves of the journal's storage, used in turn:
 * a commit never overwrites the slot and the copies of the commit before it, whose pages may not be
 * home on the disk yet (step 4 was not synced), only those of the one before that, which the last
 * commit's fdatasync made durable at home. Recovery replays the newest whole commit of the two
 * slots (its predecessor's pages are durable at home: its fdatasync came after them). A commit whose copies overflow into free data blocks
 * (below) syncs its step 4 as before, since the next commit may allocate those blocks, and empties
 * the other slot: once its copies are overwritten, an older commit still whole there would be
 * replayed over a newer state. A journal of fewer than four blocks has one slot and always syncs
 * step 4.
 *
 * Journal storage is the commit's half of the journal region past its slots, then, when that is not
 * enough, blocks that are free both in the committed state and in the snapshot: nothing durable or about to be durable
 * lives there, so a transaction never has to be split (splitting would break atomicity).
 *
 * Recovery (mount) validates the commit block, every descriptor block and every copy before it
 * writes anything; then writes each copy home. Replay is idempotent (the copies are never home
 * pages of the same transaction), so a crash during recovery just means recovering again. A commit
 * block whose transaction is torn (a bad CRC anywhere) is discarded whole: its predecessor is whole
 * in the other slot (or was durable at home), and a stale commit block whose storage a later
 * transaction reused fails its CRCs the same way. Once it found a whole commit, recovery fdatasyncs
 * the image: what it read may have been only in the page cache, and the next commit may overwrite
 * the other slot's copies.
 */
import * as fs from 'node:fs';
import { Errno } from '@zufs/zuf-core/api';
import { ZusError as ZufsError } from '@zufs/zus-server';
import { crc32c } from './crc32c.js';
import type { PmemDevice } from './device.js';
import { BLOCK_SIZE, decodeSuperblock, type Geometry } from './super.js';

/** "ZJCM": the commit block's first word. */
export const JOURNAL_MAGIC = 0x4d434a5a;
const JOURNAL_VERSION = 1;
// Commit block fields.
const C_MAGIC = 0;
const C_VERSION = 4;
const C_CSUM = 8; // crc32c of the header and the descriptor list, with this field zero
const C_NDESC = 12;
const C_SEQ = 16;
const C_NENTRIES = 20;
const C_DESC_CSUM = 24; // crc32c of the descriptor entries (nEntries * ENTRY bytes)
const C_LIST = 64; // u32 block numbers of the descriptor blocks
/** Descriptor entry: u32 home page, u32 copy block, u32 crc32c of the copy. */
const ENTRY = 12;
const PER_DESC = Math.floor(BLOCK_SIZE / ENTRY);
const MAX_DESC = (BLOCK_SIZE - C_LIST) / 4;
/** Most new blocks a commit lists in its descriptors, checked by their CRC (1 MiB of them). */
const LISTED_NEW_MAX = 256;
/** Most pages one commit can journal (~1.3 GiB). */
export const MAX_JOURNALED_PAGES = MAX_DESC * PER_DESC;
/** The smallest journal with two commit slots (a slot and a block of storage for each half). */
const TWO_SLOTS_MIN = 4;

/** Where commit slot `slot` (0 or 1) keeps its commit block and its storage, in journal blocks. */
function slotPlace(g: Geometry, slot: number): { commit: number; from: number; to: number } {
  const start = g.journalStart;
  if (g.journalBlocks < TWO_SLOTS_MIN) return { commit: start, from: start + 1, to: start + g.journalBlocks };
  const half = (g.journalBlocks - 2) >>> 1;
  const from = start + 2 + slot * half;
  return { commit: start + slot, from, to: from + half };
}

/** The slot of the commit after one in `slot`. */
function nextSlot(g: Geometry, slot: number): number {
  return g.journalBlocks < TWO_SLOTS_MIN ? 0 : 1 - slot;
}

// A commit waits this long for the metadata lock (an operation holds it for microseconds to a big
// write's duration; a dead holder becomes a LockTimeoutError, not a hang).
const LOCK_MS = 30_000;

/** The geometry on the image (copy 0, else copy 1), or EIO. */
export function imageGeometry(dev: PmemDevice): Geometry {
  const a = decodeSuperblock(dev.u8, 0);
  if (a.ok) return a.g;
  const b = decodeSuperblock(dev.u8, BLOCK_SIZE);
  if (b.ok) return b.g;
  throw new ZufsError(Errno.EIO, 'journal: no valid superblock on the device');
}

// A commit needs only the layout, which never changes after mkfs: decoding the superblock (a CRC,
// its strings) at every commit, so at every fsync, is work for nothing. Kept per device view,
// checked against copy 0's checksum word (byte 8), which any change to the superblock changes.
const layouts = new WeakMap<PmemDevice, { csum: number; g: Geometry }>();

function commitGeometry(dev: PmemDevice): Geometry {
  const csum = dev.u32[2];
  const known = layouts.get(dev);
  if (known !== undefined && known.csum === csum) return known.g;
  const g = imageGeometry(dev);
  layouts.set(dev, { csum, g });
  return g;
}

/** Sets the committed block map from the block bitmap now in memory (first mount, after recovery). */
export function initCommittedMap(dev: PmemDevice, g: Geometry): void {
  const words = Math.ceil(g.dataBlocks / 32);
  const cm = dev.committedMap;
  const at = (g.bbmStart * BLOCK_SIZE) / 4;
  for (let i = 0; i < words && i < cm.length; i++) cm[i] = dev.u32[at + i] | 0;
}

/**
 * How many blocks a commit could hold `pages` journaled pages in (the journal region past its commit
 * block, then data blocks free both in the last commit and now), minus what the descriptors take:
 * the transaction fits while this is >= 0. Counts overflow blocks only as far as it needs to, and
 * none with `overflow` false.
 */
export function journalRoom(dev: PmemDevice, g: Geometry, pages: number, overflow = true): number {
  const need = Math.ceil(pages / PER_DESC) + pages;
  const place = slotPlace(g, nextSlot(g, dev.journalSlot));
  let room = place.to - place.from;
  if (room >= need || !overflow) return room - need;
  const cm = dev.committedMap;
  const at = (g.bbmStart * BLOCK_SIZE) / 4;
  const words = Math.ceil(g.dataBlocks / 32);
  for (let i = 0; i < words && room < need; i++) {
    let free = ~(dev.u32[at + i] | cm[i]);
    if (i === words - 1 && g.dataBlocks % 32 !== 0) free &= (1 << (g.dataBlocks % 32)) - 1;
    while (free !== 0) {
      free &= free - 1;
      room++;
    }
  }
  return room - need;
}

function writeAll(fd: number, buf: Uint8Array, off: number, len: number, pos: number): void {
  for (let done = 0; done < len; ) done += fs.writeSync(fd, buf, off + done, len - done, pos + done);
}

/**
 * Writes `n` pages of `src` (page `srcIdx[k]` of the buffer to block `dest[k]`), one pwrite per
 * run where both sides are consecutive.
 */
function writePages(
  fd: number,
  src: Uint8Array,
  srcIdx: ArrayLike<number>,
  dest: ArrayLike<number>,
  n: number,
) {
  for (let k = 0; k < n; ) {
    let e = k + 1;
    while (e < n && srcIdx[e] === srcIdx[e - 1] + 1 && dest[e] === dest[e - 1] + 1) e++;
    writeAll(fd, src, srcIdx[k] * BLOCK_SIZE, (e - k) * BLOCK_SIZE, dest[k] * BLOCK_SIZE);
    k = e;
  }
}

const bit = (words: ArrayLike<number>, i: number) => (words[i >>> 5] & (1 << (i & 31))) !== 0;

/**
 * One journaled commit of everything dirty on `dev` (the caller holds the flush lock). Returns the
 * bytes written home. On failure the pages get their dirty bits back and the error is thrown.
 */
export function journalCommit(dev: PmemDevice, fd: number): number {
  const g = commitGeometry(dev);
  const bbmWords = Math.ceil(g.dataBlocks / 32);
  let pages: Uint32Array;
  let snap = new Uint8Array(0);
  let bbm = new Uint32Array(0);
  dev.mutex.lock(LOCK_MS);
  try {
    pages = dev.takeDirtyPages();
    if (pages.length > 0) {
      snap = new Uint8Array(pages.length * BLOCK_SIZE);
      for (let i = 0; i < pages.length; i++) {
        snap.set(dev.page(pages[i]), i * BLOCK_SIZE);
      }
      const w0 = (g.bbmStart * BLOCK_SIZE) / 4;
      bbm = dev.u32.slice(w0, w0 + bbmWords);
    }
  } finally {
    dev.mutex.unlock();
  }
  if (pages.length === 0) {
    // Idle: make the last commit's pages durable at home (an unmount leaves nothing pending).
    if (dev.checkpointPending) {
      fs.fdatasyncSync(fd);
      dev.checkpointPending = false;
    }
    return 0;
  }
  try {
    return commitSnapshot(dev, fd, g, pages, snap, bbm);
  } catch (e) {
    dev.redirty(pages);
    throw e;
  }
}

function commitSnapshot(
  dev: PmemDevice,
  fd: number,
  g: Geometry,
  pages: Uint32Array,
  snap: Uint8Array,
  bbm: Uint32Array,
): number {
  const cm = dev.committedMap;
  const jEnd = g.journalStart + g.journalBlocks;
  // Sort the snapshot's pages: straight home, or through the journal. (Pages of blocks free both
  // before and after, and the journal region itself, which only commits write, are skipped.)
  const home: number[] = [];
  const jnl: number[] = [];
  for (let i = 0; i < pages.length; i++) {
    const p = pages[i];
    if (p >= g.journalStart && p < jEnd) continue;
    if (p < g.dataStart) jnl.push(i);
    else if (bit(cm, p - g.dataStart)) jnl.push(i);
    else if (bit(bbm, p - g.dataStart)) home.push(i);
  }
  // The new blocks are listed too, up to LISTED_NEW_MAX of them, each with its home as its copy:
  // then a commit whose new blocks, copies or descriptors did not all reach the disk fails a
  // checksum at recovery (torn: discarded whole), so one fdatasync after the commit block covers
  // them all, instead of one before it (for them) and one after (for it). A bigger commit keeps
  // that fdatasync: it costs little beside its writes, while every mount's recovery reads and
  // checks what the last commit lists.
  const nDescJournaled = Math.ceil(jnl.length / PER_DESC);
  if (nDescJournaled > MAX_DESC) {
    throw new ZufsError(
      Errno.ENOSPC,
      `journal: ${jnl.length} pages to journal, at most ${MAX_JOURNALED_PAGES}`,
    );
  }
  const nDescAll = Math.ceil((jnl.length + home.length) / PER_DESC);
  // Storage: this slot's half of the journal region, then blocks free before and after.
  const slot = nextSlot(g, dev.journalSlot);
  const place = slotPlace(g, slot);
  const want = Math.max(nDescAll, nDescJournaled) + jnl.length;
  const store = new Uint32Array(want);
  let n = 0;
  for (let b = place.from; b < place.to && n < want; b++) store[n++] = b;
  const inJournal = n;
  for (let i = 0; i < g.dataBlocks && n < want; i++) {
    if (!bit(cm, i) && !bit(bbm, i)) store[n++] = g.dataStart + i;
  }
  const listHome = home.length <= LISTED_NEW_MAX && nDescAll <= MAX_DESC && n >= nDescAll + jnl.length;
  const nDesc = listHome ? nDescAll : nDescJournaled;
  const need = nDesc + jnl.length;
  if (n < need) throw new ZufsError(Errno.ENOSPC, `journal: no room for a ${need}-block transaction`);
  const entries = listHome ? jnl.length + home.length : jnl.length;
  // Copies in free data blocks: the next commit may allocate them, so this one's pages must be
  // durable at home before it ends (step 4 synced), as must be any commit's in a one-slot journal.
  const syncCheckpoint = need > inJournal || nextSlot(g, slot) === slot;

  // 1. New blocks home first.
  const homeIdx = Uint32Array.from(home);
  const homeDest = homeIdx.map((i) => pages[i]);
  writePages(fd, snap, homeIdx, homeDest, homeIdx.length);

  // 2. Descriptors and copies (fdatasync here only when the new blocks are not listed).
  const desc = new Uint8Array(Math.max(1, nDesc) * BLOCK_SIZE);
  const ddv = new DataView(desc.buffer);
  for (let k = 0; k < entries; k++) {
    const i = k < jnl.length ? jnl[k] : home[k - jnl.length];
    const at = k * ENTRY + Math.floor(k / PER_DESC) * (BLOCK_SIZE - PER_DESC * ENTRY);
    ddv.setUint32(at, pages[i], true);
    ddv.setUint32(at + 4, k < jnl.length ? store[nDesc + k] : pages[i], true);
    ddv.setUint32(at + 8, crc32c(snap, i * BLOCK_SIZE, (i + 1) * BLOCK_SIZE), true);
  }
  const descIdx = Uint32Array.from({ length: nDesc }, (_, k) => k);
  writePages(fd, desc, descIdx, store, nDesc);
  const jnlIdx = Uint32Array.from(jnl);
  writePages(fd, snap, jnlIdx, store.subarray(nDesc), jnlIdx.length);
  if (!listHome) fs.fdatasyncSync(fd);

  // 3. The commit block.
  const seq = (dev.journalSeq + 1) >>> 0;
  const commit = new Uint8Array(BLOCK_SIZE);
  const cdv = new DataView(commit.buffer);
  cdv.setUint32(C_MAGIC, JOURNAL_MAGIC, true);
  cdv.setUint32(C_VERSION, JOURNAL_VERSION, true);
  cdv.setUint32(C_NDESC, nDesc, true);
  cdv.setUint32(C_SEQ, seq, true);
  cdv.setUint32(C_NENTRIES, entries, true);
  cdv.setUint32(C_DESC_CSUM, descCrc(desc, entries), true);
  for (let k = 0; k < nDesc; k++) cdv.setUint32(C_LIST + 4 * k, store[k], true);
  cdv.setUint32(C_CSUM, crc32c(commit, 0, C_LIST + 4 * nDesc), true);
  writeAll(fd, commit, 0, BLOCK_SIZE, place.commit * BLOCK_SIZE);
  // Also makes the previous commit's step 4 durable: the slot after this one may now be reused.
  fs.fdatasyncSync(fd);
  dev.journalSeq = seq;
  dev.journalSlot = slot;
  dev.checkpointPending = false;

  // 4. Checkpoint: the journaled pages home (synced by the next commit, or now: syncCheckpoint).
  writePages(
    fd,
    snap,
    jnlIdx,
    jnlIdx.map((i) => pages[i]),
    jnlIdx.length,
  );
  if (syncCheckpoint) {
    // The other slot's commit is older than what is now home: recovery must not replay it once a
    // later commit reuses this one's storage (its copies then fail their CRCs, and the other's
    // would not). Emptied before the same fdatasync.
    const other = slotPlace(g, nextSlot(g, slot)).commit;
    if (other !== place.commit) writeAll(fd, new Uint8Array(BLOCK_SIZE), 0, BLOCK_SIZE, other * BLOCK_SIZE);
    fs.fdatasyncSync(fd);
  } else dev.checkpointPending = jnlIdx.length > 0;
  for (let i = 0; i < bbm.length && i < cm.length; i++) cm[i] = bbm[i] | 0;
  return (home.length + jnl.length) * BLOCK_SIZE;
}

/** CRC-32C of the first `entries` descriptor entries (they are packed PER_DESC to a block). */
function descCrc(desc: Uint8Array, entries: number): number {
  // Chain the per-block CRCs: cheap, and any changed entry changes the result.
  let c = 0;
  for (let k = 0; k * PER_DESC < entries; k++) {
    const inBlock = Math.min(PER_DESC, entries - k * PER_DESC);
    const at = k * BLOCK_SIZE;
    c = crc32c(desc, at, at + inBlock * ENTRY) ^ Math.imul(c, 0x9e3779b1);
  }
  return c >>> 0;
}

export interface RecoveryResult {
  /** The last commit's sequence number (0: none). */
  seq: number;
  /** The commit slot (0 or 1) the last whole commit is in: the next commit uses the other. */
  slot: number;
  /** Pages whose home differed from the journal and were written back. */
  replayed: number;
  /** Why a commit block was discarded (torn transaction), if one was. */
  discarded?: string;
}

/** A slot's commit, checked whole: the pages to replay. */
interface WholeCommit {
  seq: number;
  slot: number;
  homes: Uint32Array;
  copies: Uint32Array;
}

/**
 * Finds the newest whole commit in `dev`'s journal and replays it into the image in memory and,
 * when `write`, to the image file (then fdatasync). Never reads or writes outside the
 * device; never replays part of a transaction.
 */
export function journalRecover(dev: PmemDevice, g: Geometry, write: boolean): RecoveryResult {
  let last: WholeCommit | undefined;
  let torn: { seq: number; slot: number; why: string } | undefined;
  for (const slot of g.journalBlocks < TWO_SLOTS_MIN ? [0] : [0, 1]) {
    const c = readCommit(dev, g, slot);
    if (c === null) continue;
    if ('torn' in c) {
      if (!torn || c.seq > torn.seq) torn = { seq: c.seq, slot, why: c.torn };
    } else if (!last || c.seq > last.seq) last = c;
  }
  // Only the newest whole commit: the fdatasync that made it durable made its predecessor's pages
  // durable at home too. Replaying the predecessor as well would undo what the newest wrote
  // straight home (a block freed and allocated again) and lists only by its CRC.
  let replayed = 0;
  const fd = write ? dev.fileFd() : null;
  if (last) {
    // A copy is never another entry's home (copies are in free blocks).
    for (let k = 0; k < last.homes.length; k++) {
      const src = dev.page(last.copies[k]);
      const dst = dev.page(last.homes[k]);
      dev.loadPages(last.homes[k], 1);
      if (Buffer.compare(src, dst) === 0) continue;
      dst.set(src);
      if (fd !== null) writeAll(fd, dst, 0, BLOCK_SIZE, last.homes[k] * BLOCK_SIZE);
      replayed++;
    }
  }
  // What was read may sit only in the page cache (the last commit's unsynced step 4): durable now,
  // before a commit overwrites the other slot's copies.
  if (fd !== null && (last || torn)) fs.fdatasyncSync(fd);
  // The next commit goes to the slot the newest whole commit is not in, with a number above any
  // seen. A torn commit older than the whole one is only storage the newer one reused.
  const out: RecoveryResult = {
    seq: Math.max(last?.seq ?? 0, torn?.seq ?? 0),
    slot: last?.slot ?? 1,
    replayed,
  };
  if (torn && (!last || torn.seq > last.seq))
    out.discarded = g.journalBlocks < TWO_SLOTS_MIN ? torn.why : `slot ${torn.slot}: ${torn.why}`;
  return out;
}

/** The commit in `slot`: null when there is none (no magic), or why it is torn. */
function readCommit(
  dev: PmemDevice,
  g: Geometry,
  slot: number,
): WholeCommit | { seq: number; torn: string } | null {
  const u8 = dev.u8;
  const total = Math.min(g.totalBlocks, dev.size / BLOCK_SIZE);
  const jEnd = g.journalStart + g.journalBlocks;
  const cAt = slotPlace(g, slot).commit * BLOCK_SIZE;
  if (cAt + BLOCK_SIZE > dev.size) return { seq: 0, torn: 'journal outside the device' };
  // A device opened sparse reads each page recovery looks at, first (load.ts).
  dev.loadPages(cAt / BLOCK_SIZE, 1);
  const cdv = new DataView(u8.buffer, u8.byteOffset + cAt, BLOCK_SIZE);
  if (cdv.getUint32(C_MAGIC, true) !== JOURNAL_MAGIC) return null;
  const seq = cdv.getUint32(C_SEQ, true);
  const torn = (why: string) => ({ seq, torn: why });
  if (cdv.getUint32(C_VERSION, true) !== JOURNAL_VERSION) return torn('unknown journal version');
  const nDesc = cdv.getUint32(C_NDESC, true);
  const entries = cdv.getUint32(C_NENTRIES, true);
  if (nDesc > MAX_DESC || entries > nDesc * PER_DESC || entries <= (nDesc - 1) * PER_DESC) {
    return torn('bad descriptor count');
  }
  const head = u8.slice(cAt, cAt + C_LIST + 4 * nDesc);
  new DataView(head.buffer).setUint32(C_CSUM, 0, true);
  if (crc32c(head) !== cdv.getUint32(C_CSUM, true)) return torn('commit block checksum');
  // Copies live in the journal region past block 0 (block 1 too: a one-slot journal's, as images of
  // format 2 wrote) or the data region, never elsewhere.
  const storeOk = (b: number) => (b > g.journalStart && b < jEnd) || (b >= g.dataStart && b < total);
  const desc = new Uint8Array(Math.max(1, nDesc) * BLOCK_SIZE);
  for (let k = 0; k < nDesc; k++) {
    const b = cdv.getUint32(C_LIST + 4 * k, true);
    if (!storeOk(b)) return torn(`descriptor block ${b} out of place`);
    dev.loadPages(b, 1);
    desc.set(dev.page(b), k * BLOCK_SIZE);
  }
  if (descCrc(desc, entries) !== cdv.getUint32(C_DESC_CSUM, true)) return torn('descriptor checksum');
  const ddv = new DataView(desc.buffer);
  const homes = new Uint32Array(entries);
  const copies = new Uint32Array(entries);
  for (let k = 0; k < entries; k++) {
    const at = k * ENTRY + Math.floor(k / PER_DESC) * (BLOCK_SIZE - PER_DESC * ENTRY);
    const home = ddv.getUint32(at, true);
    const copy = ddv.getUint32(at + 4, true);
    if (home >= total || (home >= g.journalStart && home < jEnd))
      return torn(`home page ${home} out of place`);
    if (!storeOk(copy)) return torn(`copy block ${copy} out of place`);
    dev.loadPages(copy, 1);
    if (crc32c(dev.page(copy)) !== ddv.getUint32(at + 8, true)) {
      return torn(`copy of page ${home} checksum`);
    }
    homes[k] = home;
    copies[k] = copy;
  }
  return { seq, slot, homes, copies };
}
