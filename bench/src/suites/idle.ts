// Suite "idle": what a server costs when nobody uses it, and what it costs to start and stop one.
//
//   server-idle-cpu    CPU time of the whole process (every server thread included) while a started
//                      server sits idle, after a burst of operations has let every ZT's spin budget
//                      grow. cpu_pct is % of one core; median_ns / p99_ns are the CPU ns burned per
//                      second of wall time, over windows of 2 s (0.5 s with --quick).
//   server-start-stop  startServer with pmemfs, mount a 64 MiB image file (@zufs/vfs mount), unmount,
//                      stop(): what every `zufs` command that opens an image pays, in its shape (one
//                      channel, served by the mount thread: ztThreads 0). Target: median under 150 ms.
//   server-start-stop-zt-thread  the same with a ZT thread of its own (ztThreads 1): one isolate more.
//   cli-ls             a whole `zufs ls IMG:/` process on a 4 MiB image holding three files, from
//                      spawn to exit. Target: under 2 x node-e0 + 150 ms (target_ns, same run).
//   node-e0            a `node -e 0` process, from spawn to exit: the floor of any Node.js command.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { mkfs, PMEMFS_TYPE, PmemDevice } from '@zufs/example-pmemfs';
import { mount } from '@zufs/vfs';
import { attachZufRoot, dispatcherFor } from '@zufs/zuf-core';
import { IocHdr, ZUFS_OP_NULL } from '@zufs/zuf-core/api';
import { startServer } from '@zufs/zus-server';
import { type CaseResult, type MeasureConfig, measureEach, median, percentile, round } from '../measure.js';
import { type CaseDef, type RatioSpec, runCases, type SuiteOptions, selected } from '../suite.js';

export const name = 'idle';
export const description = 'CPU a started, idle server burns; starting and stopping a server, a zufs command';
export const ratios: RatioSpec[] = [{ num: 'cli-ls', den: 'node-e0' }];

const exec = promisify(execFile);
const MiB = 1024 * 1024;
/** server-start-stop's target for its median. */
const START_STOP_TARGET_NS = 150e6;
/** cli-ls's target: at most 2 x node-e0 plus this. */
const CLI_OVER_NODE_NS = 150e6;
/** The server shape of the CLI's image commands (apps/cli/src/image.ts). */
const CLI_SERVER = { zts: 1, channels: 1, ztThreads: 0 } as const;
/** The installed `zufs` bin: @zufs/cli's entry and its bin sit side by side in its dist/. */
const ZUFS_BIN = fileURLToPath(new URL('./bin.js', import.meta.resolve('@zufs/cli')));
const FILES = ['a.txt', 'b.txt', 'c.txt'];

export async function run(opts: SuiteOptions): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  if (selected('server-idle-cpu', opts)) out.push(await idleCpu(opts));
  const dir = mkdtempSync(join(tmpdir(), 'zufs-bench-idle-'));
  try {
    const big = makeImage(join(dir, 'start-stop.img'), 64 * MiB);
    const small = makeImage(join(dir, 'ls.img'), 4 * MiB);
    await putFiles(small);
    const cases = await runCases(
      [nodeCase('node-e0', ['-e', '0']), cliLsCase(small), startStopCase(big), startStopCase(big, 1)],
      {
        ...opts,
        cfg: processConfig(opts),
      },
    );
    out.push(...cases);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const node = out.find((c) => c.name === 'node-e0');
  for (const c of out) {
    const target =
      c.name === 'server-start-stop'
        ? START_STOP_TARGET_NS
        : c.name === 'cli-ls' && node
          ? 2 * node.median_ns + CLI_OVER_NODE_NS
          : undefined;
    if (target === undefined) continue;
    c.target_ns = round(target);
    c.met = c.median_ns <= target;
  }
  return out;
}

