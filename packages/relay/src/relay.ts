// The relay: a two-party baton between an app thread and a ZT (server thread), after ZUFS relay.h.
//
// Each direction has a futex-style word: EMPTY (0), POSTED (1), PARKED (2).
//   waiter: spin while EMPTY; then CAS EMPTY->PARKED and Atomics.wait(word, PARKED); consume: plain store EMPTY.
//   waker:  old = exchange(word, POSTED); notify only if old was PARKED.
// The app's word to the ZT has a fourth state, NUDGED (3): an app about to post after a long
// preparation (copying a large write into the window) CASes PARKED->NUDGED and notifies, so that
// the ZT's wake-up (~50 us on the target VMs) overlaps the preparation. The nudged ZT spins while
// NUDGED; then it CASes NUDGED->PARKED and parks again. The post's exchange finds NUDGED (no notify:
// the ZT is spinning) or PARKED (notify), and a failed CAS on either side means the post came.
// No lost wakeup: the waiter only sleeps through Atomics.wait(word, PARKED), which atomically re-checks
// the value. If the waker's exchange came before the waiter's CAS, the CAS fails (word is POSTED) and
// the waiter does not park. If it came after, the waker saw PARKED and notifies; a waiter that has not
// yet entered Atomics.wait then finds POSTED there and returns at once. Only the waiter writes
// EMPTY/PARKED and only the waker writes POSTED, once per wait (the baton alternates), so a post is
// never overwritten. break() sets BROKEN before it posts both words, and every wait checks BROKEN at
// its start and after it sees POSTED.
import { grow, PROBE_EVERY, type RelayOptions, relayDefaults, shrink, spinWhile, usToIters } from './spin.js';
import { WaitClock } from './wait-clock.js';

export const RELAY_BYTES = 64;
/** Woken by the peer. */
export const RELAY_OK = 0;
/** Bit: the app wait was interrupted (timeout or abort) and went on waiting. */
export const RELAY_INTR = 1;
/** Bit: the relay is broken (server failed or stopping). */
export const RELAY_BROKEN = 2;
/** Bit, fssWait only: nothing came within timeoutMs. */
export const RELAY_TIMEOUT = 4;

/** Int32 word indices inside the 64-byte relay (for debuggers and tests; use the methods). */
export const RelayWord = {
  /** app -> ZT baton: EMPTY 0, POSTED 1, PARKED 2, NUDGED 3 */
  FSS: 0,
  /** ZT -> app baton */
  APP: 1,
  /** 1: the channel is free to grab; 0 an app holds it; 2 retired while held; 3 retired, released */
  FSS_WAITING: 2,
  /** 1: an app waits for the reply */
  APP_WAITING: 3,
  BROKEN: 4,
  /** 1: the current app wait was interrupted */
  INTR: 5,
  // Counters, in the default placement (see RelayPlacement): the ZT's three, then the app's three.
  FSS_SPINS: 6,
  FSS_PARKS: 7,
  APP_WAKEUPS: 8,
  APP_SPINS: 9,
  APP_PARKS: 10,
  FSS_WAKEUPS: 11,
} as const;

/** Bytes of the words both sides touch on every handoff (the rest are counters). */
export const RELAY_HOT_BYTES = 24;
/** Bytes of each side's counters. */
export const RELAY_COUNTER_BYTES = 12;

/**
 * Where a relay's counters live, as byte offsets in the relay's SharedArrayBuffer. By default they
 * follow the hot words (all in 64 bytes). A caller that packs the hot words into one cache line with
 * other data (zuf-core puts the operation header there) moves the counters to lines of their own,
 * one per side, so that counting never moves a line between the two cores.
 */
export interface RelayPlacement {
  /** Counters the ZT writes: fss spins, fss parks, app wakeups. */
  ztCountersAt: number;
  /** Counters the app writes: app spins, app parks, fss wakeups. */
  appCountersAt: number;
}

const FSS = 0;
const APP = 1;
const FSS_WAITING = 2;
const APP_WAITING = 3;
const BROKEN = 4;
const INTR = 5;
const HOT_WORDS = RELAY_HOT_BYTES / 4;
// Indices in the ZT's counters (zc) and the app's counters (ac).
const FSS_SPINS = 0;
const FSS_PARKS = 1;
const APP_WAKEUPS = 2;
const APP_SPINS = 0;
const APP_PARKS = 1;
const FSS_WAKEUPS = 2;

