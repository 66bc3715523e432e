// The measurement harness.
//
// Operations here last from ~0.2 us (a spinning SAB round trip) to ~100 us (a futex or postMessage round
// trip). A clock read costs tens of ns, so a fast operation is never timed alone: it is timed in batches
// of `n` back-to-back operations, and one sample is the batch's time divided by `n` (per-op ns).
//
//   1. calibrate: grow `n` until one batch lasts `targetBatchNs` (1 ms by default);
//   2. warm up: run batches for `warmupMs` (JIT, caches, the peer thread's spin budgets), then set `n`
//      again from the warm per-op time;
//   3. sample: run batches until `budgetMs` has passed (and at least `minSamples` were taken);
//   4. report the median and the p99 over the samples, in ns per operation.
//
// The p99 is a p99 of batch means: it shows how a whole batch (~1 ms) was slowed down (a descheduled
// peer, a GC, a neighbour on the VM), not the tail of a single operation. `measureEach` times each
// operation alone, for slow operations that need untimed setup before each one (e.g. letting a peer
// thread go idle and park): there the p99 is a true per-operation p99.

export interface MeasureConfig {
  /** Wall time to spend sampling one case, in ms. */
  budgetMs: number;
  /** Wall time to spend warming up one case, in ms. */
  warmupMs: number;
  /** A batch should last at least this long, in ns. */
  targetBatchNs: number;
  /** Keep sampling past the budget until this many samples were taken (bounded by 4 x budget). */
  minSamples: number;
  /** Stop sampling after this many samples even if the budget is not spent. */
  maxSamples: number;
}

export function measureConfig(quick: boolean): MeasureConfig {
  return quick
    ? { budgetMs: 150, warmupMs: 40, targetBatchNs: 500_000, minSamples: 20, maxSamples: 100_000 }
    : { budgetMs: 1500, warmupMs: 300, targetBatchNs: 1_000_000, minSamples: 100, maxSamples: 1_000_000 };
}

/** One measured case, as it appears in the JSON `cases` array. */
export interface CaseResult {
  name: string;
  /** Median over samples of the per-operation time, ns. */
  median_ns: number;
  /** 99th percentile over samples of the per-operation time, ns. */
  p99_ns: number;
  /** Fastest sample, ns per op. */
  min_ns: number;
  /** 1e9 / median_ns. */
  ops_per_s: number;
  /** Number of samples (batches, or single operations in per-operation mode). */
  samples: number;
  /** Operations per sample (1 in per-operation mode). */
  batch_ops: number;
  /** Process CPU time (all threads) during sampling, in % of one core of wall time. */
  cpu_pct: number;
  /** Extra, case-specific fields (counters per op, bytes_per_s, ...). */
  [extra: string]: number | string | boolean | undefined;
}

/** Hooks run around the sampling phase, outside timed regions (e.g. to snapshot counters). */
export interface SamplingHooks {
  beforeSampling?: () => void | Promise<void>;
  /** Returns extra fields for the result; `ops` is the number of operations run while sampling. */
  afterSampling?: (ops: number) => Record<string, number> | Promise<Record<string, number>>;
}

const now = (): bigint => process.hrtime.bigint();

/** Runs `fn(n)` (which performs n operations) and returns the elapsed ns. */
async function timeBatch(fn: (n: number) => unknown, n: number): Promise<number> {
  const t0 = now();
  const r = fn(n);
  if (r instanceof Promise) await r;
  return Number(now() - t0);
}

/**
 * Measures an operation in batches. `batch(n)` must perform `n` operations back to back (sync or async);
 * keep the loop inside `batch` so that no per-op call overhead of the harness is counted.
 */
export async function measureBatches(
  name: string,
  batch: (n: number) => unknown,
  cfg: MeasureConfig,
  hooks: SamplingHooks = {},
): Promise<CaseResult> {
  // 1. calibrate
  let n = 1;
  for (;;) {
    const t = await timeBatch(batch, n);
    if (t >= cfg.targetBatchNs || n >= 1 << 26) break;
    const grow = t <= 0 ? 10 : Math.min(10, Math.max(2, (cfg.targetBatchNs / t) * 1.1));
    n = Math.ceil(n * grow);
  }
  // 2. warm up, then size the batch from the warm per-op time
  const warm: number[] = [];
  const warmEnd = performance.now() + cfg.warmupMs;
  do warm.push((await timeBatch(batch, n)) / n);
  while (performance.now() < warmEnd);
  const warmPerOp = median(warm.sort((a, b) => a - b));
  n = Math.max(1, Math.min(1 << 26, Math.ceil((cfg.targetBatchNs * 1.1) / Math.max(warmPerOp, 1))));
  // 3. sample
  await hooks.beforeSampling?.();
  const samples: number[] = [];
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const end = wall0 + cfg.budgetMs;
  const hardEnd = wall0 + cfg.budgetMs * 4;
  for (;;) {
    samples.push((await timeBatch(batch, n)) / n);
    const t = performance.now();
    if (samples.length >= cfg.maxSamples || t >= hardEnd) break;
    if (t >= end && samples.length >= cfg.minSamples) break;
  }
  const wall = performance.now() - wall0;
  const cpu = process.cpuUsage(cpu0);
  const extra = (await hooks.afterSampling?.(samples.length * n)) ?? {};
  return summarize(name, samples, n, cpuPct(cpu, wall), extra);
}

/**
 * Measures each operation alone (per-operation mode), for slow operations. `setup()` runs before each
 * operation and is not timed. Every operation is a sample.
 */
