/**
 * Shared-memory locks on Atomics, usable from any thread that sees the SharedArrayBuffer.
 * Every wait is bounded: a holder that died must turn into an error, never a hang.
 */

const SPIN = 64;
const SLICE_MS = 50;

export class LockTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(what: string, ms: number) {
    super(`${what}: not acquired within ${ms} ms (a holder may have died)`);
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

  constructor(words: Int32Array, index: number) {
    this.w = words;
    this.i = index;
  }

  tryLock(): boolean {
    return Atomics.compareExchange(this.w, this.i, 0, 1) === 0;
  }

  lock(timeoutMs = 5000): void {
    const w = this.w;
    const i = this.i;
    if (Atomics.compareExchange(w, i, 0, 1) === 0) return;
    for (let s = 0; s < SPIN; s++) {
      if (Atomics.load(w, i) === 0 && Atomics.compareExchange(w, i, 0, 1) === 0) return;
    }
    const deadline = performance.now() + timeoutMs;
    // Mark contended; whoever sees 0 here owns the lock (in the contended state, to be safe).
    while (Atomics.exchange(w, i, 2) !== 0) {
      const left = deadline - performance.now();
      if (left <= 0) throw new LockTimeoutError('mutex', timeoutMs);
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
