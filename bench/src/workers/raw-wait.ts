// raw-atomics-wait-rt server: parks on the request word (Atomics.wait), echoes it and notifies. No spin.
import { parentPort, workerData } from 'node:worker_threads';
import { PEER_PARKS, REQ, RESP, STOP } from './words.js';

const w = new Int32Array(workerData.sab as SharedArrayBuffer);
let last = Atomics.load(w, REQ); // before 'ready': main sends the first request right after it
parentPort!.postMessage('ready');
let parks = 0;
for (;;) {
  if (Atomics.wait(w, REQ, last) === 'ok') Atomics.store(w, PEER_PARKS, ++parks);
  const v = Atomics.load(w, REQ);
  if (v === last) continue;
  if (v === STOP) break;
  Atomics.store(w, RESP, v);
  Atomics.notify(w, RESP);
  last = v;
}
