/** Entry of a ZT worker thread. */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { attachZufRoot, type ZufRootDescriptor } from '@zufs/zuf-core';
import { loadFsTypes } from './fs-loader.js';
import type { WorkerEvent } from './messages.js';
import { Zt } from './zt.js';

const data = workerData as {
  root: ZufRootDescriptor;
  index: number;
  filesystems: string[];
  port: MessagePort;
};
const post = (e: WorkerEvent) => parentPort!.postMessage(e);
const root = attachZufRoot(data.root);
const types = await loadFsTypes(data.filesystems);
const zt = new Zt(root, root.slots[data.index], types, data.port, (level, message) =>
  post({ type: 'log', level, message }),
);
post({ type: 'ready' });
zt.serve();
data.port.close();
