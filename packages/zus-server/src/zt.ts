/**
 * A ZT: one channel of the grid, served. It decodes the operation in the channel's buffer, calls the
 * plugin, encodes the reply. When the plugin returns a Promise the operation stays pending here (its
 * scratch, its change window, its AbortSignal) until settle() or expire(); the thread that serves
 * the channel (zt-thread.ts) waits for it and hands the baton back.
 */
import { RELAY_OK } from '@zufs/relay';
import { changeBegin, changeEnd, isZufsError, type Slot, STATE_STOPPING, type ZufRoot } from '@zufs/zuf-core';
import {
  APP_COPY_ABANDONED,
  APP_COPY_COPYING,
  APP_COPY_DONE,
  APP_COPY_REQUESTED,
  APP_COPY_RUN_BYTES,
  Errno,
  getU64,
  IocHdr,
  IocIO,
  IocIoctl,
  IocNoop,
  opName,
  pigyOffset,
  setU64,
  ZUFS_H_HAS_PIGY_PUT,
  ZUFS_OP_BREAK,
  ZUFS_OP_FIEMAP,
  ZUFS_OP_GET_MULTY,
  ZUFS_OP_LLSEEK,
  ZUFS_OP_LOOKUP,
  ZUFS_OP_LOOKUP_PATH,
  ZUFS_OP_MAX_OPT,
  ZUFS_OP_NOOP,
  ZUFS_OP_NULL,
  ZUFS_OP_PRE_READ,
  ZUFS_OP_PUT_MULTY,
  ZUFS_OP_READDIR,
  ZUFS_OP_SHOW_OPTIONS,
  ZUFS_OP_STATFS,
  ZUFS_OP_WRITE,
  ZUFS_OP_XATTR_GET,
  ZUFS_OP_XATTR_LIST,
  ZUFS_RET_APP_COPY,
  ZUFS_RW_APP_COPY,
  ZUFS_RW_WRITE,
} from '@zufs/zuf-core/api';
import { iiIno, iiSb } from './cookies.js';
import type { Mounted, MountTable } from './mount-table.js';
import { handleFsOp, type OpScratch, PENDING, type Then } from './ops.js';
import type { AppCopyResult, OpContext } from './plugin.js';

/** What handle() and settle() say: replied, pending (a Promise), or BREAK (the ZT stops). */
export const DONE = 0;
export { PENDING };
export const STOP = 2;

/** How long an operation's Promise may stay pending when its type declares no opDeadlineMs. */
export const DEFAULT_OP_DEADLINE_MS = 30_000;

/** The reason a pending operation's signal aborts when its app stops waiting. */
const appStopped = () => new DOMException('the app stopped waiting (timeout or abort)', 'AbortError');

const EIO = -Errno.EIO;

/**
 * Operations that only read a filesystem: served without the change seqlock (change.ts in
 * zuf-core). Everything else, including operations of plugins we cannot see into (IOCTL) and READ
 * (a plugin may update atime), counts as a change.
 */
const READS_ONLY = new Uint8Array(ZUFS_OP_MAX_OPT);
for (const op of [
  ZUFS_OP_STATFS,
  ZUFS_OP_SHOW_OPTIONS,
  ZUFS_OP_LOOKUP,
  ZUFS_OP_LOOKUP_PATH,
  ZUFS_OP_READDIR,
  ZUFS_OP_PRE_READ,
  ZUFS_OP_LLSEEK,
  ZUFS_OP_XATTR_GET,
  ZUFS_OP_XATTR_LIST,
  ZUFS_OP_FIEMAP,
  ZUFS_OP_GET_MULTY,
  ZUFS_OP_PUT_MULTY,
])
  READS_ONLY[op] = 1;

/**
 * How long a ZT waits for an app to copy a write's data (ServerOptions.appCopyWaitMs), twice at
 * most (before it begins, while it copies). The filesystem's lock is held meanwhile: an app thread
 * that ended mid-copy must cost other threads less than their own lock timeouts (pmemfs: 10 s),
 * and a live app is back within microseconds.
 */
export const DEFAULT_APP_COPY_WAIT_MS = 2_000;

/** A ZT's give-up on an app copy: the state moves from `from` to ABANDONED, unless the app moved it first. */
function abandon(state: Int32Array, from: number): boolean {
  return Atomics.compareExchange(state, 0, from, APP_COPY_ABANDONED) === from;
}

/** How long a parked ZT sleeps between looks at its relay when no notify comes. */
export const IDLE_PARK_SLICE_MS = 250;