export async function measureEach(
  name: string,
  op: () => unknown,
  cfg: MeasureConfig,
  setup: () => unknown = () => {},
  hooks: SamplingHooks = {},
): Promise<CaseResult> {
  const one = async (): Promise<number> => {
    const s = setup();
    if (s instanceof Promise) await s;
    const t0 = now();
    const r = op();
    if (r instanceof Promise) await r;
    return Number(now() - t0);
  };
  const warmEnd = performance.now() + cfg.warmupMs;
  do await one();
  while (performance.now() < warmEnd);
  await hooks.beforeSampling?.();
  const samples: number[] = [];
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const end = wall0 + cfg.budgetMs;
  const hardEnd = wall0 + cfg.budgetMs * 4;
  for (;;) {
    samples.push(await one());
    const t = performance.now();
    if (samples.length >= cfg.maxSamples || t >= hardEnd) break;
    if (t >= end && samples.length >= cfg.minSamples) break;
  }
  const wall = performance.now() - wall0;
  const cpu = process.cpuUsage(cpu0);
  const extra = (await hooks.afterSampling?.(samples.length)) ?? {};
  return summarize(name, samples, 1, cpuPct(cpu, wall), extra);
}

function cpuPct(cpu: NodeJS.CpuUsage, wallMs: number): number {
  return wallMs > 0 ? round(((cpu.user + cpu.system) / 1000 / wallMs) * 100, 1) : 0;
}

// The samples behind a result (kept out of the JSON), so that rounds of one case can be pooled.
const samplesOf = new WeakMap<CaseResult, number[]>();

/** The samples (ascending, ns per op) behind a result, to pool it with rounds measured elsewhere. */
export function samplesOfResult(r: CaseResult): number[] | undefined {
  return samplesOf.get(r);
}

/**
 * Builds a result from per-op samples (ns), for cases that sample by themselves. Results built here
 * (and by measureBatches / measureEach) keep their samples, so rounds pool exactly.
 */
export function resultFromSamples(
  name: string,
  samples: number[],
  batchOps: number,
  cpu_pct: number,
  extra: Record<string, number | string | boolean | undefined> = {},
): CaseResult {
  return summarize(name, samples, batchOps, cpu_pct, extra);
}

function summarize(
  name: string,
  samples: number[],
  batchOps: number,
  cpu_pct: number,
  extra: Record<string, number | string | boolean | undefined>,
): CaseResult {
  const sorted = samples.slice().sort((a, b) => a - b);
  const med = median(sorted);
  const result: CaseResult = {
    name,
    median_ns: round(med, 1),
    p99_ns: round(percentile(sorted, 0.99), 1),
    min_ns: round(sorted[0], 1),
    ops_per_s: med > 0 ? Math.round(1e9 / med) : 0,
    samples: sorted.length,
    batch_ops: batchOps,
    cpu_pct,
    ...extra,
  };
  samplesOf.set(result, sorted);
  return result;
}

/**
 * Pools the rounds of one case (each measured with a share of the budget, interleaved with the other
 * cases): median, p99 and min over all samples; cpu_pct averaged; other numeric fields (counters per
 * op) averaged with the number of operations of each round as weight.
 */
export function mergeRounds(rounds: CaseResult[]): CaseResult {
  if (rounds.length === 1) return rounds[0];
  const all: number[] = [];
  let ops = 0;
  let samples = 0;
  let pooled = true;
  for (const r of rounds) {
    const s = samplesOf.get(r);
    if (s) for (const x of s) all.push(x);
    else pooled = false; // built by hand (or copied with a spread): no samples to pool
    ops += r.samples * r.batch_ops;
    samples += r.samples;
  }
  const extra: Record<string, number | string | boolean | undefined> = {};
  const std = new Set([
    'name',
    'median_ns',
    'p99_ns',
    'min_ns',
    'ops_per_s',
    'samples',
    'batch_ops',
    'cpu_pct',
  ]);
  for (const key of Object.keys(rounds[0])) {
    if (std.has(key)) continue;
    const v = rounds[0][key];
    if (typeof v !== 'number') {
      extra[key] = v;
      continue;
    }
    let sum = 0;
    for (const r of rounds) sum += (Number(r[key]) || 0) * r.samples * r.batch_ops;
    extra[key] = round(sum / ops, 4);
  }
  const cpu = round(rounds.reduce((a, r) => a + r.cpu_pct, 0) / rounds.length, 1);
  const batchOps = Math.round(ops / samples);
  let merged: CaseResult;
  if (pooled) merged = summarize(rounds[0].name, all, batchOps, cpu, extra);
  else {
    // Without samples: the median of the rounds' figures (min: the smallest).
    const mid = (k: 'median_ns' | 'p99_ns' | 'ops_per_s'): number =>
      median(rounds.map((r) => r[k]).sort((a, b) => a - b));
    merged = {
      name: rounds[0].name,
      median_ns: round(mid('median_ns'), 1),
      p99_ns: round(mid('p99_ns'), 1),
      min_ns: Math.min(...rounds.map((r) => r.min_ns)),
      ops_per_s: Math.round(mid('ops_per_s')),
      samples,
      batch_ops: batchOps,
      cpu_pct: cpu,
      ...extra,
    };
  }
  merged.rounds = rounds.length;
  return merged;
}

/** Median of an ascending array. */
export function median(sorted: number[]): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

/** Nearest-rank percentile (0 < q <= 1) of an ascending array. */
export function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