const EMPTY = 0;
const POSTED = 1;
const PARKED = 2;
/** FSS only: the app nudged a parked ZT (fssNudge); its post follows. */
const NUDGED = 3;

// FSS_WAITING: who holds the channel. The ZT may retire a channel while an app holds it (its
// operation outlived its deadline and the plugin may still write into the buffers): the app's
// release then leaves it retired, and fssRestore frees it once the ZT may serve it again.
const HELD = 0;
const FREE = 1;
const RETIRED = 2;
const RETIRED_FREE = 3;

/** Counters since init or resetCounters (uint32, wrapping). */
export interface RelayCounters {
  /** fssWait calls answered while spinning. */
  fssSpins: number;
  /** fssWait calls that parked (once per wait, whatever the number of park slices). */
  fssParks: number;
  /** Atomics.notify issued by fssWakeup (the ZT was parked). */
  fssWakeups: number;
  appSpins: number;
  appParks: number;
  /** Atomics.notify issued by appWakeup (the app was parked). */
  appWakeups: number;
}

export interface AppWaitOptions {
  /** After this long (counted from the park) the wait is interrupted: INTR raised, waiting goes on. */
  timeoutMs?: number;
  /** Aborting it interrupts the wait the same way. */
  signal?: AbortSignal;
  /** Called once when the wait is interrupted. If it throws, the error is rethrown after the wait ends. */
  onInterrupt?: () => void;
}

type WaitAsyncResult = { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: (...a: unknown[]) => WaitAsyncResult }).waitAsync;
const noop = (): void => {};
const KEEP_ALIVE_MS = 0x7fffffff;
/** A wait's first step found no post: the caller parks. */
const MUST_PARK = -1;

const inc = (w: Int32Array, i: number): void => {
  // Each counter has one writer at a time (the side that owns it), so a plain increment is enough.
  w[i] = (w[i] + 1) | 0;
};

export class Relay {
  private readonly w: Int32Array;
  /** The ZT's counters and the app's counters. */
  private readonly zc: Int32Array;
  private readonly ac: Int32Array;
  private readonly minSpin: number;
  private readonly maxSpin: number;
  private readonly sliceMs: number;
  /** fssWait's timeout clock: a stopped and continued process does not time the ZT out. */
  private readonly fssClock: WaitClock;
  // Thread-local adaptive state, per side.
  private fssBudget: number;
  private appBudget: number;
  private fssParkRun = 0;
  private appParkRun = 0;
  // The wait in progress on each side, once it parked (see fssWaitBegin, appWaitBegin).
  private fssParkedAt = 0;
  private appParkedAt = 0;
  private appDeadline = 0;
  private appIntr = 0;
  private appOpts: AppWaitOptions | undefined = undefined;
  private appError: unknown = undefined;

