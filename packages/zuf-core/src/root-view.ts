/**
 * A thread's view of a zuf-root: the control words, the slots (relay + operation buffer + map
 * window) of the ZT grid and the mount channel, the shared pools, the filesystem registry.
 */
import { Relay, useSpinCalibration } from '@zufs/relay';
import { DPP_POOL_PMEM, DPP_POOL_WINDOW, dppOffset, dppPool, IocIO } from './api/index.js';
import { SharedPool } from './pools.js';
import {
  CHANGE_ACTIVE,
  CHANGE_SEQ,
  CTL_EPOCH,
  CTL_FAIL_CODE,
  CTL_GRID_GEN,
  CTL_RESTART_WAIT_MS,
  CTL_RESTARTS_BEGUN,
  CTL_SPIN_CALIBRATION,
  CTL_STATE,
  CTL_STATE_GEN,
  checkDescriptor,
  relayPlacement,
  SLOT_CHANGING_OFFSET,
  SLOT_OP_OFFSET,
  STATE_FAILED,
  STATE_MOUNT_READY,
  STATE_READY,
  STATE_RESTARTING,
  STATE_STOPPED,
  slotOffset,
  type ZufRootDescriptor,
} from './root-layout.js';

/** One channel of the grid (or the mount channel): the baton and the two buffers it guards. */
export class Slot {
  readonly relay: Relay;
  /** The operation buffer: zufs_ioc_hdr followed by the operation's struct. */
  readonly op: DataView;
  readonly opBytes: Uint8Array;
  /** The map window, where an app buffer that is not shared memory is bounced. */
  readonly window: Uint8Array;
  readonly windowView: DataView;
  /**
   * An inline slot only: the app buffer its thread lends to the op being served (IO_POOL_LENT),
   * set for one call (Channel.lend) and cleared when it returns.
   */
  lent: Uint8Array | null = null;
  /**
   * The APP_COPY_* state word of a WRITE the app copies itself (IocIO.cookie's low word), moved by
   * the app and the ZT with Atomics.
   */
  readonly appCopyState: Int32Array;
  /**
   * 1 while the ZT serving this slot is inside a change (it counts in the change seqlock's ACTIVE):
   * a restart takes a dead ZT's count back out (ZufRoot.forgetDeadChanges).
   */
  readonly changing: Int32Array;

  constructor(
    d: ZufRootDescriptor,
    readonly index: number,
  ) {
    const base = slotOffset(index, d.maxCommand);
    this.relay = new Relay(d.ops, base, undefined, relayPlacement(index, d.maxCommand));
    this.op = new DataView(d.ops, base + SLOT_OP_OFFSET, d.maxCommand);
    this.opBytes = new Uint8Array(d.ops, base + SLOT_OP_OFFSET, d.maxCommand);
    this.window = new Uint8Array(d.windows, index * d.windowSize, d.windowSize);
    this.windowView = new DataView(d.windows, index * d.windowSize, d.windowSize);
    this.appCopyState = new Int32Array(d.ops, base + SLOT_OP_OFFSET + IocIO.cookie, 1);
    this.changing = new Int32Array(d.ops, base + SLOT_CHANGING_OFFSET, 1);
  }
}

/**
 * A slot of the calling thread's own, outside the grid, for an inline ZT (a server's op handler run
 * in an app thread: see Dispatcher.serveInline). Same layout as a grid slot; nobody waits on its
 * relay.
 */
export function createInlineSlot(d: ZufRootDescriptor): Slot {
  const ops = new SharedArrayBuffer(slotOffset(1, d.maxCommand));
  Relay.init(ops, slotOffset(0, d.maxCommand), undefined, relayPlacement(0, d.maxCommand));
  return new Slot({ ...d, ops, windows: new SharedArrayBuffer(d.windowSize) }, 0);
}

/**
 * The relay of an inline slot another thread made (createInlineSlot; `ops` is its `op.buffer`), to
 * raise its abort flag from here (Relay.interrupt).
 */
export function inlineSlotRelay(d: ZufRootDescriptor, ops: SharedArrayBuffer): Relay {
  return new Relay(ops, slotOffset(0, d.maxCommand), undefined, relayPlacement(0, d.maxCommand));
}

interface AsyncWaiter {
  waitAsync(
    a: Int32Array,
    i: number,
    v: number,
    t: number,
  ): { async: false; value: string } | { async: true; value: Promise<string> };
}

const attached = new WeakMap<SharedArrayBuffer, ZufRoot>();

/** Attaches this thread to a running server (cached: attaching twice returns the same view). */
export function attachZufRoot(d: ZufRootDescriptor): ZufRoot {
  checkDescriptor(d);
  let root = attached.get(d.control);
  if (!root) {
    root = new ZufRoot(d);
    attached.set(d.control, root);
  }
  return root;
}

