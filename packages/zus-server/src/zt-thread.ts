/**
 * A ZT thread: the channels one worker thread serves, how it waits for them, and the operations it
 * has pending.
 *
 * How many operations may be in flight is the grid's size (zts x channels), not the number of
 * threads: a thread serves one channel or several. While it has nothing pending and serves one
 * channel of a synchronous filesystem, it blocks on that channel's relay (spin, then Atomics.wait):
 * today's path, no event loop, no allocation. Otherwise it waits on every idle channel from its
 * event loop (Atomics.waitAsync), and an operation whose plugin returned a Promise stays pending
 * while the other channels serve. A ticker, running only while something is pending, passes the
 * app's interrupts to the operations' AbortSignals and answers EIO past an operation's deadline.
 */
import { RELAY_BROKEN, RELAY_TIMEOUT } from '@zufs/relay';
import { notifyChannelFreed, STATE_RESTARTING, type ZufRoot } from '@zufs/zuf-core';
import { collectGarbage } from './collect.js';
import { DONE, PENDING, STOP, type Zt } from './zt.js';

/** Spin budget of a thread that serves several channels (relayDefaults.maxSpinUs; one thread's is 50). */
export const SHARED_THREAD_SPIN_US = 5;

/** How often a thread with pending operations looks at their interrupts and deadlines. */
export const PENDING_TICK_MS = 5;

/**
 * An idle channel wakes this often to apply the mount thread's notices, and to collect what an
 * unmount left (collect.ts). Notices wait on the thread's port until an operation asks for a
 * mount, and an attach notice holds the mount's memory (its SharedArrayBuffers) as does the
 * attached superblock: a thread that served nothing since an unmount would keep the volume's
 * memory until the server stops.
 */
export const IDLE_NOTICES_MS = 1000;

/** An idle wake: the mount notices, then a collection if a mount was let go of. */
function idle(zt: Zt): void {
  zt.mounts.poll();
  if (zt.mounts.takeReleased()) collectGarbage();
}

/** One channel as this thread serves it, with its callbacks made once. */
interface Served {
  readonly zt: Zt;
  readonly posted: (r: number) => void;
  readonly fulfilled: (value: unknown) => void;
  readonly rejected: (reason: unknown) => void;
  stopped: boolean;
}

export class ZtThread {
  private readonly served: Served[];
  /** Channels with an operation pending (or stale: answered EIO, its Promise not settled). */
  private inFlight = 0;
  private live: number;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private readonly tick = (): void => this.checkPending();
  private readonly resumeBlocking = (): void => {
    if (this.blocks()) this.block(this.served[0]);
    else this.arm(this.served[0]);
  };
  private finished!: () => void;
  /** Resolves when every channel of the thread got BREAK or was broken. */
  readonly done = new Promise<void>((resolve) => {
    this.finished = resolve;
  });

  /**
   * @param zts the thread's channels, which share one MountTable
   * @param shared the thread has other work on its event loop (the mount channel): it never blocks
   */
  constructor(
    private readonly root: ZufRoot,
    zts: readonly Zt[],
    private readonly shared = false,
  ) {
    this.served = zts.map((zt) => {
      const s: Served = {
        zt,
        posted: (r) => this.posted(s, r),
        fulfilled: (value) => this.settled(s, true, value),
        rejected: (reason) => this.settled(s, false, reason),
        stopped: false,
      };
      return s;
    });
    this.live = zts.length;
  }

  /**
   * Marks every channel free to grab and serves them until BREAK or a broken relay. `revive` (the
   * restarts begun when this generation was spawned): the channels come from a generation that
   * died: each is taken over once the app that held it has released it (Relay.revive), unless
   * another restart begins first.
   */
  start(revive: number | null = null): Promise<void> {
    if (revive !== null) void this.reviveAll(revive).then((ok) => (ok ? this.serve() : this.finished()));
    else {
      for (const s of this.served) s.zt.slot.relay.fssReady();
      this.serve();
    }
    return this.done;
  }

  private serve(): void {
    if (this.blocks()) this.block(this.served[0]);
    else for (const s of this.served) this.arm(s);
  }