  constructor(sab: SharedArrayBuffer, byteOffset = 0, opts?: RelayOptions, placement?: RelayPlacement) {
    if (!(sab instanceof SharedArrayBuffer)) throw new TypeError('Relay needs a SharedArrayBuffer');
    if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset % 4 !== 0) {
      throw new RangeError(`relay byteOffset must be a non-negative multiple of 4, got ${byteOffset}`);
    }
    const zAt = placement?.ztCountersAt ?? byteOffset + RELAY_HOT_BYTES;
    const aAt = placement?.appCountersAt ?? byteOffset + RELAY_HOT_BYTES + RELAY_COUNTER_BYTES;
    for (const [at, n] of [
      // The default placement keeps all RELAY_BYTES (spare words included) for the relay.
      [byteOffset, placement ? RELAY_HOT_BYTES : RELAY_BYTES],
      [zAt, RELAY_COUNTER_BYTES],
      [aAt, RELAY_COUNTER_BYTES],
    ]) {
      if (!Number.isInteger(at) || at < 0 || at % 4 !== 0 || at + n > sab.byteLength) {
        throw new RangeError(`relay words at ${at} do not fit in ${sab.byteLength} bytes (or are unaligned)`);
      }
    }
    this.w = new Int32Array(sab, byteOffset, HOT_WORDS);
    this.zc = new Int32Array(sab, zAt, 3);
    this.ac = new Int32Array(sab, aAt, 3);
    const d = relayDefaults;
    const maxUs = opts?.maxSpinUs ?? d.maxSpinUs;
    const minUs = Math.min(opts?.minSpinUs ?? d.minSpinUs, maxUs);
    let initUs = opts?.initialSpinUs ?? d.initialSpinUs;
    if (Number.isNaN(initUs)) initUs = maxUs;
    this.minSpin = usToIters(minUs);
    this.maxSpin = usToIters(maxUs);
    this.fssBudget = this.appBudget = Math.min(this.maxSpin, Math.max(this.minSpin, usToIters(initUs)));
    this.sliceMs = opts?.parkSliceMs ?? d.parkSliceMs;
    if (!(this.sliceMs > 0)) throw new RangeError(`parkSliceMs must be > 0, got ${this.sliceMs}`);
    this.fssClock = new WaitClock(this.sliceMs);
  }

  /** Zeroes the relay's words (before any thread uses them) and returns a Relay on them. */
  static init(
    sab: SharedArrayBuffer,
    byteOffset = 0,
    opts?: RelayOptions,
    placement?: RelayPlacement,
  ): Relay {
    const r = new Relay(sab, byteOffset, opts, placement);
    new Int32Array(sab, byteOffset, (placement ? RELAY_HOT_BYTES : RELAY_BYTES) / 4).fill(0);
    r.resetCounters();
    return r;
  }

  // ---- ZT (file-system server) side ----

  /** The channel is free to grab. Called once when the ZT starts; afterwards the app calls appRelease. */
  fssReady(): void {
    Atomics.store(this.w, FSS_WAITING, FREE);
  }

  /** Spins, then parks until fssWakeup or break. Returns RELAY_OK, RELAY_BROKEN or RELAY_TIMEOUT. */
  fssWait(timeoutMs = Number.POSITIVE_INFINITY): number {
    const first = this.fssWaitBegin(timeoutMs);
    if (first !== MUST_PARK) return first;
    for (;;) {
      const slice = this.fssSlice(timeoutMs);
      if (slice < 0) return RELAY_TIMEOUT;
      Atomics.wait(this.w, FSS, PARKED, slice);
      if (this.fssPosted()) return this.fssWaitEnd();
    }
  }

  /** fssWait for a thread that keeps its event loop (Atomics.waitAsync; keeps the loop alive). */
  async fssWaitAsync(timeoutMs = Number.POSITIVE_INFINITY): Promise<number> {
    const first = this.fssWaitBegin(timeoutMs);
    if (first !== MUST_PARK) return first;
    const keepAlive = setTimeout(noop, KEEP_ALIVE_MS);
    try {
      for (;;) {
        const slice = this.fssSlice(timeoutMs);
        if (slice < 0) return RELAY_TIMEOUT;
        const r = waitAsync(this.w, FSS, PARKED, slice);
        if (r.async) await r.value;
        if (this.fssPosted()) return this.fssWaitEnd();
      }
    } finally {
      clearTimeout(keepAlive);
    }
  }

  // The steps fssWait and fssWaitAsync share; they differ only in how they park.

  /** Broken, a post caught while spinning, a poll that found nothing, or MUST_PARK (parked). */
  private fssWaitBegin(timeoutMs: number): number {
    const w = this.w;
    if (Atomics.load(w, BROKEN) !== 0) return RELAY_BROKEN;
    const spun = this.fssSpin();
    if (!spun && !(timeoutMs > 0)) return RELAY_TIMEOUT; // a poll: no park
    if (spun || Atomics.compareExchange(w, FSS, EMPTY, PARKED) !== EMPTY) {
      inc(this.zc, FSS_SPINS);
      return this.consume(FSS);
    }
    inc(this.zc, FSS_PARKS);
    this.fssParkedAt = performance.now();
    if (timeoutMs !== Number.POSITIVE_INFINITY) this.fssClock.start();
    return MUST_PARK;
  }

  /** The next park slice in ms; -1 when the timeout ran out and the park was retracted. */
  private fssSlice(timeoutMs: number): number {
    if (timeoutMs === Number.POSITIVE_INFINITY) return this.sliceMs;
    const left = this.fssClock.left(timeoutMs);
    // Retract the park; if the CAS fails, a post (or a nudge) came and is taken after the park.
    if (left <= 0 && Atomics.compareExchange(this.w, FSS, PARKED, EMPTY) === PARKED) return -1;
    return left >= this.sliceMs ? this.sliceMs : left > 0 ? left : 0;
  }

  private fssWaitEnd(): number {
    this.fssBudget = this.afterPark(this.fssBudget, this.fssParkedAt);
    return this.consume(FSS);
  }

  /**
   * After a park slice of fssWait: true once the post came. A nudge (fssNudge) woke the ZT ahead of
   * its post: spin for it (up to the largest budget), else park again, counted as another park (the
   * post will notify it).
   */
  private fssPosted(): boolean {
    const w = this.w;
    const s = Atomics.load(w, FSS);
    if (s !== NUDGED) return s !== PARKED;
    if (spinWhile(w, FSS, NUDGED, this.maxSpin) >= 0) return true;
    if (Atomics.compareExchange(w, FSS, NUDGED, PARKED) !== NUDGED) return true;
    inc(this.zc, FSS_PARKS);
    return false;
  }

  /**
   * While an app holds the channel (between its request and its release): no app may take the
   * channel after this one releases it, until fssRestore.
   */
  fssRetire(): void {
    Atomics.store(this.w, FSS_WAITING, RETIRED);
  }

  /**
   * Ends fssRetire. True when the channel is free to grab at once (the app had released it: wake
   * whoever waits for a channel); false when the app still holds it (its release frees it).
   */
  fssRestore(): boolean {
    const w = this.w;
    if (Atomics.compareExchange(w, FSS_WAITING, RETIRED, HELD) === RETIRED) return false;
    return Atomics.compareExchange(w, FSS_WAITING, RETIRED_FREE, FREE) === RETIRED_FREE;
  }

  /** Hands the baton back to the app: app_waiting = false, post the app word, notify only if parked. */
  appWakeup(): void {
    const w = this.w;
    w[APP_WAITING] = 0; // informational: published by the exchange below
    if (Atomics.exchange(w, APP, POSTED) === PARKED) {
      inc(this.zc, APP_WAKEUPS); // before the notify, so the woken peer sees it counted
      Atomics.notify(w, APP, 1);
    }
  }

  isAppWaiting(): boolean {
    return Atomics.load(this.w, APP_WAITING) !== 0;
  }

  /** True when the current app wait was interrupted (the ZT may cut the operation short). */
  isInterrupted(): boolean {
    return Atomics.load(this.w, INTR) !== 0;
  }

  /**
   * The channel's abort flag, raised from any thread: the operation in flight on this relay should
   * stop early (its ZT sees isInterrupted()). The app's own timeouts and signals raise it through
   * their wait; a thread that fronts the request for someone else (a FUSE reader answering the
   * kernel's INTERRUPT) raises it here. The word (RelayWord.INTR) is notified, so a ZT that awaits
   * a plugin's promise can wait on it with Atomics.waitAsync(word, 0). The next request clears it.
   */
  interrupt(): void {
    Atomics.store(this.w, INTR, 1);
    Atomics.notify(this.w, INTR);
  }

  /** Lowers the abort flag: for a request served without a post (an inline ZT), before it runs. */
  clearInterrupt(): void {
    if (Atomics.load(this.w, INTR) !== 0) Atomics.store(this.w, INTR, 0);
  }

  /**
   * A server restart takes every channel out of reach (the threads that served them are gone):
   * a free channel becomes retired-free at once, a held one retired (its app's release, after its
   * EIO, makes it retired-free). The new ZT revives it once it is retired-free.
   */
  quarantine(): void {
    const w = this.w;
    for (;;) {
      const s = Atomics.load(w, FSS_WAITING);
      if (s === RETIRED || s === RETIRED_FREE) return;
      const to = s === FREE ? RETIRED_FREE : RETIRED;
      if (Atomics.compareExchange(w, FSS_WAITING, s, to) === s) return;
    }
  }

  /**
   * A new ZT takes a quarantined channel over: once no app holds it (retired-free), the words are
   * reset (no post, not broken, no abort flag) and the channel is free to grab. False while an app
   * still holds it (it has not yet released after its EIO): try again later. `stillMine`, asked
   * after the reset: false when the taker's generation is already being replaced.
   */
  revive(stillMine?: () => boolean): boolean {
    const w = this.w;
    // Held as an app would hold it while the words are reset: nobody can grab it meanwhile.
    if (Atomics.compareExchange(w, FSS_WAITING, RETIRED_FREE, RETIRED) !== RETIRED_FREE) return false;
    Atomics.store(w, FSS, EMPTY);
    Atomics.store(w, APP, EMPTY);
    Atomics.store(w, APP_WAITING, 0);
    Atomics.store(w, INTR, 0);
    Atomics.store(w, BROKEN, 0);
    this.fssParkRun = this.appParkRun = 0;
    // Another restart began meanwhile (its break may have come before our reset): the channel is
    // the next taker's, broken and retired-free as that restart left it.
    if (stillMine && !stillMine()) {
      Atomics.store(w, BROKEN, 1);
      Atomics.store(w, FSS_WAITING, RETIRED_FREE);
      return false;
    }
    Atomics.store(w, FSS_WAITING, FREE);
    return true;
  }

  /** True while a quarantined (or retired) channel is still held by its app. */
  isRetired(): boolean {
    return Atomics.load(this.w, FSS_WAITING) === RETIRED;
  }

  /** True once a quarantined channel's app (if any) has released it: nothing is in flight on it. */
  isRetiredFree(): boolean {
    return Atomics.load(this.w, FSS_WAITING) === RETIRED_FREE;
  }

  // ---- app side ----

  /** Takes the channel if it is free (CAS fss_waiting 1 -> 0): of racing threads, one wins. */
  grabIfFssWaiting(): boolean {
    return Atomics.compareExchange(this.w, FSS_WAITING, FREE, HELD) === FREE;
  }

  /** Posts the fss word; notifies only if the ZT is parked. */
  fssWakeup(): void {
    const w = this.w;
    if (Atomics.exchange(w, FSS, POSTED) === PARKED) {
      inc(this.ac, FSS_WAKEUPS); // before the notify, so the woken peer sees it counted
      Atomics.notify(w, FSS, 1);
    }
  }

  /**
   * Wakes a parked ZT ahead of the post that will follow (no post: the ZT spins for it, then parks
   * again). For an app about to spend tens of microseconds before it posts (copying a large write
   * into the window), so that the ZT's wake-up runs meanwhile. True when the ZT was parked.
   */
  fssNudge(): boolean {
    const w = this.w;
    if (Atomics.compareExchange(w, FSS, PARKED, NUDGED) !== PARKED) return false;
    inc(this.ac, FSS_WAKEUPS);
    Atomics.notify(w, FSS, 1);
    return true;
  }

  /**
   * Wakes the ZT and waits for its appWakeup. Returns RELAY_OK, or RELAY_BROKEN, with RELAY_INTR set
   * when the wait was interrupted (it still waited for the reply: the ZT may be writing the app's buffer).
   */
  appWakeupAndWait(opts?: AppWaitOptions): number {
    if (!this.startRequest()) return RELAY_BROKEN;
    return this.waitCont(opts);
  }

  /** appWakeupAndWait for a thread that keeps its event loop (Atomics.waitAsync; abort via 'abort'). */
  appWakeupAndWaitAsync(opts?: AppWaitOptions): Promise<number> {
    if (!this.startRequest()) return Promise.resolve(RELAY_BROKEN);
    return this.waitContAsync(opts);
  }

  /**
   * appWakeupAndWait for a caller that keeps its event loop and wants no promise for a fast reply:
   * spins as appWakeupAndWait does and returns the result when the reply came meanwhile; otherwise
   * a Promise that waits with Atomics.waitAsync (as appWakeupAndWaitAsync).
   */
  appWakeupAndWaitSoon(opts?: AppWaitOptions): number | Promise<number> {
    if (!this.startRequest()) return RELAY_BROKEN;
    const first = this.appWaitBegin(opts);
    return first !== MUST_PARK ? first : this.appParkAsync(opts);
  }

  /** Waits for the ZT's reply without waking it (relay_fss_wakeup_app_wait_cont). Same results. */
  waitCont(opts?: AppWaitOptions): number {
    const first = this.appWaitBegin(opts);
    if (first !== MUST_PARK) return first;
    do Atomics.wait(this.w, APP, PARKED, this.appSlice());
    while (Atomics.load(this.w, APP) === PARKED);
    return this.appWaitEnd();
  }

  /** waitCont for a thread that keeps its event loop; aborting the signal interrupts it at once. */
  async waitContAsync(opts?: AppWaitOptions): Promise<number> {
    const first = this.appWaitBegin(opts);
    if (first !== MUST_PARK) return first;
    return this.appParkAsync(opts);
  }

  /** The parked part of an async app wait (appWaitBegin parked it). */
  private async appParkAsync(opts: AppWaitOptions | undefined): Promise<number> {
    const signal = opts?.signal;
    signal?.addEventListener('abort', this.appInterrupt);
    const keepAlive = setTimeout(noop, KEEP_ALIVE_MS);
    try {
      do {
        const r = waitAsync(this.w, APP, PARKED, this.appSlice());
        if (r.async) await r.value;
      } while (Atomics.load(this.w, APP) === PARKED);
    } finally {
      clearTimeout(keepAlive);
      signal?.removeEventListener('abort', this.appInterrupt);
    }
    return this.appWaitEnd();
  }

  // The steps waitCont and waitContAsync share; they differ only in how they park. The state of the
  // wait in progress lives in fields (one app waits on a relay at a time): no allocation per wait.

  /** Broken, a reply caught while spinning, or MUST_PARK (parked, the wait's state set). */
  private appWaitBegin(opts: AppWaitOptions | undefined): number {
    const w = this.w;
    if (Atomics.load(w, BROKEN) !== 0) return RELAY_BROKEN;
    if (this.appSpin() || Atomics.compareExchange(w, APP, EMPTY, PARKED) !== EMPTY) {
      inc(this.ac, APP_SPINS);
      return this.consume(APP);
    }
    inc(this.ac, APP_PARKS);
    this.appParkedAt = performance.now();
    const timeoutMs = opts?.timeoutMs;
    this.appDeadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : this.appParkedAt + timeoutMs;
    this.appOpts = opts;
    this.appIntr = 0;
    this.appError = undefined;
    return MUST_PARK;
  }

  /** The next park slice in ms; interrupts the wait once its deadline passed or its signal aborted. */
  private appSlice(): number {
    if (this.appIntr !== 0) return this.sliceMs;
    const left =
      this.appDeadline === Number.POSITIVE_INFINITY ? this.sliceMs : this.appDeadline - performance.now();
    if (left <= 0 || this.appOpts?.signal?.aborted) this.appInterrupt();
    else if (left < this.sliceMs) return left;
    return this.sliceMs;
  }

  /** Raises INTR once per wait and calls onInterrupt; its error is thrown when the wait ends. */
  private readonly appInterrupt = (): void => {
    if (this.appIntr !== 0) return;
    this.appIntr = RELAY_INTR;
    this.interrupt();
    try {
      this.appOpts?.onInterrupt?.();
    } catch (e) {
      this.appError ??= e;
    }
  };

  /** The reply came: RELAY_OK or RELAY_BROKEN, with RELAY_INTR if interrupted; rethrows onInterrupt's error. */
  private appWaitEnd(): number {
    if (this.appIntr === 0) this.appBudget = this.afterPark(this.appBudget, this.appParkedAt);
    const r = this.consume(APP) | this.appIntr;
    const error = this.appError;
    this.appOpts = this.appError = undefined;
    if (error !== undefined) throw error;
    return r;
  }

  /** The app has read the reply: the channel is free to grab again (see README, "fss_waiting"). */
  appRelease(): void {
    const w = this.w;
    // A CAS costs what the store did; a channel the ZT retired meanwhile stays out of reach.
    for (;;) {
      const s = Atomics.compareExchange(w, FSS_WAITING, HELD, FREE);
      if (s !== RETIRED) return;
      if (Atomics.compareExchange(w, FSS_WAITING, RETIRED, RETIRED_FREE) === RETIRED) return;
      // fssRestore ran between the two: the channel is held again, release it.
    }
  }

  // ---- both ----

  /** Marks the relay broken and wakes both sides: every present and future wait returns RELAY_BROKEN. */
  break(): void {
    const w = this.w;
    Atomics.store(w, BROKEN, 1);
    Atomics.exchange(w, FSS, POSTED);
    Atomics.exchange(w, APP, POSTED);
    // Not counted: break may come from any thread, and counters have one writer each.
    Atomics.notify(w, FSS);
    Atomics.notify(w, APP);
  }

  isBroken(): boolean {
    return Atomics.load(this.w, BROKEN) !== 0;
  }

  counters(): RelayCounters {
    const { zc, ac } = this;
    return {
      fssSpins: Atomics.load(zc, FSS_SPINS) >>> 0,
      fssParks: Atomics.load(zc, FSS_PARKS) >>> 0,
      fssWakeups: Atomics.load(ac, FSS_WAKEUPS) >>> 0,
      appSpins: Atomics.load(ac, APP_SPINS) >>> 0,
      appParks: Atomics.load(ac, APP_PARKS) >>> 0,
      appWakeups: Atomics.load(zc, APP_WAKEUPS) >>> 0,
    };
  }

  /** Zeroes the counters. Call it while both sides are quiet (the counters have other writers). */
  resetCounters(): void {
    for (let i = 0; i < 3; i++) {
      Atomics.store(this.zc, i, 0);
      Atomics.store(this.ac, i, 0);
    }
  }

  // ---- internals ----

  /** Starts an app request: app_waiting, clear INTR, wake the ZT. False when broken. */
  private startRequest(): boolean {
    const w = this.w;
    if (Atomics.load(w, BROKEN) !== 0) return false;
    w[APP_WAITING] = 1; // informational: published by the fssWakeup exchange below
    this.clearInterrupt();
    this.fssWakeup();
    return true;
  }

  /** Takes a post: BROKEN wins over it; otherwise the word goes back to EMPTY. */
  private consume(word: number): number {
    const w = this.w;
    if (Atomics.load(w, BROKEN) !== 0) return RELAY_BROKEN;
    // A plain store is enough: the peer posts this word again only after it has seen our next
    // post (an Atomics.exchange, which publishes this store first). A locked store here would
    // cost as much as the whole handoff's useful work.
    w[word] = EMPTY;
    return RELAY_OK;
  }

  // The two spin phases are written out per side so that each keeps its own budget in plain fields.

  /**
   * After a park that began at `parkedAt` (performance.now()): when the whole wait was shorter than
   * the largest budget, spinning would have caught the post without a futex on either side, so the
   * next budget covers twice that wait. (Shrinking on every park alone would collapse the budget of
   * a side whose peer answers in a steady 5-20 us, longer than the budget it happened to have.)
   */
  private afterPark(budget: number, parkedAt: number): number {
    const waited = usToIters((performance.now() - parkedAt) * 1000) + budget;
    return waited < this.maxSpin ? grow(waited, this.maxSpin) : budget;
  }

  /** Spins on the fss word; adapts the ZT-side budget. True when a post (or break) came. */
  private fssSpin(): boolean {
    const probe = this.fssParkRun >= PROBE_EVERY;
    const k = spinWhile(this.w, FSS, EMPTY, probe ? this.maxSpin : this.fssBudget);
    if (probe) this.fssParkRun = 0;
    if (k >= 0) {
      this.fssBudget = grow(k > this.fssBudget ? k : this.fssBudget, this.maxSpin);
      this.fssParkRun = 0;
      return true;
    }
    this.fssBudget = shrink(this.fssBudget, this.minSpin);
    this.fssParkRun++;
    return false;
  }

  /** Spins on the app word; adapts the app-side budget. */
  private appSpin(): boolean {
    const probe = this.appParkRun >= PROBE_EVERY;
    const k = spinWhile(this.w, APP, EMPTY, probe ? this.maxSpin : this.appBudget);
    if (probe) this.appParkRun = 0;
    if (k >= 0) {
      this.appBudget = grow(k > this.appBudget ? k : this.appBudget, this.maxSpin);
      this.appParkRun = 0;
      return true;
    }
    this.appBudget = shrink(this.appBudget, this.minSpin);
    this.appParkRun++;
    return false;
  }
}
