// Races a thread's calls against a worker that rewrites one file over and over
// (fixtures/rewrite-worker.mjs): the race lasts until both sides have done enough, counted, however
// slowly a loaded machine runs them; the worker's thread may take seconds to start.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { ZufsMount } from '@zufs/vfs';

/**
 * Calls `round` in this thread while the worker rewrites `path` (`size` bytes a version), until the
 * worker has written `enough` versions and `round` has run `enough` times since its first version.
 * Returns both counts. The 45 s deadline is a safety net: the caller's expectations on the counts
 * fail if it ran out.
 */
export async function raceRewriter(
  fs: ZufsMount,
  path: string,
  size: number,
  enough: number,
  round: () => void,
): Promise<{ versions: number; rounds: number }> {
  // [0]: stop, set by this thread; [1]: versions the worker has finished so far.
  const shared = new Int32Array(new SharedArrayBuffer(8));
  const w = new Worker(new URL('./fixtures/rewrite-worker.mjs', import.meta.url), {
    workerData: { descriptor: fs.descriptor, path, size, stop: shared.buffer },
  });
  const done = once(w, 'message');
  let failed = false;
  w.once('error', () => {
    failed = true;
  });
  let rounds = 0;
  const deadline = Date.now() + 45_000;
  try {
    while ((rounds < enough || Atomics.load(shared, 1) < enough) && !failed && Date.now() < deadline) {
      const started = Atomics.load(shared, 1) > 0;
      round();
      if (started) rounds++;
    }
  } finally {
    Atomics.store(shared, 0, 1);
  }
  const [versions] = (await done) as [number];
  await w.terminate();
  return { versions, rounds };
}
