/**
 * A ZT thread's life: attach to the root, load the filesystem types, wait for the supervisor's go
 * (a standby generation), serve its channels until BREAK, let its mounts go. Run by a ZT worker
 * (zt-worker.ts), or by the mount thread when the server has no ZT thread of its own (ztThreads 0:
 * mount-worker.ts).
 */
import { type MessagePort, parentPort } from 'node:worker_threads';
import { attachZufRoot, type ZufRootDescriptor } from '@zufs/zuf-core';
import { loadFsTypes } from './fs-loader.js';
import type { GoMessage, WorkerEvent } from './messages.js';
import { MountTable } from './mount-table.js';
import { Zt } from './zt.js';
import { ZtThread } from './zt-thread.js';

/** What a ZT thread is given (its workerData, or part of the mount thread's). */
export interface ZtThreadData {
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
}

/**
 * Serves until the channels are done. `shared`: the thread has other work on its event loop (the
 * mount channel), so it never blocks on a relay.
 */
export async function runZtThread(data: ZtThreadData, shared: boolean): Promise<void> {
  const post = (e: WorkerEvent) => parentPort!.postMessage(e);
  const log = (level: 'warn' | 'error', message: string) => post({ type: 'log', level, message });
  const root = attachZufRoot(data.root);
  const types = await loadFsTypes(data.filesystems);
  const mounts = new MountTable(root, types, data.port, log, data.slots[0]);
  const zts = data.slots.map((i) => new Zt(root, root.slots[i], mounts, log, i, data.appCopyWaitMs));
  const thread = new ZtThread(root, zts, shared);
  let revive: number | null = null;
  if (data.standby) {
    post({ type: 'standby' });
    revive = (await waitGo()).begun;
  }
  post({ type: 'ready' });
  await thread.start(revive);
  mounts.detachAll();
  data.port.close();
}

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
