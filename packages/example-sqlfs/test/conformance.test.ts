// The conformance suite (@zufs/conformance) through the node:fs face on sqlfs over SQLite: every
// case on a fresh volume (a new database file), as for pmemfs. sqlfs should depart nowhere.
import { cases, runCase, zufsTarget } from '@zufs/conformance';
import { SQLFS_TYPE } from '@zufs/example-sqlfs';
import { afterAll, describe, it } from 'vitest';
import { sqliteVolume, tempDir } from './helpers.js';

const isRoot = process.geteuid?.() === 0;
const dir = tempDir();
const target = zufsTarget({
  name: 'zufs:sqlfs-sqlite',
  filesystem: SQLFS_TYPE,
  type: 'sqlfs',
  options: async () => `device=${await sqliteVolume(dir)}`,
});
afterAll(() => target.close?.());

describe(target.name, () => {
  for (const c of cases) {
    const name = `${c.id}: ${c.title}`;
    if (c.root && !isRoot) it.skip(`${name} [needs root]`, () => {});
    else it(name, () => runCase(target, c));
  }
});
