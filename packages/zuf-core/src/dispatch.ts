/**
 * Dispatch, the app side of an operation: take a channel of the grid (home ZT by thread, CAS grab),
 * fill the operation buffer, hand the baton to the ZT, wait, read the reply, give the channel back.
 *
 *   const ch = dispatcher.acquire();
 *   ch.begin(ZUFS_OP_NOOP, IocHdr.SIZE);
 *   const err = ch.call();        // 0 or a negative errno
 *   ... read the reply from ch.op ...
 *   ch.release();
 *
 * Nothing on this path allocates: the Channel objects, their views and wait options are made once.
 */
import { threadId } from 'node:worker_threads';
import { type AppWaitOptions, RELAY_BROKEN, RELAY_INTR } from '@zufs/relay';
import {
  APP_COPY_COPYING,
  APP_COPY_DONE,
  APP_COPY_REQUESTED,
  APP_COPY_RUN_BYTES,
  Errno,
  EZUF_RETRY_DONE,
  EZUFS_RETRY,
  getU64,
  IocHdr,
  IocIO,
  PIGY_BYTES,
  pigyOffset,
  setU64,
  ZUFS_H_HAS_PIGY_PUT,
  ZUFS_H_INTR,
  ZUFS_OP_PUT_MULTY,
} from './api/index.js';
import { ZufsError } from './errors.js';
import { CTL_GRID_GEN, CTL_GRID_WAITERS } from './root-layout.js';
import type { Slot, ZufRoot } from './root-view.js';
import { SharedBytes } from './shared-bytes.js';

const EIO = -Errno.EIO;
/** Dispatcher.inFlight's word while no grid call is in flight. */
export const NOT_IN_FLIGHT = -1;
const EBUSY = -Errno.EBUSY;

/**
 * Called when the ZT answered -EZUFS_RETRY and the caller gave a handler, or when the reply does not
 * fit (out_len > out_max). Returns EZUF_RETRY_DONE to dispatch again, else the final result (0 or -errno).
 */
export type OverflowHandler = (ch: Channel) => number;

export interface CallOptions {
  /** After this long the wait is interrupted: ZUFS_H_INTR is set and the wait goes on (the ZT may still write). */
  timeoutMs?: number;
  signal?: AbortSignal;
  overflow?: OverflowHandler;
}

/** How often an EZUFS_RETRY without a handler is dispatched again before the call gives up with EBUSY. */
export const MAX_RETRIES = 64;
const PARK_SLICE_MS = 50;
/**
 * Channels this thread holds while it awaits their replies from its event loop (callSoon), over
 * every root view it has: their server is the same one or not, the count only errs towards caution.
 */
let soonWaits = 0;

export class Channel {
  readonly op: DataView;
  readonly opBytes: Uint8Array;
  readonly window: Uint8Array;
  readonly windowView: DataView;
  /** True when the last call's wait was interrupted (timeout or abort) before the reply came. */
  interrupted = false;
  private readonly waitOpts: AppWaitOptions;
  /** A callSoon() reply is awaited on this channel (counted in soonWaits). */
  private soonHeld = false;

  constructor(
    protected readonly root: ZufRoot,
    protected readonly dispatcher: Dispatcher,
    readonly slot: Slot,
  ) {
    this.op = slot.op;
    this.opBytes = slot.opBytes;
    this.window = slot.window;
    this.windowView = slot.windowView;
    const op = this.op;
    this.waitOpts = {
      timeoutMs: undefined,
      signal: undefined,
      onInterrupt: () => op.setUint16(IocHdr.flags, op.getUint16(IocHdr.flags, true) | ZUFS_H_INTR, true),
    };
  }

  /** Largest request or reply that fits (the tail of the buffer carries piggy-backed requests). */
  get capacity(): number {
    return this.op.byteLength - PIGY_BYTES;
  }

  /** Writes a fresh header. outStart/outMax describe where the caller expects the reply and how much fits. */
  begin(operation: number, inLen: number, outStart = 0, outMax = 0): void {
    const v = this.op;
    v.setInt32(IocHdr.err, 0, true);
    v.setUint16(IocHdr.in_len, inLen, true);
    v.setUint16(IocHdr.out_max, outMax, true);
    v.setUint16(IocHdr.out_start, outStart, true);
    v.setUint16(IocHdr.out_len, 0, true);
    v.setUint16(IocHdr.operation, operation, true);
    v.setUint16(IocHdr.flags, 0, true);
    v.setUint32(IocHdr.offset, 0, true);
    v.setUint32(IocHdr.len, 0, true);
  }

