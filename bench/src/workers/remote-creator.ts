// One app thread of a remote-machine process (the remote suite's create-2proc): on each request
// { prefix, count }, creates `count` empty files `${prefix}-i` (O_CREAT|O_EXCL) and answers { done }.
import { parentPort, workerData } from 'node:worker_threads';
import { attachMount, type MountDescriptor } from '@zufs/vfs';

export interface CreatorRequest {
  prefix: string;
  count: number;
}
export type CreatorReply = { ready: true } | { done: true } | { error: string };

const fs = attachMount(workerData.descriptor as MountDescriptor);
const port = parentPort!;
port.on('message', (m: CreatorRequest) => {
  try {
    for (let i = 0; i < m.count; i++) fs.closeSync(fs.openSync(`${m.prefix}-${i}`, 'wx'));
    port.postMessage({ done: true } satisfies CreatorReply);
  } catch (e) {
    port.postMessage({ error: e instanceof Error ? e.message : String(e) } satisfies CreatorReply);
  }
});
port.postMessage({ ready: true } satisfies CreatorReply);
