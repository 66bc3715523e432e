// Suite "restart": what surviving the server costs the applications (zus-server's restarts).
//
//   restart-recover  from a ZT's death (a LOOKUP that ends its thread) to the first operation of
//                    the app that saw it served by the new threads, on a 64 MiB pmemfs image mounted
//                    through the face: the supervisor's restart (new threads, the volume mounted
//                    again). One sample per crash, 2.5 s apart (the standby generation, kept
//                    booted for the next crash, is back by then). Target: median under 150 ms.
//   restart-recover-cold  the same with restartStandby: false (the restart boots its threads).
//   reload-pause     the longest single operation an app thread (stat in a loop) saw during one live
//                    reload (server.reload()): new operations wait while the threads are replaced.
//                    One sample per reload. Target: under 100 ms.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { mkfs, PmemDevice } from '@zufs/example-pmemfs';
import { mount } from '@zufs/vfs';
import { startServer } from '@zufs/zus-server';
import { type CaseResult, median, percentile, round } from '../measure.js';
import { CRASH_NAME } from '../restart/crashy-pmemfs.js';
import { type SuiteOptions, selected } from '../suite.js';

export const name = 'restart';
export const description = 'restart after a ZT crash, and a live reload, as an app sees them';

const CRASHY = new URL('../restart/crashy-pmemfs.js', import.meta.url).href;
const STAT_LOOP = new URL('../workers/stat-loop.js', import.meta.url);
const RECOVER_TARGET_NS = 150e6;
/** Between two crashes: the standby's delay (1 s) and its boot. */
const STANDBY_SETTLE_MS = 2500;
const RELOAD_TARGET_NS = 100e6;
/** The server shape: the CLI's `zufs mount` default on these machines (a ZT row per CPU). */
const SHAPE = { zts: 2, channels: 3 } as const;

export async function run(opts: SuiteOptions): Promise<CaseResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'zufs-bench-restart-'));
  const image = join(dir, 'restart.img');
  const dev = PmemDevice.createFile(image, 64 * 1024 * 1024);
  mkfs(dev);
  dev.flush();
  dev.close();
  const samples = opts.quick ? 3 : 5 * opts.rounds;
  const out: CaseResult[] = [];
  try {
    if (selected('restart-recover', opts))
      out.push(await recover('restart-recover', image, samples, true, opts));
    if (selected('restart-recover-cold', opts))
      out.push(await recover('restart-recover-cold', image, samples, false, opts));
    if (selected('reload-pause', opts)) out.push(await reloadPause(image, samples, opts));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

function result(caseName: string, ns: number[], target: number, extra: Record<string, number>): CaseResult {
  ns.sort((a, b) => a - b);
  const med = median(ns);
  return {
    name: caseName,
    median_ns: round(med),
    p99_ns: round(percentile(ns, 0.99)),
    min_ns: round(ns[0]),
    ops_per_s: round(1e9 / med, 2),
    samples: ns.length,
    batch_ops: 1,
    cpu_pct: 0,
    target_ns: target,
    met: med <= target,
    ...extra,
  };
}

async function recover(
  caseName: string,
  image: string,
  samples: number,
  standby: boolean,
  opts: SuiteOptions,
): Promise<CaseResult> {
  const server = await startServer({
    ...SHAPE,
    filesystems: [CRASHY],
    maxRestarts: samples + 5,
    restartPeriodMs: 1000,
    restartStandby: standby,
    onLog: () => {},
  });
  const ns: number[] = [];
  let restartMs = 0;
  try {
    const fs = mount(server.root, { type: 'pmemfs', device: image });
    fs.writeFileSync('/a', 'a');
    for (let i = 0; i < samples; i++) {
      // Crashes a while apart, as in life: the standby generation (spawned a second after the
      // server serves) has booted by then.
      await new Promise((r) => setTimeout(r, STANDBY_SETTLE_MS));
      const t0 = performance.now();
      try {
        fs.statSync(`/${CRASH_NAME}`);
        throw new Error('the crash hook did not end the ZT');
      } catch (e) {
        if ((e as { code?: string }).code !== 'EIO') throw e;
      }
      // The other ZTs serve until the supervisor sees the death; then operations wait for the
      // restart (bounded) and the first one served by the new threads ends the sample. READDIR
      // always reaches a ZT (a stat may be answered from the face's caches).
      for (;;) {
        try {
          fs.readdirSync('/');
          if (server.restarts > i) break;
        } catch (e) {
          if ((e as { code?: string }).code !== 'EIO') throw e;
        }
      }
      ns.push((performance.now() - t0) * 1e6);
      opts.log(`${caseName} ${i + 1}/${samples}: ${(performance.now() - t0).toFixed(1)} ms`);
    }
    restartMs = server.restarts;
    fs.umount();
  } finally {
    await server.stop();
  }
  return result(caseName, ns, RECOVER_TARGET_NS, { restarts: restartMs });
}

async function reloadPause(image: string, samples: number, opts: SuiteOptions): Promise<CaseResult> {
  const server = await startServer({ ...SHAPE, filesystems: [CRASHY], onLog: () => {} });
  const ns: number[] = [];
  let failures = 0;
  try {
    const fs = mount(server.root, { type: 'pmemfs', device: image });
    fs.writeFileSync('/a', 'a');
    const words = new Float64Array(new SharedArrayBuffer(16));
    const app = new Worker(STAT_LOOP, { workerData: { descriptor: fs.descriptor, words: words.buffer } });
    const done = new Promise<{ failures: number }>((resolve, reject) => {
      app.on('message', (m) => m !== 'running' && resolve(m));
      app.on('error', reject);
    });
    await new Promise<void>((r) => app.once('message', () => r()));
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < samples; i++) {
      words[1] = 0;
      await server.reload();
      // The app's operations after the reload come back to their usual microseconds.
      await new Promise((r) => setTimeout(r, 20));
      ns.push(words[1]);
      opts.log(`reload-pause ${i + 1}/${samples}: ${(words[1] / 1e6).toFixed(1)} ms`);
    }
    words[0] = 1;
    failures = (await done).failures;
    fs.umount();
  } finally {
    await server.stop();
  }
  return result('reload-pause', ns, RELOAD_TARGET_NS, { failed_ops: failures });
}
