/**
 * The server's threads, as the thread that called startServer() sees them: it spawns the first
 * generation (the ZT grid and the mount thread) and the supervisor all at once (each is an isolate
 * to boot: started one after another they took twice as long), hears their logs and the
 * supervisor's news (a restart, a failure), and breaks them at stop. Later generations are the
 * supervisor's (supervisor.ts).
 */
import { type MessagePort, Worker } from 'node:worker_threads';
import { RELAY_BROKEN } from '@zufs/relay';
import { STATE_MOUNT_READY, STATE_READY, STATE_STOPPING, type ZufRoot } from '@zufs/zuf-core';
import { IocHdr, ZUFS_OP_BREAK } from '@zufs/zuf-core/api';
import { type GenerationConfig, spawnGeneration } from './generation.js';
import type { SupervisorEvent, SupervisorRequest, WorkerEvent } from './messages.js';
import type { RestartPolicy } from './supervisor.js';

export interface ServerRestart {
  /** The thread that died ('reload' for a live reload). */
  who: string;
  reason: 'crash' | 'reload';
  /** Restarts so far (the zuf-root's epoch). */
  epoch: number;
  /** How long the server did not serve, in ms. */
  ms: number;
  /** Why the thread died, when known. */
  message: string;
}

export interface ThreadsOptions extends GenerationConfig {
  stopTimeoutMs: number;
  policy: RestartPolicy;
  log: (level: 'warn' | 'error', message: string) => void;
  onFailure?: (info: { who: string; code: number; message: string }) => void;
  onRestart?: (info: ServerRestart) => void;
}

type Event = WorkerEvent | SupervisorEvent;

export class ServerThreads {
  /** The filesystem types the mount thread registered (once start() resolved). */
  fsTypes: string[] = [];
  /** The threads this thread spawned: the first generation and the supervisor. */
  private readonly live = new Set<Worker>();
  private readonly supervisor: Worker;
  private readonly started: Promise<void>;
  private starting = true;
  private stopping = false;
  private failed = false;
  private firstError = '';
  /** Threads of the first generation that ended, by name: their exit code and error. */
  private readonly exits = new Map<string, { code: number; message: string }>();
  private readonly errors = new Map<string, string>();
  /** The supervisor's word that the server failed for good. */
  private culprit: Extract<SupervisorEvent, { type: 'died' }> | null = null;
  /** The restart under way: who died, and why. */
  private restartCause: { who: string; message: string } | null = null;
  private reloads = 0;
  private readonly reloading = new Map<number, (error: string | undefined) => void>();
  private allGone!: () => void;
  private readonly gone = new Promise<void>((resolve) => {
    this.allGone = resolve;
  });

