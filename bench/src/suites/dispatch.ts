// Suite "dispatch": an operation through zufs dispatch (app thread -> ZT -> app thread) against the
// peers a Node.js program would otherwise use, all in the same run.
//
//   zufs-null-op               NULL from the main thread: acquire a channel, dispatch, release
//   zufs-noop-4k-window        NOOP with 4 KiB of app data bounced through the channel's map window
//   zufs-noop-4k-pool          NOOP with 4 KiB in a shared pool buffer, passed by dpp (no copy)
//   zufs-null-op-2-app-threads NULL from two app worker threads at once (ops_per_s is the aggregate)
//   postmessage-rt, synckit-rt the peers (as in the relay suite)
//   zufs-null-op-base          zufs-null-op on the build ZUFS_BENCH_BASE names (base.ts), when set
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { attachZufRoot, type Dispatcher, dispatcherFor, type ZufRoot } from '@zufs/zuf-core';
import { encodeDpp, IocHdr, IocNoop, setU64, ZUFS_OP_NOOP, ZUFS_OP_NULL } from '@zufs/zuf-core/api';
import { startServer, type ZusServer } from '@zufs/zus-server';
import { BASE_CHECKOUT, importBase } from '../base.js';
import { type CaseResult, measureBatches, median, percentile, round } from '../measure.js';
import { type CaseDef, type RatioSpec, runCases, type SuiteOptions } from '../suite.js';
import { sleepMs } from '../threads.js';
import { postMessageRt, synckitRt } from './relay.js';

export const name = 'dispatch';
export const description = 'zufs dispatch (NULL, NOOP with 4 KiB) vs postMessage and synckit';
export const baseline = 'zufs-null-op';
export const ratios: RatioSpec[] = [
  { num: 'postmessage-rt', den: 'zufs-null-op' },
  { num: 'synckit-rt', den: 'zufs-null-op' },
  { num: 'zufs-noop-4k-window', den: 'zufs-null-op' },
  { num: 'zufs-noop-4k-pool', den: 'zufs-null-op' },
  { num: 'zufs-null-op', den: 'zufs-null-op-base', target: 1.05 },
];

const PAGE = 4096;

function nullCase(name: string, dispatcher: () => Dispatcher): CaseDef {
  return {
    name,
    run: (opts) =>
      measureBatches(
        name,
        (n) => {
          const d = dispatcher();
          for (let i = 0; i < n; i++) {
            const ch = d.acquire();
            ch.begin(ZUFS_OP_NULL, IocHdr.SIZE);
            if (ch.call() !== 0) throw new Error('NULL failed');
            ch.release();
          }
        },
        opts.cfg,
      ),
  };
}

function windowCase(server: () => ZufRoot): CaseDef {
  const data = new Uint8Array(PAGE).fill(0x5a); // the app's own (non-shared) buffer
  return {
    name: 'zufs-noop-4k-window',
    run: (opts) =>
      measureBatches(
        'zufs-noop-4k-window',
        (n) => {
          const d = dispatcherFor(server());
          for (let i = 0; i < n; i++) {
            const ch = d.acquire();
            ch.window.set(data);
            ch.begin(ZUFS_OP_NOOP, IocHdr.SIZE);
            ch.setData(0, PAGE);
            if (ch.call() !== 0) throw new Error('NOOP failed');
            ch.release();
          }
        },
        opts.cfg,
      ),
  };
}

