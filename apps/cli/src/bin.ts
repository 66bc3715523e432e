#!/usr/bin/env node
/** zufs-cli (also installed as `zufs`): one command for everything zufs. */
import { Command, CommanderError } from 'commander';
import { benchCommand } from './commands/bench.js';
import { demoCommand } from './commands/demo.js';

const program = new Command()
  .name('zufs')
  .description('zufs: the Zero-copy User-mode FileSystem for Node.js')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();
program.addCommand(demoCommand());
program.addCommand(benchCommand());

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError)
    process.exitCode = e.exitCode === 0 ? 0 : 2; // usage errors
  else {
    // One clear line, no stack trace: the CLI's errors are meant for people.
    console.error(`zufs: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  }
}