  /** Takes every channel over; false when the server stopped or failed meanwhile. */
  private async reviveAll(begun: number): Promise<boolean> {
    const mine = () => this.root.restartsBegun() === begun;
    for (const s of this.served) {
      while (!s.zt.slot.relay.revive(mine)) {
        // Replaced already (another restart began), or the server stopped or failed.
        if (!mine() || (this.root.state() !== STATE_RESTARTING && !this.root.isServing())) return false;
        await new Promise((r) => setTimeout(r, 1));
      }
      notifyChannelFreed(this.root.ctl);
    }
    return true;
  }

  /**
   * Today's synchronous path: a thread of its own, one channel, nothing pending, no remote
   * filesystem mounted (its client library's sockets and timers must run between operations:
   * FsType.remote).
   */
  private blocks(): boolean {
    return (
      !this.shared && this.served.length === 1 && this.inFlight === 0 && this.served[0].zt.mounts.remote === 0
    );
  }

  /** Serves one channel synchronously until an operation goes pending (or the ZT stops). */
  private block(s: Served): void {
    const zt = s.zt;
    const relay = zt.slot.relay;
    for (;;) {
      const r = relay.fssWait(IDLE_NOTICES_MS);
      if (r & RELAY_BROKEN) {
        this.stop(s);
        return;
      }
      if (r & RELAY_TIMEOUT) {
        idle(zt);
        continue;
      }
      const res = zt.handle();
      if (res === PENDING) {
        this.track(s);
        return;
      }
      zt.served++;
      relay.appWakeup();
      if (res === STOP) {
        this.stop(s);
        return;
      }
    }
  }

  /** Waits for the channel's next request from the event loop. */
  private arm(s: Served): void {
    s.zt.slot.relay.fssWaitAsync(IDLE_NOTICES_MS).then(s.posted);
  }

  private posted(s: Served, r: number): void {
    if (r & RELAY_BROKEN) {
      this.stop(s);
      return;
    }
    if (r & RELAY_TIMEOUT) {
      idle(s.zt);
      this.arm(s);
      return;
    }
    const res = s.zt.handle();
    if (res === PENDING) {
      this.track(s);
      return;
    }
    this.replied(s, res);
  }

  private replied(s: Served, res: number): void {
    const zt = s.zt;
    zt.served++;
    zt.slot.relay.appWakeup();
    if (res === STOP) this.stop(s);
    else this.resume(s);
  }

  /** The channel is idle again: back to blocking when this thread may, else armed. */
  private resume(s: Served): void {
    // One turn of the event loop first: what the plugin's Promise left behind runs before we block.
    if (this.blocks()) setImmediate(this.resumeBlocking);
    else this.arm(s);
  }

  /** An operation went pending: watch its Promise, its interrupt and its deadline. */
  private track(s: Served): void {
    this.inFlight++;
    this.ticker ??= setInterval(this.tick, PENDING_TICK_MS);
    this.watch(s);
  }

  private watch(s: Served): void {
    s.zt.promise!.then(s.fulfilled, s.rejected);
  }

  private settled(s: Served, ok: boolean, value: unknown): void {
    const zt = s.zt;
    if (zt.stale) {
      // Answered EIO at its deadline; now the plugin is done with the channel's buffers.
      this.untrack();
      if (zt.unstale(ok, value)) notifyChannelFreed(this.root.ctl);
      this.resume(s);
      return;
    }
    const res = zt.settle(ok, value);
    if (res === PENDING) {
      this.watch(s);
      return;
    }
    this.untrack();
    this.replied(s, DONE);
  }

  private untrack(): void {
    if (--this.inFlight === 0 && this.ticker !== null) {
      clearInterval(this.ticker);
      this.ticker = null;
    }
  }

  /** The ticker: interrupts become aborted signals; an operation past its deadline answers EIO. */
  private checkPending(): void {
    const now = performance.now();
    const serving = this.root.isServing();
    for (const s of this.served) {
      const zt = s.zt;
      if (zt.promise === null || zt.stale) continue;
      if (!serving) zt.abort(new DOMException('the zufs server is not serving', 'AbortError'));
      else if (now >= zt.deadline) {
        zt.expire();
        zt.slot.relay.appWakeup();
      } else zt.checkInterrupt();
    }
  }

  private stop(s: Served): void {
    if (s.stopped) return;
    s.stopped = true;
    if (--this.live === 0) {
      if (this.ticker !== null) clearInterval(this.ticker);
      this.ticker = null;
      this.finished();
    }
  }
}
