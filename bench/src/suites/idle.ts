// Suite "idle": what a started server costs when nobody uses it.
//
//   server-idle-cpu  CPU time of the whole process (every server thread included) while a started
//                    server sits idle, after a burst of operations has let every ZT's spin budget
//                    grow. cpu_pct is % of one core; median_ns / p99_ns are the CPU ns burned per
//                    second of wall time, over windows of 2 s (0.5 s with --quick).
import { availableParallelism } from 'node:os';
import { attachZufRoot, dispatcherFor, IocHdr, ZUFS_OP_NULL } from '@zufs/zuf-core';
import { startServer } from '@zufs/zus-server';
import { type CaseResult, median, percentile, round } from '../measure.js';
import type { SuiteOptions } from '../suite.js';

export const name = 'idle';
export const description = 'CPU a started, idle server burns';

export async function run(opts: SuiteOptions): Promise<CaseResult[]> {
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
    await new Promise((r) => setTimeout(r, 200)); // let every ZT spin out and park
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
    return [
      {
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
      },
    ];
  } finally {
    await server.stop();
  }
}
