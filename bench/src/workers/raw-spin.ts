// raw-spin-rt / raw-spin-1line-rt server: spins on the request word and echoes it. No Atomics.wait, no notify.
import { parentPort, workerData } from 'node:worker_threads';
import { REQ, STOP } from './words.js';

const w = new Int32Array(workerData.sab as SharedArrayBuffer);
const RESP = workerData.resp as number; // the answer word: RESP or RESP_SAME_LINE
let last = Atomics.load(w, REQ); // before 'ready': main sends the first request right after it
parentPort!.postMessage('ready');
for (;;) {
  let v = Atomics.load(w, REQ);
  while (v === last) v = Atomics.load(w, REQ);
  if (v === STOP) break;
  Atomics.store(w, RESP, v);
  last = v;
}
