/**
 * The kernel's lookup counts, one table for every reader thread of a mount (a SharedArrayBuffer).
 *
 * The kernel holds an inode by its lookup count: every entry it receives (LOOKUP, CREATE, MKDIR,
 * MKNOD, SYMLINK, LINK, READDIRPLUS) adds one, FORGET takes nlookup away. A file unlinked while the
 * kernel still holds it (open, or cached) must stay in the filesystem until the count reaches 0. The
 * FORGET can arrive on any reader, so the count must be shared: an open-addressed hash table keyed by
 * nodeid (two u32 halves), linear probing, removal by backward shift, all under one futex lock. The
 * work under the lock is a few probes; with a handful of readers contention is rare, and a lock keeps
 * the removal (which moves entries) simple to get right.
 *
 * Layout (Int32 words): [0] lock (0 free, 1 held, 2 held with waiters), [1] capacity (a power of 2),
 * [2] entries in use, [3] stale entries, [4] the rollback epoch the entries were last checked
 * against, plus one (0: never), [5..7] reserved; then `capacity` entries of 6 words: key lo, key hi,
 * count, generation lo, generation hi, stale (1). Key 0 marks a free entry (nodeid 0 is never an
 * inode).
 *
 * A node id is the inode's number, and the generation tells two inodes of one number apart. A
 * server restart that rolled the volume back to its last commit loses the inodes made since, and
 * their numbers go to new files: the kernel may still hold the lost ones. After such a restart the
 * first request checks every entry's inode once (revalidate); an entry whose inode is gone or has
 * another generation is stale, and every request on it answers ESTALE, until the kernel forgets it
 * or takes a new entry for that number (the kernel drops its old inode then: another generation).
 */

const HDR = 8;
const W_LOCK = 0;
const W_CAP = 1;
const W_USED = 2;
const W_STALE = 3;
const W_CHECKED = 4;
const E = 6; // words per entry
const C_COUNT = 2;
const C_GEN_LO = 3;
const C_GEN_HI = 4;
const C_STALE = 5;
const SPINS = 200;

const TWO32 = 2 ** 32;

export class LookupTable {
  private readonly w: Int32Array;
  private readonly mask: number;
  private readonly cap: number;

  /** A new table for `capacity` inodes (rounded up to a power of two, at least 64). */
  static create(capacity = 1 << 20): SharedArrayBuffer {
    let cap = 64;
    while (cap < capacity) cap *= 2;
    const sab = new SharedArrayBuffer((HDR + cap * E) * 4);
    new Int32Array(sab)[W_CAP] = cap;
    return sab;
  }

  constructor(readonly buffer: SharedArrayBuffer) {
    this.w = new Int32Array(buffer);
    this.cap = this.w[W_CAP];
    if (!this.cap || this.cap & (this.cap - 1) || buffer.byteLength < (HDR + this.cap * E) * 4)
      throw new RangeError('not a lookup table buffer');
    this.mask = this.cap - 1;
  }

  get capacity(): number {
    return this.cap;
  }

  /** Inodes with a count. */
  get size(): number {
    return Atomics.load(this.w, W_USED);
  }

  /** The kernel's count for `nodeid` (0 when it holds none). */
  get(nodeid: number): number {
    this.lock();
    try {
      const e = this.find(nodeid);
      return e < 0 ? 0 : this.w[e + C_COUNT];
    } finally {
      this.unlock();
    }
  }

  /**
   * Adds `n` to the count of `nodeid`, whose inode has generation `gen`; returns the new count, or
   * -1 when the table is full (the entry could not be recorded). An entry for a stale node id with
   * another generation is a new inode to the kernel, which drops its old one: the entry is live again.
   */
  add(nodeid: number, n = 1, gen = 0): number {
    const lo = nodeid >>> 0;
    const hi = Math.floor(nodeid / TWO32) | 0;
    const genLo = gen >>> 0;
    const genHi = Math.floor(gen / TWO32) | 0;
    this.lock();
    try {
      const w = this.w;
      for (let i = this.slot(lo, hi), probes = 0; probes < this.cap; i = (i + 1) & this.mask, probes++) {
        const e = HDR + i * E;
        if (w[e] === 0 && w[e + 1] === 0) {
          if (w[W_USED] >= this.cap - 1) return -1; // keep one free entry: probes must end
          w[e] = lo | 0;
          w[e + 1] = hi;
          w[e + C_COUNT] = n;
          w[e + C_GEN_LO] = genLo | 0;
          w[e + C_GEN_HI] = genHi;
          w[e + C_STALE] = 0;
          w[W_USED]++;
          return n;
        }
        if (w[e] === (lo | 0) && w[e + 1] === hi) {
          if (w[e + C_STALE] !== 0 && (w[e + C_GEN_LO] !== (genLo | 0) || w[e + C_GEN_HI] !== genHi)) {
            w[e + C_STALE] = 0;
            w[W_STALE]--;
          }
          w[e + C_GEN_LO] = genLo | 0;
          w[e + C_GEN_HI] = genHi;
          w[e + C_COUNT] += n;
          return w[e + C_COUNT];
        }
      }
      return -1;
    } finally {
      this.unlock();
    }
  }