  constructor(
    private readonly root: ZufRoot,
    private readonly o: ThreadsOptions,
  ) {
    const d = root.descriptor;
    const config: GenerationConfig = {
      filesystems: o.filesystems,
      appCopyWaitMs: o.appCopyWaitMs,
      ztThreads: o.ztThreads,
    };
    const first = spawnGeneration(
      d,
      config,
      (file, name, wd, transfer) => this.spawn(file, name, wd, transfer),
      false,
    );
    const swd = {
      root: d,
      config,
      policy: o.policy,
      lives: first.lives,
      names: first.names,
      served: first.served,
      control: first.control,
    };
    this.supervisor = this.spawn('./supervisor.js', 'zufs-supervisor', swd, [...first.lives, first.control]);
    // Listen before anything can arrive: a message emitted with no listener is lost.
    const ztsReady = Promise.all(first.zts.map((w) => waitFor(w, 'ready')));
    const registered = waitFor(first.mount, 'registered');
    const watching = waitFor(this.supervisor, 'watching');
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

  /** Hands an inline ZT's port to the mount thread (through the supervisor, which knows the current one). */
  inlinePort(port: MessagePort): void {
    if (this.stopping || this.failed) port.close();
    else this.request({ type: 'inline-port', port }, [port]);
  }

  /** A live reload on `filesystems`; resolves once the new threads serve, rejects if refused or failed. */
  reload(filesystems: string[]): Promise<void> {
    if (this.stopping || this.failed)
      return Promise.reject(new Error('zufs reload: the server is not serving'));
    const id = ++this.reloads;
    return new Promise((resolve, reject) => {
      this.reloading.set(id, (error) => (error ? reject(new Error(`zufs reload: ${error}`)) : resolve()));
      this.request({ type: 'reload', id, filesystems });
    });
  }

  /** BREAK every ZT through its relay (as ZUFS does), then wait until every thread has ended. */
  async stop(): Promise<void> {
    this.stopping = true;
    const root = this.root;
    this.request({ type: 'stopping' });
    for (const [, settle] of this.reloading) settle('the server stopped');
    this.reloading.clear();
    // Past the deadline, break whatever still runs: waits below then return at once. Ending the
    // supervisor ends the threads it spawned.
    const hard = setTimeout(() => {
      root.markStopped();
      for (const w of this.live) void w.terminate();
    }, this.o.stopTimeoutMs);
    try {
      if (this.live.size > 0) {
        // A restart under way ends first (bounded): its new threads must get their BREAK too.
        await root.waitServingAsync();
        root.setState(STATE_STOPPING);
        await this.breakAll(performance.now() + this.o.stopTimeoutMs);
      }
      await this.gone;
    } finally {
      clearTimeout(hard);
    }
  }

  private request(m: SupervisorRequest, transfer: MessagePort[] = []): void {
    this.supervisor.postMessage(m, transfer);
  }

  private async breakAll(deadline: number): Promise<void> {
    const root = this.root;
    const pending = root.slots.map((s) => s.index);
    // Channels still in use finish their operation first; then each free ZT gets a BREAK.
    while (pending.length && performance.now() < deadline && this.live.size > 0) {
      for (let k = pending.length - 1; k >= 0; k--) {
        const slot = root.slots[pending[k]];
        if (!slot.relay.grabIfFssWaiting()) {
          // A channel no ZT revived after a failed restart: nobody serves it.
          if (slot.relay.isBroken()) pending.splice(k, 1);
          continue;
        }
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
    // Channels an app still holds (or that stayed quarantined): their ZTs end on a broken relay.
    if (pending.length) root.markStopped();
  }

  private spawn(file: string, name: string, wd: unknown, transfer: MessagePort[]): Worker {
    const w = new Worker(new URL(file, import.meta.url), { workerData: wd, transferList: transfer, name });
    this.live.add(w);
    w.on('error', (e) => {
      this.errors.set(name, e instanceof Error ? (e.stack ?? e.message) : String(e));
      this.firstError ||= e instanceof Error ? e.message : String(e);
    });
    w.on('message', (m: Event) => this.event(m));
    w.on('exit', (code) => {
      this.live.delete(w);
      if (!this.stopping) {
        this.exits.set(name, { code, message: this.errors.get(name) || `${name} exited with code ${code}` });
        // The supervisor decides what a server thread's end means; its own end fails the server.
        // (Once it has failed the server, it ends by itself: the thread it named is to blame.)
        if (w === this.supervisor && this.culprit === null)
          this.fail('zufs-supervisor', code, this.exits.get(name)!.message);
        else this.report();
      }
      if (this.live.size === 0) this.allGone();
    });
    return w;
  }

  private event(m: Event): void {
    if (m.type === 'log') this.o.log(m.level, m.message);
    else if (m.type === 'died') {
      this.culprit = m;
      this.report();
    } else if (m.type === 'restarting') {
      const message = m.message || this.errors.get(m.who) || this.exits.get(m.who)?.message || '';
      this.restartCause = { who: m.who, message };
      if (m.reason === 'crash')
        this.o.log(
          'error',
          `server thread ${m.who} died${message ? `: ${message}` : ''}; restarting the server`,
        );
    } else if (m.type === 'restarted') {
      const cause = this.restartCause ?? { who: m.reason, message: '' };
      this.restartCause = null;
      this.o.onRestart?.({ ...cause, reason: m.reason, epoch: m.epoch, ms: m.ms });
    } else if (m.type === 'reloaded') {
      this.reloading.get(m.id)?.(m.error);
      this.reloading.delete(m.id);
    }
  }

  /**
   * The supervisor failed the server: reported once the dead thread's exit code is known (a thread
   * of the first generation is this thread's: its exit event says).
   */
  private report(): void {
    const m = this.culprit;
    if (m === null) return;
    const exit = this.exits.get(m.who);
    if (m.code === undefined && !exit) return;
    this.fail(m.who, m.code ?? exit!.code, m.message || exit?.message || 'it ended');
  }

  private fail(who: string, code: number, message: string): void {
    if (this.starting || this.stopping || this.failed) return;
    this.failed = true;
    // The supervisor has failed the root already, unless this thread saw the end first.
    this.root.fail(code);
    this.o.log('error', `server thread ${who} died (code ${code}): ${message}; the server is failed`);
    this.o.onFailure?.({ who, code, message });
    for (const [, settle] of this.reloading) settle('the server failed');
    this.reloading.clear();
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
