/**
 * The supervisor worker: owns the mount thread and the ZT grid, watches them die.
 *
 * It exists because the thread that started the server may be blocked in a synchronous call, where
 * its event loop cannot see a worker exit. The supervisor's event loop always can: when a server
 * thread dies it marks the zuf-root failed and breaks every relay, so every waiter gets EIO at once.
 */
import { MessageChannel, type MessagePort, parentPort, Worker, workerData } from 'node:worker_threads';
import { RELAY_BROKEN } from '@zufs/relay';
import {
  attachZufRoot,
  STATE_MOUNT_READY,
  STATE_READY,
  STATE_STOPPING,
  type ZufRootDescriptor,
} from '@zufs/zuf-core';
import { IocHdr, ZUFS_OP_BREAK } from '@zufs/zuf-core/api';
import type { InlinePortMessage, SupervisorEvent, WorkerEvent } from './messages.js';

interface SupervisorData {
  root: ZufRootDescriptor;
  filesystems: string[];
  stopTimeoutMs: number;
  appCopyWaitMs: number;
  /** ZT worker threads; the grid's channels are dealt to them in contiguous runs. */
  ztThreads: number;
}

const data = workerData as SupervisorData;
const root = attachZufRoot(data.root);
const port = parentPort!;
const post = (e: SupervisorEvent) => port.postMessage(e);

let started = false;
let stopping = false;
let failed = false;
let firstError = '';
const live = new Set<Worker>();
let mountThread: Worker | null = null;

function fail(who: string, code: number, message: string): void {
  if (stopping || failed) return;
  failed = true;
  root.fail(code === 0 ? -1 : code);
  post({ type: 'failed', who, code, message });
  // The rest of the server is useless now: end it, so that nothing is left running.
  for (const w of live) void w.terminate();
}

function spawn(file: string, name: string, wd: unknown, transfer: MessagePort[]): Worker {
  const w = new Worker(new URL(file, import.meta.url), { workerData: wd, transferList: transfer, name });
  live.add(w);
  let lastError = '';
  w.on('error', (e) => {
    lastError = e instanceof Error ? (e.stack ?? e.message) : String(e);
    firstError ||= e instanceof Error ? e.message : String(e);
  });
  w.on('message', (m: WorkerEvent) => {
    if (m.type === 'log') post(m);
  });
  w.on('exit', (code) => {
    live.delete(w);
    // While starting, start() reports the failure (start-failed), not the exit handler.
    if (started && !stopping) fail(name, code, lastError || `${name} exited with code ${code}`);
    if (started && stopping && live.size === 0) finish();
  });
  return w;
}

function waitFor<T extends WorkerEvent['type']>(
  w: Worker,
  type: T,
): Promise<Extract<WorkerEvent, { type: T }>> {
  return new Promise((resolve, reject) => {
    w.on('message', (m: WorkerEvent) => {
      if (m.type === type) resolve(m as Extract<WorkerEvent, { type: T }>);
    });
    w.once('exit', (code) => reject(new Error(`a server thread exited with code ${code} while starting`)));
  });
}

async function start(): Promise<void> {
  const ztPorts: MessagePort[] = [];
  const zts: Worker[] = [];
  const n = data.ztThreads;
  for (let t = 0; t < n; t++) {
    const ch = new MessageChannel();
    ztPorts.push(ch.port2);
    // Thread t serves slots [t * G / n, (t + 1) * G / n): with n = zts, a ZT row each (ZUFS's shape).
    const from = Math.floor((t * root.gridSize) / n);
    const to = Math.floor(((t + 1) * root.gridSize) / n);
    const slots = Array.from({ length: to - from }, (_, k) => from + k);
    const wd = {
      root: data.root,
      slots,
      filesystems: data.filesystems,
      port: ch.port1,
      appCopyWaitMs: data.appCopyWaitMs,
    };
    const name = slots.length === 1 ? `zufs-zt-${from}` : `zufs-zt-${from}-${to - 1}`;
    zts.push(spawn('./zt-worker.js', name, wd, [ch.port1]));
  }
  const mwd = { root: data.root, filesystems: data.filesystems, ztPorts };
  const mount = spawn('./mount-worker.js', 'zufs-mount', mwd, ztPorts);
  mountThread = mount;
  // Listen before anything can arrive: a message emitted with no listener is lost.
  const ztsReady = Promise.all(zts.map((w) => waitFor(w, 'ready')));
  const registered = waitFor(mount, 'registered');
  registered.catch(() => {});
  try {
    await ztsReady;
    root.setState(STATE_READY);
    const reg = await registered;
    root.setState(STATE_MOUNT_READY);
    started = true;
    post({ type: 'ready', fsTypes: reg.fsTypes });
  } catch (e) {
    stopping = true;
    root.markStopped();
    // Let the 'error' event of the failing worker arrive, so the message says why.
    await new Promise((r) => setTimeout(r, 20));
    post({ type: 'start-failed', message: firstError || (e as Error).message });
    await Promise.all([...live].map((w) => w.terminate()));
    finish();
  }
}

/** BREAK every ZT through its relay (as ZUFS does), then end whatever did not go. */
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (live.size === 0) return finish();
  root.setState(STATE_STOPPING);
  const deadline = Date.now() + data.stopTimeoutMs;
  // Past the deadline, break whatever still runs: waits below then return at once.
  const hard = setTimeout(() => {
    root.markStopped();
    for (const w of live) void w.terminate();
  }, data.stopTimeoutMs);
  hard.unref();
  const pending = root.slots.map((s) => s.index);
  // Channels still in use finish their operation first; then each free ZT gets a BREAK.
  sweep: while (pending.length && Date.now() < deadline) {
    for (let k = pending.length - 1; k >= 0; k--) {
      const slot = root.slots[pending[k]];
      if (!slot.relay.grabIfFssWaiting()) continue;
      pending.splice(k, 1);
      if (slot === root.mountSlot) {
        slot.relay.break();
        continue;
      }
      slot.op.setUint16(IocHdr.operation, ZUFS_OP_BREAK, true);
      slot.op.setUint16(IocHdr.in_len, IocHdr.SIZE, true);
      const r = await slot.relay.appWakeupAndWaitAsync({ timeoutMs: 50 });
      if (r & RELAY_BROKEN) break sweep;
    }
    if (pending.length) await new Promise((r) => setTimeout(r, 5));
  }
  if (live.size === 0) finish();
}

function finish(): void {
  root.markStopped();
  post({ type: 'stopped' });
  port.close();
}

port.on('message', (m: { type: string } | InlinePortMessage) => {
  if (m.type === 'stop') void stop();
  else if (m.type === 'inline-port') {
    const p = (m as InlinePortMessage).port;
    // A server stopping has no mounts to give: the inline ZT hears nothing and gives up.
    if (mountThread && !stopping && !failed) mountThread.postMessage(m, [p]);
    else p.close();
  }
});

void start();
