// Machines for the tests: server processes (fixtures/peer.mjs) on one volume, driven over IPC.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PEER = fileURLToPath(new URL('./fixtures/peer.mjs', import.meta.url));

export interface Peer {
  readonly child: ChildProcess;
  /** Runs `op` in the peer; rejects with the peer's error (its `code` kept). */
  ask<T = unknown>(op: string, ...args: unknown[]): Promise<T>;
  /** A node:fs method on the peer's mount. */
  call<T = unknown>(method: string, ...args: unknown[]): Promise<T>;
  /** Unmounts, stops the server, waits for the exit. */
  stop(): Promise<void>;
  kill9(): Promise<void>;
}

/** Starts a peer mounting the volume with `options` (device=...,ttl=...); resolves once it is mounted. */
export async function startPeer(options: string): Promise<Peer> {
  const child = fork(PEER, [options], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  let next = 1;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.once('exit', (code, signal) => {
    for (const w of waiting.values()) w.reject(new Error(`peer exited (${code ?? signal})`));
    waiting.clear();
  });
  const ready = new Promise<void>((resolve, reject) => {
    waiting.set(0, { resolve: () => resolve(), reject });
  });
  child.on('message', (m: { id: number; ok: boolean; value?: unknown; code?: string; message?: string }) => {
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.ok) w.resolve(m.value);
    else w.reject(Object.assign(new Error(m.message), { code: m.code }));
  });
  const ask = <T>(op: string, ...args: unknown[]) =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, op, args });
    });
  await ready;
  return {
    child,
    ask,
    call: (method, ...args) => ask('call', method, ...args),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) await ask('stop').catch(() => {});
      await exited;
    },
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Resolves when the peer says it began its endless write (message id -1). */
export function writing(p: Peer): Promise<void> {
  return new Promise((resolve) => {
    const on = (m: { id: number }) => {
      if (m.id === -1) {
        p.child.off('message', on);
        resolve();
      }
    };
    p.child.on('message', on);
  });
}
