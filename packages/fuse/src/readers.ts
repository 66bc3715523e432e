/**
 * The reader pool's shared words. A reader serves one request at a time (its operations are
 * synchronous), so a slow request would stall every request queued behind it. As libfuse's
 * multi-threaded loop does, the pool keeps a reader waiting in read() while others serve: a standby
 * thread, parked, joins the readers once every reader has been busy for PROMOTE_AFTER_MS (fast
 * requests never wake it), and the session starts a new standby, up to `maxReaders` threads. The
 * kernel takes replies in any order (by unique), so requests are answered concurrently.
 *
 * Each reader also publishes the request it serves (unique) and, when it dispatches to the ZT grid,
 * the slot in flight, so that a FUSE_INTERRUPT read by any reader raises the abort flag of the
 * channel serving that request (Relay.interrupt; docs/contracts.md, "The channel's abort flag").
 */
import { inlineSlotRelay, NOT_IN_FLIGHT, type ZufRoot } from '@zufs/zuf-core';

/** Readers blocked in read() of /dev/fuse. */
const IDLE = 0;
/** Standby threads parked on WAKE. */
const STANDBY = 1;
/** Bumped and notified when the last idle reader took a request. */
const WAKE = 2;
/** 1 once the session ends: standby threads exit. */
const STOP = 3;
const HEAD_WORDS = 4;
// Per reader: the unique it serves (two halves; 0 between requests), the grid slot in flight.
const UNIQUE_LO = 0;
const UNIQUE_HI = 1;
const SLOT = 2;
const READER_WORDS = 4;
/** How long every reader must be busy before a standby joins them. */
export const PROMOTE_AFTER_MS = 1;

export function readerPoolWords(maxReaders: number): SharedArrayBuffer {
  const sab = new SharedArrayBuffer((HEAD_WORDS + maxReaders * READER_WORDS) * 4);
  const w = new Int32Array(sab);
  for (let r = 0; r < maxReaders; r++) w[HEAD_WORDS + r * READER_WORDS + SLOT] = NOT_IN_FLIGHT;
  return sab;
}

/**
 * The request reader `index` was serving when it died (its two unique halves), cleared; null when
 * it served none. The session answers it, so that the kernel does not wait for it for ever.
 */
export function takeServed(words: SharedArrayBuffer, index: number): [number, number] | null {
  const w = new Int32Array(words);
  const at = HEAD_WORDS + index * READER_WORDS;
  const lo = Atomics.exchange(w, at + UNIQUE_LO, 0) >>> 0;
  const hi = Atomics.exchange(w, at + UNIQUE_HI, 0) >>> 0;
  Atomics.store(w, at + SLOT, NOT_IN_FLIGHT);
  return lo || hi ? [lo, hi] : null;
}

/** One reader thread's view of the pool. */
export class ReaderPool {
  private readonly w: Int32Array;
  private readonly me: number;
  private readonly nap = new Int32Array(new SharedArrayBuffer(4));
  /** Other readers' inline slots (their relays), by reader index, as they announce them. */
  private readonly inlineRelays = new Map<number, ReturnType<typeof inlineSlotRelay>>();

  constructor(
    words: SharedArrayBuffer,
    readonly index: number,
    private readonly root: ZufRoot,
  ) {
    this.w = new Int32Array(words);
    this.me = HEAD_WORDS + index * READER_WORDS;
  }

  get maxReaders(): number {
    return (this.w.length - HEAD_WORDS) / READER_WORDS;
  }

  /** Where this reader's grid calls publish their slot (Dispatcher.inFlight). */
  get slotWord(): [Int32Array, number] {
    return [this.w, this.me + SLOT];
  }

  /**
   * A standby thread: parks until every reader has been busy for PROMOTE_AFTER_MS. True: become a
   * reader; false: the session ended.
   */
  standby(): boolean {
    const w = this.w;
    Atomics.add(w, STANDBY, 1);
    try {
      for (;;) {
        if (Atomics.load(w, STOP) !== 0) return false;
        const gen = Atomics.load(w, WAKE);
        if (Atomics.load(w, IDLE) === 0) {
          Atomics.wait(this.nap, 0, 0, PROMOTE_AFTER_MS);
          if (Atomics.load(w, IDLE) === 0 && Atomics.load(w, STOP) === 0) return true;
          continue;
        }
        Atomics.wait(w, WAKE, gen);
      }
    } finally {
      Atomics.sub(w, STANDBY, 1);
    }
  }

  /** This reader goes to read() (again). */
  idle(): void {
    Atomics.add(this.w, IDLE, 1);
  }

  /**
   * This reader took a request with `unique` (its two halves): it is published for INTERRUPT; if
   * no reader is left in read(), a standby is woken.
   */
  busy(lo: number, hi: number): void {
    const w = this.w;
    Atomics.store(w, this.me + UNIQUE_HI, hi);
    Atomics.store(w, this.me + UNIQUE_LO, lo);
    if (Atomics.sub(w, IDLE, 1) === 1 && Atomics.load(w, STANDBY) > 0) {
      Atomics.add(w, WAKE, 1);
      Atomics.notify(w, WAKE, 1);
    }
  }

  /** The request is answered. */
  done(): void {
    Atomics.store(this.w, this.me + UNIQUE_LO, 0);
    Atomics.store(this.w, this.me + UNIQUE_HI, 0);
  }

  /** The session is over: standby threads exit. */
  stop(): void {
    Atomics.store(this.w, STOP, 1);
    Atomics.add(this.w, WAKE, 1);
    Atomics.notify(this.w, WAKE);
  }

  /** Another reader serves its operations on the inline slot whose buffer is `ops`. */
  addInlineSlot(reader: number, ops: SharedArrayBuffer): void {
    this.inlineRelays.set(reader, inlineSlotRelay(this.root.descriptor, ops));
  }

  /**
   * FUSE_INTERRUPT for `unique`: raises the abort flag of the channel serving it. False when no
   * reader serves it (not read yet, or answered already): the kernel is then answered EAGAIN.
   */
  interrupt(lo: number, hi: number): boolean {
    const w = this.w;
    // The words are int32: compare the halves as int32 too.
    const l = lo | 0;
    const h = hi | 0;
    for (let r = 0; r < this.maxReaders; r++) {
      const at = HEAD_WORDS + r * READER_WORDS;
      if (Atomics.load(w, at + UNIQUE_LO) !== l || Atomics.load(w, at + UNIQUE_HI) !== h) continue;
      const slot = Atomics.load(w, at + SLOT);
      const relay = slot !== NOT_IN_FLIGHT ? this.root.slots[slot]?.relay : this.inlineRelays.get(r);
      if (!relay) return false;
      relay.interrupt();
      return true;
    }
    return false;
  }
}
