// One of unpack-4t's four threads: reaches the runner's filesystem (attachTarget) and unpacks, checks
// and removes its own tree when asked.
import { parentPort, workerData } from 'node:worker_threads';
import { attachTarget, type TargetName } from '../fs/targets.js';
import { type FaceFs, loadTree, QUICK_FILES, scan, type TreeCounts, unpack } from '../workload/tree.js';

export type UnpackerRequest = { unpack: string } | { check: string } | { rm: string } | { stop: true };
export type UnpackerReply = { done: true } | { counts: TreeCounts } | { error: string };

const port = parentPort!;
const tree = loadTree(workerData.quick ? QUICK_FILES : undefined);
const target = await attachTarget(workerData.target as TargetName, workerData.share, workerData.inlinePort);
const fs = target.sync as unknown as FaceFs;

port.on('message', async (m: UnpackerRequest) => {
  if ('stop' in m) {
    await target.close();
    port.close();
    return;
  }
  try {
    if ('unpack' in m) unpack(fs, tree, m.unpack);
    else if ('rm' in m) fs.rmSync(m.rm, { recursive: true, force: true });
    else {
      port.postMessage({ counts: scan(fs, m.check) } satisfies UnpackerReply);
      return;
    }
    port.postMessage({ done: true } satisfies UnpackerReply);
  } catch (e) {
    port.postMessage({
      error: e instanceof Error ? (e.stack ?? e.message) : String(e),
    } satisfies UnpackerReply);
  }
});
port.postMessage({ done: true } satisfies UnpackerReply);
