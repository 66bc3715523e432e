import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cases, runCase, type Target } from '@zufs/conformance';
import { createPgDatabase, mkfs, type PgDatabase, SQLFS_TYPE } from '@zufs/example-sqlfs';
import type { ZufsMount } from '@zufs/vfs';
import { type ServerOptions, startServer, type ZusServer } from '@zufs/zus-server';
import pg from 'pg';
import { afterAll, beforeAll, describe, it } from 'vitest';

/** A temporary directory, removed after the file's tests. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sqlfs-test-'));
  afterAll(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

let n = 0;
/** A new SQLite volume in `dir`: its path. */
export async function sqliteVolume(dir: string, blockSize?: number): Promise<string> {
  const file = join(dir, `vol-${++n}.db`);
  await mkfs(file, { blockSize });
  return file;
}

/** The test PostgreSQL (.ci/postgres starts one in CI, where running without it is a failure). */
export const PG_URL = process.env.ZUFS_TEST_PG_URL;
if (!PG_URL && process.env.CI === 'true')
  throw new Error('ZUFS_TEST_PG_URL is not set: .ci/run starts PostgreSQL for these tests (.ci/postgres)');
if (!PG_URL) console.warn('sqlfs pg tests skipped: set ZUFS_TEST_PG_URL (see .ci/postgres) to run them');

const made: PgDatabase[] = [];
/** A new, empty database on the test PostgreSQL: its URL (dropTestDbs drops it). */
export async function freshDb(): Promise<string> {
  const db = await createPgDatabase(PG_URL as string);
  made.push(db);
  return db.url;
}

/** A new volume in a fresh database (freshDb): its URL. */
export async function pgVolume(): Promise<string> {
  const url = await freshDb();
  await mkfs(url);
  return url;
}

/** Drops the databases freshDb made (a test file's afterAll). */
export async function dropTestDbs(): Promise<void> {
  for (const db of made.splice(0)) await db.drop();
}

/**
 * A server with sqlfs for the test file, started before its tests and stopped after them (with the
 * databases freshDb made): the getter answers it once started.
 */
export function sqlfsServer(opts: Partial<ServerOptions> = {}): () => ZusServer {
  let server: ZusServer | undefined;
  beforeAll(async () => {
    server = await startServer({ zts: 2, filesystems: [SQLFS_TYPE], ...opts });
  });
  afterAll(async () => {
    await server?.stop();
    await dropTestDbs();
  });
  return () => server as ZusServer;
}

/** Calls this process's app threads made to the ZTs (each waits once on its channel's relay). */
export const appWaits = (m: ZufsMount) =>
  m.root.slots.reduce((n, s) => {
    const c = s.relay.counters();
    return n + c.appSpins + c.appParks;
  }, 0);

/**
 * Volumes in schemas of one database: fresh() makes an empty schema and answers the database's URL
 * with that schema first on the search path (libpq's `options`), so a volume made and mounted with it
 * lives there alone. About 50 ms a volume with mkfs, where a database of its own takes seconds.
 */
export class PgSchemas {
  private admin?: pg.Client;
  private n = 0;

  constructor(readonly dbUrl: string) {}

  async fresh(): Promise<string> {
    if (!this.admin) {
      this.admin = new pg.Client({ connectionString: this.dbUrl });
      await this.admin.connect();
    }
    const name = `v${++this.n}`;
    await this.admin.query(`CREATE SCHEMA ${name}`);
    const sep = this.dbUrl.includes('?') ? '&' : '?';
    return `${this.dbUrl}${sep}options=${encodeURIComponent(`-c search_path=${name}`)}`;
  }

  async close(): Promise<void> {
    await this.admin?.end();
  }
}

/**
 * Every conformance case on `target`, each a test (the ones that need root skip, saying so,
 * elsewhere). `timeoutMs`: the safety net of one case, past vitest's default for an engine whose
 * matrix cases (hundreds of transactions) take tens of seconds on a loaded machine.
 */
export function conformanceSuite(target: Target, timeoutMs?: number): void {
  const isRoot = process.geteuid?.() === 0;
  describe(target.name, () => {
    for (const c of cases) {
      const name = `${c.id}: ${c.title}`;
      if (c.root && !isRoot) it.skip(`${name} [needs root]`, () => {});
      else it(name, { timeout: timeoutMs }, () => runCase(target, c));
    }
  });
}
