// Suite "fs": file operations through the node:fs API on seven targets, in the same run:
//
//   zufs          @zufs/vfs on pmemfs (a 256 MiB image file on disk, no background commit), a ZT per core
//   zufs-inline   the same, the measuring thread serving its own operations (serveInline): no ZT hop
//   nodefs-tmpfs  node:fs on a tmpfs directory (/dev/shm): the kernel's page cache, through libuv
//   nodefs-disk   node:fs on the disk zufs's image is on: fsync-4k only, the peer that really syncs
//   memfs         memfs's Volume, in the measuring thread
//   zenfs-port    ZenFS's Port backend: InMemory in another worker, each operation an RPC message
//   zenfs-memory  ZenFS's InMemory backend, in the measuring thread
//   zufs-base     zufs built from the checkout ZUFS_BENCH_BASE names (base.ts), only when it is set
//
// Cases are `<target>:<op>` with the ops of fs/workloads.ts. Each target lives in a runner thread of
// its own (workers/fs-runner.ts) that prepares the files untimed and measures what the suite asks;
// cases run one at a time, grouped by op, in interleaved rounds. ZenFS needs WebSocket, which Node 20
// defines only with --experimental-websocket: the ZenFS runners get that flag.
import type { Worker } from 'node:worker_threads';
import { BASE_CHECKOUT } from '../base.js';
import { TARGET_OPS, TARGETS, type TargetName, ZENFS_NODE_FLAGS } from '../fs/targets.js';
import { OPS, WORKLOADS } from '../fs/workloads.js';
import { type CaseResult, resultFromSamples, round } from '../measure.js';
import {
  type CaseDef,
  type FloorSpec,
  type RatioSpec,
  runCases,
  type SuiteOptions,
  selected,
} from '../suite.js';
import { askWorker, startWorker, stopWorker } from '../threads.js';
import type { RunnerReply, RunnerRequest } from '../workers/fs-runner.js';

export const name = 'fs';
export const description = 'node:fs operations on zufs vs node:fs on tmpfs, memfs, ZenFS (Port, InMemory)';
export const baseline = 'zufs:stat';

/** zufs's median over a peer's: at most `target` where the issue sets one. */
function vs(op: string, peer: TargetName, target?: number): RatioSpec {
  return { num: `zufs:${op}`, den: `${peer}:${op}`, target };
}
const FASTER: Record<string, number> = { stat: 4, 'pread-4k': 2, 'create-write-4k-close': 4 };
export const ratios: RatioSpec[] = OPS.flatMap((op) => [
  { num: `zufs-inline:${op}`, den: `nodefs-tmpfs:${op}` },
  { num: `zufs-inline:${op}`, den: `zufs:${op}` },
  // A/B (ZUFS_BENCH_BASE): within 5% of the base build on the hot cases.
  {
    num: `zufs:${op}`,
    den: `zufs-base:${op}`,
    target: op === 'stat' || op === 'pread-4k' ? 1.05 : undefined,
  },
  vs(op, 'nodefs-tmpfs', FASTER[op] ? 1 / FASTER[op] : undefined),
  vs(op, 'memfs', FASTER[op] ? 1 / FASTER[op] : undefined),
  vs(op, 'zenfs-memory'),
  // fsync-4k is the durability issue's case: its peers are for reading, no target...
  vs(op, 'zenfs-port', op === 'fsync-4k' ? undefined : 1 / 100),
  // ... but node:fs on the same disk as zufs's image, which syncs as zufs does (issue 15).
  ...(op === 'fsync-4k' ? [vs(op, 'nodefs-disk', 1)] : []),
]);

/** Whether `target` is measured on `op`. */
const measures = (target: TargetName, op: string) => TARGET_OPS[target]?.includes(op) ?? true;
export const floors: FloorSpec[] = [{ case: 'zufs:read-1m-seq', field: 'bytes_per_s', min: 4e9 }];

const REPLY_TIMEOUT_MS = 120_000;

class Runner {
  private constructor(
    readonly target: TargetName,
    private readonly w: Worker,
  ) {}

  static async start(target: TargetName): Promise<Runner> {
    const zen =
      target.startsWith('zenfs') && typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'undefined';
    const w = await startWorker(new URL('../workers/fs-runner.js', import.meta.url), {
      workerData: { target },
      execArgv: zen ? [...process.execArgv, ...ZENFS_NODE_FLAGS] : process.execArgv,
    });
    return new Runner(target, w);
  }

  /** One measurement of `op`, pooled by runCases with the other rounds. */
  async measure(op: string, opts: SuiteOptions): Promise<CaseResult> {
    const name = `${this.target}:${op}`;
    const request: RunnerRequest = { measure: op, cfg: opts.cfg };
    const r = await askWorker<RunnerReply>(this.w, request, name, REPLY_TIMEOUT_MS);
    return resultFromSamples(name, r.samples, r.batchOps, r.cpuPct, r.extra);
  }

  stop(): Promise<void> {
    return stopWorker(this.w, () => this.w.postMessage({ stop: true } satisfies RunnerRequest), 10_000);
  }
}

export async function run(opts: SuiteOptions): Promise<CaseResult[]> {
  const wanted = TARGETS.filter(
    (t) =>
      (t !== 'zufs-base' || BASE_CHECKOUT) &&
      OPS.some((op) => measures(t, op) && selected(`${t}:${op}`, opts)),
  );
  const runners = new Map<TargetName, Runner>();
  try {
    for (const t of wanted) {
      opts.log(`  starting target ${t}`);
      runners.set(t, await Runner.start(t));
    }
    const cases: CaseDef[] = OPS.flatMap((op) =>
      wanted
        .filter((t) => measures(t, op))
        .map((t) => ({ name: `${t}:${op}`, run: (o: SuiteOptions) => runners.get(t)!.measure(op, o) })),
    );
    const results = await runCases(cases, opts);
    // bytes_per_s from the pooled median (averaging per-round rates would weigh slow rounds less).
    for (const r of results) {
      const bytes = WORKLOADS[r.name.slice(r.name.indexOf(':') + 1)].bytesPerOp;
      if (bytes && r.median_ns > 0) r.bytes_per_s = round((bytes * 1e9) / r.median_ns);
    }
    return results;
  } finally {
    await Promise.all([...runners.values()].map((r) => r.stop()));
  }
}
