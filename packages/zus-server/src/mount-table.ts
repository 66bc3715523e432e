/**
 * The mounts one server thread has attached to: a ZT thread (for every channel it serves) or an
 * inline ZT. The mount thread posts attach and detach notices on the thread's port and bumps the
 * mount generation; the table pulls them when an operation finds the generation changed.
 */
import { type BroadcastChannel, type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { CTL_MOUNT_GEN, type ZufRoot } from '@zufs/zuf-core';
import type { InlineNotice } from './messages.js';
import type { FsType, SuperBlock } from './plugin.js';

export interface Mounted {
  readonly sbId: number;
  /** The restart count when it was mounted: a notice of a later one replaces the attachment. */
  readonly epoch: number;
  readonly type: FsType;
  readonly sb: SuperBlock;
  /** The plugin implements no change at all: every change answers EROFS (ops.ts). */
  readonly readOnly: boolean;
}

/** True when a detach of `sbId` follows notice `i`. */
function detachedAfter(notices: readonly InlineNotice[], i: number, sbId: number): boolean {
  for (let j = i + 1; j < notices.length; j++) {
    const n = notices[j];
    if (n.type === 'detach' && n.sbId === sbId) return true;
  }
  return false;
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

export class MountTable {
  private readonly mounts = new Map<number, Mounted>();
  private gen = 0;
  /** A mount was let go of since takeReleased(): its memory waits for a garbage collection. */
  private released = false;
  /** Mounts attached here whose type is remote (FsType.remote): the thread then never blocks. */
  remote = 0;

  /**
   * @param port where the mount thread's notices arrive (a ZT thread's port, or the server's
   *   broadcast channel for an inline ZT)
   * @param index the thread's index for plugins and logs (its first channel; an inline ZT is -1)
   */
  constructor(
    private readonly root: ZufRoot,
    private readonly types: readonly FsType[],
    private readonly port: MessagePort | BroadcastChannel,
    private readonly log: (level: 'warn' | 'error', message: string) => void,
    private readonly index: number,
  ) {}

  /** The superblock of a mount in this thread (attached on first use; gone once unmounted). */
  get(sbId: number): Mounted | undefined {
    this.poll();
    return this.mounts.get(sbId);
  }

  /** Applies the notices waiting, if any: one load when there are none (each operation, an idle wake). */
  poll(): void {
    if (Atomics.load(this.root.ctl, CTL_MOUNT_GEN) !== this.gen) this.drainNotices();
  }

  /**
   * Pulls mount notices the mount thread posted (synchronously: a ZT may never idle in its event
   * loop). A mount attached and detached within the notices is skipped: never attached here.
   */
  private drainNotices(): void {
    this.gen = Atomics.load(this.root.ctl, CTL_MOUNT_GEN);
    // Node reads a BroadcastChannel this way too (its types only name MessagePort).
    const port = this.port as MessagePort;
    const notices: InlineNotice[] = [];
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port))
      notices.push(m.message as InlineNotice);
    for (let i = 0; i < notices.length; i++) {
      const n = notices[i];
      if (n.type === 'attach' && !this.mounts.has(n.sbId) && detachedAfter(notices, i, n.sbId)) {
        this.released = true; // the notice itself held the descriptor
        continue;
      }
      this.notice(n);
    }
  }

  /** True once after a mount was let go of here (see collect.ts). */
  takeReleased(): boolean {
    const r = this.released;
    this.released = false;
    return r;
  }

  /**
   * Applies one notice of the mount thread (an attach of a mount already attached is a replay; one
   * of a later epoch is the mount made again after a restart, which replaces it).
   */
  notice(n: InlineNotice): void {
    if (n.type === 'attach') {
      const was = this.mounts.get(n.sbId);
      if (was && was.epoch >= n.epoch) return;
      if (was) this.notice({ type: 'detach', sbId: n.sbId });
      const type = this.types[n.fsIndex];
      try {
        if (!type) throw new Error(`no filesystem type ${n.fsIndex} was loaded here`);
        const sb = type.attach(n.descriptor, { sbId: n.sbId, root: this.root, zt: this.index });
        this.mounts.set(n.sbId, { sbId: n.sbId, epoch: n.epoch, type, sb, readOnly: isReadOnly(sb) });
        if (type.remote === true) this.remote++;
      } catch (e) {
        this.log(
          'error',
          `ZT ${this.index}: ${type?.name ?? 'mount'}.attach threw: ${e instanceof Error ? e.message : e}`,
        );
      }
    } else if (n.type === 'detach') {
      const m = this.mounts.get(n.sbId);
      this.mounts.delete(n.sbId);
      this.released = true;
      if (m?.type.remote === true) this.remote--;
      try {
        m?.sb.detach?.();
      } catch {
        // A failing detach loses nothing: the mount is gone either way.
      }
    }
  }

  /** Detaches from every mount (a thread that stops serving). */
  detachAll(): void {
    for (const sbId of [...this.mounts.keys()]) this.notice({ type: 'detach', sbId });
  }

  /** Takes the mount generation already seen (an inline ZT given the mounts up to it). */
  seenGen(gen: number): void {
    this.gen = gen;
  }
}
