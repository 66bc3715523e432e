#!/usr/bin/env node
// pnpm bench <suite> [--json] [--quick] [--filter <substring>] [--rounds <n>] [--pg <url>] [--contend <n>]
//
// A suite is a module in src/suites/<name>.ts (built to dist/suites/<name>.js); its file name is the
// suite's name. Adding a suite is adding that one file: registry.ts lists the directory.
import { signalled } from './cleanup.js';
import { listSuites, runSuite } from './registry.js';

const USAGE =
  'usage: pnpm bench <suite> [--json] [--quick] [--filter <substring>] [--rounds <n>] [--pg <url>] [--contend <n>]';

interface Args {
  suite?: string;
  json: boolean;
  quick: boolean;
  filter?: string;
  rounds?: number;
  /** PostgreSQL for the remote suite (else ZUFS_TEST_PG_URL). */
  pg?: string;
  /** Busy processes beside the run (a loaded machine). */
  contend?: number;
  help: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { json: false, quick: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') args.json = true;
    else if (a === '--quick') args.quick = true;
    else if (a === '--help' || a === '-h') args.help = true;
    else if (a === '--filter') {
      if (i + 1 >= argv.length) throw new UsageError('--filter needs a substring');
      args.filter = argv[++i];
    } else if (a.startsWith('--filter=')) args.filter = a.slice('--filter='.length);
    else if (a === '--rounds' || a.startsWith('--rounds=')) {
      const v = a === '--rounds' ? argv[++i] : a.slice('--rounds='.length);
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new UsageError('--rounds needs a positive integer');
      args.rounds = n;
    } else if (a === '--pg' || a.startsWith('--pg=')) {
      const v = a === '--pg' ? argv[++i] : a.slice('--pg='.length);
      if (!v) throw new UsageError('--pg needs a postgres:// URL');
      args.pg = v;
    } else if (a === '--contend' || a.startsWith('--contend=')) {
      const v = a === '--contend' ? argv[++i] : a.slice('--contend='.length);
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 64)
        throw new UsageError('--contend needs a number of processes (0-64)');
      args.contend = n;
    } else if (a === '--') continue;
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else if (args.suite === undefined) args.suite = a;
    else throw new UsageError(`unexpected argument ${a}`);
  }
  return args;
}

class UsageError extends Error {}

function exit(code: number): void {
  // Signalled: the handler undoes what is up and exits with the signal's code; the suite may end
  // (or fail, its mounts gone) meanwhile, which is not the run's result.
  if (signalled()) return;
  // stdout may be a pipe: let it drain before leaving (a synckit worker is unref'd, others are stopped).
  process.stdout.write('', () => process.exit(code));
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`bench: ${e.message}\n${USAGE}\nsuites: ${listSuites().join(', ')}`);
    return 2;
  }
  const suites = listSuites();
  if (args.help) {
    console.log(`${USAGE}\nsuites: ${suites.join(', ')}`);
    return 0;
  }
  if (args.suite === undefined || !suites.includes(args.suite)) {
    const what = args.suite === undefined ? 'no suite given' : `unknown suite '${args.suite}'`;
    console.error(`bench: ${what}. Suites: ${suites.join(', ')}\n${USAGE}`);
    return 2;
  }
  const log = (msg: string): void => console.error(msg);
  log(`bench ${args.suite}${args.quick ? ' --quick' : ''}: node ${process.version}`);
  let out: Awaited<ReturnType<typeof runSuite>>;
  try {
    out = await runSuite(args.suite, {
      quick: args.quick,
      filter: args.filter,
      rounds: args.rounds,
      pg: args.pg,
      contend: args.contend,
      log,
    });
  } catch (e) {
    if (!(e instanceof Error && e.message.startsWith('no case of suite'))) throw e;
    console.error(`bench: ${e.message}`);
    return 2;
  }
  const { report, table: text } = out;
  if (args.json) {
    console.error(text);
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    process.stdout.write(`${text}\n`);
  }
  return 0;
}

main().then(exit, (e) => {
  if (signalled()) return;
  console.error('bench: failed:', e);
  exit(1);
});
