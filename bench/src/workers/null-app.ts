// App worker for the dispatch suite: attaches to the server from its descriptor and dispatches NULL
// in batches while `run` is set, timing each batch. Posts its per-op samples (ns) when told to stop.
import { parentPort, workerData } from 'node:worker_threads';
import { attachZufRoot, dispatcherFor, type ZufRootDescriptor } from '@zufs/zuf-core';
import { IocHdr, ZUFS_OP_NULL } from '@zufs/zuf-core/api';

const {
  root: desc,
  control,
  batch,
} = workerData as { root: ZufRootDescriptor; control: SharedArrayBuffer; batch: number };
const ctl = new Int32Array(control); // [0] 1 = run, 2 = stop; [1] ready count
const d = dispatcherFor(attachZufRoot(desc));
const samples: number[] = [];
let ops = 0;
let errors = 0;

function nullOps(n: number): void {
  for (let i = 0; i < n; i++) {
    const ch = d.acquire();
    ch.begin(ZUFS_OP_NULL, IocHdr.SIZE);
    if (ch.call() !== 0) errors++;
    ch.release();
  }
}

nullOps(1000); // warm up
Atomics.add(ctl, 1, 1);
Atomics.notify(ctl, 1);
while (Atomics.load(ctl, 0) === 0) Atomics.wait(ctl, 0, 0, 10);
while (Atomics.load(ctl, 0) === 1) {
  const t0 = process.hrtime.bigint();
  nullOps(batch);
  samples.push(Number(process.hrtime.bigint() - t0) / batch);
  ops += batch;
}
parentPort!.postMessage({ samples, ops, errors });
