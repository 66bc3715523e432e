import { Command } from 'commander';
import { CliError } from '../errors.js';

/**
 * The suites of @zufs/bench, listed here so that the help names them without importing the bench
 * (a private package of the repository, with heavy dependencies of its own). The bench's tests
 * check this list against its registry.
 */
export const BENCH_SUITES: readonly string[] = [
  'relay',
  'dispatch',
  'idle',
  'fs',
  'fuse',
  'image',
  'workload',
  'remote',
  'restart',
];

/** What the CLI uses of @zufs/bench (typed here: the CLI does not depend on it). */
interface Bench {
  runSuite(
    name: string,
    o?: { quick?: boolean; filter?: string; pg?: string; log?: (msg: string) => void },
  ): Promise<{ report: { ratios?: Record<string, number> }; table: string }>;
}

/**
 * @zufs/bench, when it is installed (a checkout of the repository has it; the published CLI does
 * not depend on it); otherwise a CliError that says where it lives.
 */
export async function loadBench(cmd: string): Promise<Bench> {
  // A variable specifier: TypeScript neither resolves nor type-checks a package the CLI does not declare.
  const specifier = '@zufs/bench';
  try {
    return (await import(specifier)) as Bench;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !err.message.includes(`'${specifier}'`)) throw e;
    throw new CliError(
      `${cmd}: the benchmarks (@zufs/bench) are not installed: they live in the zufs repository ` +
        '(bench/); from a checkout, run `pnpm install && pnpm build`, then `pnpm bench SUITE` or `zufs bench SUITE`',
    );
  }
}

export function benchCommand(): Command {
  const suites = BENCH_SUITES.join(', ');
  return new Command('bench')
    .description(`run a benchmark suite (${suites}) and print its table or JSON (needs @zufs/bench)`)
    .argument('<suite>', `one of: ${suites}`)
    .option('--json', 'print one JSON object on stdout (the table goes to stderr)')
    .option('--quick', 'a short run')
    .option('--filter <substring>', 'only the cases whose name contains this')
    .option(
      '--pg <url>',
      'PostgreSQL for the remote suite (else ZUFS_TEST_PG_URL; without one its PG cases are left out)',
    )
    .addHelpText(
      'after',
      '\nThe benchmarks are a private package of the zufs repository (bench/): run them from a checkout.\n' +
        '\nExamples:\n  zufs bench relay\n  zufs bench dispatch --json > dispatch.json\n',
    )
    .action(async (suite: string, o: { json?: boolean; quick?: boolean; filter?: string; pg?: string }) => {
      if (!BENCH_SUITES.includes(suite))
        throw new CliError(`bench: unknown suite '${suite}' (suites: ${suites})`, 2);
      const { runSuite } = await loadBench('bench');
      const { report, table } = await runSuite(suite, { quick: !!o.quick, filter: o.filter, pg: o.pg });
      if (o.json) {
        console.error(table);
        process.stdout.write(`${JSON.stringify(report)}\n`);
      } else console.log(table);
    });
}