  /** Points the header at app data already placed in the map window. */
  setData(offset: number, len: number): void {
    this.op.setUint32(IocHdr.offset, offset, true);
    this.op.setUint32(IocHdr.len, len, true);
  }

  /**
   * Lends `buf` to the op about to be called, when the ZT that serves it runs in this thread (an
   * inline channel): the op then names it with IO_POOL_LENT instead of bouncing the bytes through
   * the window. False on a grid channel: another thread cannot see this thread's memory.
   */
  lend(_buf: Uint8Array): boolean {
    return false;
  }

  /**
   * Says a call is coming after long preparation (copying a large write into the window): a
   * parked ZT starts waking now, while the app copies, instead of after the post (~50 us).
   */
  nudge(): void {
    this.slot.relay.fssNudge();
  }

  get err(): number {
    return this.op.getInt32(IocHdr.err, true);
  }

  get outLen(): number {
    return this.op.getUint16(IocHdr.out_len, true);
  }

  /** Dispatches the operation in the buffer and waits for the ZT. Returns 0 or a negative errno. */
  call(opts?: CallOptions): number {
    if (this.dispatcher.inFlight !== null) return this.callPublished(opts);
    const w = this.prepareWait(opts);
    let retries = 0;
    for (;;) {
      if (!this.root.isServing() && !this.waitRestart()) return EIO;
      if (this.dispatcher.pigyLen > 0) this.attachPigy();
      const r = this.slot.relay.appWakeupAndWait(w);
      const res = this.afterReply(r, opts, retries++);
      if (res !== EZUF_RETRY_DONE) return res;
    }
  }

  /**
   * The server is not serving: a channel a new generation's ZT revived (its relay is whole) was
   * taken during the restart, and its operation has reached nobody: it waits for the restart to
   * end (bounded) and goes. A channel of the generation that died (broken relay) is EIO. A channel
   * a reload quarantined while this app held it is still served: the operation goes now.
   */
  private waitRestart(): boolean {
    const relay = this.slot.relay;
    if (relay.isBroken()) return false;
    // Quarantined while this app held it: a restart drains, and the ZT that serves it still does.
    if (relay.isRetired()) return true;
    return this.root.waitServing(relay);
  }

  /** call(), with the slot published in Dispatcher.inFlight while the call is on it. */
  private callPublished(opts: CallOptions | undefined): number {
    const d = this.dispatcher;
    const words = d.inFlight!;
    const at = d.inFlightAt;
    Atomics.store(words, at, this.slot.index);
    d.inFlight = null;
    try {
      return this.call(opts);
    } finally {
      d.inFlight = words;
      Atomics.store(words, at, NOT_IN_FLIGHT);
    }
  }

  /** As call(), for threads that must keep their event loop running (Atomics.waitAsync). */
  async callAsync(opts?: CallOptions): Promise<number> {
    const w = this.prepareWait(opts);
    let retries = 0;
    for (;;) {
      const relay = this.slot.relay;
      if (
        !this.root.isServing() &&
        (relay.isBroken() || (!relay.isRetired() && !(await this.root.waitServingAsync(relay))))
      )
        return EIO;
      if (this.dispatcher.pigyLen > 0) this.attachPigy();
      const r = await this.slot.relay.appWakeupAndWaitAsync(w);
      const res = this.afterReply(r, opts, retries++);
      if (res !== EZUF_RETRY_DONE) return res;
    }
  }

  /**
   * call() for a caller that keeps its event loop: spins as call() does and returns the result when
   * the reply came meanwhile (a fast filesystem costs what call() costs, no promise), otherwise a
   * Promise that waits with Atomics.waitAsync. `async`: wait that way at once, after the spin (a
   * remote filesystem: the spin would not catch its reply).
   */
  callSoon(opts?: CallOptions, async = false): number | Promise<number> {
    // What this thread holds so only its event loop gives back: with every channel but one held,
    // the next wait is call()'s, so that a blocking acquire of this thread always finds a channel
    // that does not wait on its own event loop (else it would wait for ever).
    if (soonWaits >= this.root.gridSize - 1) return this.call(opts);
    if (async || !this.root.isServing()) return this.heldSoon(this.callAsync(opts));
    const w = this.prepareWait(opts);
    if (this.dispatcher.pigyLen > 0) this.attachPigy();
    const r = this.slot.relay.appWakeupAndWaitSoon(w);
    if (typeof r !== 'number') return this.heldSoon(r.then((x) => this.afterSoon(x, opts)));
    return this.afterSoon(r, opts);
  }

  /** callSoon's reply is awaited: the channel counts in soonWaits until release(). */
  private heldSoon(p: Promise<number>): Promise<number> {
    this.soonHeld = true;
    soonWaits++;
    return p;
  }

