#!/usr/bin/env node
// Records the shape of real package trees (paths, sizes, symbolic links; no contents) as the workload
// suite's manifest (bench/data/package-tree.txt, format in tree.ts):
//
//   node bench/dist/workload/record.js AS=DIR [AS=DIR...] > bench/data/package-tree.txt
//
// Each DIR is walked without following links and recorded under the path AS of the tree. Files over
// MAX_FILE are left out: a platform binary or a bundled compiler (tens of MiB) would make `unpack` a
// copy benchmark and the four trees of unpack-4t too big for memory.
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

const MAX_FILE = 1024 * 1024;

function walk(dir: string, as: string, out: string[], skipped: { n: number }): void {
  out.push(`d\t${as}`);
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  const dirs: string[] = [];
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) dirs.push(e.name);
    else if (e.isSymbolicLink()) out.push(`l\t${readlinkSync(p)}\t${e.name}`);
    else if (e.isFile()) {
      const size = lstatSync(p).size;
      if (size > MAX_FILE) skipped.n++;
      else out.push(`f\t${size}\t${e.name}`);
    }
  }
  for (const d of dirs) walk(join(dir, d), `${as}/${d}`, out, skipped);
}

const args = process.argv.slice(2);
if (args.length === 0 || args.some((a) => !a.includes('='))) {
  console.error('usage: record.js AS=DIR [AS=DIR...] > package-tree.txt');
  process.exit(2);
}
const out: string[] = [];
const skipped = { n: 0 };
const made = new Set<string>();
for (const a of args) {
  const [as, dir] = [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)];
  // AS's parents first: every directory comes before what it holds.
  const parts = as.split('/');
  for (let i = 1; i < parts.length; i++) {
    const parent = parts.slice(0, i).join('/');
    if (!made.has(parent)) out.push(`d\t${parent}`);
    made.add(parent);
  }
  walk(dir, as, out, skipped);
}
const count = (k: string) => out.filter((l) => l.startsWith(k)).length;
process.stdout.write(
  [
    '# The shape of a real package tree for the bench workload suite (bench/src/workload/tree.ts):',
    `# recorded by bench/src/workload/record.ts from ${args.map((a) => a.slice(0, a.indexOf('='))).join(', ')};`,
    `# ${count('f\t')} files, ${count('d\t')} directories, ${count('l\t')} symbolic links; ${skipped.n} files over ${MAX_FILE} bytes left out.`,
    "# tab-separated: d PATH (from the tree root) | f SIZE NAME | l TARGET NAME (f, l: in the last d's directory)",
    ...out,
    '',
  ].join('\n'),
);
