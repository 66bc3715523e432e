// Suite "fuse": a filesystem reached through the kernel by a program that is not Node (fsbench, C),
// on three targets in the same run:
//
//   zufs-fuse   pmemfs (256 MiB memory device) served through @zufs/fuse: two reader threads, each
//               serving its requests' operations itself (an inline ZT)
//   libfuse-ll  our minimal in-memory server on Debian's libfuse3 low-level API, multi-threaded loop:
//               the floor any FUSE server reaches on this machine
//   tmpfs       a kernel tmpfs directory (/dev/shm): no server at all
//
// Cases `<target>:<op>` with one client thread and `<target>:<op>-2t` with two. Both FUSE servers
// answer attributes with timeout 0 (every stat is a GETATTR) and are mounted alike, without
// default_permissions (libfuse's default: with it, and attributes never cached, the kernel also
// asks GETATTR of every directory on the path, four requests per stat here); data files are opened
// O_DIRECT on them (FSBENCH_DIRECT), so every read and write reaches the server rather than the
// page cache.
// Each FUSE case also reports requests_per_op (and requests_by_op, per opcode): the FUSE requests one
// operation sends, counted after the timed rounds by fuse/requests.ts (the kernel's tracepoint, or
// zufs-fuse's own counters where tracefs is not mounted), with untimed `fsbench count` runs.
// Needs root, /dev/fuse, gcc, pkg-config and libfuse3-dev; says which is missing otherwise.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { closeOnKill } from '../cleanup.js';
import {
  type FuseMountOptions,
  fuseUnavailable,
  type KernelTarget,
  mountLibfuseLl,
  mountZufsFuse,
  tmpfsDir,
} from '../fuse/mounts.js';
import { nativeProgram } from '../fuse/native.js';
import {
  bridgeCounter,
  type Counter,
  RequestTrace,
  requestsPerOp,
  tracepointUnavailable,
} from '../fuse/requests.js';
import { type CaseResult, resultFromSamples, round } from '../measure.js';
import { type CaseDef, type RatioSpec, runCases, type SuiteOptions, selected } from '../suite.js';

const exec = promisify(execFile);

export const name = 'fuse';
export const description = 'zufs through FUSE vs a libfuse3 low-level server and tmpfs, driven by a C client';
export const baseline = 'libfuse-ll:stat';

const TARGETS = ['zufs-fuse', 'libfuse-ll', 'tmpfs'] as const;
type TargetName = (typeof TARGETS)[number];
const OPS = ['stat', 'pread-4k', 'pwrite-4k', 'create-write-4k-close', 'read-1m-seq', 'write-1m-seq'];
const MiB = 1024 * 1024;
const BYTES: Record<string, number> = {
  'pread-4k': 4096,
  'pwrite-4k': 4096,
  'read-1m-seq': MiB,
  'write-1m-seq': MiB,
};
const VARIANTS = [
  { suffix: '', threads: 1 },
  { suffix: '-2t', threads: 2 },
];

export const ratios: RatioSpec[] = OPS.flatMap((op) =>
  VARIANTS.flatMap(({ suffix }) => [
    { num: `zufs-fuse:${op}${suffix}`, den: `libfuse-ll:${op}${suffix}`, target: 1.5 },
    { num: `zufs-fuse:${op}${suffix}`, den: `tmpfs:${op}${suffix}` },
  ]),
);

/** Why this machine cannot run the suite, or null. */
export function unavailable(): string | null {
  const why = fuseUnavailable();
  return why && `the fuse suite ${why}`;
}

// Attributes never cached (every stat is a GETATTR), no default_permissions (see the top).
const MOUNT: FuseMountOptions = { attrTimeout: 0, defaultPermissions: false };

const OPEN: Record<TargetName, (base: string) => Promise<KernelTarget>> = {
  'zufs-fuse': (base) => mountZufsFuse(base, { ...MOUNT, memoryBytes: 256 * MiB }),
  'libfuse-ll': (base) => mountLibfuseLl(base, MOUNT),
  tmpfs: tmpfsDir,
};

/** `n` operations in all, untimed, split over `threads` threads (fsbench count). */
async function fsbenchCount(t: KernelTarget, op: string, threads: number, n: number): Promise<void> {
  await exec(nativeProgram('fsbench'), ['count', op, t.dir, String(threads), String(n / threads)], {
    env: { ...process.env, FSBENCH_DIRECT: t.direct ? '1' : '0' },
    timeout: 120_000,
  });
}

