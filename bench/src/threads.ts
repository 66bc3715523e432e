// Worker helpers for two-thread cases: the worker serves, the main thread drives and measures.
import { once } from 'node:events';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** Starts a worker and resolves once it has posted its first message (its "ready"). */
export async function startWorker(url: URL, options: WorkerOptions = {}): Promise<Worker> {
  const worker = new Worker(url, options);
  const exited = once(worker, 'exit').then(([code]) => {
    throw new Error(`worker ${url.pathname} exited (${code}) before it was ready`);
  });
  // once() rejects on 'error', so a worker that throws while starting fails here.
  await Promise.race([once(worker, 'message'), exited]);
  exited.catch(() => {});
  return worker;
}

/**
 * Stops a worker: `ask()` asks it to leave its loop; after `timeoutMs` it is terminated. Resolves when
 * the thread has exited, so that the next case does not share the cores with it.
 */
export async function stopWorker(
  worker: Worker,
  ask: () => void = () => {},
  timeoutMs = 2000,
): Promise<void> {
  const exited = once(worker, 'exit').catch(() => {});
  ask();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), timeoutMs);
  });
  const r = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (r === 'late') await worker.terminate();
}

const sleepWord = new Int32Array(new SharedArrayBuffer(4));

/** Blocks this thread for `ms` milliseconds (Atomics.wait on a private word: no event loop turn). */
export function sleepMs(ms: number): void {
  Atomics.wait(sleepWord, 0, 0, ms);
}

/** Throws when a spin or wait loop has waited for its peer longer than this (a dead peer, not noise). */
export const PEER_TIMEOUT_MS = 10_000;

export function peerTimeout(what: string): never {
  throw new Error(`${what}: no answer from the peer thread in ${PEER_TIMEOUT_MS} ms`);
}

/**
 * Posts `msg` to a worker that answers each request with one message, and resolves with that answer.
 * A `{ ready }` message is passed over; an `{ error }` answer, the worker's death or no answer within
 * `timeoutMs` rejects, naming `what`.
 */
export function askWorker<R extends object>(
  w: Worker,
  msg: unknown,
  what: string,
  timeoutMs: number,
): Promise<Exclude<R, { ready: true } | { error: string }>> {
  return new Promise((resolve, reject) => {
    const done = (fn: () => void) => {
      clearTimeout(timer);
      w.off('message', onMessage);
      w.off('error', onError);
      fn();
    };
    const onMessage = (r: R) => {
      if ('ready' in r) return;
      if ('error' in r) done(() => reject(new Error(`${what}: ${r.error}`)));
      else done(() => resolve(r as Exclude<R, { ready: true } | { error: string }>));
    };
    const onError = (e: Error) => done(() => reject(new Error(`${what}: thread died: ${e.message}`)));
    const timer = setTimeout(
      () => done(() => reject(new Error(`${what}: no answer within ${timeoutMs / 1000} s`))),
      timeoutMs,
    );
    w.on('message', onMessage);
    w.on('error', onError);
    w.postMessage(msg);
  });
}
