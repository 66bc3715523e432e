import { listSuites, runSuite } from '@zufs/bench';
import { Command } from 'commander';

export function benchCommand(): Command {
  return new Command('bench')
    .description('run a benchmark suite (relay, dispatch, idle) and print its table or JSON')
    .argument('<suite>', `one of: ${listSuites().join(', ')}`)
    .option('--json', 'print one JSON object on stdout (the table goes to stderr)')
    .option('--quick', 'a short run')
    .option('--filter <substring>', 'only the cases whose name contains this')
    .addHelpText('after', '\nExamples:\n  zufs bench relay\n  zufs bench dispatch --json > dispatch.json\n')
    .action(async (suite: string, o: { json?: boolean; quick?: boolean; filter?: string }) => {
      if (!listSuites().includes(suite))
        throw new Error(`unknown suite '${suite}' (suites: ${listSuites().join(', ')})`);
      const { report, table } = await runSuite(suite, { quick: !!o.quick, filter: o.filter });
      if (o.json) {
        console.error(table);
        process.stdout.write(`${JSON.stringify(report)}\n`);
      } else console.log(table);
    });
}
