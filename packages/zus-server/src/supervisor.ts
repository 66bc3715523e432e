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
 * restarts: the zuf-root goes to RESTARTING (new operations wait, bounded), every relay breaks
 * (operations in flight get EIO), the old threads end (their loops end on the broken relays), and a
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
  LedgerEntry,
  LedgerMessage,
  SupervisorEvent,
  SupervisorRequest,
  WorkerEvent,
} from './messages.js';

export interface RestartPolicy {
  /** Restarts allowed within periodMs; one more fails the server for good. 0: never restart. */
  maxRestarts: number;
  periodMs: number;
  /** How long the old threads may take to end, and the new ones to serve, before the server fails. */
  timeoutMs: number;
}

const data = workerData as {
  root: ZufRootDescriptor;
  config: GenerationConfig;
  policy: RestartPolicy;
  /** The first generation, spawned by the starting thread: its life ports, names, control port. */
  lives: MessagePort[];
  names: string[];
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
  { lives: data.lives, names: data.names, control: data.control, zts: [], mount: null as unknown as Worker },
  [],
);

function watch(g: Omit<Generation, 'zts' | 'mount'> & Partial<Generation>, workers: Worker[]): Gen {
  let endAll!: () => void;
  const me: Gen = {
    running: g.lives.length,
    ended: new Promise<void>((r) => {
      endAll = r;
    }),
    control: g.control,
    workers,
    errors: new Map(),
  };
  g.lives.forEach((port, i) => {
    // A 'message' listener refs the port: this thread lives as long as a server thread does.
    port.on('message', keepAlive);
    port.once('close', () => {
      port.off('message', keepAlive);
      if (--me.running === 0) endAll();
      if (gen === me) died(g.names[i], me.errors.get(g.names[i]) ?? '');
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
  if (!root.beginRestart()) return;
  post({ type: 'restarting', who, message, reason: 'crash' });
  void replace('crash', performance.now()).catch((e) =>
    fail('zufs-supervisor', `restart failed: ${errText(e)}`),
  );
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
 * The restart's second half: once the root is RESTARTING and the relays are broken, waits for the
 * old generation to end, spawns the new one with the ledger's mounts, and serves again.
 */
async function replace(reason: 'crash' | 'reload', t0: number): Promise<void> {
  restarting = true;
  const old = gen;
  if (!(await within(old.ended, policy.timeoutMs))) {
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
  const workers: Worker[] = [];
  const readies: Promise<unknown>[] = [];
  const spawned = spawnGeneration(
    root.descriptor,
    config,
    (file, name, wd, transfer) => {
      const w = spawnWorker(file, name, wd, transfer);
      workers.push(w);
      names.set(w, name);
      w.on('message', (m: WorkerEvent) => {
        if (m.type === 'log') post(m);
      });
      w.on('error', (e) => next.errors.set(name, errText(e)));
      readies.push(
        new Promise<void>((resolve, reject) => {
          const want = file === './mount-worker.js' ? 'registered' : 'ready';
          w.on('message', (m: WorkerEvent) => {
            if (m.type === want) resolve();
          });
          w.once('exit', (code) =>
            reject(
              new Error(`${name} exited with code ${code} while restarting: ${next.errors.get(name) ?? ''}`),
            ),
          );
        }),
      );
      return w;
    },
    plan,
  );
  const next = watch(spawned, workers);
  gen = next;
  const all = Promise.all(readies);
  all.catch(() => {}); // a late rejection after a timeout is not unhandled
  if (!(await within(all, policy.timeoutMs))) {
    throw new Error(`the new server threads did not serve within ${policy.timeoutMs} ms`);
  }
  for (const p of heldPorts.splice(0)) next.control.postMessage({ type: 'inline-port', port: p }, [p]);
  restarting = false;
  root.endRestart();
  post({ type: 'restarted', epoch, ms: performance.now() - t0, reason });
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
  if (!root.beginRestart(false)) {
    post({ type: 'reloaded', id, error: 'the server is not serving' });
    return;
  }
  restarting = true;
  post({ type: 'restarting', who: 'reload', message: '', reason: 'reload' });
  // Operations in flight finish (their apps release their channels); then the threads are broken.
  const deadline = performance.now() + policy.timeoutMs;
  while (!root.slots.every((s) => s.relay.isRetiredFree()) && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1));
  }
  root.breakAll();
  config.filesystems = [...filesystems];
  try {
    await replace('reload', t0);
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
    for (const p of heldPorts.splice(0)) p.close();
    parentPort!.unref();
  }
});
// Requests from the starting thread must not keep this thread alive: the server threads do.
parentPort!.unref();
post({ type: 'watching' });
