#!/usr/bin/env node
/** zufs-cli (also installed as `zufs`): one command for everything zufs. */
import { Command, CommanderError } from 'commander';
import { CliError, describe } from './errors.js';

/**
 * The commands by module, loaded lazily: each module imports what its commands need (the server and
 * pmemfs, FUSE, the benchmarks), and a command imports only its own module (`zufs ls` never loads
 * FUSE). A command name missing here still works: then every module is loaded, as for the help.
 */
const MODULES: { names: readonly string[]; load: () => Promise<Command[]> }[] = [
  {
    names: ['mkfs', 'fsck', 'info'],
    load: async () => {
      const m = await import('./commands/images.js');
      return [m.mkfsCommand(), m.fsckCommand(), m.infoCommand()];
    },
  },
  {
    names: ['mount', 'umount'],
    load: async () => {
      const m = await import('./commands/mount.js');
      return [m.mountCommand(), m.umountCommand()];
    },
  },
  {
    names: ['ls', 'stat', 'cat', 'cp', 'get', 'put', 'rm', 'mkdir', 'mv', 'ln'],
    load: async () => (await import('./commands/files.js')).fileCommands(),
  },
  { names: ['demo'], load: async () => [(await import('./commands/demo.js')).demoCommand()] },
  { names: ['bench'], load: async () => [(await import('./commands/bench.js')).benchCommand()] },
  {
    names: ['test-plugin'],
    load: async () => [(await import('./commands/test-plugin.js')).testPluginCommand()],
  },
];

const program = new Command()
  .name('zufs')
  .description('zufs: the Zero-copy User-mode FileSystem for Node.js')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

const named = process.argv[2];
const only = MODULES.find((m) => m.names.includes(named));
const commands = (await Promise.all((only ? [only] : MODULES).map((m) => m.load()))).flat();
// Commands added whole do not inherit the program's settings: usage errors must throw (exit 2) here too.
for (const c of commands)
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
