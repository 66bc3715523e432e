/**
 * The supervisor worker: watches the server's threads, and replaces them when one dies (restart)
 * or when the filesystem modules change (reload).
 *
 * It exists because the thread that started the server may be blocked in a synchronous call, where
 * its event loop cannot see a worker exit, let alone start new workers: the supervisor's event loop
 * is always free. Each server thread holds a life port whose other end is here; a port closes when
 * the thread that holds it ends, however it ends (return, exception, process.exit, terminate(), out
 * of memory).
 *
 * A close while the server serves is a death. Within the restart budget (at most maxRestarts in
 * restartPeriodMs, as Erlang/OTP's intensity and period or systemd's StartLimitBurst) the server
 * restarts: the zuf-root goes to RESTARTING (new operations wait, bounded), the dead thread's
 * channels break (its operations get EIO), the operations in flight on the others finish (bounded),
 * then every relay breaks, the old threads end (their loops end on the broken relays), and a
 * new generation is spawned here: its mount thread mounts every volume again from the ledger (what
 * each mount was: type, options, descriptor), its ZTs revive their channels, and the root serves
 * again with a new epoch. Past the budget, or when the server was not serving, the server is failed
 * for good as before: every operation EIO at once.
 *
 * The supervisor ends by itself once every server thread has ended (stop()).
 */
import { type MessagePort, parentPort, type Worker, workerData } from 'node:worker_threads';
import {
  attachZufRoot,
  fsTypes,
  STATE_MOUNT_READY,
  STATE_READY,
  STATE_STARTING,
  type ZufRootDescriptor,
} from '@zufs/zuf-core';
import { loadFsTypes } from './fs-loader.js';
import { type Generation, type GenerationConfig, spawnGeneration, spawnWorker } from './generation.js';
import type {
  GoMessage,
  LedgerEntry,
  LedgerMessage,
  SupervisorEvent,
  SupervisorRequest,
  WorkerEvent,
} from './messages.js';

/** How long after the server serves (or serves again) the standby generation is spawned. */
const STANDBY_DELAY_MS = 1000;
/**
 * How long, after a thread died, the operations in flight on the others may take to finish before
 * every channel breaks (EIO): a synchronous plugin answers in microseconds, one that awaits the
 * network in milliseconds.
 */
const CRASH_DRAIN_MS = 1000;

export interface RestartPolicy {
  /** Restarts allowed within periodMs; one more fails the server for good. 0: never restart. */
  maxRestarts: number;
  periodMs: number;
  /** How long the old threads may take to end, and the new ones to serve, before the server fails. */
  timeoutMs: number;
  /** Keep a standby generation booted for the next crash (ServerOptions.restartStandby). */
  standby: boolean;
}

const data = workerData as {
  root: ZufRootDescriptor;
  config: GenerationConfig;
  policy: RestartPolicy;
  /** The first generation, spawned by the starting thread: its life ports, names, control port. */
  lives: MessagePort[];
  names: string[];
  served: number[][];
  control: MessagePort;
};
const root = attachZufRoot(data.root);
const config: GenerationConfig = { ...data.config, filesystems: [...data.config.filesystems] };
const policy = data.policy;
const post = (e: SupervisorEvent) => parentPort!.postMessage(e);
const keepAlive = () => {};

/** What each mount was, to mount it again (kept up to date by the mount thread). */
const ledger = new Map<number, LedgerEntry>();
let nextSbId = 1;
/** Restart times within the period (crashes only: a reload is asked for). */
const restarts: number[] = [];
let failed = false;
let restarting = false;
/** The names of the workers this thread spawned. */
const names = new WeakMap<Worker, string>();
/** Inline ZT ports that came while no mount thread could take them. */
const heldPorts: MessagePort[] = [];

interface Gen {
  /** Threads of this generation still running (their life ports still open). */
  running: number;
  ended: Promise<void>;
  control: MessagePort;
  /** The workers, when this thread spawned them (every generation after the first). */
  workers: Worker[];
  /** Why a thread of it failed, by name (its error event), when this thread spawned it. */
  errors: Map<string, string>;
}
let gen: Gen = watch(
  {
    lives: data.lives,
    names: data.names,
    served: data.served,
    control: data.control,
    zts: [],
    mount: null as unknown as Worker,
  },
  [],
);

