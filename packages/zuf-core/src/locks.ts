/**
 * Shared-memory locks on Atomics, usable from any thread that sees the SharedArrayBuffer.
 * Every wait is bounded: a holder that died must turn into an error, never a hang.
 */

import { spinCalibration, WaitClock } from '@zufs/relay';
import { Errno } from './api/index.js';
import { ZufsError } from './errors.js';

/**
 * How long a mutex waiter spins before it parks. A critical section of a filesystem operation lasts
 * a few microseconds and a futex wake costs ~50 us on these VMs, paid by the unlocker: a waiter
 * that parks makes the holder slower too. With more threads than cores, a short spin (64 loads)
 * parked nearly every waiter: four threads unpacking through one pmemfs volume inline ran at 0.6x
 * one thread's rate.
 */
const MUTEX_SPIN_US = 20;
let mutexSpin = 0;
/** MUTEX_SPIN_US in loop iterations (the relay's calibration, measured once per thread). */
const mutexSpinIters = () => (mutexSpin ||= Math.max(64, Math.round(MUTEX_SPIN_US * spinCalibration())));
const SLICE_MS = 50;

/** Lock waits time out by the time they waited, not by the wall clock (a stopped process). */
const clock = new WaitClock(SLICE_MS);

/**
 * A lock wait that gave up: ETIMEDOUT (a ZufsError, so a ZT answers the operation with that errno
 * rather than EIO), its message naming the lock. `lock` is the lock's name and the hold it wanted.
 */
export class LockTimeoutError extends ZufsError {
  readonly lock: string;
  constructor(lock: string, ms: number, detail?: string) {
    super(Errno.ETIMEDOUT, `${lock}: ${detail ?? `not acquired within ${ms} ms (a holder may have died)`}`);
    this.name = 'LockTimeoutError';
    this.lock = lock;
  }
}

/**
 * A futex mutex: 0 unlocked, 1 locked, 2 locked and someone is parked.
 * The unlocker notifies only when the word says somebody parked.
 */
export class SharedMutex {
  static readonly WORDS = 1;
  private readonly w: Int32Array;
  private readonly i: number;
  /** What a timeout's message calls this lock ('pmemfs metadata lock'). */
  readonly name: string;

  constructor(words: Int32Array, index: number, name = 'mutex') {
    this.w = words;
    this.i = index;
    this.name = name;
  }

  tryLock(): boolean {
    return Atomics.compareExchange(this.w, this.i, 0, 1) === 0;
  }

  lock(timeoutMs = 5000): void {
    const w = this.w;
    const i = this.i;
    if (Atomics.compareExchange(w, i, 0, 1) === 0) return;
    for (let s = mutexSpinIters(); s > 0; s--) {
      if (Atomics.load(w, i) === 0 && Atomics.compareExchange(w, i, 0, 1) === 0) return;
    }
    clock.start();
    // Mark contended; whoever sees 0 here owns the lock (in the contended state, to be safe).
    while (Atomics.exchange(w, i, 2) !== 0) {
      const left = clock.left(timeoutMs);
      if (left <= 0) throw new LockTimeoutError(this.name, timeoutMs);
      Atomics.wait(w, i, 2, Math.min(SLICE_MS, left));
    }
  }

  unlock(): void {
    if (Atomics.exchange(this.w, this.i, 0) === 2) Atomics.notify(this.w, this.i, 1);
  }

  isLocked(): boolean {
    return Atomics.load(this.w, this.i) !== 0;
  }
}

// A reader/writer lock or a seqlock waiter spins this many times before it parks: a peer that is
// running answers in ~0.2 us, a futex wake costs ~50 us, so a short critical section is best spun out.
const RW_SPIN = 256;

// SharedRwLock state word: bits 0-19 readers holding, bits 20-29 writers waiting, bit 30 writer holding.
const READERS = 0xfffff;
const WAITER = 1 << 20;
const WAITERS = 0x3ff << 20;
const WRITER = 1 << 30;

/**
 * A reader/writer lock on two words: [state, parked]. Many readers or one writer; writer preference:
 * a writer that has to wait counts itself in the state word, and readers do not enter while that
 * count is non-zero, so a stream of readers cannot starve it. Waiters spin, then park on the state
 * word in bounded slices, counted in `parked`; an unlocker calls Atomics.notify only when that count
 * is non-zero, so an uncontended or spinning handoff never enters the kernel.
 *
 * Lost wake-ups: a waiter raises `parked` and then waits on the state value it last saw; an unlocker
 * changes the state and then reads `parked` (all sequentially consistent). Either the unlocker sees
 * the waiter counted and notifies, or the waiter's wait sees the changed state and returns at once.
 * Not reentrant: a reader that asks for a second read hold while a writer waits waits for itself.
 */