export class ZufRoot {
  readonly ctl: Int32Array;
  readonly zts: number;
  readonly channels: number;
  /** Grid slots first (zt * channels + channel), then the mount channel. */
  readonly slots: readonly Slot[];
  readonly mountSlot: Slot;
  readonly pools: readonly (SharedPool | null)[];

  constructor(readonly descriptor: ZufRootDescriptor) {
    this.ctl = new Int32Array(descriptor.control);
    // Before the slots' relays convert their budgets: this thread then never measures its own.
    const spin = this.ctl[CTL_SPIN_CALIBRATION] / 1000;
    if (spin >= 1) useSpinCalibration(spin);
    this.zts = descriptor.zts;
    this.channels = descriptor.channels;
    const n = this.zts * this.channels + 1;
    const slots: Slot[] = [];
    for (let i = 0; i < n; i++) slots.push(new Slot(descriptor, i));
    this.slots = slots;
    this.mountSlot = slots[n - 1];
    this.pools = descriptor.pools.map((p) => (p ? new SharedPool(p) : null));
  }

  get gridSize(): number {
    return this.zts * this.channels;
  }

  state(): number {
    return Atomics.load(this.ctl, CTL_STATE);
  }

  /** True while operations may be dispatched to the grid. */
  isServing(): boolean {
    const s = Atomics.load(this.ctl, CTL_STATE);
    return s === STATE_READY || s === STATE_MOUNT_READY;
  }

  /** Restarts completed so far (CTL_EPOCH): what a thread saw before tells it one happened since. */
  epoch(): number {
    return Atomics.load(this.ctl, CTL_EPOCH);
  }

  /**
   * While the server restarts, waits (blocking) until it serves again, at most the server's
   * restart wait. True when it serves (at once if it was not restarting); false when it failed,
   * stopped or the wait ran out: the caller answers EIO. `held`: the channel the caller holds (a
   * new ZT revived it during the restart). Quarantined meanwhile by the next restart, which drains
   * it while its ZT still serves, the caller goes on at once (true): waiting for that restart to
   * end would wait for itself. Broken meanwhile (its ZT died), false at once.
   */
  waitServing(held?: Relay): boolean {
    const deadline = performance.now() + Atomics.load(this.ctl, CTL_RESTART_WAIT_MS);
    for (;;) {
      const gen = Atomics.load(this.ctl, CTL_STATE_GEN);
      const r = this.servingNow(held, deadline);
      if (r !== null) return r;
      Atomics.wait(this.ctl, CTL_STATE_GEN, gen, Math.min(deadline - performance.now(), 50));
    }
  }

  /** waitServing() for a thread that keeps its event loop (Atomics.waitAsync). */
  async waitServingAsync(held?: Relay): Promise<boolean> {
    const deadline = performance.now() + Atomics.load(this.ctl, CTL_RESTART_WAIT_MS);
    for (;;) {
      const gen = Atomics.load(this.ctl, CTL_STATE_GEN);
      const r = this.servingNow(held, deadline);
      if (r !== null) return r;
      const left = Math.min(deadline - performance.now(), 50);
      const w = (Atomics as unknown as AsyncWaiter).waitAsync(this.ctl, CTL_STATE_GEN, gen, left);
      if (w.async) await w.value;
    }
  }

  /**
   * One look of waitServing: its answer (the held channel's say first: quarantined goes, broken
   * stops), or null to wait for the next state change.
   */
  private servingNow(held: Relay | undefined, deadline: number): boolean | null {
    if (this.isServing()) return true;
    if (held?.isBroken()) return false;
    if (held?.isRetired()) return true;
    if (this.state() !== STATE_RESTARTING) return false;
    return performance.now() >= deadline ? false : null;
  }

  /**
   * A restart begins: operations wait from now on (waitServing), and every channel is out of reach
   * until the new ZT that serves it revives it (Relay.quarantine, Relay.revive). Those in flight
   * go on: the caller breaks the channels it knows nobody will answer, lets the others finish
   * (their apps release into quarantine), then breaks them all (breakAll). False when the server is
   * not serving (failed, stopping: it stays so).
   */
  beginRestart(): boolean {
    const ctl = this.ctl;
    const s = Atomics.load(ctl, CTL_STATE);
    if (s !== STATE_READY && s !== STATE_MOUNT_READY) return false;
    // A stop or a failure that came meanwhile wins.
    if (Atomics.compareExchange(ctl, CTL_STATE, s, STATE_RESTARTING) !== s) return false;
    Atomics.add(ctl, CTL_RESTARTS_BEGUN, 1); // before any channel is quarantined or broken
    for (const slot of this.slots) slot.relay.quarantine();
    // Also wakes a caller waiting for the last restart's end on a channel now quarantined.
    this.stateMoved();
    return true;
  }