  /**
   * Takes `n` from the count of `nodeid` (a FORGET); the entry goes at 0. Returns the count left, or
   * -1 when the nodeid had no count (a FORGET we never gave an entry for).
   */
  forget(nodeid: number, n: number): number {
    this.lock();
    try {
      const e = this.find(nodeid);
      if (e < 0) return -1;
      const left = this.w[e + C_COUNT] - n;
      if (left > 0) {
        this.w[e + C_COUNT] = left;
        return left;
      }
      this.remove(e);
      return 0;
    } finally {
      this.unlock();
    }
  }

  /** True when `nodeid`'s inode did not survive a rollback (revalidate): one load while none is stale. */
  isStale(nodeid: number): boolean {
    if (Atomics.load(this.w, W_STALE) === 0) return false;
    this.lock();
    try {
      const e = this.find(nodeid);
      return e >= 0 && this.w[e + C_STALE] !== 0;
    } finally {
      this.unlock();
    }
  }

  /** Entries marked stale. */
  get staleCount(): number {
    return Atomics.load(this.w, W_STALE);
  }

  /** True when the entries were checked against rollback epoch `epoch` (or need not be). */
  checked(epoch: number): boolean {
    return Atomics.load(this.w, W_CHECKED) === epoch + 1;
  }

  /**
   * After a restart that rolled the volume back (its epoch `epoch`): marks stale every entry whose
   * inode `alive(nodeid, generation)` says is gone, once per epoch whichever reader comes first (the
   * others wait on the lock). A failure of `alive` (the server away) leaves the epoch unchecked and
   * is thrown: the next request tries again.
   */
  revalidate(epoch: number, alive: (nodeid: number, gen: number) => boolean): void {
    this.lock();
    try {
      const w = this.w;
      if (w[W_CHECKED] === epoch + 1) return;
      for (let i = 0; i < this.cap; i++) {
        const e = HDR + i * E;
        if ((w[e] === 0 && w[e + 1] === 0) || w[e + C_STALE] !== 0) continue;
        const nodeid = (w[e + 1] >>> 0) * TWO32 + (w[e] >>> 0);
        if (alive(nodeid, (w[e + C_GEN_HI] >>> 0) * TWO32 + (w[e + C_GEN_LO] >>> 0))) continue;
        w[e + C_STALE] = 1;
        w[W_STALE]++;
      }
      Atomics.store(w, W_CHECKED, epoch + 1);
    } finally {
      this.unlock();
    }
  }

  /** Every nodeid with a count, for tests and diagnostics. */
  entries(): [number, number][] {
    this.lock();
    try {
      const out: [number, number][] = [];
      for (let i = 0; i < this.cap; i++) {
        const e = HDR + i * E;
        if (this.w[e] !== 0 || this.w[e + 1] !== 0)
          out.push([(this.w[e + 1] >>> 0) * TWO32 + (this.w[e] >>> 0), this.w[e + C_COUNT]]);
      }
      return out;
    } finally {
      this.unlock();
    }
  }

  private slot(lo: number, hi: number): number {
    let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 15;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 13;
    return h & this.mask;
  }

  /** The word index of `nodeid`'s entry, or -1. Lock held. */
  private find(nodeid: number): number {
    const lo = nodeid >>> 0;
    const hi = Math.floor(nodeid / TWO32) | 0;
    const w = this.w;
    for (let i = this.slot(lo, hi), probes = 0; probes < this.cap; i = (i + 1) & this.mask, probes++) {
      const e = HDR + i * E;
      if (w[e] === 0 && w[e + 1] === 0) return -1;
      if (w[e] === (lo | 0) && w[e + 1] === hi) return e;
    }
    return -1;
  }

  /** Removes the entry at word `e` and shifts back the entries of its probe run. Lock held. */
  private remove(e: number): void {
    const w = this.w;
    if (w[e + C_STALE] !== 0) w[W_STALE]--;
    let hole = (e - HDR) / E;
    let i = hole;
    for (;;) {
      i = (i + 1) & this.mask;
      const at = HDR + i * E;
      if (w[at] === 0 && w[at + 1] === 0) break;
      const home = this.slot(w[at] >>> 0, w[at + 1]);
      // The entry at i may move to the hole if its home is not in (hole, i] cyclically.
      const inRange = hole <= i ? home > hole && home <= i : home > hole || home <= i;
      if (!inRange) {
        w.copyWithin(HDR + hole * E, at, at + E);
        hole = i;
      }
    }
    w.fill(0, HDR + hole * E, HDR + hole * E + E);
    w[W_USED]--;
  }

  // A three-state futex mutex (0 free, 1 held, 2 held and someone sleeps).
  private lock(): void {
    const w = this.w;
    if (Atomics.compareExchange(w, W_LOCK, 0, 1) === 0) return;
    for (let i = 0; i < SPINS; i++) {
      if (Atomics.load(w, W_LOCK) === 0 && Atomics.compareExchange(w, W_LOCK, 0, 1) === 0) return;
    }
    // Node lets every thread, the main one too, block in Atomics.wait.
    while (Atomics.exchange(w, W_LOCK, 2) !== 0) Atomics.wait(w, W_LOCK, 2, 10);
  }

  private unlock(): void {
    if (Atomics.exchange(this.w, W_LOCK, 0) === 2) Atomics.notify(this.w, W_LOCK, 1);
  }
}
