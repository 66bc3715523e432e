/** Entry of a ZT worker thread. */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { relayDefaults } from '@zufs/relay';
import { attachZufRoot, type ZufRootDescriptor } from '@zufs/zuf-core';
import { loadFsTypes } from './fs-loader.js';
import type { WorkerEvent } from './messages.js';
import { IDLE_PARK_SLICE_MS, Zt } from './zt.js';

const data = workerData as {
  root: ZufRootDescriptor;
  index: number;
  filesystems: string[];
  port: MessagePort;
  appCopyWaitMs: number;
};
const post = (e: WorkerEvent) => parentPort!.postMessage(e);
// An idle ZT parks in long slices: break() notifies it, so the slices are only a safety net, and
// each wake-up of an idle thread costs CPU (an idle server must stay under 2% of a core).
relayDefaults.parkSliceMs = IDLE_PARK_SLICE_MS;
const root = attachZufRoot(data.root);
const types = await loadFsTypes(data.filesystems);
const zt = new Zt(
  root,
  root.slots[data.index],
  types,
  data.port,
  (level, message) => post({ type: 'log', level, message }),
  data.index,
  data.appCopyWaitMs,
);
post({ type: 'ready' });
zt.serve();
data.port.close();