function watch(
  g: Omit<Generation, 'zts' | 'mount'> & Partial<Generation>,
  workers: Worker[],
  errors = new Map<string, string>(),
): Gen {
  let endAll!: () => void;
  const me: Gen = {
    running: g.lives.length,
    ended: new Promise<void>((r) => {
      endAll = r;
    }),
    control: g.control,
    workers,
    errors,
  };
  g.lives.forEach((port, i) => {
    // A 'message' listener refs the port: this thread lives as long as a server thread does.
    port.on('message', keepAlive);
    port.once('close', () => {
      port.off('message', keepAlive);
      if (--me.running === 0) endAll();
      if (gen !== me) return;
      died(g.names[i], me.errors.get(g.names[i]) ?? '');
      // In a restart, its operations in flight can never be answered: EIO now (after died()
      // quarantined the channels, so that no app grabs a broken one meanwhile); the other
      // threads' finish. (A stop breaks each channel itself.)
      if (restarting) root.breakSlots(g.served[i]);
    });
  });
  g.control.on('message', (m: LedgerMessage) => {
    if (m.type === 'mounted') {
      ledger.set(m.entry.sbId, m.entry);
      nextSbId = Math.max(nextSbId, m.entry.sbId + 1);
    } else if (m.type === 'unmounted') ledger.delete(m.sbId);
  });
  return me;
}

/** A thread of the serving generation ended. */
function died(who: string, message: string): void {
  const s = root.state();
  if (failed || restarting) return;
  if (s !== STATE_READY && s !== STATE_MOUNT_READY) {
    // Starting: start() reports it and ends the rest. Stopping, stopped: an end, not a death.
    if (s === STATE_STARTING) fail(who, message);
    return;
  }
  const now = performance.now();
  while (restarts.length > 0 && now - restarts[0] > policy.periodMs) restarts.shift();
  if (restarts.length >= policy.maxRestarts) {
    const why =
      policy.maxRestarts === 0
        ? ''
        : ` (${restarts.length} restarts within ${policy.periodMs} ms: the budget is spent)`;
    fail(who, message + why);
    return;
  }
  restarts.push(now);
  // New operations wait; those in flight on the threads still alive finish (drain) before the
  // relays break, so that an application's EIO means the operation did not happen: only the dead
  // thread's operations fail (the caller breaks its channels).
  if (!root.beginRestart()) return;
  restarting = true;
  const t0 = performance.now();
  post({ type: 'restarting', who, message, reason: 'crash' });
  void drain(CRASH_DRAIN_MS)
    .then(() => {
      root.breakAll();
      return replace('crash', t0);
    })
    .catch((e) => fail('zufs-supervisor', `restart failed: ${errText(e)}`));
}

/**
 * Waits until no application holds a channel of the quarantined grid (their operations were
 * answered and released), at most `ms`: one stuck past it (say, on a lock a dead thread held) gets
 * EIO from the break that follows.
 */
async function drain(ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!root.slots.every((s) => s.relay.isRetiredFree()) && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1));
  }
}

function fail(who: string, message: string): void {
  if (failed) return;
  failed = true;
  // Every waiter gets EIO now; the exit code is not known yet (-1 in the root).
  root.fail(-1);
  const mine = gen.workers.find((w) => w.threadId >= 0 && names.get(w) === who);
  if (!mine) {
    // A thread of the first generation: the starting thread hears its exit code.
    post({ type: 'died', who, message });
  } else {
    const timer = setTimeout(() => post({ type: 'died', who, message, code: -1 }), 200);
    mine.once('exit', (code) => {
      clearTimeout(timer);
      post({ type: 'died', who, message, code });
    });
  }
  for (const w of gen.workers) if (w !== mine) void w.terminate();
  discard(standby);
  standby = null;
}

/** Waits for `p`, at most `ms`; false when the time ran out. */
function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.then(() => true),
    new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * A generation spawned ahead (standby): its threads boot and load the modules while the server
 * serves, and wait for go. A restart then costs no boot: the old threads end, go, the volumes are
 * mounted again. Crashes use the standby kept ready (restartStandby); a reload prepares one on its
 * new modules before it stops anything, so a module that does not load is refused while the old
 * code serves on.
 */
