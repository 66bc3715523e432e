// One fs suite target, in a thread of its own: sets the target up, then measures the cases the suite
// asks for (one at a time) and posts back the samples, so the suite pools rounds as for its own cases.
import { parentPort, workerData } from 'node:worker_threads';
import type { RelayCounters } from '@zufs/relay';
import { openTarget, type Target, type TargetName } from '../fs/targets.js';
import { type Batch, WORKLOADS } from '../fs/workloads.js';
import { type MeasureConfig, measureBatches, type SamplingHooks, samplesOfResult } from '../measure.js';

export type RunnerRequest = { measure: string; cfg: MeasureConfig } | { stop: true };
export type RunnerReply =
  | { ready: true }
  | { samples: number[]; batchOps: number; cpuPct: number; extra: Record<string, number> }
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

/**
 * zufs's crossings per operation over the sampling phase, from the grid's relay counters: handoffs
 * (the app's waits for a reply), those that parked on either side, and the futex wakes they cost.
 */
function crossingHooks(): SamplingHooks {
  const counters = target.counters;
  if (!counters) return {};
  let before: RelayCounters;
  return {
    beforeSampling() {
      before = counters();
    },
    afterSampling(ops) {
      const c = counters();
      const per = (k: keyof RelayCounters) => (ops > 0 ? (c[k] - before[k]) / ops : 0);
      return {
        crossings_per_op: per('appSpins') + per('appParks'),
        app_parks_per_op: per('appParks'),
        zt_parks_per_op: per('fssParks'),
      };
    },
  };
}

port.on('message', async (m: RunnerRequest) => {
  if ('stop' in m) {
    await target.close();
    port.close();
    return;
  }
  try {
    const r = await measureBatches(m.measure, await batchFor(m.measure), m.cfg, crossingHooks());
    const extra: Record<string, number> = {};
    for (const k of ['crossings_per_op', 'app_parks_per_op', 'zt_parks_per_op'])
      if (typeof r[k] === 'number') extra[k] = r[k];
    port.postMessage({
      samples: samplesOfResult(r) ?? [],
      batchOps: r.batch_ops,
      cpuPct: r.cpu_pct,
      extra,
    } satisfies RunnerReply);
  } catch (e) {
    port.postMessage({
      error: e instanceof Error ? (e.stack ?? e.message) : String(e),
    } satisfies RunnerReply);
  }
});
port.postMessage({ ready: true } satisfies RunnerReply);
