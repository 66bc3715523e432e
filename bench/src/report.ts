// The output: one JSON object (stdout, with --json) and a human table (stderr with --json, else stdout).
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { type CaseResult, round } from './measure.js';
import { ownCpuMs, readProcs } from './own-cpu.js';
import type { FloorSpec, RatioSpec, Suite } from './suite.js';

export interface Machine {
  cpus: number;
  node: string;
  platform: string;
  arch: string;
  cpu_model: string;
  loadavg: number[];
}

export interface Report {
  suite: string;
  machine: Machine;
  date: string;
  quick: boolean;
  /** Interleaved rounds per case (samples pooled). */
  rounds: number;
  filter?: string;
  cases: CaseResult[];
  /** "num/den" -> median(num) / median(den), for the suite's ratios whose two cases ran. */
  ratios: Record<string, number>;
  /** "num/den" -> the target ratio (at most), where the suite sets one. */
  ratio_targets: Record<string, number>;
  /** "case.field" -> { value, min }, for the suite's floors whose case ran. */
  floors?: Record<string, { value: number; min: number }>;
  /** Other load on the machine during the run (Linux only). */
  noise?: Noise;
  /** Busy processes the run kept beside it (`--contend`): their CPU is in noise.other_cpu_pct. */
  contenders?: number;
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpus: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpu_model: cpus[0]?.model.trim() ?? 'unknown',
    loadavg: os.loadavg().map((x) => round(x, 2)),
  };
}

export const ratioKey = (r: RatioSpec): string => `${r.num}/${r.den}`;

const floorKey = (f: FloorSpec): string => `${f.case}.${f.field}`;

export function makeReport(
  suite: Suite,
  cases: CaseResult[],
  m: Machine,
  quick: boolean,
  rounds: number,
  filter?: string,
  noise?: Noise,
  contenders?: number,
): Report {
  const byName = new Map(cases.map((c) => [c.name, c]));
  const ratios: Record<string, number> = {};
  const ratio_targets: Record<string, number> = {};
  for (const r of suite.ratios ?? []) {
    const num = byName.get(r.num);
    const den = byName.get(r.den);
    if (num && den && den.median_ns > 0) ratios[ratioKey(r)] = round(num.median_ns / den.median_ns, 3);
    if (r.target !== undefined) ratio_targets[ratioKey(r)] = r.target;
  }
  const floors: Record<string, { value: number; min: number }> = {};
  for (const f of suite.floors ?? []) {
    const v = byName.get(f.case)?.[f.field];
    if (typeof v === 'number') floors[floorKey(f)] = { value: v, min: f.min };
  }
  return {
    suite: suite.name,
    machine: m,
    date: new Date().toISOString(),
    quick,
    rounds,
    filter,
    cases,
    ratios,
    ratio_targets,
    ...(Object.keys(floors).length ? { floors } : {}),
    noise,
    ...(contenders ? { contenders } : {}),
  };
}

/** 123.4 ns, 12.35 us, 1.235 ms */
export function fmtNs(ns: number): string {
  if (ns < 1_000) return `${ns.toFixed(1)} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(ns < 10_000 ? 3 : 2)} us`;
  return `${(ns / 1_000_000).toFixed(3)} ms`;
}

function fmtCount(x: number): string {
  if (x >= 1e9) return `${(x / 1e9).toFixed(2)} G`;
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return `${x}`;
}

const STANDARD = new Set([
  'name',
  'median_ns',
  'p99_ns',
  'min_ns',
  'ops_per_s',
  'samples',
  'batch_ops',
  'cpu_pct',
]);

