import { testPlugin } from '@zufs/conformance';
import { fuseUnavailable } from '@zufs/fuse';
import { Command } from 'commander';
import { CliError } from '../errors.js';

/** `a/*=reason,links/hardlink=reason` as an Unsupported map (a bare id gets a generic reason). */
function parseUnsupported(list: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list.split(',').filter((s) => s.trim() !== '')) {
    const eq = item.indexOf('=');
    const id = (eq < 0 ? item : item.slice(0, eq)).trim();
    if (!/^[a-z]+\/([a-z0-9][a-z0-9-.]*|\*)$/.test(id))
      throw new CliError(
        `test-plugin: --unsupported: '${id}' is not a case id or area (e.g. links/* or xattr/get)`,
        2,
      );
    out[id] = eq < 0 ? 'declared unsupported' : item.slice(eq + 1).trim();
  }
  return out;
}

/**
 * The conformance kit: the whole @zufs/conformance suite on a server that runs the given plugin,
 * through the node:fs face and (root, /dev/fuse) through a kernel mount; exit 1 when any case fails.
 */
export function testPluginCommand(): Command {
  return new Command('test-plugin')
    .description('run the conformance suite (node:fs on Linux, exactly) on a filesystem plugin')
    .argument('<module>', "the plugin's module (its default export is the defineFsType result)")
    .option('-o, --options <options>', "mount options for each case's fresh volume (e.g. 'inodes=1024')")
    .option(
      '--unsupported <list>',
      "cases or areas the filesystem does not support, 'id=reason,...' (reported, never counted as passed)",
    )
    .option('--only <prefixes>', "run only cases whose id starts with one of these ('rename/,copy/')")
    .option(
      '--kernel',
      'also through a kernel mount, or fail saying why not (default: when root and /dev/fuse)',
    )
    .option('--no-kernel', 'through the node:fs face only')
    .addHelpText(
      'after',
      "\nA plugin may also export `conformance = { options, unsupported: { 'xattr/*': 'no xattrs' } }`.\n" +
        "\nExample:\n  zufs test-plugin ./my-fs.mjs --options 'inodes=4096' --unsupported 'xattr/*=no xattrs'\n",
    )
    .action(
      async (
        module: string,
        o: { options?: string; unsupported?: string; only?: string; kernel?: boolean },
      ) => {
        // The kernel mount: unless turned off, when this process can mount (--kernel: or fail saying why).
        const why = o.kernel === false ? undefined : fuseUnavailable();
        if (why && o.kernel === true) throw new CliError(`test-plugin: --kernel: ${why.message}`, 1);
        const kernel =
          o.kernel === false
            ? { notRun: 'turned off' }
            : why
              ? { notRun: why.message }
              : (await import('../conformance/fuse-target.js')).fuseTarget;
        const r = await testPlugin({
          module,
          kernel,
          options: o.options,
          unsupported: o.unsupported ? parseUnsupported(o.unsupported) : undefined,
          only: o.only?.split(',').filter((s) => s !== ''),
        });
        // The run is over and its mounts are gone. A case that failed half way may have left a
        // watcher or a timer of the plugin's behind: the command ends here, not when they do.
        process.exit(r.failed > 0 ? 1 : 0);
      },
    );
}
