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
