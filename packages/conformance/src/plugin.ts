/**
 * The kit for plugin authors: the whole suite on a server that runs one filesystem plugin, through
 * the node:fs face, then through a kernel mount when root and /dev/fuse are there (what
 * `zufs test-plugin ./my-fs.mjs` does).
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fuseUnavailable } from '@zufs/fuse';
import { type CaseResult, report, runSuite, type Unsupported } from './run.js';
import type { Target } from './target.js';
import { fuseTarget } from './targets/fuse.js';
import { zufsTarget } from './targets/zufs.js';

/**
 * What a plugin module may export as `conformance`, beside its default export (the FsType): the
 * mount options the suite uses and what the filesystem does not support (case ids or `area/*`).
 */
export interface PluginConformance {
  options?: string;
  unsupported?: Unsupported;
}

export interface TestPluginOptions {
  /** The plugin's module: a path (relative to the working directory) or a file: URL. */
  module: string | URL;
  /** Mount options for each case's fresh volume (default: the module's `conformance.options`, or none). */
  options?: string;
  /** More cases or areas not supported, added to the module's `conformance.unsupported`. */
  unsupported?: Unsupported;
  /** Only the cases whose id starts with one of these. */
  only?: string[];
  /**
   * Also run the suite through a kernel mount (node:fs on a FUSE mount of the plugin). Default:
   * when this process can mount (root, /dev/fuse); false: not (the report says so).
   */
  kernel?: boolean;
  /** Where progress and the report go (default: stdout). */
  write?(line: string): void;
}

export interface PluginReport {
  type: string;
  /** Each case's outcome through the node:fs face. */
  results: CaseResult[];
  /** Each case's outcome through a kernel mount, or why that was not run. */
  kernel: CaseResult[] | { notRun: string };
  /** Cases that failed, through both (a departure that passes counts too). */
  failed: number;
}

/** Why the kernel-mount run is skipped, or undefined to run it. */
function kernelNotRun(kernel: boolean | undefined): string | undefined {
  if (kernel === false) return 'turned off';
  const why = fuseUnavailable();
  if (!why) return undefined;
  if (kernel === true) throw why;
  return why.message;
}

/** Runs the suite on the plugin in `o.module` and prints which cases fail and why. */
export async function testPlugin(o: TestPluginOptions): Promise<PluginReport> {
  const write = o.write ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const url =
    o.module instanceof URL
      ? o.module
      : o.module.startsWith('file:')
        ? new URL(o.module)
        : pathToFileURL(isAbsolute(o.module) ? o.module : resolve(o.module));
  const mod = (await import(url.href)) as { default?: { name?: unknown }; conformance?: PluginConformance };
  const type = mod.default?.name;
  if (typeof type !== 'string')
    throw new Error(`${o.module}: the default export is not a filesystem type (defineFsType({ name, ... }))`);
  const declared = mod.conformance ?? {};
  const unsupported = { ...declared.unsupported, ...o.unsupported };
  const run = async (target: Target, how: string) => {
    write(`zufs conformance: ${type} (${url.pathname}) ${how}`);
    const results = await runSuite(target, { only: o.only, unsupported });
    write(report(target.name, results));
    return results;
  };
  const plugin = { filesystem: url, type, options: o.options ?? declared.options ?? '' };
  const notRun = kernelNotRun(o.kernel);
  const results = await run(zufsTarget(plugin), 'through the node:fs face');
  let kernel: PluginReport['kernel'];
  if (notRun === undefined) kernel = await run(fuseTarget(plugin), 'through a kernel mount (FUSE)');
  else {
    kernel = { notRun };
    write(`kernel mount: not run (${notRun})`);
  }
  const failures = (rs: CaseResult[]) => rs.filter((r) => r.outcome.status === 'failed').length;
  return {
    type,
    results,
    kernel,
    failed: failures(results) + (Array.isArray(kernel) ? failures(kernel) : 0),
  };
}
