// Suite "remote": sqlfs (@zufs/example-sqlfs), the reference shared filesystem, through the face
// (@zufs/vfs in this thread, a server in this process), on its two engines, and the floors of its
// PostgreSQL engine measured with the same client (pg) in the same run:
//
//   sqlfs-sqlite:<op>   an SQLite volume (a file on tmpfs), default server grid, synchronous operations
//   sqlfs-pg:<op>       a PostgreSQL volume in a database made for the run (dropped at its end), the
//                       grid of PG_GRID (asynchronous operations)
//   pg-roundtrip        `SELECT 1` on a pg client of this thread: the floor of any operation that asks
//   pg-read-1m          1 MiB of a file's blocks selected straight from the block table
//   sqlfs-pg:create-1proc / create-2proc   empty files created (O_EXCL) in one directory of the PG
//                       volume by one, then two child processes ("machines"), each with its own server
//                       and 4 app threads; median_ns is per create, so `ops_per_s` is the whole rate
//                       (create-2proc also carries ops_per_s_1proc and speedup)
//
// <op> is stat (default ttl: cached), stat-strict (ttl=0), and create-write-4k-close, read-1m-seq,
// write-1m-seq, readdir-1000, mkdir-rmdir, rename as the fs suite defines them (fs/workloads.ts).
// The PostgreSQL cases need a server: --pg URL or ZUFS_TEST_PG_URL; without one they are left out,
// and the run says so.
import { type ChildProcess, fork } from 'node:child_process';
import { createPgDatabase } from '@zufs/example-sqlfs';
import type { ZufsMount } from '@zufs/vfs';
import pg from 'pg';
import { closeOnKill } from '../cleanup.js';
import { type SyncFs, WORKLOADS } from '../fs/workloads.js';
import {
  type CaseResult,
  measureBatches,
  measureEach,
  resultFromSamples,
  round,
  samplesOfResult,
} from '../measure.js';
import {
  type Engine,
  openVolume,
  pgUrl,
  scratchDir,
  THREADS_PER_PROC,
  type Volume,
} from '../remote/volumes.js';
import { type CaseDef, type RatioSpec, runCases, type SuiteOptions, selected } from '../suite.js';
import type { MachineReply, MachineRequest } from '../workers/remote-machine.js';

export const name = 'remote';
export const description =
  'sqlfs through the face on SQLite and PostgreSQL, with the floors of PostgreSQL (a round trip, 1 MiB of blocks)';
export const baseline = 'sqlfs-sqlite:stat';
/** PostgreSQL's processes work for the run: their CPU is not noise (report.ts). */
export const peers = ['postgres'];

const ENGINES: readonly Engine[] = ['sqlite', 'pg'];
const FACE_OPS = [
  'stat',
  'stat-strict',
  'create-write-4k-close',
  'read-1m-seq',
  'write-1m-seq',
  'readdir-1000',
  'mkdir-rmdir',
  'rename',
];
const PG_CASES = ['pg-roundtrip', 'pg-read-1m', 'sqlfs-pg:create-1proc', 'sqlfs-pg:create-2proc'];
const MiB = 1024 * 1024;
/** A cached stat, on either engine: at most 2 us (target_ns and met on the case). */
const STAT_TARGET_NS = 2000;

/** Issue 16's targets, as ratios of medians in one run; and each PG case over its SQLite twin. */
export const ratios: RatioSpec[] = [
  { num: 'sqlfs-pg:stat-strict', den: 'pg-roundtrip', target: 1.5 },
  { num: 'sqlfs-pg:create-write-4k-close', den: 'pg-roundtrip', target: 4 },
  { num: 'sqlfs-pg:read-1m-seq', den: 'pg-read-1m', target: 1.5 },
  // Time per create: the second process must make the rate grow (ratio under 1; `speedup` its inverse).
  { num: 'sqlfs-pg:create-2proc', den: 'sqlfs-pg:create-1proc', target: 1 },
  ...FACE_OPS.map((op) => ({ num: `sqlfs-pg:${op}`, den: `sqlfs-sqlite:${op}` })),
];

/** The face's sync forms, as the fs suite's workloads use them. */
const asSyncFs = (m: ZufsMount) => m as unknown as SyncFs;

