// The suites, found by file name in dist/suites/, and a programmatic way to run one (zufs bench, zufs demo).
import { readdirSync } from 'node:fs';
import { contend } from './contend.js';
import { formatTable, machine, makeReport, type Report, watchNoise } from './report.js';
import { type Suite, suiteOptions } from './suite.js';

const suitesDir = new URL('./suites/', import.meta.url);

export function listSuites(): string[] {
  return readdirSync(suitesDir)
    .filter((f) => f.endsWith('.js'))
    .map((f) => f.slice(0, -3))
    .sort();
}

export async function loadSuite(name: string): Promise<Suite> {
  const mod = await import(new URL(`${name}.js`, suitesDir).href);
  const suite: Suite = typeof mod.default?.run === 'function' ? mod.default : mod;
  if (typeof suite.run !== 'function' || typeof suite.name !== 'string') {
    throw new Error(`src/suites/${name}.ts must export name and run(opts) (or a default export with them)`);
  }
  return suite;
}

export interface RunSuiteOptions {
  quick?: boolean;
  filter?: string;
  rounds?: number;
  log?: (msg: string) => void;
  /** A PostgreSQL server's URL (the remote suite; else ZUFS_TEST_PG_URL). */
  pg?: string;
  /** Busy processes kept running beside the suite (contend.ts); the report says how many. */
  contend?: number;
}

/** Runs a suite and returns its report (the JSON object) and its human table. */
export async function runSuite(
  name: string,
  o: RunSuiteOptions = {},
): Promise<{ report: Report; table: string }> {
  const suite = await loadSuite(name);
  const opts = suiteOptions(!!o.quick, o.filter, o.rounds, o.log, o.pg);
  const m = machine();
  const load = o.contend ? await contend(o.contend) : null;
  const noise = watchNoise(suite.peers, () => load?.pids ?? []);
  let cases: Awaited<ReturnType<Suite['run']>>;
  let seen: ReturnType<typeof noise>;
  try {
    cases = await suite.run(opts);
    seen = noise();
  } finally {
    await load?.stop();
  }
  if (cases.length === 0) throw new Error(`no case of suite '${suite.name}' matches --filter ${o.filter}`);
  const report = makeReport(suite, cases, m, !!o.quick, opts.rounds, o.filter, seen, o.contend);
  return { report, table: formatTable(report, suite) };
}