export class SharedRwLock {
  static readonly WORDS = 2;
  private readonly w: Int32Array;
  private readonly i: number;
  /** What a timeout's message calls this lock. */
  readonly name: string;

  constructor(words: Int32Array, index: number, name = 'rwlock') {
    if (index < 0 || index + SharedRwLock.WORDS > words.length) throw new RangeError('SharedRwLock: index');
    this.w = words;
    this.i = index;
    this.name = name;
  }

  /** Takes a read hold if no writer holds or waits; never waits. */
  tryRead(): boolean {
    const w = this.w;
    const i = this.i;
    for (;;) {
      const s = Atomics.load(w, i);
      if (s & (WRITER | WAITERS) || (s & READERS) === READERS) return false;
      // Only another reader's change can make the CAS fail while entry is allowed: try again.
      if (Atomics.compareExchange(w, i, s, s + 1) === s) return true;
    }
  }

  /** Takes the write hold if nobody holds the lock; never waits (and does not count as waiting). */
  tryWrite(): boolean {
    const s = Atomics.load(this.w, this.i);
    return (s & (WRITER | READERS)) === 0 && Atomics.compareExchange(this.w, this.i, s, s | WRITER) === s;
  }

  lockRead(timeoutMs = 5000): void {
    if (this.tryRead()) return;
    const w = this.w;
    const i = this.i;
    for (let n = 0; n < RW_SPIN; n++) if (this.tryRead()) return;
    clock.start();
    for (;;) {
      const s = Atomics.load(w, i);
      if (!(s & (WRITER | WAITERS))) {
        if (Atomics.compareExchange(w, i, s, s + 1) === s) return;
        continue;
      }
      const left = clock.left(timeoutMs);
      if (left <= 0) throw new LockTimeoutError(`${this.name} (read)`, timeoutMs);
      this.park(s, left);
    }
  }

  lockWrite(timeoutMs = 5000): void {
    if (this.tryWrite()) return;
    const w = this.w;
    const i = this.i;
    // Count ourselves as waiting first: from here on no new reader enters.
    Atomics.add(w, i, WAITER);
    for (let n = 0; ; n++) {
      const s = Atomics.load(w, i);
      if (!(s & (WRITER | READERS))) {
        // Leave the waiting count and take the lock in one step.
        if (Atomics.compareExchange(w, i, s, (s - WAITER) | WRITER) === s) return;
        continue;
      }
      if (n < RW_SPIN) continue;
      if (n === RW_SPIN) clock.start();
      const left = clock.left(timeoutMs);
      if (left <= 0) {
        // Readers held back by our waiting may be parked: let them re-check.
        Atomics.sub(w, i, WAITER);
        this.wake();
        throw new LockTimeoutError(`${this.name} (write)`, timeoutMs);
      }
      this.park(s, left);
    }
  }

  unlockRead(): void {
    const prev = Atomics.sub(this.w, this.i, 1);
    if ((prev & READERS) === 0) {
      Atomics.add(this.w, this.i, 1);
      throw new Error('SharedRwLock.unlockRead: no read hold');
    }
    // The last reader out lets a waiting writer in.
    if ((prev & READERS) === 1) this.wake();
  }

  unlockWrite(): void {
    const prev = Atomics.sub(this.w, this.i, WRITER);
    if (!(prev & WRITER)) {
      Atomics.add(this.w, this.i, WRITER);
      throw new Error('SharedRwLock.unlockWrite: no write hold');
    }
    this.wake();
  }

  /** Runs `fn` under a read hold. */
  withRead<T>(fn: () => T, timeoutMs?: number): T {
    this.lockRead(timeoutMs);
    try {
      return fn();
    } finally {
      this.unlockRead();
    }
  }

  /** Runs `fn` under the write hold. */
  withWrite<T>(fn: () => T, timeoutMs?: number): T {
    this.lockWrite(timeoutMs);
    try {
      return fn();
    } finally {
      this.unlockWrite();
    }
  }

  /** Readers holding the lock now (a snapshot, for diagnostics and tests). */
  readers(): number {
    return Atomics.load(this.w, this.i) & READERS;
  }

  writersWaiting(): number {
    return (Atomics.load(this.w, this.i) & WAITERS) >>> 20;
  }

  isWriteLocked(): boolean {
    return (Atomics.load(this.w, this.i) & WRITER) !== 0;
  }

  private park(seen: number, left: number): void {
    Atomics.add(this.w, this.i + 1, 1);
    Atomics.wait(this.w, this.i, seen, Math.min(SLICE_MS, left));
    Atomics.sub(this.w, this.i + 1, 1);
  }

  private wake(): void {
    // Readers and writers park on the same word and each re-checks: wake them all, but only if any.
    if (Atomics.load(this.w, this.i + 1) !== 0) Atomics.notify(this.w, this.i);
  }
}

