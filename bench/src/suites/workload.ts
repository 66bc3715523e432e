// Suite "workload": what users do with a filesystem, on a package tree shaped like a real one
// (bench/data/package-tree.txt: ~9 000 files, ~2 000 directories, ~600 links, 70 MiB; --quick takes its
// first ~1 000 files). Two halves, in the same run:
//
// Through the face (node:fs API, sync forms), each target in a runner thread (workers/workload-runner.ts):
//   zufs          @zufs/vfs on pmemfs (a 1 GiB image file on tmpfs, no background commit), a ZT per core
//   nodefs-tmpfs  node:fs on a tmpfs directory
//   memfs         memfs's Volume
// cases `<target>:unpack` (mkdir + writeFile + symlink of the whole tree), `:scan` (recursive readdir,
// lstat of every entry, readFile of every file), `:churn` (create, rename, unlink of a small file in
// a directory of 256), `:unpack-4t` (four threads each unpacking a tree of its own at once; its
// `speedup` is unpack's per-entry time over its own).
//
// Through the kernel (root and /dev/fuse; skipped with a message otherwise), the tools a user runs:
//   zufs-fuse       @zufs/fuse on pmemfs (512 MiB memory device), two readers serving inline
//   libfuse-ll      our in-memory C server on libfuse3's low-level API (native/libfuse-ll.c): the floor
//   passthrough-ll  libfuse's passthrough_ll example over a tmpfs directory (when libfuse3-dev's
//                   examples are on the machine; skipped with a message otherwise)
//   tmpfs           a tmpfs directory, no server
// cases `<target>:tar-x`, `:find-stat`, `:cat-all`, `:rm-rf`, `:sqlite-insert`. The FUSE servers are
// mounted alike, as @zufs/fuse mounts by default: attributes and names cached 1 s, default_permissions.
//
// median_ns is per entry of the tree (per row for sqlite-insert): a sample is one whole run.
import * as nodeFs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { closeOnKill } from '../cleanup.js';
import type { TargetName } from '../fs/targets.js';
import {
  type FuseMountOptions,
  fuseUnavailable,
  type KernelTarget,
  mountLibfuseLl,
  mountPassthroughLl,
  mountZufsFuse,
  tmpfsDir,
} from '../fuse/mounts.js';
import { type CaseResult, measureEach, resultFromSamples, round, samplesOfResult } from '../measure.js';
import { type CaseDef, type RatioSpec, runCases, type SuiteOptions, selected } from '../suite.js';
import { askWorker, startWorker, stopWorker } from '../threads.js';
import type { WorkloadReply, WorkloadRequest } from '../workers/workload-runner.js';
import {
  countTree,
  kernelWorkloads,
  opsPerRun,
  type Place,
  run as runCommand,
  type Source,
  sqliteScript,
} from '../workload/kernel.js';
import { checkCounts, type FaceFs, loadTree, QUICK_FILES, unpack } from '../workload/tree.js';

export const name = 'workload';
export const description =
  'real workloads on a package tree: unpack, scan, churn, unpack-4t through the face; tar, find, cat, rm, sqlite through the kernel';
export const baseline = 'zufs:unpack';

// zufs-inline: each thread serves its own operations (zus-server serveInline), no hop to a ZT.
const FACE_TARGETS = [
  'zufs',
  'zufs-inline',
  'nodefs-tmpfs',
  'memfs',
] as const satisfies readonly TargetName[];
const FACE_OPS = ['unpack', 'scan', 'churn', 'unpack-4t'];
const KERNEL_TARGETS = ['zufs-fuse', 'libfuse-ll', 'passthrough-ll', 'tmpfs'] as const;
type KernelTargetName = (typeof KERNEL_TARGETS)[number];
const KERNEL_OPS = ['tar-x', 'find-stat', 'cat-all', 'rm-rf', 'sqlite-insert'];

/** Issue 15's targets: the face 2x nodefs-tmpfs and 1.5x memfs; 4 threads 1.6x one; FUSE 1.2x the floor. */
export const ratios: RatioSpec[] = [
  ...['unpack', 'scan', 'churn'].flatMap((op) => [
    { num: `zufs:${op}`, den: `nodefs-tmpfs:${op}`, target: 1 / 2 },
    { num: `zufs:${op}`, den: `memfs:${op}`, target: 1 / 1.5 },
    { num: `zufs-inline:${op}`, den: `nodefs-tmpfs:${op}` },
  ]),
  ...FACE_TARGETS.map((t) => ({
    num: `${t}:unpack-4t`,
    den: `${t}:unpack`,
    target: t === 'zufs' ? round(1 / 1.6, 3) : undefined,
  })),
  ...KERNEL_OPS.flatMap((op) => [
    { num: `zufs-fuse:${op}`, den: `libfuse-ll:${op}`, target: 1.2 },
    { num: `zufs-fuse:${op}`, den: `passthrough-ll:${op}` },
    { num: `zufs-fuse:${op}`, den: `tmpfs:${op}` },
  ]),
];

const REPLY_TIMEOUT_MS = 600_000;

/** A face target's runner thread. */
class Runner {
  private constructor(
    readonly target: TargetName,
    private readonly w: Worker,
  ) {}

  static async start(target: TargetName, quick: boolean): Promise<Runner> {
    const w = await startWorker(new URL('../workers/workload-runner.js', import.meta.url), {
      workerData: { target, quick },
    });
    return new Runner(target, w);
  }

  async measure(op: string, opts: SuiteOptions): Promise<CaseResult> {
    const name = `${this.target}:${op}`;
    const request: WorkloadRequest = { measure: op, cfg: opts.cfg };
    const r = await askWorker<WorkloadReply>(this.w, request, name, REPLY_TIMEOUT_MS);
    return resultFromSamples(name, r.samples, r.batchOps, r.cpuPct, op === 'unpack-4t' ? { threads: 4 } : {});
  }