/** The face cases of one engine's volume; their files are made here, untimed. */
function faceCases(engine: Engine, vol: Volume, opts: SuiteOptions): CaseDef[] {
  return FACE_OPS.filter((op) => selected(`sqlfs-${engine}:${op}`, opts)).map((op) => {
    const caseName = `sqlfs-${engine}:${op}`;
    const strict = op === 'stat-strict';
    const fs = asSyncFs(strict ? vol.strict : vol.fs);
    const root = `/${op}`;
    fs.mkdirSync(root);
    const batch = WORKLOADS[strict ? 'stat' : op].sync(fs, root);
    return { name: caseName, run: (o: SuiteOptions) => measureBatches(caseName, batch, o.cfg) };
  });
}

/** pg-roundtrip and pg-read-1m: the client of the engine (pg), in this thread. */
async function floorCases(
  url: string,
  vol: Volume,
  opts: SuiteOptions,
  closers: Closer[],
): Promise<CaseDef[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  closers.push(() => client.end());
  const cases: CaseDef[] = [];
  if (selected('pg-roundtrip', opts))
    cases.push({
      name: 'pg-roundtrip',
      run: (o) =>
        measureBatches(
          'pg-roundtrip',
          async (n) => {
            for (let i = 0; i < n; i++) await client.query('SELECT 1');
          },
          o.cfg,
        ),
    });
  if (selected('pg-read-1m', opts)) {
    // A 16 MiB file written through the face; 1 MiB of its blocks per query, in sequence, wrapping.
    const file = 16 * MiB;
    vol.fs.writeFileSync('/pg-read-1m', Buffer.alloc(file, 0xa5));
    const ino = vol.fs.statSync('/pg-read-1m').ino;
    const bs = Number((await client.query("SELECT value FROM meta WHERE name = 'block_size'")).rows[0].value);
    const perMiB = MiB / bs;
    let at = 0;
    const read = {
      name: 'read-1m',
      text: 'SELECT data FROM block WHERE ino = $1 AND idx >= $2 AND idx < $3 ORDER BY idx',
    };
    cases.push({
      name: 'pg-read-1m',
      run: (o) =>
        measureBatches(
          'pg-read-1m',
          async (n) => {
            for (let i = 0; i < n; i++, at = (at + perMiB) % (file / bs)) {
              const r = await client.query({ ...read, values: [ino, at, at + perMiB] });
              let got = 0;
              for (const row of r.rows) got += (row.data as Buffer).length;
              if (got !== MiB) throw new Error(`pg-read-1m: ${got} bytes, not 1 MiB`);
            }
          },
          o.cfg,
        ),
    });
  }
  return cases;
}

/** A child process with its own server and THREADS_PER_PROC app threads (workers/remote-machine.ts). */
class Machine {
  private next = 1;
  private readonly waiting = new Map<number, { resolve(): void; reject(e: Error): void }>();
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((r) => child.once('exit', () => r()));
    child.once('exit', (code, signal) => {
      for (const w of this.waiting.values()) w.reject(new Error(`remote-machine exited (${code ?? signal})`));
      this.waiting.clear();
    });
    child.on('message', (m: MachineReply) => {
      if ('ready' in m) return;
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.error) w?.reject(new Error(`remote-machine: ${m.error}`));
      else w?.resolve();
    });
  }

  static async start(options: string): Promise<Machine> {
    const child = fork(new URL('../workers/remote-machine.js', import.meta.url), [options], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const m = new Machine(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('remote-machine: not ready within 60 s')), 60_000);
      const settle = (fn: () => void) => {
        clearTimeout(timer);
        fn();
      };
      child.once('message', () => settle(resolve));
      child.once('exit', (code) => settle(() => reject(new Error(`remote-machine exited (${code})`))));
    });
    return m;
  }

  /** Every thread creates `count` files named from `prefix`. */
  create(prefix: string, count: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const id = this.next++;
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error('remote-machine: no answer within 120 s'));
      }, 120_000);
      this.waiting.set(id, {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ id, prefix, count } satisfies MachineRequest);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.send({ stop: true } satisfies MachineRequest);
      const late = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(late);
    }
  }
}