interface Prepared {
  readonly spawned: Generation;
  readonly workers: Worker[];
  readonly errors: Map<string, string>;
  readonly filesystems: string[];
  /** Every thread booted (said standby); rejects when one ends first. */
  readonly booted: Promise<void>;
  /** Every thread serves (ready, registered) after go; rejects when one ends first. */
  readonly serving: Promise<void>;
  dead: boolean;
}

/** The standby generation kept for the next crash, if any. */
let standby: Prepared | null = null;
let standbyTimer: ReturnType<typeof setTimeout> | null = null;
let stopping = false;

function prepare(filesystems: string[]): Prepared {
  const workers: Worker[] = [];
  const errors = new Map<string, string>();
  const booted: Promise<void>[] = [];
  const serving: Promise<void>[] = [];
  const state = { dead: false };
  const expect = (w: Worker, name: string, type: WorkerEvent['type']) =>
    new Promise<void>((resolve, reject) => {
      w.on('message', (m: WorkerEvent) => {
        if (m.type === type) resolve();
      });
      w.once('exit', (code) => {
        state.dead = true;
        const why = errors.get(name);
        reject(new Error(`${name} exited with code ${code}${why ? `: ${why}` : ''}`));
      });
    });
  const spawned = spawnGeneration(
    root.descriptor,
    { ...config, filesystems },
    (file, name, wd, transfer) => {
      const w = spawnWorker(file, name, wd, transfer);
      workers.push(w);
      names.set(w, name);
      w.on('message', (m: WorkerEvent) => {
        if (m.type === 'log') post(m);
      });
      w.on('error', (e) => errors.set(name, errText(e)));
      booted.push(expect(w, name, 'standby'));
      return w;
    },
    true,
  );
  // (Listened to in the tick that spawned them: nothing they post can have arrived yet.)
  for (const w of spawned.zts) serving.push(expect(w, names.get(w)!, 'ready'));
  serving.push(expect(spawned.mount, 'zufs-mount', 'registered'));
  const all = (ps: Promise<void>[]) => {
    const x = Promise.all(ps).then(() => {});
    x.catch(() => {}); // a rejection nobody waits for is not unhandled
    return x;
  };
  return Object.assign(state, {
    spawned,
    workers,
    errors,
    filesystems,
    booted: all(booted),
    serving: all(serving),
  });
}

/** Ends a prepared generation that will not serve. */
function discard(p: Prepared | null): void {
  if (!p) return;
  p.dead = true;
  for (const w of p.workers) void w.terminate();
  for (const port of p.spawned.lives) port.close();
  p.spawned.control.close();
}