  stop(): Promise<void> {
    return stopWorker(this.w, () => this.w.postMessage({ stop: true } satisfies WorkloadRequest), 30_000);
  }
}

// Every FUSE server of the suite is mounted as @zufs/fuse mounts by default.
const MOUNT: FuseMountOptions = { attrTimeout: 1, defaultPermissions: true };
const MiB = 1024 * 1024;
const MOUNTS: Record<KernelTargetName, (base: string) => Promise<KernelTarget>> = {
  'zufs-fuse': (base) => mountZufsFuse(base, { ...MOUNT, memoryBytes: 512 * MiB }),
  'libfuse-ll': (base) => mountLibfuseLl(base, MOUNT),
  'passthrough-ll': (base) => mountPassthroughLl(base, MOUNT),
  tmpfs: tmpfsDir,
};

/** The kernel half: mounts, the tree's tarball, the cases. Closed by the suite's finally. */
async function kernelCases(opts: SuiteOptions, closers: (() => Promise<void>)[]): Promise<CaseDef[]> {
  const wanted = KERNEL_TARGETS.filter((t) => KERNEL_OPS.some((op) => selected(`${t}:${op}`, opts)));
  if (wanted.length === 0) return [];
  const why = fuseUnavailable();
  if (why) {
    opts.log(`  kernel-mount cases skipped: the workload suite's kernel half ${why}`);
    return [];
  }
  const base = nodeFs.mkdtempSync(join(tmpdir(), 'zufs-bench-workload-'));
  closers.push(closeOnKill(async () => nodeFs.rmSync(base, { recursive: true, force: true })));
  // The tree and its tarball, on tmpfs: what tar-x reads costs the same for every target.
  const tree = loadTree(opts.quick ? QUICK_FILES : undefined);
  const srcDir = nodeFs.mkdtempSync(
    join(nodeFs.existsSync('/dev/shm') ? '/dev/shm' : base, 'zufs-bench-tree-'),
  );
  closers.push(closeOnKill(async () => nodeFs.rmSync(srcDir, { recursive: true, force: true })));
  opts.log(`  making the tree's tarball (${tree.files} files)`);
  unpack(nodeFs as unknown as FaceFs, tree, `${srcDir}/tree`);
  const src: Source = { tar: `${srcDir}/tree.tar`, sql: `${srcDir}/insert.sql`, counts: tree };
  await runCommand('tar', ['-cf', src.tar, '-C', `${srcDir}/tree`, '.']);
  nodeFs.writeFileSync(src.sql, sqliteScript());
  const workloads = kernelWorkloads(src);
  let ops = KERNEL_OPS;
  if (!(await runCommand('sh', ['-c', 'command -v sqlite3 || true'])).trim()) {
    opts.log('  sqlite-insert skipped: no sqlite3 command (Debian: apt-get install sqlite3)');
    ops = ops.filter((op) => op !== 'sqlite-insert');
  }
  const places = new Map<KernelTargetName, Place>();
  for (const t of wanted) {
    opts.log(`  mounting ${t}`);
    let target: KernelTarget;
    try {
      target = await MOUNTS[t](base);
    } catch (e) {
      // libfuse's example is an extra peer: the suite goes on without it, and says why.
      if (t !== 'passthrough-ll') throw e;
      opts.log(`  passthrough-ll skipped: ${e instanceof Error ? e.message : e}`);
      continue;
    }
    closers.push(() => target.close());
    places.set(t, { tree: `${target.dir}/tree`, db: `${target.dir}/bench.db`, hasTree: false });
  }
  return ops.flatMap((op) =>
    [...places].map(([t, place]) => ({
      name: `${t}:${op}`,
      async run(o: SuiteOptions) {
        const w = workloads[op];
        const r = await measureEach(
          op,
          () => w.run(place),
          o.cfg,
          () => w.setup(place),
        );
        if (op === 'tar-x') checkCounts(`${t}:tar-x`, await countTree(place.tree), src.counts);
        const n = opsPerRun(w, src.counts);
        return resultFromSamples(
          `${t}:${op}`,
          (samplesOfResult(r) ?? []).map((s) => s / n),
          n,
          r.cpu_pct,
        );
      },
    })),
  );
}

export async function run(opts: SuiteOptions): Promise<CaseResult[]> {
  const closers: (() => Promise<void>)[] = [];
  try {
    const faceWanted = FACE_TARGETS.filter((t) => FACE_OPS.some((op) => selected(`${t}:${op}`, opts)));
    const runners = new Map<TargetName, Runner>();
    for (const t of faceWanted) {
      opts.log(`  starting target ${t}`);
      const r = await Runner.start(t, opts.quick);
      closers.push(() => r.stop());
      runners.set(t, r);
    }
    const cases: CaseDef[] = [
      ...FACE_OPS.flatMap((op) =>
        faceWanted.map((t) => ({
          name: `${t}:${op}`,
          run: (o: SuiteOptions) => runners.get(t)!.measure(op, o),
        })),
      ),
      ...(await kernelCases(opts, closers)),
    ];
    const results = await runCases(cases, opts);
    // unpack-4t's speedup: one thread's time per entry over four threads' (from the pooled medians).
    const byName = new Map(results.map((r) => [r.name, r]));
    for (const t of FACE_TARGETS) {
      const one = byName.get(`${t}:unpack`);
      const four = byName.get(`${t}:unpack-4t`);
      if (one && four && four.median_ns > 0) four.speedup = round(one.median_ns / four.median_ns, 3);
    }
    return results;
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {});
  }
}
