// One fs suite target, in a thread of its own: sets the target up, then measures the cases the suite
// asks for (one at a time) and posts back the samples, so the suite pools rounds as for its own cases.
import { parentPort, workerData } from 'node:worker_threads';
import { openTarget, type Target, type TargetName } from '../fs/targets.js';
import { type Batch, WORKLOADS } from '../fs/workloads.js';
import { type MeasureConfig, measureBatches, samplesOfResult } from '../measure.js';

export type RunnerRequest = { measure: string; cfg: MeasureConfig } | { stop: true };
export type RunnerReply =
  | { ready: true }
  | { samples: number[]; batchOps: number; cpuPct: number }
  | { error: string };

const port = parentPort!;
const target: Target = await openTarget(workerData.target as TargetName);
if (target.root && target.sync) target.sync.mkdirSync(target.root, { recursive: true });
// Each workload is prepared once (its files), then measured in every round.
const batches = new Map<string, Batch>();

async function batchFor(op: string): Promise<Batch> {
  let b = batches.get(op);
  if (b) return b;
  const w = WORKLOADS[op];
  if (!w) throw new Error(`no workload '${op}'`);
  if (target.sync) b = w.sync(target.sync, target.root);
  else if (target.async) b = await w.async(target.async, target.root);
  else throw new Error('target has neither a sync nor a promises API');
  batches.set(op, b);
  return b;
}

port.on('message', async (m: RunnerRequest) => {
  if ('stop' in m) {
    await target.close();
    port.close();
    return;
  }
  try {
    const r = await measureBatches(m.measure, await batchFor(m.measure), m.cfg);
    port.postMessage({
      samples: samplesOfResult(r) ?? [],
      batchOps: r.batch_ops,
      cpuPct: r.cpu_pct,
    } satisfies RunnerReply);
  } catch (e) {
    port.postMessage({
      error: e instanceof Error ? (e.stack ?? e.message) : String(e),
    } satisfies RunnerReply);
  }
});
port.postMessage({ ready: true } satisfies RunnerReply);
