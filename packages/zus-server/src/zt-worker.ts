/** Entry of a ZT worker thread: serves its channels of the grid (zt-boot.ts, zt-thread.ts). */
import { workerData } from 'node:worker_threads';
import { relayDefaults } from '@zufs/relay';
import { attachZufRoot, STATE_RESTARTING } from '@zufs/zuf-core';
import { IDLE_PARK_SLICE_MS } from './zt.js';
import { runZtThread, type ZtThreadData } from './zt-boot.js';
import { SHARED_THREAD_SPIN_US } from './zt-thread.js';

const data = workerData as ZtThreadData;
// An idle ZT parks in long slices: break() notifies it, so the slices are only a safety net, and
// each wake-up of an idle thread costs CPU (an idle server must stay under 2% of a core).
relayDefaults.parkSliceMs = IDLE_PARK_SLICE_MS;
// A thread serving several channels waits for each from its event loop: a long spin on one would
// hold up the others (and the Promises that settle meanwhile).
if (data.slots.length > 1) relayDefaults.maxSpinUs = SHARED_THREAD_SPIN_US;
await runZtThread(data, false);
// A restart replaces this thread: what a plugin left running (a remote client's sockets and timers)
// must not keep it, and the generation after it, waiting.
if (attachZufRoot(data.root).state() === STATE_RESTARTING) process.exit(0);
