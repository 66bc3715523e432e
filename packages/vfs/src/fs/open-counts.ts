/**
 * Open files per inode, shared by every thread of a mount: an inode unlinked in one thread while
 * another thread has it open must live until that last close (Linux keeps an unlinked inode until its
 * last user goes; each thread's fd table alone cannot know about the others).
 *
 * An open-addressing table in the mount's shared SharedArrayBuffer, under a SharedMutex (open and
 * close take it for a few dozen nanoseconds; a lock-free table would need a second protocol for
 * deleting slots). A slot is [key, count, orphan]: key is the inode number + 1 (0: empty), orphan is
 * set when the last link went while the inode was open. Linear probing; a slot freed by the last
 * close is filled by shifting back the entries after it (no tombstones: with them, a table that had
 * seen as many inodes as it has slots would scan every slot on each miss).
 *
 * The kernel's holds on inodes served through FUSE count here too (@zufs/fuse): an inode the kernel
 * still holds is open, for every thread of the mount.
 */
import { SharedMutex, ZufsError } from '@zufs/zuf-core';

const EMPTY = 0;
const SLOT_WORDS = 3;
/** Header word (after the lock's) counting slots in use: one slot always stays empty, so runs end. */
const USED = 1;
const HASH = 0x9e3779b1;
const ENFILE = 23;

/** Bytes of a table of `slots` slots (a power of two), lock included. */
export function openCountsBytes(slots: number): number {
  return 64 + slots * SLOT_WORDS * 4;
}

export class OpenCounts {
  private readonly w: Int32Array;
  private readonly lock: SharedMutex;
  private readonly mask: number;
  /** Slots looked at by every search so far (diagnostics: probe runs stay short). */
  probes = 0;

  /** `sab` from byte `at`: openCountsBytes(slots) bytes, zero when first used. */
  constructor(sab: SharedArrayBuffer, at: number, slots: number) {
    if (slots & (slots - 1)) throw new RangeError('slots must be a power of two');
    this.w = new Int32Array(sab, at, openCountsBytes(slots) / 4);
    this.lock = new SharedMutex(this.w, 0);
    this.mask = slots - 1;
  }

  /** One more open file of inode `ii`. ENFILE when the mount has no room for another open inode. */
  open(ii: number): void {
    this.lock.lock();
    try {
      const s = this.find(ii, true);
      if (s < 0) throw new ZufsError(ENFILE, 'open', 'too many inodes open in this mount');
      this.w[s + 1]++;
    } finally {
      this.lock.unlock();
    }
  }

  /** One open file of `ii` closed. True when that was the last and the inode lost its last link: free it. */
  close(ii: number): boolean {
    this.lock.lock();
    try {
      const s = this.find(ii, false);
      if (s < 0) return false;
      if (--this.w[s + 1] > 0) return false;
      const orphan = this.w[s + 2] !== 0;
      this.remove(s);
      return orphan;
    } finally {
      this.lock.unlock();
    }
  }

  /**
   * `ii` just lost its last link. True when it is still open somewhere: then it is marked, and the
   * last close frees it. False: nobody has it open, free it now.
   */
  keepIfOpen(ii: number): boolean {
    this.lock.lock();
    try {
      const s = this.find(ii, false);
      if (s < 0 || this.w[s + 1] === 0) return false;
      this.w[s + 2] = 1;
      return true;
    } finally {
      this.lock.unlock();
    }
  }

  /** Open files of `ii` in every thread. */
  count(ii: number): number {
    this.lock.lock();
    try {
      const s = this.find(ii, false);
      return s < 0 ? 0 : this.w[s + 1];
    } finally {
      this.lock.unlock();
    }
  }

  /** The slot's first word index, or -1. With `insert`, claims a free slot for a missing key. */
  private find(ii: number, insert: boolean): number {
    const key = (ii % 0x100000000) + 1; // an inode number within the mount, never 0
    const k = key | 0;
    const w = this.w;
    const mask = this.mask;
    for (let probe = 0, h = Math.imul(k, HASH) >>> 0; probe <= mask; probe++, h++) {
      this.probes++;
      const s = 16 + (h & mask) * SLOT_WORDS;
      const cur = w[s];
      if (cur === k) return s;
      if (cur !== EMPTY) continue;
      if (!insert || w[USED] >= mask) return -1;
      w[USED]++;
      w[s] = k;
      w[s + 1] = 0;
      w[s + 2] = 0;
      return s;
    }
    return -1;
  }

  /** Empties slot `s` and moves back the entries of its probe run that may move. Lock held. */
  private remove(s: number): void {
    const w = this.w;
    const mask = this.mask;
    let hole = (s - 16) / SLOT_WORDS;
    for (let i = (hole + 1) & mask; w[16 + i * SLOT_WORDS] !== EMPTY; i = (i + 1) & mask) {
      const at = 16 + i * SLOT_WORDS;
      const home = (Math.imul(w[at], HASH) >>> 0) & mask;
      // The entry at i may fill the hole unless its home lies cyclically in (hole, i].
      const stays = hole <= i ? home > hole && home <= i : home > hole || home <= i;
      if (stays) continue;
      const h = 16 + hole * SLOT_WORDS;
      w[h] = w[at];
      w[h + 1] = w[at + 1];
      w[h + 2] = w[at + 2];
      hole = i;
    }
    const h = 16 + hole * SLOT_WORDS;
    w[h] = EMPTY;
    w[h + 1] = 0;
    w[h + 2] = 0;
    w[USED]--;
  }
}
