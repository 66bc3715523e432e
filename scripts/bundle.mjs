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

const { metafile } = await build({
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
  metafile: true,
  logLevel: 'warning',
});

// With code splitting, esbuild may run a module's top level before the modules it imports when
// they import each other (it orders the parts of a cycle its own way: evanw/esbuild#399), where
// Node runs them in import order: a constant computed from an import is then NaN. So a package
// that is bundled has no import cycle among its modules (type-only imports do not count).
const graph = new Map(
  Object.entries(metafile.inputs).map(([file, input]) => [
    file,
    input.imports.filter((i) => !i.external && i.kind === 'import-statement').map((i) => i.path),
  ]),
);
const done = new Set();
const path = [];
function visit(file) {
  const at = path.indexOf(file);
  if (at >= 0) {
    console.error(`bundle: import cycle ${[...path.slice(at), file].join(' -> ')}: break it`);
    process.exit(1);
  }
  if (done.has(file)) return;
  path.push(file);
  for (const next of graph.get(file) ?? []) visit(next);
  path.pop();
  done.add(file);
}
for (const file of graph.keys()) visit(file);
