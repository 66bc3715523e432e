/**
 * The server's threads, as the thread that called startServer() sees them: it spawns the
 * supervisor, the ZT grid and the mount thread all at once (each is an isolate to boot: started one
 * after another they took twice as long), hears their logs and exits, and breaks them at stop.
 */
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { RELAY_BROKEN } from '@zufs/relay';
import { STATE_MOUNT_READY, STATE_READY, STATE_STOPPING, type ZufRoot } from '@zufs/zuf-core';
import { IocHdr, ZUFS_OP_BREAK } from '@zufs/zuf-core/api';
import type { SupervisorEvent, WorkerEvent } from './messages.js';

export interface ThreadsOptions {
  filesystems: string[];
  stopTimeoutMs: number;
  appCopyWaitMs: number;
  /** ZT worker threads; the grid's channels are dealt to them in contiguous runs. */
  ztThreads: number;
  log: (level: 'warn' | 'error', message: string) => void;
  onFailure?: (info: { who: string; code: number; message: string }) => void;
}

type Event = WorkerEvent | SupervisorEvent;

export class ServerThreads {
  /** The filesystem types the mount thread registered (once start() resolved). */
  fsTypes: string[] = [];
  private readonly live = new Set<Worker>();
  private readonly mountThread: Worker;
  private readonly started: Promise<void>;
  private starting = true;
  private stopping = false;
  private failed = false;
  private firstError = '';
  /** Server threads that ended on their own (not stopping), by name. */
  private readonly exits = new Map<string, { code: number; message: string }>();
  /** The thread the supervisor saw die first. */
  private culprit: string | null = null;
  private allGone!: () => void;
  private readonly gone = new Promise<void>((resolve) => {
    this.allGone = resolve;
  });

  constructor(
    private readonly root: ZufRoot,
    private readonly o: ThreadsOptions,
  ) {
    const d = root.descriptor;
    const lives: MessagePort[] = [];
    const names: string[] = [];
    const life = (name: string): MessagePort => {
      const ch = new MessageChannel();
      lives.push(ch.port2);
      names.push(name);
      return ch.port1;
    };
    const n = o.ztThreads;
    const ztThreads = Array.from({ length: n }, (_, t) => {
      // Thread t serves slots [t * G / n, (t + 1) * G / n): with n = zts, a ZT row each (ZUFS's shape).
      const from = Math.floor((t * root.gridSize) / n);
      const to = Math.floor(((t + 1) * root.gridSize) / n);
      const slots = Array.from({ length: to - from }, (_, k) => from + k);
      const name = slots.length === 1 ? `zufs-zt-${from}` : `zufs-zt-${from}-${to - 1}`;
      return { slots, name, life: life(name) };
    });
    const mountLife = life('zufs-mount');
    // The supervisor first: it boots while the others do, and must watch before start() resolves.
    const supervisor = this.spawn('./supervisor.js', 'zufs-supervisor', { root: d, lives, names }, lives);
    const ztPorts: MessagePort[] = [];
    const zts = ztThreads.map(({ slots, name, life }) => {
      const ch = new MessageChannel();
      ztPorts.push(ch.port2);
      const wd = {
        root: d,
        slots,
        filesystems: o.filesystems,
        port: ch.port1,
        life,
        appCopyWaitMs: o.appCopyWaitMs,
      };
      return this.spawn('./zt-worker.js', name, wd, [ch.port1, life]);
    });
    const mwd = { root: d, filesystems: o.filesystems, ztPorts, life: mountLife };
    this.mountThread = this.spawn('./mount-worker.js', 'zufs-mount', mwd, [...ztPorts, mountLife]);
    // Listen before anything can arrive: a message emitted with no listener is lost.
    const ztsReady = Promise.all(zts.map((w) => waitFor(w, 'ready')));
    const registered = waitFor(this.mountThread, 'registered');
    const watching = waitFor(supervisor, 'watching');
    this.started = Promise.all([ztsReady, registered, watching]).then(([, reg]) => {
      // One that said it was ready may have ended since.
      for (const [who, e] of this.exits) throw new Error(`${who}: ${e.message}`);
      root.setState(STATE_READY);
      root.setState(STATE_MOUNT_READY);
      this.fsTypes = reg.fsTypes;
      this.starting = false;
    });
  }

