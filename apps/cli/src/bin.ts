#!/usr/bin/env node
/** zufs-cli (also installed as `zufs`): one command for everything zufs. */
import { Command, CommanderError } from 'commander';
import { benchCommand } from './commands/bench.js';
import { demoCommand } from './commands/demo.js';
import { fileCommands } from './commands/files.js';
import { fsckCommand, infoCommand, mkfsCommand } from './commands/images.js';
import { mountCommand, umountCommand } from './commands/mount.js';
import { CliError, describe } from './errors.js';

const program = new Command()
  .name('zufs')
  .description('zufs: the Zero-copy User-mode FileSystem for Node.js')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();
const commands = [
  mkfsCommand(),
  fsckCommand(),
  infoCommand(),
  mountCommand(),
  umountCommand(),
  ...fileCommands(),
];
// Commands added whole do not inherit the program's settings: usage errors must throw (exit 2) here too.
for (const c of [...commands, demoCommand(), benchCommand()])
  program.addCommand(c.exitOverride().showHelpAfterError('(run with --help for usage)'));

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError)
    process.exitCode = e.exitCode === 0 ? 0 : 2; // usage errors
  else {
    // One clear line, no stack trace: the CLI's errors are meant for people.
    const cmd = process.argv[2] ?? 'zufs';
    console.error(`zufs: ${describe(e, cmd)}`);
    process.exitCode = e instanceof CliError ? e.exitCode : 1;
  }
}