export class Zt {
  /** Operations answered, for diagnostics. */
  served = 0;
  /** Bytes of the operation buffer a request or reply may use (the piggy-back tail excluded). */
  readonly capacity: number;
  /** The argument area of an ioctl request (fixed: the operation buffer never moves). */
  readonly ioctlArg: DataView;
  /** The context every plugin call of this channel gets; `seq` counts its operations. */
  readonly context: OpContext & { seq: number };
  /** The op handlers' scratch objects for this channel (ops.ts, made on first use). */
  scratch: OpScratch | null = null;
  /** The pending operation's Promise (a plugin call returned one); null when none is pending. */
  promise: PromiseLike<unknown> | null = null;
  /** performance.now() past which the pending operation answers EIO (expire). */
  deadline = 0;
  /** The pending operation answered EIO at its deadline and its Promise has not settled yet. */
  stale = false;
  private next: Then | null = null;
  private pendingMount: Mounted | null = null;
  private pendingOp = 0;
  /** The pending operation is a change: the change window stays open until it settles. */
  private changing = false;
  /** The current operation's AbortController, made when the plugin first asks for the signal. */
  private controller: AbortController | null = null;

  /**
   * @param mounts the mounts of the thread that serves this channel (shared by its channels)
   * @param index the channel's index for plugins and logs (an inline ZT, outside the grid, is -1)
   */
  constructor(
    readonly root: ZufRoot,
    readonly slot: Slot,
    readonly mounts: MountTable,
    private readonly log: (level: 'warn' | 'error', message: string) => void,
    readonly index = slot.index,
    private readonly appCopyWaitMs = DEFAULT_APP_COPY_WAIT_MS,
  ) {
    this.capacity = pigyOffset(slot.op.byteLength);
    this.ioctlArg = new DataView(
      slot.op.buffer,
      slot.op.byteOffset + IocIoctl.arg,
      this.capacity - IocIoctl.arg,
    );
    const relay = slot.relay;
    const zt = this;
    this.context = {
      zt: index,
      seq: 0,
      interrupted: () => relay.isInterrupted(),
      copyFromApp: (runs, n) => this.copyFromApp(runs, n),
      get signal() {
        return zt.signal();
      },
    };
  }

  /** The superblock of a mount (attached on first use; gone once unmounted). */
  mounted(sbId: number): Mounted | undefined {
    return this.mounts.get(sbId);
  }

  /**
   * For the op handlers: `r` is what the plugin returned. A value goes on to `then` at once; a
   * Promise makes the operation pending (PENDING), and `then` runs once it settles (settle()).
   */
  later(m: Mounted, r: unknown, then: Then): number {
    if (
      r === null ||
      (typeof r !== 'object' && typeof r !== 'function') ||
      typeof (r as PromiseLike<unknown>).then !== 'function'
    )
      return then(this, m, this.slot.op, r);
    this.promise = r as PromiseLike<unknown>;
    this.next = then;
    this.pendingMount = m;
    return PENDING;
  }

  private signal(): AbortSignal {
    let c = this.controller;
    if (c === null) {
      c = this.controller = new AbortController();
      if (this.slot.relay.isInterrupted()) c.abort(appStopped());
    }
    return c.signal;
  }

  /** A pending operation whose app stopped waiting (timeout, abort): its signal aborts. */
  checkInterrupt(): void {
    const c = this.controller;
    if (c !== null && !c.signal.aborted && this.slot.relay.isInterrupted()) c.abort(appStopped());
  }

  /** Aborts the pending operation's signal (the server fails or stops). */
  abort(reason: unknown): void {
    const c = this.controller;
    if (c !== null && !c.signal.aborted) c.abort(reason);
  }

  /** GET_MULTY may allocate blocks when it is for a write (ZUFS_RW_WRITE): then it is a change. */
  private getMultyForWrite(op: number, v: DataView): boolean {
    return op === ZUFS_OP_GET_MULTY && (v.getUint32(IocIO.rw, true) & ZUFS_RW_WRITE) !== 0;
  }

  /** Handles the operation in the slot's buffer: DONE (replied), PENDING (a Promise), or STOP (BREAK). */
  handle(): number {
    const v = this.slot.op;
    const op = v.getUint16(IocHdr.operation, true);
    this.context.seq++;
    let err = 0;
    let changing = false;
    try {
      if (v.getUint16(IocHdr.flags, true) & ZUFS_H_HAS_PIGY_PUT) this.pigyPut();
      switch (op) {
        case ZUFS_OP_NULL:
          break;
        case ZUFS_OP_BREAK:
          // Only the supervisor breaks a ZT, when the server stops: an app cannot take one away.
          if (this.root.state() !== STATE_STOPPING) {
            err = -Errno.EPERM;
            break;
          }
          v.setInt32(IocHdr.err, 0, true);
          return STOP;
        case ZUFS_OP_NOOP:
          err = this.noop();
          break;
        default:
          if (op < READS_ONLY.length && READS_ONLY[op] && !this.getMultyForWrite(op, v))
            err = handleFsOp(this, op, v);
          else {
            // A change: app threads reading shared memory without a dispatch must see it happen.
            changeBegin(this.root.ctl, this.slot.changing);
            changing = true;
            err = handleFsOp(this, op, v);
          }
      }
    } catch (e) {
      err = this.failedOp(op, e);
    }
    if (err === PENDING) {
      this.pendingOp = op;
      this.changing = changing;
      this.deadline = performance.now() + (this.pendingMount!.type.opDeadlineMs ?? DEFAULT_OP_DEADLINE_MS);
      return PENDING;
    }
    if (changing) changeEnd(this.root.ctl, this.slot.changing);
    this.reply(op, err);
    return DONE;
  }