  /** Breaks these channels (their ZT died): their callers get EIO, those waiting too (waitServing). */
  breakSlots(indices: readonly number[]): void {
    for (const i of indices) this.slots[i].relay.break();
    this.stateMoved();
  }

  /** The state, or a channel a waiter holds, changed: whoever waits for that looks again. */
  private stateMoved(): void {
    Atomics.add(this.ctl, CTL_STATE_GEN, 1);
    Atomics.notify(this.ctl, CTL_STATE_GEN);
  }

  /**
   * Once the grid's ZT threads are gone: the changes they were inside never end, so their counts
   * leave the change seqlock, and the sequence moves (a reader's copy that spanned them is void).
   */
  forgetDeadChanges(): void {
    for (let i = 0; i < this.gridSize; i++) {
      const w = this.slots[i].changing;
      if (Atomics.exchange(w, 0, 0) !== 0) Atomics.sub(this.ctl, CHANGE_ACTIVE, 1);
    }
    Atomics.add(this.ctl, CHANGE_SEQ, 1);
  }

  /** Restarts begun so far: a new generation's threads take channels over only while it stays so. */
  restartsBegun(): number {
    return Atomics.load(this.ctl, CTL_RESTARTS_BEGUN);
  }

  /** The restart is over: a new epoch, and operations go on. */
  endRestart(): void {
    Atomics.add(this.ctl, CTL_EPOCH, 1);
    this.setState(STATE_MOUNT_READY);
  }

  failCode(): number {
    return Atomics.load(this.ctl, CTL_FAIL_CODE);
  }

  /** Moves to a new state and wakes whoever waits for a state change. A failed or stopped root stays so. */
  setState(state: number): void {
    const cur = Atomics.load(this.ctl, CTL_STATE);
    if (cur === STATE_FAILED || cur === STATE_STOPPED) return;
    Atomics.store(this.ctl, CTL_STATE, state);
    this.stateMoved();
  }

  /**
   * Server failed: from now on every operation is EIO. Breaks every relay, so app threads that wait
   * on a ZT (parked or spinning) return at once, and wakes threads parked for a free channel.
   */
  fail(code = -1): void {
    if (Atomics.compareExchange(this.ctl, CTL_FAIL_CODE, 0, code === 0 ? -1 : code) !== 0) {
      // Already recorded; still make sure everything is broken.
    }
    Atomics.store(this.ctl, CTL_STATE, STATE_FAILED);
    this.breakAll();
  }

  /** Stopped: like failed for callers, but no failure recorded. */
  markStopped(): void {
    Atomics.store(this.ctl, CTL_STATE, STATE_STOPPED);
    this.breakAll();
  }

  /** BREAK_ALL: wake every waiter on every channel and every thread parked for a channel. */
  breakAll(): void {
    for (const s of this.slots) s.relay.break();
    Atomics.add(this.ctl, CTL_GRID_GEN, 1);
    Atomics.notify(this.ctl, CTL_GRID_GEN);
    this.stateMoved();
  }

  /** Waits (blocking) until the state leaves `from`, or the timeout passes. Returns the state. */
  waitStateChange(from: number, timeoutMs: number): number {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const gen = Atomics.load(this.ctl, CTL_STATE_GEN);
      const s = this.state();
      const left = deadline - performance.now();
      if (s !== from || left <= 0) return s;
      Atomics.wait(this.ctl, CTL_STATE_GEN, gen, Math.min(left, 50));
    }
  }

  pool(n: number): SharedPool {
    const p = this.pools[n];
    if (!p) throw new RangeError(`no shared buffer pool ${n}`);
    return p;
  }

  /** True when `len` bytes at a dpp of pools 1..6 lie inside the pool (no view is made). */
  dppInPool(dpp: number, len: number): boolean {
    const p = this.pools[dppPool(dpp)];
    return !!p && dppPool(dpp) !== DPP_POOL_WINDOW && len >= 0 && dppOffset(dpp) + len <= p.bytes.byteLength;
  }

  /**
   * A view of `len` bytes at a dpp in pools 1..6, or in a slot's window (pool 7, `slot` required).
   * Returns null when the dpp is out of bounds: a malformed request must not reach other memory.
   * Pool 0 (pmem) belongs to the filesystem, which resolves it itself.
   */
  resolveDpp(dpp: number, len: number, slot?: Slot): Uint8Array | null {
    const pool = dppPool(dpp);
    const off = dppOffset(dpp);
    let buf: Uint8Array;
    if (pool === DPP_POOL_WINDOW) {
      if (!slot) return null;
      buf = slot.window;
    } else if (pool === DPP_POOL_PMEM) {
      return null;
    } else {
      const p = this.pools[pool];
      if (!p) return null;
      buf = p.bytes;
    }
    if (!(len >= 0) || off + len > buf.byteLength) return null;
    return buf.subarray(off, off + len);
  }
}
