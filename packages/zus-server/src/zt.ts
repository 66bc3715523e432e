/**
 * The ZT loop: wait on the relay, decode the operation, call the plugin, encode the reply, hand the
 * baton back. One ZT per grid slot, each a worker thread (a V8 isolate of its own).
 */
import { type BroadcastChannel, type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { RELAY_BROKEN, RELAY_OK, RELAY_TIMEOUT } from '@zufs/relay';
import {
  CTL_MOUNT_GEN,
  changeBegin,
  changeEnd,
  isZufsError,
  type Slot,
  STATE_STOPPING,
  type ZufRoot,
} from '@zufs/zuf-core';
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
import type { InlineNotice } from './messages.js';
import { handleFsOp } from './ops.js';
import type { AppCopyResult, FsType, OpContext, SuperBlock } from './plugin.js';

const EIO = -Errno.EIO;

/**
 * Operations that only read a filesystem: served without the change seqlock (change.ts in
 * zuf-core). Everything else, including operations of plugins we cannot see into (IOCTL) and READ
 * (a plugin may update atime), counts as a change.
 */
const READS_ONLY = new Uint8Array(32);
for (const op of [
  ZUFS_OP_STATFS,
  ZUFS_OP_SHOW_OPTIONS,
  ZUFS_OP_LOOKUP,
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

export interface Mounted {
  readonly sbId: number;
  readonly type: FsType;
  readonly sb: SuperBlock;
  /** The plugin implements no change at all: every change answers EROFS (ops.ts). */
  readonly readOnly: boolean;
}

/** A superblock with none of the operations that change a filesystem. */
export function isReadOnly(sb: SuperBlock): boolean {
  return !(
    sb.newInode ||
    sb.addDentry ||
    sb.removeDentry ||
    sb.rename ||
    sb.write ||
    sb.setattr ||
    sb.setxattr
  );
}

export class Zt {
  private readonly mounts = new Map<number, Mounted>();
  /** Operations answered, for diagnostics. */
  served = 0;
  /** Bytes of the operation buffer a request or reply may use (the piggy-back tail excluded). */
  readonly capacity: number;
  private mountGen = 0;
  /** The argument area of an ioctl request (fixed: the operation buffer never moves). */
  readonly ioctlArg: DataView;
  readonly context: OpContext;

  /**
   * @param port where the mount thread's notices arrive (a grid ZT's port, or the server's broadcast
   *   channel for an inline ZT)
   * @param index the ZT's index for plugins and logs (an inline ZT, outside the grid, is -1)
   */
  constructor(
    readonly root: ZufRoot,
    readonly slot: Slot,
    private readonly types: readonly FsType[],
    private readonly port: MessagePort | BroadcastChannel,
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
    this.context = {
      zt: index,
      interrupted: () => relay.isInterrupted(),
      copyFromApp: (runs, n) => this.copyFromApp(runs, n),
    };
  }

  /** Serves until BREAK or until the relay is broken (server stopped or failed). */
  serve(): void {
    const relay = this.slot.relay;
    relay.fssReady();
    for (;;) {
      const r = relay.fssWait();
      if (r & RELAY_BROKEN) return;
      if (r & RELAY_TIMEOUT) continue;
      const stop = this.handle();
      this.served++;
      relay.appWakeup();
      if (stop) return;
    }
  }

  /** GET_MULTY may allocate blocks when it is for a write (ZUFS_RW_WRITE): then it is a change. */
  private getMultyForWrite(op: number, v: DataView): boolean {
    return op === ZUFS_OP_GET_MULTY && (v.getUint32(IocIO.rw, true) & ZUFS_RW_WRITE) !== 0;
  }

  /** Handles the operation in the slot's buffer; returns true for BREAK. */
  handle(): boolean {
    const v = this.slot.op;
    const op = v.getUint16(IocHdr.operation, true);
    let err = 0;
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
          return true;
        case ZUFS_OP_NOOP:
          err = this.noop();
          break;
        default:
          if (op < READS_ONLY.length && READS_ONLY[op] && !this.getMultyForWrite(op, v))
            err = handleFsOp(this, op, v);
          else {
            // A change: app threads reading shared memory without a dispatch must see it happen.
            changeBegin(this.root.ctl);
            try {
              err = handleFsOp(this, op, v);
            } finally {
              changeEnd(this.root.ctl);
            }
          }
      }
    } catch (e) {
      err = this.failedOp(op, e);
    }
    // out_len above out_max is the overflow protocol; past the buffer it is a malformed reply.
    if (v.getUint16(IocHdr.out_start, true) + v.getUint16(IocHdr.out_len, true) > this.capacity) {
      const n = v.getUint16(IocHdr.out_len, true);
      this.log('error', `ZT ${this.index}: ${opName(op)} replied ${n} bytes, past the operation buffer: EIO`);
      v.setUint16(IocHdr.out_len, 0, true);
      err = EIO;
    }
    v.setInt32(IocHdr.err, err, true);
    return false;
  }

  /** The superblock of a mount in this ZT (attached on first use; gone once unmounted). */
  mounted(sbId: number): Mounted | undefined {
    // One load per operation: a changed generation means mount notices wait on the port.
    if (Atomics.load(this.root.ctl, CTL_MOUNT_GEN) !== this.mountGen) this.drainNotices();
    return this.mounts.get(sbId);
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
    changeEnd(this.root.ctl);
    this.slot.relay.appWakeup();
    const result = this.awaitCopy(state);
    changeBegin(this.root.ctl);
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

  /** A thrown typed errno becomes that errno; anything else is EIO and a log line. */
  failedOp(op: number, e: unknown): number {
    if (isZufsError(e) && e.errno > 0 && e.errno < 4096) return -e.errno;
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
      this.mounted(iiSb(ii))?.sb.putMulty?.(iiIno(ii), v, at);
    } catch (e) {
      // The put belongs to an earlier operation; its failure must not fail this one.
      this.failedOp(ZUFS_OP_PUT_MULTY, e);
    }
  }

  /** Pulls mount notices the mount thread posted to this ZT (synchronously: the ZT never idles in its event loop). */
  private drainNotices(): void {
    this.mountGen = Atomics.load(this.root.ctl, CTL_MOUNT_GEN);
    // Node reads a BroadcastChannel this way too (its types only name MessagePort).
    const port = this.port as MessagePort;
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
      this.notice(m.message as InlineNotice);
    }
  }

  /** Applies one notice of the mount thread (an attach of a mount already attached is a replay). */
  notice(n: InlineNotice): void {
    if (n.type === 'attach') {
      if (this.mounts.has(n.sbId)) return;
      const type = this.types[n.fsIndex];
      try {
        const sb = type.attach(n.descriptor, { sbId: n.sbId, root: this.root, zt: this.index });
        this.mounts.set(n.sbId, { sbId: n.sbId, type, sb, readOnly: isReadOnly(sb) });
      } catch (e) {
        this.log(
          'error',
          `ZT ${this.index}: ${type.name}.attach threw: ${e instanceof Error ? e.message : e}`,
        );
      }
    } else if (n.type === 'detach') {
      const m = this.mounts.get(n.sbId);
      this.mounts.delete(n.sbId);
      try {
        m?.sb.detach?.();
      } catch {
        // A failing detach loses nothing: the mount is gone either way.
      }
    }
  }

  /** Detaches from every mount (an inline ZT that stops serving). */
  detachAll(): void {
    for (const sbId of [...this.mounts.keys()]) this.notice({ type: 'detach', sbId });
  }

  /** Takes the mount generation already seen (an inline ZT given the mounts up to it). */
  seenMountGen(gen: number): void {
    this.mountGen = gen;
  }
}
