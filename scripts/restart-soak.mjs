#!/usr/bin/env node
/**
 * The long run of the restart tests: `pnpm test:restart --rounds 200` runs the face's crash test
 * (packages/vfs/test/restart.test.ts: 4 app threads with fsync while a ZT is made to crash) and the
 * kernel mount's (packages/fuse/test/restart.test.ts: cp -a and sqlite3 across crashes; as root
 * with /dev/fuse, else skipped) for that many crashes. CI runs the short version (20) with the rest of the suite. Build first.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '200' } } });
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error(`restart-soak: --rounds must be a whole number above 0, got ${values.rounds}`);
  process.exit(2);
}
const r = spawnSync(
  'pnpm',
  ['exec', 'vitest', 'run', 'packages/vfs/test/restart.test.ts', 'packages/fuse/test/restart.test.ts'],
  {
    stdio: 'inherit',
    env: { ...process.env, ZUFS_RESTART_ROUNDS: String(rounds) },
  },
);
process.exit(r.status ?? 1);
