import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { RELAY_BYTES, type RelayOptions } from '@zufs/relay';
import { BYTES, DATA_AT, DATA_WORDS } from './fixtures/layout.mjs';

export interface Started<T> {
  worker: Worker;
  /** The worker's last message (posted when it is done). */
  result: Promise<T>;
  /** The exit code (listened for from the start: a worker may be gone before anyone asks). */
  exited: Promise<number>;
}

/** Starts a fixture worker and waits for its 'ready'. */
export async function start<T = unknown>(fixture: string, workerData: object): Promise<Started<T>> {
  const worker = new Worker(new URL(`./fixtures/${fixture}`, import.meta.url), { workerData });
  const exited = once(worker, 'exit').then(([code]) => code as number);
  const failed = once(worker, 'error').then(([e]) => {
    throw e;
  });
  const [first] = await Promise.race([once(worker, 'message'), failed]);
  if (first !== 'ready') throw new Error(`worker said ${String(first)}`);
  const result = Promise.race([once(worker, 'message').then(([m]) => m as T), failed]);
  result.catch(() => {});
  return { worker, result, exited };
}

/** A fresh shared buffer with a zeroed relay at 0 and the data words after it. */
export function newShared(): { sab: SharedArrayBuffer; words: Int32Array; d: Int32Array } {
  const sab = new SharedArrayBuffer(BYTES);
  return {
    sab,
    words: new Int32Array(sab, 0, RELAY_BYTES / 4),
    d: new Int32Array(sab, DATA_AT, DATA_WORDS),
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Options for relays whose waits may only end by a notify (a 10 s park slice). */
export const LONG_SLICE: RelayOptions = { parkSliceMs: 10_000 };

/** Polls until cond() holds; fails after ms. */
export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error('condition not reached');
    await sleep(1);
  }
}
