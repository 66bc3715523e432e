#!/usr/bin/env node
/**
 * A package's JavaScript, bundled per entry point: `node ../../scripts/bundle.mjs index zt-worker ...`
 * in the package's folder writes dist/<entry>.js for each src/<entry>.ts, with the code the entries
 * share in chunks beside them (dist/<name>-<hash>.js) and a source map per file pointing at src/.
 * tsc only writes the declarations (emitDeclarationOnly).
 *
 * Why: every server thread is a V8 isolate that loads its modules anew, and Node's ES module loader
 * pays per file (resolve, read, compile, link): a ZT worker loaded ~60 files. Bundled, it loads a
 * handful and starts in about half the time (docs/decisions.md). Other packages stay external
 * (imported by name), so each package is still loaded once per thread, and its classes and state
 * are the same for every importer. Chunks sit in dist/ itself, beside the entries, so that
 * `new URL('./worker.js', import.meta.url)` in shared code still finds a worker's entry.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const entries = process.argv.slice(2);
if (entries.length === 0) {
  console.error('usage: node scripts/bundle.mjs ENTRY... (run in a package folder; ENTRY is src/ENTRY.ts)');
  process.exit(2);
}

// tsc wrote every module's JavaScript here before this package was bundled, and a chunk's name
// changes with its content: what a previous build left must go, or stale files ship.
for (const f of readdirSync('dist', { recursive: true, withFileTypes: true }))
  if (f.isFile() && /\.js(\.map)?$/.test(f.name)) rmSync(join(f.parentPath, f.name));

await build({
  entryPoints: entries.map((e) => `src/${e}.ts`),
  outdir: 'dist',
  outbase: 'src',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  chunkNames: '[name]-[hash]',
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
});