/** How each FUSE target's requests are counted (null: not at all, with the reason logged). */
function counters(targets: Map<TargetName, KernelTarget>, log: (m: string) => void) {
  const why = tracepointUnavailable();
  const trace = why ? null : new RequestTrace();
  const out = new Map<TargetName, Counter>();
  for (const [name, t] of targets) {
    if (name === 'tmpfs') continue;
    if (trace) out.set(name, trace.counter(t.dir));
    else if (t.requests) out.set(name, bridgeCounter(t.requests));
    else log(`  ${name}: requests_per_op not counted: ${why}`);
  }
  if (why && out.size > 0) log(`  requests_per_op from zufs-fuse's own counters: ${why}`);
  return { out, close: () => trace?.close() };
}

/** One run of fsbench: samples (ns per op of each batch) and the aggregate rate. */
async function fsbench(t: KernelTarget, op: string, threads: number, ms: number) {
  const { stdout } = await exec(nativeProgram('fsbench'), ['run', op, t.dir, String(threads), String(ms)], {
    env: { ...process.env, FSBENCH_DIRECT: t.direct ? '1' : '0' },
    maxBuffer: 64 * MiB,
    timeout: ms * 4 + 60_000,
  });
  const samples: number[] = [];
  let ops = 0;
  let wallNs = 0;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('s ')) samples.push(Number(line.slice(2)));
    else if (line.startsWith('t ')) [ops, wallNs] = line.slice(2).split(' ').map(Number);
  }
  if (samples.length === 0 || wallNs <= 0) throw new Error(`fsbench ${op} gave no samples`);
  return { samples, ops, wallNs };
}

export async function run(opts: SuiteOptions): Promise<CaseResult[]> {
  const why = unavailable();
  if (why) throw new Error(why);
  const base = mkdtempSync('/tmp/zufs-bench-fuse-');
  const removeBase = closeOnKill(async () => rmSync(base, { recursive: true, force: true }));
  const targets = new Map<TargetName, KernelTarget>();
  try {
    const wanted = TARGETS.filter((t) => OPS.some((op) => selected(`${t}:${op}`, opts)));
    for (const t of wanted) {
      opts.log(`  mounting ${t}`);
      const target = await OPEN[t](base);
      targets.set(t, target);
      await exec(nativeProgram('fsbench'), ['prepare', target.dir]);
    }
    const ms = Math.max(100, Math.round(opts.cfg.budgetMs));
    const cases: CaseDef[] = OPS.flatMap((op) =>
      VARIANTS.flatMap(({ suffix, threads }) =>
        wanted.map((t) => ({
          name: `${t}:${op}${suffix}`,
          async run() {
            const r = await fsbench(targets.get(t)!, op, threads, ms);
            // ops_per_s: every thread's operations over the wall time (the requests the server saw).
            return resultFromSamples(`${t}:${op}${suffix}`, r.samples, op.includes('1m') ? 2 : 32, 0, {
              client_threads: threads,
              total_ops_per_s: Math.round((r.ops / r.wallNs) * 1e9),
            });
          },
        })),
      ),
    );
    const results = await runCases(cases, opts);
    for (const r of results) {
      const bytes = BYTES[r.name.slice(r.name.indexOf(':') + 1).replace(/-2t$/, '')];
      if (bytes && typeof r.total_ops_per_s === 'number') r.bytes_per_s = round(bytes * r.total_ops_per_s);
    }
    const count = counters(targets, opts.log);
    try {
      for (const r of results) {
        const [t, rest] = r.name.split(':') as [TargetName, string];
        const counter = count.out.get(t);
        if (!counter) continue;
        const threads = rest.endsWith('-2t') ? 2 : 1;
        const op = rest.replace(/-2t$/, '');
        const c = await requestsPerOp(
          counter,
          (n) => fsbenchCount(targets.get(t)!, op, threads, n),
          op.includes('1m') ? 32 : 256,
        );
        r.requests_per_op = c.total;
        r.requests_by_op = c.byOp;
      }
    } finally {
      count.close();
    }
    return results;
  } finally {
    for (const t of targets.values()) await t.close().catch(() => {});
    await removeBase();
  }
}
