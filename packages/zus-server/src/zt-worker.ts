/** Entry of a ZT worker thread: serves its channels of the grid (zt-thread.ts). */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { relayDefaults } from '@zufs/relay';
import { attachZufRoot, STATE_RESTARTING, type ZufRootDescriptor } from '@zufs/zuf-core';
import { loadFsTypes } from './fs-loader.js';
import type { GoMessage, WorkerEvent } from './messages.js';
import { MountTable } from './mount-table.js';
import { IDLE_PARK_SLICE_MS, Zt } from './zt.js';
import { SHARED_THREAD_SPIN_US, ZtThread } from './zt-thread.js';

const data = workerData as {
  root: ZufRootDescriptor;
  /** The grid slots this thread serves. */
  slots: number[];
  filesystems: string[];
  port: MessagePort;
  /** Held, never used: it closes when this thread ends, which tells the supervisor. */
  life: MessagePort;
  appCopyWaitMs: number;
  /** A standby generation's thread: it waits for the supervisor's go, then takes its channels over. */
  standby: boolean;
};
const post = (e: WorkerEvent) => parentPort!.postMessage(e);
const log = (level: 'warn' | 'error', message: string) => post({ type: 'log', level, message });
// An idle ZT parks in long slices: break() notifies it, so the slices are only a safety net, and
// each wake-up of an idle thread costs CPU (an idle server must stay under 2% of a core).
relayDefaults.parkSliceMs = IDLE_PARK_SLICE_MS;
// A thread serving several channels waits for each from its event loop: a long spin on one would
// hold up the others (and the Promises that settle meanwhile).
if (data.slots.length > 1) relayDefaults.maxSpinUs = SHARED_THREAD_SPIN_US;
const root = attachZufRoot(data.root);
const types = await loadFsTypes(data.filesystems);
const mounts = new MountTable(root, types, data.port, log, data.slots[0]);
const zts = data.slots.map((i) => new Zt(root, root.slots[i], mounts, log, i, data.appCopyWaitMs));
const thread = new ZtThread(root, zts);
let revive: number | null = null;
if (data.standby) {
  post({ type: 'standby' });
  revive = (await waitGo()).begun;
}
post({ type: 'ready' });
await thread.start(revive);
mounts.detachAll();
data.port.close();
// A restart replaces this thread: what a plugin left running (a remote client's sockets and timers)
// must not keep it, and the generation after it, waiting.
if (root.state() === STATE_RESTARTING) process.exit(0);

/** The supervisor's go (a standby generation's thread waits for it with its event loop free). */
function waitGo(): Promise<Extract<GoMessage, { begun: number }>> {
  return new Promise((resolve) => {
    const on = (m: GoMessage) => {
      if (m?.type !== 'go' || !('begun' in m)) return;
      parentPort!.off('message', on);
      resolve(m);
    };
    parentPort!.on('message', on);
  });
}
