/**
 * The kit for plugin authors: the whole suite through the node:fs face on a server that runs one
 * filesystem plugin (what `zufs test-plugin ./my-fs.mjs` does).
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type CaseResult, report, runSuite, type Unsupported } from './run.js';
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
  /** Where progress and the report go (default: stdout). */
  write?(line: string): void;
}

export interface PluginReport {
  type: string;
  results: CaseResult[];
  /** Cases that failed (a departure that passes counts too). */
  failed: number;
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
  const target = zufsTarget({ filesystem: url, type, options: o.options ?? declared.options ?? '' });
  write(`zufs conformance: ${type} (${url.pathname}) through the node:fs face`);
  write(
    'kernel mount: not run (the suite has no kernel-mount target yet; the face is the path every case takes)',
  );
  const results = await runSuite(target, {
    only: o.only,
    unsupported: { ...declared.unsupported, ...o.unsupported },
  });
  write(report(target.name, results));
  return { type, results, failed: results.filter((r) => r.outcome.status === 'failed').length };
}