/** Budgets for operations of ~0.05-0.5 s: a few seconds a case, at least 10 samples (3 with --quick). */
function processConfig(opts: SuiteOptions): MeasureConfig {
  return {
    ...opts.cfg,
    budgetMs: (opts.quick ? 200 : 6000) / opts.rounds,
    warmupMs: 1, // one operation: the files it reads are then in the page cache
    minSamples: opts.quick ? 3 : Math.ceil(10 / opts.rounds),
  };
}

function makeImage(path: string, bytes: number): string {
  const dev = PmemDevice.createFile(path, bytes);
  try {
    mkfs(dev);
    dev.flush();
  } finally {
    dev.close();
  }
  return path;
}

async function putFiles(image: string): Promise<void> {
  const server = await startServer({ ...CLI_SERVER, filesystems: [PMEMFS_TYPE] });
  try {
    const fs = mount(server.root, { type: 'pmemfs', device: image });
    for (const f of FILES) fs.writeFileSync(`/${f}`, `${f}\n`);
    fs.umount();
  } finally {
    await server.stop();
  }
}

/** A whole process of `node ...args`, from spawn to exit; `check` sees its stdout. */
function nodeCase(caseName: string, args: string[], check?: (stdout: string) => void): CaseDef {
  return {
    name: caseName,
    run: (opts) =>
      measureEach(
        caseName,
        async () => {
          const { stdout } = await exec(process.execPath, args);
          check?.(stdout);
        },
        opts.cfg,
      ),
  };
}

function cliLsCase(image: string): CaseDef {
  return nodeCase('cli-ls', [ZUFS_BIN, 'ls', `${image}:/`], (stdout) => {
    for (const f of FILES) if (!stdout.includes(f)) throw new Error(`zufs ls printed no ${f}: ${stdout}`);
  });
}

function startStopCase(image: string, ztThreads: number = CLI_SERVER.ztThreads): CaseDef {
  const name = ztThreads === CLI_SERVER.ztThreads ? 'server-start-stop' : 'server-start-stop-zt-thread';
  return {
    name,
    run: (opts) =>
      measureEach(
        name,
        async () => {
          const server = await startServer({ ...CLI_SERVER, ztThreads, filesystems: [PMEMFS_TYPE] });
          try {
            mount(server.root, { type: 'pmemfs', device: image }).umount();
          } finally {
            await server.stop();
          }
        },
        opts.cfg,
      ),
  };
}

async function idleCpu(opts: SuiteOptions): Promise<CaseResult> {
  const zts = availableParallelism();
  const server = await startServer({ zts, channels: 3 });
  try {
    const d = dispatcherFor(attachZufRoot(server.root));
    for (let i = 0; i < 100_000; i++) {
      const ch = d.acquire();
      ch.begin(ZUFS_OP_NULL, IocHdr.SIZE);
      ch.call();
      ch.release();
    }
    // Let every ZT spin out and park, and the standby generation (spawned a second after the
    // server serves: zus-server's restartStandby) boot: it is part of what an idle server keeps.
    await new Promise((r) => setTimeout(r, opts.quick ? 200 : 3000));
    const windowMs = opts.quick ? 500 : 2000;
    const windows = opts.quick ? 1 : 3;
    const perSec: number[] = [];
    for (let i = 0; i < windows; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, windowMs));
      const c = process.cpuUsage(c0);
      const wall = performance.now() - t0;
      perSec.push(((c.user + c.system) * 1000) / (wall / 1000)); // CPU ns per wall second
    }
    perSec.sort((a, b) => a - b);
    const med = median(perSec);
    return {
      name: 'server-idle-cpu',
      median_ns: round(med),
      p99_ns: round(percentile(perSec, 0.99)),
      min_ns: round(perSec[0]),
      ops_per_s: 0,
      samples: perSec.length,
      batch_ops: 1,
      cpu_pct: round(med / 1e7, 2),
      window_ms: windowMs,
      server_threads: zts * 3 + 2,
    };
  } finally {
    await server.stop();
  }
}
