// What a suite is. A suite is one module in src/suites/<name>.ts; run.ts finds it by its file name.
import { type CaseResult, type MeasureConfig, measureConfig, mergeRounds } from './measure.js';

export interface SuiteOptions {
  /** A short run (the smoke test): smaller time budgets, same cases. */
  quick: boolean;
  /** Run only the cases whose name contains this substring. */
  filter?: string;
  /**
   * Time budgets for one measurement of a case. runCases measures every case `rounds` times,
   * interleaved (case A, B, C, A, B, C, ...), with budgetMs already divided by `rounds`.
   */
  cfg: MeasureConfig;
  /** How many interleaved rounds runCases makes (1 with --quick, 3 by default). */
  rounds: number;
  /** Progress messages (stderr). */
  log: (msg: string) => void;
  /** A PostgreSQL server's URL for the suites that need one (--pg; the remote suite). */
  pg?: string;
}

/** A ratio the suite reports: median(num) / median(den), both measured in the same run. */
export interface RatioSpec {
  num: string;
  den: string;
  /** The ratio should be at most this. */
  target?: number;
}

/** A floor on one field of one case (e.g. bytes_per_s of a streaming case), checked in the report. */
export interface FloorSpec {
  case: string;
  field: string;
  /** The field should be at least this. */
  min: number;
}

/** The shape of a suite module (named exports, or the same object as the default export). */
export interface Suite {
  name: string;
  description?: string;
  /** The case every other case is compared with in the table ("x baseline" column). */
  baseline?: string;
  ratios?: RatioSpec[];
  floors?: FloorSpec[];
  /** Names of processes the suite measures against (its database server): their CPU is not noise. */
  peers?: readonly string[];
  run(opts: SuiteOptions): Promise<CaseResult[]>;
}

/** One case of a suite. `run` measures it (usually with measureBatches or measureEach). */
export interface CaseDef {
  name: string;
  run(opts: SuiteOptions): Promise<CaseResult>;
}

export function suiteOptions(
  quick: boolean,
  filter?: string,
  rounds = quick ? 1 : 3,
  log = (m: string) => console.error(m),
  pg?: string,
): SuiteOptions {
  const cfg = measureConfig(quick);
  cfg.budgetMs /= rounds;
  return { quick, filter, cfg, rounds, log, pg };
}

export function selected(name: string, opts: SuiteOptions): boolean {
  return !opts.filter || name.includes(opts.filter);
}

/**
 * Runs the selected cases one after the other (never two at once: they would share the cores), in
 * `opts.rounds` interleaved rounds whose samples are pooled per case: a machine that drifts during the
 * run (another VM on the host, a migrated vCPU) then weighs on every case alike, which keeps the
 * ratios between cases honest.
 */
export async function runCases(cases: CaseDef[], opts: SuiteOptions): Promise<CaseResult[]> {
  const chosen = cases.filter((c) => selected(c.name, opts));
  const rounds: CaseResult[][] = chosen.map(() => []);
  for (let r = 0; r < opts.rounds; r++) {
    for (let i = 0; i < chosen.length; i++) {
      opts.log(`  ${chosen[i].name}${opts.rounds > 1 ? ` (round ${r + 1}/${opts.rounds})` : ''} ...`);
      rounds[i].push(await chosen[i].run(opts));
    }
  }
  return rounds.map(mergeRounds);
}