function poolCase(server: () => ZufRoot): CaseDef {
  return {
    name: 'zufs-noop-4k-pool',
    async run(opts) {
      const root = server();
      const pool = root.pool(1);
      const off = pool.alloc(PAGE); // allocated once, reused: the ALLOC_BUFFER pattern
      pool.bytes.fill(0x5a, off, off + PAGE);
      const dpp = encodeDpp(off, 1);
      try {
        return await measureBatches(
          'zufs-noop-4k-pool',
          (n) => {
            const d = dispatcherFor(root);
            for (let i = 0; i < n; i++) {
              const ch = d.acquire();
              ch.begin(ZUFS_OP_NOOP, IocNoop.SIZE);
              setU64(ch.op, IocNoop.dpp, dpp);
              ch.setData(0, PAGE);
              if (ch.call() !== 0) throw new Error('NOOP failed');
              ch.release();
            }
          },
          opts.cfg,
        );
      } finally {
        pool.free(off);
      }
    },
  };
}

function twoAppThreadsCase(server: () => ZusServer): CaseDef {
  return {
    name: 'zufs-null-op-2-app-threads',
    async run(opts) {
      const control = new SharedArrayBuffer(8);
      const ctl = new Int32Array(control);
      const url = new URL('../workers/null-app.js', import.meta.url);
      const workers = [0, 1].map(
        () => new Worker(url, { workerData: { root: server().root, control, batch: 2000 } }),
      );
      while (Atomics.load(ctl, 1) < workers.length) await new Promise((r) => setTimeout(r, 2));
      const results = workers.map(
        (w) => once(w, 'message') as Promise<[{ samples: number[]; ops: number; errors: number }]>,
      );
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      Atomics.store(ctl, 0, 1);
      Atomics.notify(ctl, 0);
      await new Promise((r) => setTimeout(r, opts.cfg.budgetMs));
      Atomics.store(ctl, 0, 2);
      const done = (await Promise.all(results)).map(([r]) => r);
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      await Promise.all(workers.map((w) => w.terminate()));
      const samples = done.flatMap((r) => r.samples).sort((a, b) => a - b);
      const ops = done.reduce((a, r) => a + r.ops, 0);
      if (done.some((r) => r.errors)) throw new Error('NULL failed in an app worker');
      const med = median(samples);
      return {
        name: 'zufs-null-op-2-app-threads',
        median_ns: round(med, 1),
        p99_ns: round(percentile(samples, 0.99), 1),
        min_ns: round(samples[0], 1),
        // Aggregate: both threads' operations over the wall time.
        ops_per_s: Math.round((ops / wall) * 1000),
        samples: samples.length,
        batch_ops: 2000,
        cpu_pct: round(((cpu.user + cpu.system) / 1000 / wall) * 100, 1),
        per_thread_ops_per_s: Math.round(((ops / wall) * 1000) / 2),
      };
    },
  };
}

export async function run(opts: SuiteOptions): Promise<CaseResult[]> {
  const zts = availableParallelism();
  opts.log(`  starting a server: ${zts} ZTs x 3 channels`);
  const server = await startServer({ zts, channels: 3 });
  const root = attachZufRoot(server.root);
  const base = BASE_CHECKOUT ? await startBase(opts, zts) : null;
  try {
    sleepMs(10);
    return await runCases(
      [
        nullCase('zufs-null-op', () => dispatcherFor(root)),
        ...(base ? [nullCase('zufs-null-op-base', base.dispatcher)] : []),
        windowCase(() => root),
        poolCase(() => root),
        twoAppThreadsCase(() => server),
        postMessageRt,
        synckitRt,
      ],
      opts,
    );
  } finally {
    await Promise.all([server.stop(), base?.stop()]);
  }
}

/** The same server, from the base checkout's build (base.ts): its own zus-server and zuf-core. */
async function startBase(opts: SuiteOptions, zts: number) {
  opts.log(`  starting the base build's server (${BASE_CHECKOUT}): ${zts} ZTs x 3 channels`);
  const zus = await importBase<typeof import('@zufs/zus-server')>('zus-server');
  const core = await importBase<typeof import('@zufs/zuf-core')>('zuf-core');
  const server = await zus.startServer({ zts, channels: 3 });
  const root = core.attachZufRoot(server.root);
  return { dispatcher: () => core.dispatcherFor(root), stop: () => server.stop() };
}