/** A standby for the next crash, a moment after the server serves (a short-lived server never pays it). */
function scheduleStandby(): void {
  if (!policy.standby || policy.maxRestarts === 0 || standby || standbyTimer || failed || stopping) return;
  standbyTimer = setTimeout(() => {
    standbyTimer = null;
    if (failed || stopping || standby) return;
    if (restarting || !root.isServing()) scheduleStandby();
    else standby = prepare(config.filesystems);
  }, STANDBY_DELAY_MS);
  standbyTimer.unref();
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The restart's second half: once the root is RESTARTING and the relays are broken, waits for the
 * old generation to end, hands the grid to the next one (`next`, else the standby, else one
 * spawned now) with the ledger's mounts, and serves again.
 */
async function replace(reason: 'crash' | 'reload', t0: number, next: Prepared | null = null): Promise<void> {
  restarting = true;
  if (!next) {
    const ready = standby && !standby.dead && sameList(standby.filesystems, config.filesystems);
    next = ready ? standby : null;
    if (!ready) discard(standby);
    standby = null;
    next ??= prepare(config.filesystems);
  }
  const old = gen;
  if (!(await within(old.ended, policy.timeoutMs))) {
    discard(next);
    throw new Error(`the old server threads did not end within ${policy.timeoutMs} ms`);
  }
  let midChange = false;
  for (let i = 0; i < root.gridSize; i++) if (Atomics.load(root.slots[i].changing, 0) !== 0) midChange = true;
  root.forgetDeadChanges();
  const epoch = root.epoch() + 1;
  const plan = {
    epoch,
    reason,
    mounts: [...ledger.values()],
    nextSbId,
    midChange,
    begun: root.restartsBegun(),
  };
  const g = watch(next.spawned, next.workers, next.errors);
  gen = g;
  for (const w of next.spawned.zts) w.postMessage({ type: 'go', begun: plan.begun } satisfies GoMessage);
  next.spawned.mount.postMessage({ type: 'go', restart: plan } satisfies GoMessage);
  if (!(await within(next.serving, policy.timeoutMs))) {
    throw new Error(`the new server threads did not serve within ${policy.timeoutMs} ms`);
  }
  for (const p of heldPorts.splice(0)) g.control.postMessage({ type: 'inline-port', port: p }, [p]);
  restarting = false;
  root.endRestart();
  post({ type: 'restarted', epoch, ms: performance.now() - t0, reason });
  scheduleStandby();
}

/**
 * A live reload: new operations wait, those in flight finish, then the threads are replaced on the
 * new modules (refused, with the old code serving on, when a mounted type is missing or its format's
 * major version changed).
 */
async function reload(id: number, filesystems: string[]): Promise<void> {
  const t0 = performance.now();
  if (failed || restarting || !root.isServing()) {
    post({ type: 'reloaded', id, error: 'the server is not serving' });
    return;
  }
  let types: Awaited<ReturnType<typeof loadFsTypes>>;
  try {
    types = await loadFsTypes(filesystems.map(fresh));
  } catch (e) {
    post({ type: 'reloaded', id, error: `the new modules do not load: ${errText(e)}` });
    return;
  }
  const registered = fsTypes(root);
  for (const m of ledger.values()) {
    const t = types.find((x) => x.name === m.type);
    const was = registered.find((x) => x.name === m.type);
    if (!t) {
      post({ type: 'reloaded', id, error: `no module of the new set registers ${m.type}, which is mounted` });
      return;
    }
    if (was && (t.version?.major ?? 0) !== was.versionMajor) {
      post({
        type: 'reloaded',
        id,
        error: `${m.type}: format version ${t.version?.major ?? 0}.x cannot take over volumes of version ${was.versionMajor}.x`,
      });
      return;
    }
  }
  // The new threads boot and load the new modules while the old ones serve.
  restarting = true;
  discard(standby);
  standby = null;
  const next = prepare(filesystems);
  let bootError = '';
  const booted = await within(
    next.booted.catch((e) => {
      bootError = errText(e);
    }),
    policy.timeoutMs,
  );
  if (!booted || bootError || next.dead || failed || !root.beginRestart()) {
    discard(next);
    restarting = false;
    const why =
      bootError ||
      (booted ? 'the server is not serving' : `the new threads did not start within ${policy.timeoutMs} ms`);
    post({ type: 'reloaded', id, error: why });
    scheduleStandby();
    return;
  }
  post({ type: 'restarting', who: 'reload', message: '', reason: 'reload' });
  // Operations in flight finish (their apps release their channels); then the threads are broken.
  await drain(policy.timeoutMs);
  root.breakAll();
  config.filesystems = [...filesystems];
  try {
    await replace('reload', t0, next);
    post({ type: 'reloaded', id });
  } catch (e) {
    fail('zufs-supervisor', `reload failed: ${errText(e)}`);
    post({ type: 'reloaded', id, error: errText(e) });
  }
}

/**
 * The module as it is now: a module this isolate imported before is cached, so a file's URL gets a
 * query that no import used yet (the server threads are new isolates: they read the file anew).
 */
let reloads = 0;
function fresh(spec: string): string {
  let url: string;
  try {
    url = import.meta.resolve(spec);
  } catch {
    return spec;
  }
  return url.startsWith('file:') ? `${url}${url.includes('?') ? '&' : '?'}zufs-reload=${++reloads}` : url;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

parentPort!.on('message', (m: SupervisorRequest) => {
  if (m.type === 'inline-port') {
    if (restarting || failed) heldPorts.push(m.port);
    else gen.control.postMessage({ type: 'inline-port', port: m.port }, [m.port]);
  } else if (m.type === 'reload') void reload(m.id, m.filesystems);
  else if (m.type === 'stopping') {
    stopping = true;
    for (const p of heldPorts.splice(0)) p.close();
    if (standbyTimer) clearTimeout(standbyTimer);
    discard(standby);
    standby = null;
    parentPort!.unref();
  }
});
// Requests from the starting thread must not keep this thread alive: the server threads do.
parentPort!.unref();
post({ type: 'watching' });
scheduleStandby();
