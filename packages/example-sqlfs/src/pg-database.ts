/**
 * A database of its own on a PostgreSQL server: a volume wants one (mkfs refuses a database that
 * holds a volume already), and a test run or a benchmark run a new one each time, dropped after.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface PgDatabase {
  /** The server's URL naming the new database (mkfs and mount take it as the device). */
  readonly url: string;
  readonly name: string;
  /** Drops the database, ending any session still on it. */
  drop(): Promise<void>;
}

/** `url` naming database `db` (a socket URL, `postgres:///db?host=/run/...`, is not a WHATWG URL). */
export function withDatabase(url: string, db: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^/]*)\/[^?]*/, `$1/${db}`);
}

/** Makes database `<prefix>_<12 hex digits>` on the server `serverUrl` names (its user may CREATE DATABASE). */
export async function createPgDatabase(serverUrl: string, prefix = 'sqlfs'): Promise<PgDatabase> {
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(prefix))
    throw new TypeError(`createPgDatabase: prefix must be a lowercase SQL name, got '${prefix}'`);
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: serverUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  return {
    url: withDatabase(serverUrl, name),
    name,
    drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
