// The conformance suite (@zufs/conformance) through the node:fs face on sqlfs over PostgreSQL
// (ZUFS_TEST_PG_URL: .ci/postgres starts one in CI, where a skip is a failure). Every case on a fresh
// volume, as on SQLite: one database for the file, and per case a new schema that the volume's URL
// puts on the search path. A database per case costs seconds (270 cases); emptying one volume's
// tables would be cheaper still, but a schema is a volume made by mkfs as a user makes one, and
// nothing a case leaves behind (a session, an orphan) reaches the next. sqlfs departs nowhere.
import { zufsTarget } from '@zufs/conformance';
import { mkfs, SQLFS_TYPE } from '@zufs/example-sqlfs';
import { afterAll, describe } from 'vitest';
import { conformanceSuite, dropTestDbs, freshDb, PG_URL, PgSchemas } from './helpers.js';

let schemas: PgSchemas | undefined;
const target = zufsTarget({
  name: 'zufs:sqlfs-pg',
  filesystem: SQLFS_TYPE,
  type: 'sqlfs',
  options: async () => {
    schemas ??= new PgSchemas(await freshDb());
    const url = await schemas.fresh();
    await mkfs(url);
    return `device=${url}`;
  },
});
afterAll(async () => {
  await target.close?.();
  await schemas?.close();
  await dropTestDbs();
});

// Two matrix cases build a tree per cell (~30 s each here at load 6, a third of that on SQLite):
// 5 min is a safety net, far above them.
describe.skipIf(!PG_URL)('PostgreSQL', () => conformanceSuite(target, 300_000));