function table(rows: string[][], rightAligned: boolean[]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (rightAligned[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatTable(report: Report, suite: Suite): string {
  const m = report.machine;
  const lines: string[] = [];
  lines.push(
    `suite ${report.suite}${report.quick ? ' (quick)' : ''}, ${report.rounds} round(s): node ${m.node}, ${m.cpus} cpus (${m.cpu_model}), ` +
      `load ${m.loadavg.join(' ')}, ${report.date}`,
  );
  if (report.contenders) {
    lines.push(
      `--contend ${report.contenders}: that many busy processes ran beside every case (a loaded machine)`,
    );
  }
  if (report.noise) {
    // The run's own contenders are load it asked for, not noise.
    const noisy = report.noise.other_cpu_pct - (report.contenders ?? 0) * 100 > 10;
    lines.push(
      `other processes used ${report.noise.other_cpu_pct}% of a core during the run, steal ${report.noise.steal_pct}%` +
        (noisy ? ' (NOISY: figures disturbed)' : ''),
    );
  }
  const base = report.cases.find((c) => c.name === suite.baseline);
  const head = ['case', 'median', 'p99', 'min', 'ops/s', 'cpu%', 'samples'];
  if (base) head.push(`x ${base.name}`);
  head.push('extra');
  const rows: string[][] = [head];
  for (const c of report.cases) {
    const row = [
      c.name,
      fmtNs(c.median_ns),
      fmtNs(c.p99_ns),
      fmtNs(c.min_ns),
      fmtCount(c.ops_per_s),
      c.cpu_pct.toFixed(0),
      `${c.samples}x${c.batch_ops}`,
    ];
    if (base) row.push((c.median_ns / base.median_ns).toFixed(2));
    row.push(
      Object.entries(c)
        .filter(([k, v]) => !STANDARD.has(k) && v !== undefined)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
    );
    rows.push(row);
  }
  lines.push(
    table(
      rows,
      head.map((h, i) => i > 0 && h !== 'extra'),
    ),
  );
  const keys = Object.keys(report.ratios);
  if (keys.length) {
    lines.push('', 'ratios of medians (same run):');
    const rrows = keys.map((k) => {
      const t = report.ratio_targets[k];
      const x = report.ratios[k];
      return [
        k,
        x.toFixed(3),
        t === undefined ? '' : `target <= ${t}`,
        t === undefined ? '' : x <= t ? 'met' : 'MISSED',
      ];
    });
    lines.push(table(rrows, [false, true, false, false]));
  }
  const floors = Object.entries(report.floors ?? {});
  if (floors.length) {
    lines.push('', 'floors:');
    const frows = floors.map(([k, f]) => [
      k,
      fmtCount(f.value),
      `target >= ${fmtCount(f.min)}`,
      f.value >= f.min ? 'met' : 'MISSED',
    ]);
    lines.push(table(frows, [false, true, false, false]));
  }
  lines.push(
    '',
    'median/p99: per-operation ns over samples; a sample is a batch of back-to-back operations ' +
      '(samples x batch_ops), so p99 is over batch means unless batch_ops is 1.',
  );
  return lines.join('\n');
}

/** CPU time of the whole machine, from /proc/stat (Linux), in ms. */
interface CpuTimes {
  busyMs: number;
  stealMs: number;
}

function readCpuTimes(): CpuTimes | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...; in USER_HZ ticks (100 per second)
    const tick = 10;
    return { busyMs: (f[0] + f[1] + f[2] + f[5] + f[6]) * tick, stealMs: (f[7] ?? 0) * tick };
  } catch {
    return undefined;
  }
}

/** How busy the machine was with other work while the suite ran: the figures' noise. */
export interface Noise {
  /** CPU time of other processes, in % of one core of wall time (0 on a quiet machine). */
  other_cpu_pct: number;
  /** Time the hypervisor ran other guests on our vCPUs, in % of one core of wall time. */
  steal_pct: number;
}

/**
 * Starts watching the machine; the returned function gives the noise since then. The run's own CPU
 * (own-cpu.ts) is this process, its children but `exclude()` (the --contend load), and the
 * processes named `peers` (a suite's database server).
 */
export function watchNoise(
  peers: readonly string[] = [],
  exclude: () => readonly number[] = () => [],
): () => Noise | undefined {
  const t0 = performance.now();
  const m0 = readCpuTimes();
  const own = () => {
    const procs = readProcs();
    return procs.length > 0 ? ownCpuMs(procs, process.pid, peers, exclude()) : undefined;
  };
  const o0 = own();
  const p0 = process.cpuUsage();
  return () => {
    const m1 = readCpuTimes();
    if (!m0 || !m1) return undefined;
    const wall = performance.now() - t0;
    const o1 = o0 === undefined ? undefined : own();
    const p = process.cpuUsage(p0);
    const ours = o1 !== undefined && o0 !== undefined ? o1 - o0 : (p.user + p.system) / 1000;
    const pct = (ms: number): number => round(Math.max(0, (ms / wall) * 100), 1);
    return { other_cpu_pct: pct(m1.busyMs - m0.busyMs - ours), steal_pct: pct(m1.stealMs - m0.stealMs) };
  };
}