  /**
   * The pending operation's Promise settled: fulfilled with `value` (ok) or rejected with it.
   * Runs the operation's next step: PENDING again (it called the plugin again), or DONE (replied).
   */
  settle(ok: boolean, value: unknown): number {
    const next = this.next!;
    const m = this.pendingMount!;
    const op = this.pendingOp;
    this.promise = this.next = this.pendingMount = null;
    let err: number;
    try {
      err = ok ? next(this, m, this.slot.op, value) : this.failedOp(op, value);
    } catch (e) {
      err = this.failedOp(op, e);
    }
    if (err === PENDING) return PENDING;
    this.endChange();
    this.reply(op, err);
    return DONE;
  }

  /**
   * The pending operation outlived its deadline (or cannot be waited for: `why` says): it answers
   * EIO now, with a log line, and its signal aborts. Its Promise may still settle, and the plugin
   * may still write into this channel's buffers until then: the channel is retired (no app can
   * take it) and its change window stays open until unstale().
   */
  expire(why?: string): void {
    const m = this.pendingMount!;
    const ms = m.type.opDeadlineMs ?? DEFAULT_OP_DEADLINE_MS;
    const what = `${opName(this.pendingOp)} of ${m.type.name}`;
    this.log('error', `ZT ${this.index}: ${what} ${why ?? `did not settle within ${ms} ms`}: EIO`);
    this.abort(new DOMException(`the operation outlived its deadline (${ms} ms)`, 'TimeoutError'));
    this.stale = true;
    this.slot.relay.fssRetire();
    this.reply(this.pendingOp, EIO);
  }

  /** The stale operation's Promise settled: the channel serves again. True when it is free at once. */
  unstale(ok: boolean, value: unknown): boolean {
    if (!ok && !isZufsError(value)) this.failedOp(this.pendingOp, value);
    this.stale = false;
    this.promise = this.next = this.pendingMount = null;
    this.endChange();
    return this.slot.relay.fssRestore();
  }

  private endChange(): void {
    if (!this.changing) return;
    this.changing = false;
    changeEnd(this.root.ctl, this.slot.changing);
  }

  /** Writes the reply's errno; the operation's AbortController is done with. */
  private reply(op: number, err: number): void {
    const v = this.slot.op;
    // out_len above out_max is the overflow protocol; past the buffer it is a malformed reply.
    if (v.getUint16(IocHdr.out_start, true) + v.getUint16(IocHdr.out_len, true) > this.capacity) {
      const n = v.getUint16(IocHdr.out_len, true);
      this.log('error', `ZT ${this.index}: ${opName(op)} replied ${n} bytes, past the operation buffer: EIO`);
      v.setUint16(IocHdr.out_len, 0, true);
      err = EIO;
    }
    v.setInt32(IocHdr.err, err, true);
    if (this.controller !== null) this.controller = null;
  }