  /** callSoon's first reply: the result, or the retries that EZUFS_RETRY asks for, through callAsync. */
  private afterSoon(r: number, opts: CallOptions | undefined): number | Promise<number> {
    const res = this.afterReply(r, opts, 0);
    return res === EZUF_RETRY_DONE ? this.callAsync(opts) : res;
  }

  /**
   * After the mid-operation reply of a WRITE with ZUFS_RW_APP_COPY (ZUFS_RET_APP_COPY set): copies
   * the runs the ZT listed in the window from `data` into `pmem` (the filesystem's shared memory),
   * posts again and waits for the final reply. If the ZT gave up waiting first, copies nothing and
   * takes that final reply (an error); if it gave up while we copied (we were held still past its
   * wait), does not post and takes that reply. Returns as call() does; EIO for a run outside the
   * buffers.
   */
  copyRuns(data: Uint8Array, pmemBytes: SharedBytes | Uint8Array, opts?: CallOptions): number {
    // A Uint8Array stops at 4 GiB; the face passes the device's SharedBytes.
    const pmem = pmemBytes instanceof SharedBytes ? pmemBytes : SharedBytes.of(pmemBytes);
    const w = this.prepareWait(opts);
    const relay = this.slot.relay;
    if (
      Atomics.compareExchange(this.slot.appCopyState, 0, APP_COPY_REQUESTED, APP_COPY_COPYING) !==
      APP_COPY_REQUESTED
    ) {
      return this.afterReply(relay.waitCont(w), opts, MAX_RETRIES);
    }
    const wv = this.windowView;
    const n = Math.min(getU64(this.op, IocIO.last_pos), Math.floor(wv.byteLength / APP_COPY_RUN_BYTES));
    let bad = false;
    for (let i = 0; i < n; i++) {
      const at = wv.getFloat64(i * APP_COPY_RUN_BYTES, true);
      const from = wv.getFloat64(i * APP_COPY_RUN_BYTES + 8, true);
      const len = wv.getFloat64(i * APP_COPY_RUN_BYTES + 16, true);
      if (!(at >= 0 && from >= 0 && len > 0 && at + len <= pmem.byteLength && from + len <= data.length)) {
        bad = true;
        continue;
      }
      pmem.write(from === 0 && len === data.length ? data : data.subarray(from, from + len), at);
    }
    // The ZT may have given up on us meanwhile (we were held still past its wait): then it has
    // replied already (an error) and a post would look like a new request.
    if (
      Atomics.compareExchange(this.slot.appCopyState, 0, APP_COPY_COPYING, APP_COPY_DONE) !== APP_COPY_COPYING
    ) {
      return this.afterReply(relay.waitCont(w), opts, MAX_RETRIES);
    }
    const res = this.afterReply(relay.appWakeupAndWait(w), opts, MAX_RETRIES);
    return bad && res === 0 ? EIO : res;
  }

  /** Gives the channel back to the grid; wakes one thread parked for a free channel, if any. */
  release(): void {
    if (this.soonHeld) {
      this.soonHeld = false;
      soonWaits--;
    }
    this.slot.relay.appRelease();
    this.dispatcher.channelFreed();
  }

  private prepareWait(opts: CallOptions | undefined): AppWaitOptions | undefined {
    this.interrupted = false;
    if (!opts || (opts.timeoutMs === undefined && opts.signal === undefined)) return undefined;
    this.waitOpts.timeoutMs = opts.timeoutMs;
    this.waitOpts.signal = opts.signal;
    return this.waitOpts;
  }

  /** Returns the call's result, or EZUF_RETRY_DONE to dispatch once more. */
  protected afterReply(r: number, opts: CallOptions | undefined, retries: number): number {
    if (r & RELAY_BROKEN) return EIO;
    if (r & RELAY_INTR) this.interrupted = true;
    const v = this.op;
    const err = v.getInt32(IocHdr.err, true);
    const overflow = opts?.overflow;
    if (
      (err === -EZUFS_RETRY && overflow) ||
      v.getUint16(IocHdr.out_len, true) > v.getUint16(IocHdr.out_max, true)
    ) {
      // A reply that does not fit, with nobody to handle it, is a malformed reply.
      if (!overflow) return EIO;
      const o = overflow(this);
      if (o === EZUF_RETRY_DONE) this.rearm();
      return o;
    }
    if (err === -EZUFS_RETRY) {
      if (retries >= MAX_RETRIES) return EBUSY;
      // The server asked to try again (busy); back off a little after the first few.
      if (retries >= 4) Atomics.wait(this.dispatcher.sleepWord, 0, 0, Math.min(retries - 3, 10));
      this.rearm();
      return EZUF_RETRY_DONE;
    }
    return err;
  }