/** sqlfs-pg:create-1proc and create-2proc: two machines on the volume, creating in one directory. */
async function createCases(vol: Volume, opts: SuiteOptions, closers: Closer[]): Promise<CaseDef[]> {
  const wanted = [1, 2].filter((p) => selected(`sqlfs-pg:create-${p}proc`, opts));
  if (wanted.length === 0) return [];
  const machines: Machine[] = [];
  closers.push(() => Promise.all(machines.map((m) => m.stop())).then(() => {}));
  for (let i = 0; i < Math.max(...wanted); i++) {
    opts.log(`  starting remote machine ${i + 1}`);
    machines.push(await Machine.start(vol.options));
  }
  vol.fs.mkdirSync('/create');
  const perThread = opts.quick ? 5 : 25;
  let sample = 0;
  return wanted.map((procs) => {
    const caseName = `sqlfs-pg:create-${procs}proc`;
    const creates = procs * THREADS_PER_PROC * perThread;
    return {
      name: caseName,
      async run(o: SuiteOptions) {
        const r = await measureEach(
          caseName,
          () => {
            const s = sample++;
            return Promise.all(
              machines.slice(0, procs).map((m, k) => m.create(`/create/s${s}-p${k}`, perThread)),
            );
          },
          o.cfg,
        );
        const samples = (samplesOfResult(r) ?? []).map((x) => x / creates);
        return resultFromSamples(caseName, samples, creates, r.cpu_pct, {
          processes: procs,
          threads: procs * THREADS_PER_PROC,
        });
      },
    };
  });
}

type Closer = () => Promise<unknown>;

export async function run(opts: SuiteOptions): Promise<CaseResult[]> {
  const closers: Closer[] = [];
  try {
    const url = pgUrl(opts.pg);
    const cases: CaseDef[] = [];
    for (const engine of ENGINES) {
      const mine = [...FACE_OPS.map((op) => `sqlfs-${engine}:${op}`), ...(engine === 'pg' ? PG_CASES : [])];
      if (!mine.some((c) => selected(c, opts))) continue;
      if (engine === 'pg' && !url) {
        opts.log('  PostgreSQL cases skipped: no database (pass --pg URL or set ZUFS_TEST_PG_URL)');
        continue;
      }
      let device: string;
      if (engine === 'pg') {
        const db = await createPgDatabase(url as string, 'zufs_bench');
        closers.push(closeOnKill(() => db.drop()));
        device = db.url;
      } else {
        const scratch = scratchDir();
        closers.push(closeOnKill(async () => scratch.remove()));
        device = `${scratch.dir}/vol.db`;
      }
      opts.log(`  making and mounting the ${engine} volume`);
      const vol = await openVolume(engine, device);
      closers.push(() => vol.close());
      cases.push(...faceCases(engine, vol, opts));
      if (engine === 'pg') {
        cases.push(...(await floorCases(device, vol, opts, closers)));
        cases.push(...(await createCases(vol, opts, closers)));
      }
    }
    const results = await runCases(cases, opts);
    const byName = new Map(results.map((r) => [r.name, r]));
    for (const r of results) {
      const op = r.name.slice(r.name.indexOf(':') + 1);
      // bytes_per_s from the pooled median, as the fs suite.
      const bytes = r.name === 'pg-read-1m' ? MiB : WORKLOADS[op]?.bytesPerOp;
      if (bytes && r.median_ns > 0) r.bytes_per_s = round((bytes * 1e9) / r.median_ns);
      if (op === 'stat') {
        r.target_ns = STAT_TARGET_NS;
        r.met = r.median_ns <= STAT_TARGET_NS;
      }
    }
    const one = byName.get('sqlfs-pg:create-1proc');
    const two = byName.get('sqlfs-pg:create-2proc');
    if (one && two && two.median_ns > 0) {
      two.ops_per_s_1proc = one.ops_per_s;
      two.speedup = round(one.median_ns / two.median_ns, 3);
    }
    return results;
  } finally {
    for (const close of closers.reverse()) await close().catch((e) => opts.log(`  cleanup: ${e}`));
  }
}
