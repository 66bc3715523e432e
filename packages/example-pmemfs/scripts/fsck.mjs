#!/usr/bin/env node
/**
 * fsck for pmemfs images (the image must not be mounted).
 *
 *   node scripts/fsck.mjs <image> [--repair] [--json]
 *
 * Replays the journal's last commit (in memory only, unless --repair), checks every invariant and
 * lists what is broken. With --repair, fixes what can be fixed (bitmaps, counts, orphans, entries,
 * lost+found, damaged directories rebuilt), says what it did and commits through the journal.
 * Exit status as e2fsck's: 0 clean, 1 errors corrected, 4 errors left, 8 operational error
 * (not a pmemfs image, newer format, unreadable file).
 */
import { fsck, PmemDevice } from '@zufs/example-pmemfs';

const args = process.argv.slice(2);
const path = args.find((a) => !a.startsWith('--'));
if (!path) {
  process.stderr.write('usage: fsck.mjs <image> [--repair] [--json]\n');
  process.exit(8);
}
const repair = args.includes('--repair');
let dev;
try {
  dev = PmemDevice.openFile(path);
  const r = fsck(dev, { repair });
  dev.close();
  if (args.includes('--json')) process.stdout.write(`${JSON.stringify(r)}\n`);
  else {
    const rec = r.recovery;
    if (rec.replayed) process.stdout.write(`journal: commit ${rec.seq} replayed (${rec.replayed} pages)\n`);
    if (rec.discarded) process.stdout.write(`journal: torn commit ${rec.seq} discarded (${rec.discarded})\n`);
    if (r.orphans)
      process.stdout.write(`${r.orphans} orphan inodes (freed at mount${repair ? ', freed now' : ''})\n`);
    for (const p of r.problems) process.stdout.write(`problem: ${p}\n`);
    for (const p of r.repairs) process.stdout.write(`repaired: ${p}\n`);
    for (const p of r.remaining) process.stdout.write(`left: ${p}\n`);
    process.stdout.write(`${path}: ${r.clean ? 'clean' : 'damaged'} (${Math.round(r.ms)} ms)\n`);
  }
  process.exit(r.remaining.length > 0 || (!repair && !r.clean) ? 4 : r.repairs.length > 0 ? 1 : 0);
} catch (e) {
  process.stderr.write(`${path}: ${e?.message ?? e}\n`);
  process.exit(8);
}
