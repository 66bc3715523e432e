// One target of the workload suite's face cases, in a thread of its own (as the fs suite's runners):
// opens the target, then measures the cases the suite asks for and posts back per-entry samples.
// unpack-4t runs four helper threads (workload-unpacker.ts), each unpacking a tree of its own into
// the same filesystem (memfs: each into a Volume of its own, memfs living in one thread's memory).
import { parentPort, type Worker, workerData } from 'node:worker_threads';
import { openTarget, type Target, type TargetName } from '../fs/targets.js';
import { type MeasureConfig, measureBatches, measureEach, samplesOfResult } from '../measure.js';
import { askWorker, startWorker, stopWorker } from '../threads.js';
import {
  checkCounts,
  churn,
  entries,
  type FaceFs,
  loadTree,
  QUICK_FILES,
  scan,
  type TreeCounts,
  unpack,
} from '../workload/tree.js';
import type { UnpackerReply, UnpackerRequest } from './workload-unpacker.js';

export type WorkloadRequest = { measure: string; cfg: MeasureConfig } | { stop: true };
export type WorkloadReply =
  | { ready: true }
  | { samples: number[]; batchOps: number; cpuPct: number }
  | { error: string };

export const HELPERS = 4;
/** zufs's image: the scan tree, an unpack tree and four unpack-4t trees (~70 MiB each), with room. */
const IMAGE_BYTES = 1024 * 1024 * 1024;

const port = parentPort!;
const name = workerData.target as TargetName;
const quick = workerData.quick as boolean;
const tree = loadTree(quick ? QUICK_FILES : undefined);
const target: Target = await openTarget(name, { imageBytes: IMAGE_BYTES });
const fs = target.sync as unknown as FaceFs;
const root = target.root;
if (root) fs.mkdirSync(root, { recursive: true });
const rm = (p: string) => fs.rmSync(p, { recursive: true, force: true });

/** The four unpack-4t threads, started on first use. */
let helpers: Worker[] | undefined;

/** A helper that has not answered in this long is stuck: the case fails. */
const HELPER_TIMEOUT_MS = 600_000;
const askAll = (m: (i: number) => UnpackerRequest) =>
  Promise.all(
    helpers!.map((w, i) => askWorker<UnpackerReply>(w, m(i), `unpack-4t thread ${i}`, HELPER_TIMEOUT_MS)),
  );
const treeOf = (i: number) => `${root}/t4-${i}`;

/** Measures one case; samples are ns per entry of the tree (per churn operation for churn). */
async function measure(
  op: string,
  cfg: MeasureConfig,
): Promise<{ samples: number[]; batchOps: number; cpuPct: number }> {
  const perEntry = entries(tree);
  if (op === 'churn') {
    const dir = `${root}/churn`;
    rm(dir);
    const c = churn(fs, dir);
    const r = await measureBatches(op, c.batch, cfg);
    c.check();
    rm(dir);
    return { samples: samplesOfResult(r) ?? [], batchOps: r.batch_ops, cpuPct: r.cpu_pct };
  }
  let r: Awaited<ReturnType<typeof measureEach>>;
  if (op === 'unpack') {
    const dir = `${root}/unpack`;
    r = await measureEach(
      op,
      () => unpack(fs, tree, dir),
      cfg,
      () => rm(dir),
    );
    checkCounts('unpack', scan(fs, dir), tree);
    rm(dir);
  } else if (op === 'scan') {
    const dir = `${root}/scan`;
    if (!fs.existsSync(dir)) unpack(fs, tree, dir);
    let last: TreeCounts | undefined;
    r = await measureEach(
      op,
      () => {
        last = scan(fs, dir);
      },
      cfg,
    );
    checkCounts('scan', last!, tree);
  } else if (op === 'unpack-4t') {
    helpers ??= await Promise.all(
      Array.from({ length: HELPERS }, (_, id) => {
        const inlinePort = target.inlinePort?.();
        return startWorker(new URL('./workload-unpacker.js', import.meta.url), {
          workerData: { target: name, share: target.share, quick, id, inlinePort },
          transferList: inlinePort ? [inlinePort] : [],
        });
      }),
    );
    r = await measureEach(
      op,
      () => askAll((i) => ({ unpack: treeOf(i) })),
      cfg,
      () => askAll((i) => ({ rm: treeOf(i) })),
    );
    for (const got of await askAll((i) => ({ check: treeOf(i) })))
      if ('counts' in got) checkCounts('unpack-4t', got.counts, tree);
    await askAll((i) => ({ rm: treeOf(i) }));
  } else throw new Error(`no workload '${op}'`);
  // One sample is a whole tree (four for unpack-4t): per entry, so ops_per_s counts entries.
  const n = op === 'unpack-4t' ? perEntry * HELPERS : perEntry;
  return { samples: (samplesOfResult(r) ?? []).map((s) => s / n), batchOps: n, cpuPct: r.cpu_pct };
}

port.on('message', async (m: WorkloadRequest) => {
  if ('stop' in m) {
    if (helpers) await Promise.all(helpers.map((w) => stopWorker(w, () => w.postMessage({ stop: true }))));
    await target.close();
    port.close();
    return;
  }
  try {
    port.postMessage((await measure(m.measure, m.cfg)) satisfies WorkloadReply);
  } catch (e) {
    port.postMessage({
      error: e instanceof Error ? (e.stack ?? e.message) : String(e),
    } satisfies WorkloadReply);
  }
});
port.postMessage({ ready: true } satisfies WorkloadReply);