  private rearm(): void {
    const v = this.op;
    v.setInt32(IocHdr.err, 0, true);
    v.setUint16(IocHdr.out_len, 0, true);
  }

  protected attachPigy(): void {
    const d = this.dispatcher;
    this.opBytes.set(d.pigyBytes.subarray(0, d.pigyLen), pigyOffset(this.op.byteLength));
    this.op.setUint16(IocHdr.flags, this.op.getUint16(IocHdr.flags, true) | ZUFS_H_HAS_PIGY_PUT, true);
    d.pigyLen = 0;
  }
}

/**
 * A channel served in the calling thread (Dispatcher.serveInline): call() runs the server's op
 * handler on the channel's own buffers instead of handing the baton to a ZT. A thread that fronts
 * the server for others (a FUSE reader) saves the hop: on a machine with few cores that hop costs
 * a spinning core or a futex wake (~50 us), more than most operations.
 */
class InlineChannel extends Channel {
  busy = false;

  constructor(
    root: ZufRoot,
    dispatcher: Dispatcher,
    slot: Slot,
    private readonly serve: () => void,
  ) {
    super(root, dispatcher, slot);
  }

  override call(opts?: CallOptions): number {
    this.interrupted = false;
    let retries = 0;
    try {
      for (;;) {
        // Nothing of this operation has reached the plugin yet: across a restart it waits and runs.
        if (!this.root.waitServing()) return EIO;
        if (this.dispatcher.pigyLen > 0) this.attachPigy();
        // The abort flag belongs to the request being served (a grid request's post clears it).
        this.slot.relay.clearInterrupt();
        this.serve();
        const res = this.afterReply(0, opts, retries++);
        if (res !== EZUF_RETRY_DONE) return res;
      }
    } finally {
      this.slot.lent = null;
    }
  }

  override nudge(): void {}

  override lend(buf: Uint8Array): boolean {
    this.slot.lent = buf;
    return true;
  }

  override async callAsync(opts?: CallOptions): Promise<number> {
    return this.call(opts);
  }

  override callSoon(opts?: CallOptions): number {
    return this.call(opts);
  }

  override release(): void {
    this.slot.lent = null;
    this.busy = false;
  }
}

/** The app side of a zuf-root in one thread: its channels and its home ZT. */
export class Dispatcher {
  /** The home ZT of this thread: its channels are tried first. */
  readonly home: number;
  /** A request (e.g. PUT_MULTY) to ride on the next dispatch, ZUFS_H_HAS_PIGY_PUT. */
  readonly pigyBytes = new Uint8Array(PIGY_BYTES);
  readonly pigy = new DataView(this.pigyBytes.buffer);
  pigyLen = 0;
  /**
   * Where this thread publishes the grid slot its call has in flight (NOT_IN_FLIGHT between calls),
   * so that another thread can raise that channel's abort flag (Relay.interrupt): a FUSE reader
   * answering the kernel's INTERRUPT for a request another reader serves. null: not published.
   */
  inFlight: Int32Array | null = null;
  inFlightAt = 0;
  /** A private word to sleep on (Atomics.wait needs shared memory). */
  readonly sleepWord = new Int32Array(new SharedArrayBuffer(4));
  private readonly channels: readonly Channel[];
  private readonly mountChannel: Channel;
  private readonly ctl: Int32Array;
  private inline: InlineChannel | null = null;

  constructor(
    readonly root: ZufRoot,
    home = threadId,
  ) {
    this.home = home % root.zts;
    this.channels = root.slots.slice(0, root.gridSize).map((s) => new Channel(root, this, s));
    this.mountChannel = new Channel(root, this, root.mountSlot);
    this.ctl = root.ctl;
  }

  /**
   * Takes a free channel: the home ZT's channels first, then the others; when every channel is
   * busy, parks on the grid-wide "channel freed" word. Throws EIO when the server has failed or
   * stopped, ETIMEDOUT after timeoutMs.
   */
  acquire(timeoutMs = Number.POSITIVE_INFINITY): Channel {
    const inline = this.inline;
    if (inline !== null && !inline.busy) {
      inline.busy = true;
      return inline;
    }
    const ch = this.tryAcquire();
    return ch ?? this.acquireSlow(timeoutMs, false);
  }