/**
 * A seqlock on two words: [sequence, parked]. The sequence is even when stable and odd while a writer
 * writes; writers serialize by CAS-ing it from even to odd, so a second writer waits (spin, then park
 * in bounded slices) and readers never hold anything up. A reader takes the sequence with readBegin(),
 * reads the protected data, and must retry when readRetry(seq) says a write began meanwhile.
 *
 * Memory order: Atomics operations are sequentially consistent in JS and V8 moves no memory access
 * across them; the protected data is read and written with plain typed-array accesses between them.
 * The writer makes the sequence odd (Atomics.add, a full barrier), stores, then makes it even again
 * (Atomics.add); stores are not reordered with stores on x86-64 (TSO), so a reader that loads the same
 * even sequence before and after its loads (loads are not reordered with loads) saw no store of a
 * write in progress: a torn snapshot always fails readRetry. Until then the reader must treat what it
 * read as garbage (read() retries even when `fn` throws on it). On weakly ordered CPUs, read the
 * protected words with Atomics.load for the same guarantee.
 */
export class SharedSeqlock {
  static readonly WORDS = 2;
  private readonly w: Int32Array;
  private readonly i: number;
  /** What a timeout's message calls this lock. */
  readonly name: string;

  constructor(words: Int32Array, index: number, name = 'seqlock') {
    if (index < 0 || index + SharedSeqlock.WORDS > words.length) throw new RangeError('SharedSeqlock: index');
    this.w = words;
    this.i = index;
    this.name = name;
  }

  /** Begins a write if no other writer is writing; never waits. */
  tryWriteBegin(): boolean {
    const s = Atomics.load(this.w, this.i);
    return (s & 1) === 0 && Atomics.compareExchange(this.w, this.i, s, s + 1) === s;
  }

  /** Makes the sequence odd: from here until writeEnd() readers retry. Waits for another writer. */
  writeBegin(timeoutMs = 5000): void {
    if (this.tryWriteBegin()) return;
    clock.start();
    for (;;) {
      const s = this.waitEven(timeoutMs, `${this.name} (write)`);
      if (Atomics.compareExchange(this.w, this.i, s, s + 1) === s) return;
    }
  }

  /** Makes the sequence even again (the record is consistent) and wakes a parked waiter. */
  writeEnd(): void {
    const prev = Atomics.add(this.w, this.i, 1);
    if ((prev & 1) === 0) {
      Atomics.sub(this.w, this.i, 1);
      throw new Error('SharedSeqlock.writeEnd: no write in progress');
    }
    if (Atomics.load(this.w, this.i + 1) !== 0) Atomics.notify(this.w, this.i);
  }

  /** The sequence to give readRetry(), once no write is in progress (waits a bounded time). */
  readBegin(timeoutMs = 5000): number {
    const s = Atomics.load(this.w, this.i);
    if ((s & 1) === 0) return s;
    clock.start();
    return this.waitEven(timeoutMs, `${this.name} (read)`);
  }

  /** True when a write began since readBegin() returned `seq`: what was read may be torn. */
  readRetry(seq: number): boolean {
    return Atomics.load(this.w, this.i) !== seq;
  }

  /**
   * Runs `fn` until it ran without a write in between and returns its result. `fn` reads the protected
   * data and must not act on it (it may see a torn record, and may throw on it: that is retried too).
   */
  read<T>(fn: () => T, maxTries = 100_000, timeoutMs = 5000): T {
    for (let n = 0; n < maxTries; n++) {
      const seq = this.readBegin(timeoutMs);
      let v: T;
      try {
        v = fn();
      } catch (e) {
        if (this.readRetry(seq)) continue;
        throw e;
      }
      if (!this.readRetry(seq)) return v;
    }
    throw new LockTimeoutError(
      `${this.name} (read)`,
      timeoutMs,
      `no consistent snapshot in ${maxTries} tries`,
    );
  }

  /** The current sequence (odd: a write is in progress). */
  sequence(): number {
    return Atomics.load(this.w, this.i);
  }

  /** Spins, then parks in slices, until the sequence is even; returns it (the caller started the clock). */
  private waitEven(timeoutMs: number, what: string): number {
    const w = this.w;
    const i = this.i;
    for (let n = 0; n < RW_SPIN; n++) {
      const s = Atomics.load(w, i);
      if ((s & 1) === 0) return s;
    }
    for (;;) {
      const s = Atomics.load(w, i);
      if ((s & 1) === 0) return s;
      const left = clock.left(timeoutMs);
      if (left <= 0) throw new LockTimeoutError(what, timeoutMs);
      Atomics.add(w, i + 1, 1);
      Atomics.wait(w, i, s, Math.min(SLICE_MS, left));
      Atomics.sub(w, i + 1, 1);
    }
  }
}
