/**
 * A volume: where it lives (an SQLite file or a PostgreSQL URL), making one (mkfs), and opening one
 * (the schema version checked, older schemas migrated, sessions registered and dead ones cleaned).
 */
import { hostname } from 'node:os';
import * as api from '@zufs/zuf-core/api';
import { Errno, ZusError } from '@zufs/zus-server';
import { type Engine, type Op, q, type Rows, sql } from './engine.js';
import { freeRows, ROOT_INO } from './ops.js';
import { PgEngine, type PgOptions } from './pg.js';
import { MIGRATIONS, SCHEMA_VERSION, versionProblem } from './schema.js';
import { SqliteEngine, type SqliteOptions } from './sqlite.js';

/** Bytes of file data a block row holds unless mkfs says otherwise (see the README: measured). */
export const DEFAULT_BLOCK_SIZE = 64 * 1024;
/** A session whose heartbeat is older than this is dead (its process is gone). */
export const SESSION_DEAD_MS = 30_000;
/** How often a mount refreshes its session's heartbeat. */
export const HEARTBEAT_MS = 5_000;

export type VolumeSpec = { kind: 'sqlite'; file: string } | { kind: 'pg'; url: string };

export const isPgUrl = (s: string) => /^postgres(ql)?:\/\//.test(s);

export function volumeSpec(where: string): VolumeSpec {
  return isPgUrl(where) ? { kind: 'pg', url: where } : { kind: 'sqlite', file: where };
}

export function openEngine(spec: VolumeSpec, o: SqliteOptions & PgOptions = {}): Engine {
  return spec.kind === 'sqlite' ? new SqliteEngine(spec.file, o) : new PgEngine(spec.url, o);
}

const S = {
  meta: sql('SELECT name, value FROM meta'),
  setMeta: sql(`INSERT INTO meta (name, value) VALUES (?, ?)
    ON CONFLICT (name) DO UPDATE SET value = excluded.value`),
  hasMeta: sql('SELECT count(*) FROM meta'),
  root: sql(`INSERT INTO inode (mode, uid, gid, nlink, size, parent, atime, mtime, ctime)
    VALUES (?, ?, ?, 2, 0, ?, ?, ?, ?) RETURNING ino`),
  session: sql('INSERT INTO session (host, pid, started, beat) VALUES (?, ?, ?, ?) RETURNING id'),
  beat: sql('UPDATE session SET beat = ? WHERE id = ?'),
  sessions: sql('SELECT id, host, pid, beat FROM session'),
  endSession: sql('DELETE FROM session WHERE id = ?'),
  orphansOf: sql(
    'SELECT o.ino, i.nlink FROM orphan o LEFT JOIN inode i ON i.ino = o.ino WHERE o.session = ?',
  ),
  unorphan: sql('DELETE FROM orphan WHERE ino = ?'),
};

/** The volume's settings (meta), as text by name. */
export function* readMeta(): Op<Map<string, string>> {
  const rows: Rows = yield q(S.meta);
  return new Map(rows.map((r) => [String(r[0]), String(r[1])]));
}

export interface MkfsOptions {
  blockSize?: number;
  /** Owner of the root directory (default: this process's). */
  uid?: number;
  gid?: number;
}

export function checkBlockSize(bs: number): void {
  if (!(Number.isInteger(bs) && bs >= 4096 && bs <= 4 * 2 ** 20 && (bs & (bs - 1)) === 0))
    throw new ZusError(Errno.EINVAL, `block size ${bs}: a power of two from 4 KiB to 4 MiB`);
}

/**
 * Makes an sqlfs volume: the schema, its settings, the root directory. A SQLite file must not exist
 * yet (or be empty); a PostgreSQL database must have no sqlfs tables.
 */
