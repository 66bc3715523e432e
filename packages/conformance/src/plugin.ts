/**
 * The kit for plugin authors: the whole suite on a server that runs one filesystem plugin, through
 * the node:fs face, then through a kernel mount when root and /dev/fuse are there (what
 * `zufs test-plugin ./my-fs.mjs` does).
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type CaseResult, report, runSuite, type Unsupported } from './run.js';
import type { Target } from './target.js';
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
   * The kernel-mount run after the face: a target for the plugin (the CLI's FUSE target, which
   * `zufs test-plugin` gives when it can mount), or why there is none (printed). Default: none.
   */
  kernel?: ((plugin: PluginTarget) => Target) | { notRun: string };
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

/** The plugin as a target factory gets it. */
export interface PluginTarget {
  filesystem: URL;
  type: string;
  options: string;
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
  const plugin: PluginTarget = { filesystem: url, type, options: o.options ?? declared.options ?? '' };
  const results = await run(zufsTarget(plugin), 'through the node:fs face');
  let kernel: PluginReport['kernel'];
  if (typeof o.kernel === 'function') kernel = await run(o.kernel(plugin), 'through a kernel mount (FUSE)');
  else {
    kernel = o.kernel ?? { notRun: 'no kernel-mount target given (zufs test-plugin gives one)' };
    write(`kernel mount: not run (${kernel.notRun})`);
  }
  const failures = (rs: CaseResult[]) => rs.filter((r) => r.outcome.status === 'failed').length;
  return {
    type,
    results,
    kernel,
    failed: failures(results) + (Array.isArray(kernel) ? failures(kernel) : 0),
  };
}