  /**
   * From now on this thread's operations are served here: `serve` handles the operation in `slot`
   * (a slot of this thread's own, zuf-core createInlineSlot) and returns when the reply is written.
   * zus-server's serveInline() sets this up with an inline ZT. null goes back to the grid. A
   * dispatch made while the inline channel is busy (a re-entrant one) goes to the grid.
   */
  serveInline(slot: Slot | null, serve?: () => void): void {
    if (slot && !serve) throw new TypeError('serveInline: a slot needs its serve function');
    this.inline = slot && serve ? new InlineChannel(this.root, this, slot, serve) : null;
  }

  /** True when this thread's operations are served inline. */
  get servesInline(): boolean {
    return this.inline !== null;
  }

  /** The slot this thread serves its own operations on (serveInline), or null. */
  get inlineSlot(): Slot | null {
    return this.inline?.slot ?? null;
  }

  /** Takes the mount channel (mount, umount, remount are served by the mount thread). */
  acquireMount(timeoutMs = Number.POSITIVE_INFINITY): Channel {
    if (this.mountChannel.slot.relay.grabIfFssWaiting()) return this.mountChannel;
    return this.acquireSlow(timeoutMs, true);
  }

  /**
   * Queues a PUT_MULTY to ride on this thread's next dispatch (ZUFS_H_HAS_PIGY_PUT): the server
   * releases what a GET_MULTY of [filepos, filepos + len) took, without a round trip of its own.
   * Returns the zufs_ioc_IO at `pigy` so the caller can add io-map entries.
   */
  setPigyPut(zusIi: number, filepos: number, len: number): DataView {
    const v = this.pigy;
    this.pigyBytes.fill(0, 0, IocIO.SIZE);
    v.setUint16(IocHdr.in_len, IocIO.SIZE, true);
    v.setUint16(IocHdr.operation, ZUFS_OP_PUT_MULTY, true);
    v.setUint32(IocHdr.len, len, true);
    setU64(v, IocIO.zus_ii, zusIi);
    setU64(v, IocIO.filepos, filepos);
    this.pigyLen = IocIO.SIZE;
    return v;
  }

  tryAcquire(): Channel | null {
    const chans = this.channels;
    const nch = this.root.channels;
    const zts = this.root.zts;
    for (let k = 0; k < zts; k++) {
      let z = this.home + k;
      if (z >= zts) z -= zts;
      const base = z * nch;
      for (let c = 0; c < nch; c++) {
        const ch = chans[base + c];
        if (ch.slot.relay.grabIfFssWaiting()) return ch;
      }
    }
    return null;
  }

  /** @internal */
  channelFreed(): void {
    notifyChannelFreed(this.ctl);
  }

  private acquireSlow(timeoutMs: number, mount: boolean): Channel {
    const ctl = this.ctl;
    const root = this.root;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      // A restarting server serves again in a moment: wait for it (bounded), then look again.
      if (!root.isServing() && !root.waitServing())
        throw ZufsError.fromErrno(Errno.EIO, 'dispatch', 'zufs server is not serving');
      // Announce the wait before the last look, so a release between the two cannot be missed.
      const gen = Atomics.load(ctl, CTL_GRID_GEN);
      Atomics.add(ctl, CTL_GRID_WAITERS, 1);
      const ch = mount
        ? this.mountChannel.slot.relay.grabIfFssWaiting()
          ? this.mountChannel
          : null
        : this.tryAcquire();
      if (ch) {
        Atomics.sub(ctl, CTL_GRID_WAITERS, 1);
        return ch;
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        Atomics.sub(ctl, CTL_GRID_WAITERS, 1);
        throw ZufsError.fromErrno(Errno.ETIMEDOUT, 'dispatch', `no free channel within ${timeoutMs} ms`);
      }
      Atomics.wait(ctl, CTL_GRID_GEN, gen, Math.min(left, PARK_SLICE_MS));
      Atomics.sub(ctl, CTL_GRID_WAITERS, 1);
    }
  }
}

/**
 * A channel became free to grab: wakes the threads parked for one, if any (an app's release, or
 * the server's, for a channel it had retired).
 */
export function notifyChannelFreed(ctl: Int32Array): void {
  if (Atomics.load(ctl, CTL_GRID_WAITERS) > 0) {
    Atomics.add(ctl, CTL_GRID_GEN, 1);
    Atomics.notify(ctl, CTL_GRID_GEN);
  }
}

const dispatchers = new WeakMap<ZufRoot, Dispatcher>();

/** This thread's dispatcher for a root (one per thread and root). */
export function dispatcherFor(root: ZufRoot): Dispatcher {
  let d = dispatchers.get(root);
  if (!d) {
    d = new Dispatcher(root);
    dispatchers.set(root, d);
  }
  return d;
}