  /** Resolves once every thread is up; rejects (every thread ended) with why one could not start. */
  async start(): Promise<void> {
    try {
      await this.started;
    } catch (e) {
      this.stopping = true;
      this.root.markStopped();
      // Let the 'error' event of the failing worker arrive, so the message says why.
      await new Promise((r) => setTimeout(r, 20));
      await Promise.all([...this.live].map((w) => w.terminate()));
      throw new Error(`zufs server failed to start: ${this.firstError || (e as Error).message}`);
    }
  }

  /** Hands an inline ZT's port to the mount thread; a server stopping or failed has none to give. */
  inlinePort(port: MessagePort): void {
    if (this.stopping || this.failed) port.close();
    else this.mountThread.postMessage({ type: 'inline-port', port }, [port]);
  }

  /** BREAK every ZT through its relay (as ZUFS does), then wait until every thread has ended. */
  async stop(): Promise<void> {
    this.stopping = true;
    const root = this.root;
    // Past the deadline, break whatever still runs: waits below then return at once.
    const hard = setTimeout(() => {
      root.markStopped();
      for (const w of this.live) void w.terminate();
    }, this.o.stopTimeoutMs);
    try {
      if (this.live.size > 0) {
        root.setState(STATE_STOPPING);
        await this.breakAll(performance.now() + this.o.stopTimeoutMs);
      }
      await this.gone;
    } finally {
      clearTimeout(hard);
    }
  }

  private async breakAll(deadline: number): Promise<void> {
    const root = this.root;
    const pending = root.slots.map((s) => s.index);
    // Channels still in use finish their operation first; then each free ZT gets a BREAK.
    while (pending.length && performance.now() < deadline && this.live.size > 0) {
      for (let k = pending.length - 1; k >= 0; k--) {
        const slot = root.slots[pending[k]];
        if (!slot.relay.grabIfFssWaiting()) continue;
        pending.splice(k, 1);
        // ZUFS_M_MOUNT shares its number with BREAK: the mount thread's relay is broken instead.
        if (slot === root.mountSlot) {
          slot.relay.break();
          continue;
        }
        slot.op.setUint16(IocHdr.operation, ZUFS_OP_BREAK, true);
        slot.op.setUint16(IocHdr.in_len, IocHdr.SIZE, true);
        const r = await slot.relay.appWakeupAndWaitAsync({ timeoutMs: 50 });
        if (r & RELAY_BROKEN) return;
      }
      if (pending.length) await new Promise((r) => setTimeout(r, 5));
    }
  }

  private spawn(file: string, name: string, wd: unknown, transfer: MessagePort[]): Worker {
    const w = new Worker(new URL(file, import.meta.url), { workerData: wd, transferList: transfer, name });
    this.live.add(w);
    let lastError = '';
    w.on('error', (e) => {
      lastError = e instanceof Error ? (e.stack ?? e.message) : String(e);
      this.firstError ||= e instanceof Error ? e.message : String(e);
    });
    w.on('message', (m: Event) => {
      if (m.type === 'log') this.o.log(m.level, m.message);
      else if (m.type === 'died') {
        this.culprit = m.who;
        this.report();
      }
    });
    w.on('exit', (code) => {
      this.live.delete(w);
      if (!this.stopping) {
        this.exits.set(name, { code, message: lastError || `${name} exited with code ${code}` });
        this.report();
      }
      if (this.live.size === 0) this.allGone();
    });
    return w;
  }

  /**
   * Reports a dead thread once its exit is known: the one the supervisor named, which died first
   * (the others may have ended because of it), or the supervisor itself. While starting, start()
   * reports the failure instead.
   */
  private report(): void {
    if (this.starting || this.stopping || this.failed) return;
    const who = this.culprit ?? 'zufs-supervisor';
    const exit = this.exits.get(who);
    if (exit) this.fail(who, exit.code, exit.message);
  }

  private fail(who: string, code: number, message: string): void {
    this.failed = true;
    // The supervisor has failed the root already, unless this thread saw the exit first.
    this.root.fail(code);
    this.o.log('error', `server thread ${who} died (code ${code}): ${message}; the server is failed`);
    this.o.onFailure?.({ who, code, message });
    // The rest of the server is useless now: end it, so that nothing is left running.
    for (const w of this.live) void w.terminate();
  }
}

function waitFor<T extends Event['type']>(w: Worker, type: T): Promise<Extract<Event, { type: T }>> {
  return new Promise((resolve, reject) => {
    w.on('message', (m: Event) => {
      if (m.type === type) resolve(m as Extract<Event, { type: T }>);
    });
    w.once('exit', (code) => reject(new Error(`a server thread exited with code ${code} while starting`)));
  });
}