  /**
   * OpContext.copyFromApp: hands the app the runs to fill (a mid-operation reply), waits for it to
   * post again, and says how it went (AppCopyResult). The app may take the copy only while the ZT
   * still waits (a CAS on the state word): a ZT that gave up before it began never meets a late
   * copy. An app that took it and then stays silent past a second wait was held still (a debugger)
   * or ended mid-copy: the ZT gives up on it too, and the plugin keeps the bytes from anyone else.
   */
  private copyFromApp(runs: Float64Array, n: number): AppCopyResult {
    const v = this.slot.op;
    const wv = this.slot.windowView;
    // Not asked: an inline ZT (the app is this thread), too many runs, or not a WRITE the app
    // copies (only such a WRITE may leave the change window below).
    if (
      this.index < 0 ||
      n * APP_COPY_RUN_BYTES > wv.byteLength ||
      v.getUint16(IocHdr.operation, true) !== ZUFS_OP_WRITE ||
      !(v.getUint32(IocIO.rw, true) & ZUFS_RW_APP_COPY)
    )
      return APP_COPY_ABANDONED;
    for (let i = 0; i < n * 3; i++) wv.setFloat64(i * 8, runs[i], true);
    setU64(v, IocIO.last_pos, n);
    v.setUint32(IocIO.ret_flags, v.getUint32(IocIO.ret_flags, true) | ZUFS_RET_APP_COPY, true);
    v.setInt32(IocHdr.err, 0, true);
    const state = this.slot.appCopyState;
    Atomics.store(state, 0, APP_COPY_REQUESTED);
    // A WRITE runs inside a change (handle): it leaves it while the app copies, so that other
    // threads read zus_inodes from pmem meanwhile. Nothing is torn for them: the plugin changes
    // nothing until we return, and the blocks the app fills are reachable by no block map (the
    // change began with a bump, and GET_MULTY waits for the plugin's lock).
    changeEnd(this.root.ctl, this.slot.changing);
    this.slot.relay.appWakeup();
    const result = this.awaitCopy(state);
    changeBegin(this.root.ctl, this.slot.changing);
    v.setUint32(IocIO.ret_flags, v.getUint32(IocIO.ret_flags, true) & ~ZUFS_RET_APP_COPY, true);
    return result;
  }

  /** copyFromApp's waits for the app's post, and the CASes that settle who gives up. */
  private awaitCopy(state: Int32Array): AppCopyResult {
    const relay = this.slot.relay;
    let r = relay.fssWait(this.appCopyWaitMs);
    if (r !== RELAY_OK && abandon(state, APP_COPY_REQUESTED)) {
      this.log('warn', `ZT ${this.index}: an app did not copy its write in time: EIO`);
      return APP_COPY_ABANDONED;
    }
    if (r !== RELAY_OK) r = relay.fssWait(this.appCopyWaitMs); // it began: a second wait
    if (r !== RELAY_OK && abandon(state, APP_COPY_COPYING)) {
      this.log('warn', `ZT ${this.index}: an app began copying its write and went silent: EIO`);
      return APP_COPY_COPYING;
    }
    // DONE and about to post, or posted: take the post. (A post with no copy begun is refused.)
    if (r !== RELAY_OK) relay.fssWait(this.appCopyWaitMs);
    const s = Atomics.compareExchange(state, 0, APP_COPY_REQUESTED, APP_COPY_ABANDONED);
    return s === APP_COPY_DONE
      ? APP_COPY_DONE
      : s === APP_COPY_REQUESTED
        ? APP_COPY_ABANDONED
        : APP_COPY_COPYING;
  }

  /**
   * A thrown typed errno becomes that errno; anything else is EIO and a log line. A lock that timed
   * out is logged too: the app sees only ETIMEDOUT, the log says which lock (its holder may have died).
   */
  failedOp(op: number, e: unknown): number {
    if (isZufsError(e) && e.errno > 0 && e.errno < 4096) {
      if (e.name === 'LockTimeoutError') this.log('error', `ZT ${this.index}: ${opName(op)}: ${e.message}`);
      return -e.errno;
    }
    const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
    this.log('error', `ZT ${this.index}: ${opName(op)} threw: ${msg}`);
    return EIO;
  }

  private noop(): number {
    // NOOP may carry data (window, or a pool dpp): check it is reachable, as a real operation would.
    const v = this.slot.op;
    const len = v.getUint32(IocHdr.len, true);
    if (len === 0) return 0;
    if (v.getUint16(IocHdr.in_len, true) >= IocNoop.SIZE) {
      return this.root.dppInPool(getU64(v, IocNoop.dpp), len) ? 0 : -Errno.EINVAL;
    }
    const off = v.getUint32(IocHdr.offset, true);
    return off + len <= this.slot.window.byteLength ? 0 : -Errno.EINVAL;
  }

  /** A PUT_MULTY that rode in on this operation (ZUFS_H_HAS_PIGY_PUT): served first. */
  private pigyPut(): void {
    const v = this.slot.op;
    const at = this.capacity;
    if (v.getUint16(at + IocHdr.operation, true) !== ZUFS_OP_PUT_MULTY) return;
    const ii = getU64(v, at + IocIO.zus_ii);
    try {
      const r = this.mounts.get(iiSb(ii))?.sb.putMulty?.(iiIno(ii), v, at, this.context);
      // Not waited for: it releases what an earlier operation took (read `io` before any await).
      if (r !== undefined) Promise.resolve(r).then(undefined, (e) => this.failedOp(ZUFS_OP_PUT_MULTY, e));
    } catch (e) {
      // The put belongs to an earlier operation; its failure must not fail this one.
      this.failedOp(ZUFS_OP_PUT_MULTY, e);
    }
  }
}
