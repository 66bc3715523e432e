#!/usr/bin/env node
/** zufs-cli (also installed as `zufs`): one command for everything zufs. */
import { readFileSync } from 'node:fs';
import type { Command as CommandType } from 'commander';

/** The commands on files in an image (commands/files.ts): they open it through a server. */
const FILE_COMMANDS = ['ls', 'stat', 'cat', 'cp', 'get', 'put', 'rm', 'mkdir', 'mv', 'ln'] as const;
const named = process.argv[2];
// A command on an image starts its server first, before anything else loads: the server thread
// boots on the other core while this one loads the command (image.ts, startEarly).
const image = (FILE_COMMANDS as readonly string[]).includes(named) ? await import('./image.js') : undefined;
image?.startEarly(process.argv.slice(3));

const { Command, CommanderError } = await import('commander');
const { CliError, describe } = await import('./errors.js');

/**
 * The commands by module, loaded lazily: each module imports what its commands need (the server and
 * pmemfs, FUSE, the benchmarks), and a command imports only its own module (`zufs ls` never loads
 * FUSE). A command name missing here still works: then every module is loaded, as for the help.
 */
const MODULES: { names: readonly string[]; load: () => Promise<CommandType[]> }[] = [
  {
    names: ['mkfs', 'fsck', 'info'],
    load: async () => {
      const m = await import('./commands/images.js');
      return [m.mkfsCommand(), m.fsckCommand(), m.infoCommand()];
    },
  },
  {
    names: ['mount', 'umount', 'reload'],
    load: async () => {
      const m = await import('./commands/mount.js');
      return [m.mountCommand(), m.umountCommand(), m.reloadCommand()];
    },
  },
  {
    names: FILE_COMMANDS,
    load: async () => (await import('./commands/files.js')).fileCommands(),
  },
  { names: ['demo'], load: async () => [(await import('./commands/demo.js')).demoCommand()] },
  { names: ['bench'], load: async () => [(await import('./commands/bench.js')).benchCommand()] },
  {
    names: ['test-plugin'],
    load: async () => [(await import('./commands/test-plugin.js')).testPluginCommand()],
  },
];

/** commander's `error: ...` as `zufs: cmd: ...`, the form of every other message. */
const usageLine = (who: string, s: string) => `${who}: ${s.replace(/^error: /, '')}`;

const program = new Command()
  .name('zufs')
  .description('zufs: the Zero-copy User-mode FileSystem for Node.js')
  // The installed package's version, read when asked: dist/bin.js sits one level below package.json.
  .version(
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version,
    '-V, --version',
    'print the version of zufs',
  )
  .showHelpAfterError('(run with --help for usage)')
  .configureOutput({ outputError: (s, write) => write(usageLine('zufs', s)) })
  .exitOverride();

const only = MODULES.find((m) => m.names.includes(named));
// --version needs no command at all.
const version = named === '--version' || named === '-V';
const commands = (await Promise.all((version ? [] : only ? [only] : MODULES).map((m) => m.load()))).flat();
// Commands added whole do not inherit the program's settings: usage errors must throw (exit 2) here too.
for (const c of commands)
  program.addCommand(
    c
      .exitOverride()
      .showHelpAfterError('(run with --help for usage)')
      .configureOutput({ outputError: (s, write) => write(usageLine(`zufs: ${c.name()}`, s)) }),
  );

// `zufs cat IMG:/f | head`: a reader that stops early is no error (as for cat(1)).
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

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
} finally {
  await image?.stopEarly();
}
