import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkfs } from '@zufs/example-sqlfs';
import pg from 'pg';
import { afterAll } from 'vitest';

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

/** The URL with another database (a socket URL has no host: not a WHATWG URL). */
const withDb = (url: string, db: string) => url.replace(/^(postgres(?:ql)?:\/\/[^/]*)\/[^?]*/, `$1/${db}`);

const made: string[] = [];
/** A new, empty database on the test PostgreSQL: its URL (dropTestDbs drops it). */
export async function freshDb(): Promise<string> {
  const name = `sqlfs_${randomBytes(6).toString('hex')}`;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  made.push(name);
  return withDb(PG_URL as string, name);
}

/** Drops the databases freshDb made (a test file's afterAll). */
export async function dropTestDbs(): Promise<void> {
  if (!PG_URL || made.length === 0) return;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    for (const name of made.splice(0)) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await c.end();
  }
}
