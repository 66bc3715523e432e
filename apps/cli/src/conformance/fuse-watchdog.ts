/**
 * The FUSE target's watchdog, in a worker thread: a case blocked in a synchronous call on the kernel
 * mount (a plugin operation that never returns) blocks the main thread, where no timer can fire.
 * When one case has run for `hangMs`, this aborts the connection: the call fails ECONNABORTED, and
 * the target fails every later case saying why, instead of the suite hanging.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { abortConnection } from '@zufs/fuse';
import { WATCH_ABORTED, WATCH_CASE, type WatchdogData } from './fuse-watch.js';

const { words, connection, mountpoint, hangMs } = workerData as WatchdogData;
const watch = new Int32Array(words);
const STEP_MS = 250;

let seen = 0;
let since = Date.now();
for (;;) {
  // Wakes every STEP_MS, or when the main thread starts or ends a case (it notifies).
  Atomics.wait(watch, WATCH_CASE, seen, STEP_MS);
  const now = Atomics.load(watch, WATCH_CASE);
  if (now !== seen) {
    seen = now;
    since = Date.now();
  } else if (now !== 0 && Date.now() - since >= hangMs) {
    Atomics.store(watch, WATCH_ABORTED, 1);
    await abortConnection(connection, mountpoint).catch((e) =>
      parentPort?.postMessage(`abort: ${(e as Error).message}`),
    );
    break;
  }
}
