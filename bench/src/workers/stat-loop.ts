// App thread for `pnpm bench restart` reload-pause: stats one file through the face in a loop until
// told to stop, and keeps the longest single operation's latency (ns) in words[1] (words[0]: stop).
import { parentPort, workerData } from 'node:worker_threads';
import { attachMount, type MountDescriptor } from '@zufs/vfs';

const { descriptor, words: sab } = workerData as { descriptor: MountDescriptor; words: SharedArrayBuffer };
const words = new Float64Array(sab);
const fs = attachMount(descriptor, { uid: 0, gid: 0 });
let failures = 0;
parentPort!.postMessage('running');
while (words[0] === 0) {
  const t0 = performance.now();
  try {
    fs.statSync('/a');
  } catch {
    failures++;
  }
  const ns = (performance.now() - t0) * 1e6;
  if (ns > words[1]) words[1] = ns;
}
parentPort!.postMessage({ failures });