export async function mkfs(where: string, o: MkfsOptions = {}): Promise<void> {
  const spec = volumeSpec(where);
  const bs = o.blockSize ?? DEFAULT_BLOCK_SIZE;
  checkBlockSize(bs);
  const eng = spec.kind === 'sqlite' ? SqliteEngine.create(spec.file) : new PgEngine(spec.url);
  try {
    const statements = MIGRATIONS.flatMap((m) => m(eng.dialect));
    const ns = Date.now() * 1e6;
    await eng.run(function* () {
      for (const s of statements) yield q(sql(s));
      for (const [k, v] of [
        ['version', String(SCHEMA_VERSION)],
        ['block_size', String(bs)],
        ['made', new Date().toISOString()],
      ])
        yield q(S.setMeta, k, v);
      const uid = o.uid ?? process.getuid?.() ?? 0;
      const gid = o.gid ?? process.getgid?.() ?? 0;
      const rows: Rows = yield q(S.root, api.S_IFDIR | 0o755, uid, gid, ROOT_INO, ns, ns, ns);
      if (Number(rows[0][0]) !== ROOT_INO) throw new Error(`the root directory is inode ${rows[0][0]}`);
    }, true);
  } catch (e) {
    const msg = (e as Error).message ?? '';
    if (/already exists/.test(msg))
      throw new ZusError(Errno.EEXIST, `${describe(spec)}: already holds an sqlfs volume (or other tables)`);
    throw e;
  } finally {
    await eng.close();
  }
}

export const describe = (spec: VolumeSpec) =>
  spec.kind === 'sqlite' ? spec.file : spec.url.replace(/\/\/[^@/]*@/, '//');

/**
 * The volume's settings after checking its schema: a newer one is refused (EINVAL with the reason),
 * an older one migrated (unless `readonly`).
 */
export async function openVolume(
  eng: Engine,
  where: string,
  readonly = false,
): Promise<{ blockSize: number }> {
  let meta: Map<string, string>;
  try {
    meta = await eng.run(readMeta, false);
  } catch (e) {
    if (/no such table|does not exist/.test((e as Error).message))
      throw new ZusError(Errno.EINVAL, `${where}: not an sqlfs volume (no meta table): make one with mkfs`);
    throw e;
  }
  const version = Number(meta.get('version'));
  const problem = versionProblem(version);
  if (problem) throw new ZusError(Errno.EINVAL, `${where}: ${problem}`);
  if (version < SCHEMA_VERSION) {
    if (readonly)
      throw new ZusError(Errno.EROFS, `${where}: schema ${version} needs migrating to ${SCHEMA_VERSION}`);
    const statements = MIGRATIONS.slice(version).flatMap((m) => m(eng.dialect));
    await eng.run(function* () {
      const now = Number(
        ((yield q(sql("SELECT value FROM meta WHERE name = 'version' FOR UPDATE"))) as Rows)[0][0],
      );
      if (now !== version) return; // another machine migrated it meanwhile
      for (const s of statements) yield q(sql(s));
      yield q(S.setMeta, 'version', String(SCHEMA_VERSION));
    }, true);
  }
  const blockSize = Number(meta.get('block_size'));
  checkBlockSize(blockSize);
  return { blockSize };
}

/** True when session row [id, host, pid, beat] is of a process that is gone (or silent too long). */
export function sessionDead(r: unknown[], now = Date.now()): boolean {
  if (now - Number(r[3]) > SESSION_DEAD_MS) return true;
  if (String(r[1]) !== hostname()) return false;
  try {
    process.kill(Number(r[2]), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Ends session `id`: frees the inodes it left unlinked (its orphans), then its row. */
export function* endSession(id: number): Op<number> {
  let freed = 0;
  for (const [ino, nlink] of (yield q(S.orphansOf, id)) as Rows) {
    if (nlink !== null && Number(nlink) === 0) {
      yield* freeRows(Number(ino));
      freed++;
    } else yield q(S.unorphan, ino);
  }
  yield q(S.endSession, id);
  return freed;
}

/** Registers a mount's session; sessions of dead processes are ended first (as JuiceFS's clients do). */
export function* startSession(): Op<number> {
  for (const r of (yield q(S.sessions)) as Rows) if (sessionDead(r)) yield* endSession(Number(r[0]));
  const now = Date.now();
  const rows: Rows = yield q(S.session, hostname(), process.pid, now, now);
  return Number(rows[0][0]);
}

export function* heartbeat(id: number): Op<void> {
  yield q(S.beat, Date.now(), id);
}
