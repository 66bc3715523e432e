// Prints line coverage per package from vitest's coverage/coverage-summary.json (`pnpm coverage`
// writes it): one row per package, from the lines of its src/ files that the report holds.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const summary = JSON.parse(readFileSync(join(root, 'coverage/coverage-summary.json'), 'utf8'));
const rows = new Map();
for (const [file, s] of Object.entries(summary)) {
  if (file === 'total') continue;
  // packages/vfs/src/fs/sync.ts -> packages/vfs; bench/src/run.ts -> bench
  const rel = relative(root, file).split('/');
  const at = rel.indexOf('src');
  if (at < 1) continue;
  const dir = rel.slice(0, at).join('/');
  const row = rows.get(dir) ?? { total: 0, covered: 0, files: 0 };
  row.total += s.lines.total;
  row.covered += s.lines.covered;
  row.files++;
  rows.set(dir, row);
}
const pct = (c, t) => (t === 0 ? '-' : `${((100 * c) / t).toFixed(1)}%`);
const table = [['package', 'files', 'lines', 'covered', 'line coverage']];
let total = 0;
let covered = 0;
for (const [dir, r] of [...rows].sort(([a], [b]) => a.localeCompare(b))) {
  const name = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')).name;
  table.push([name, String(r.files), String(r.total), String(r.covered), pct(r.covered, r.total)]);
  total += r.total;
  covered += r.covered;
}
table.push(['all', '', String(total), String(covered), pct(covered, total)]);
const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
const line = (r) =>
  `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
console.log(line(table[0]));
console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
for (const r of table.slice(1)) console.log(line(r));
