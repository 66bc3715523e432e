// The conformance suite (@zufs/conformance) through the node:fs face on sqlfs over SQLite: every
// case on a fresh volume (a new database file), as for pmemfs. sqlfs should depart nowhere.
import { zufsTarget } from '@zufs/conformance';
import { SQLFS_TYPE } from '@zufs/example-sqlfs';
import { afterAll } from 'vitest';
import { conformanceSuite, sqliteVolume, tempDir } from './helpers.js';

const dir = tempDir();
const target = zufsTarget({
  name: 'zufs:sqlfs-sqlite',
  filesystem: SQLFS_TYPE,
  type: 'sqlfs',
  options: async () => `device=${await sqliteVolume(dir)}`,
});
afterAll(() => target.close?.());

conformanceSuite(target);
