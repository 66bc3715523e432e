/**
 * The SQLite engine (better-sqlite3): the embedded default, one file, synchronous. Every ZT opens its
 * own connection to the file. The file is in WAL mode: readers never wait for the writer, and a
 * process killed mid-transaction leaves the last committed state (WAL with synchronous=NORMAL is
 * durable against a crash of the process; `sync=full` makes it durable against a power cut).
 *
 * Writers queue: ZTs of one server on a shared mutex (a futex wake, microseconds), other processes
 * on SQLite's busy handler, bounded by `busyMs` (then EIO, never a hang). A write transaction begins
 * IMMEDIATE, taking the write lock first, so two writers never deadlock on an upgrade.
 */

import { Errno, type SharedMutex, ZusError } from '@zufs/zus-server';
import Database from 'better-sqlite3';
import { type Alone, type Engine, type Op, type Rows, type Step, sqliteText } from './engine.js';

export interface SqliteOptions {
  /** How long a write waits for another process's transaction (ms) before EIO. */
  busyMs?: number;
  /** 'normal' (default): durable against a crash of the process; 'full': against a power cut. */
  sync?: 'normal' | 'full';
  readonly?: boolean;
  /** Serialises this server's writers (ZTs) before SQLite's lock. */
  writeLock?: SharedMutex;
}

type Stmt = Database.Statement<unknown[], unknown[]>;
const NONE: Rows = [];

export class SqliteEngine implements Engine {
  readonly dialect = 'sqlite' as const;
  readonly sync = true;
  readonly db: Database.Database;
  private readonly stmts: (Stmt | undefined)[] = [];
  private readonly begin: Stmt;
  private readonly beginWrite: Stmt;
  private readonly commit: Stmt;
  private readonly rollback: Stmt;
  private readonly busyMs: number;

  constructor(
    readonly file: string,
    private readonly o: SqliteOptions = {},
  ) {
    this.busyMs = o.busyMs ?? 5000;
    try {
      this.db = new Database(file, { readonly: !!o.readonly, fileMustExist: true, timeout: this.busyMs });
      if (!o.readonly) this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${o.sync === 'full' ? 'FULL' : 'NORMAL'}`);
    } catch (e) {
      throw dbError(e, file);
    }
    this.begin = this.db.prepare('BEGIN');
    this.beginWrite = this.db.prepare('BEGIN IMMEDIATE');
    this.commit = this.db.prepare('COMMIT');
    this.rollback = this.db.prepare('ROLLBACK');
  }

  /** Makes a new, empty database file (mkfs): WAL mode from the start. */
  static create(file: string): SqliteEngine {
    try {
      const db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.close();
    } catch (e) {
      throw dbError(e, file);
    }
    return new SqliteEngine(file);
  }

  run<T>(op: () => Op<T>, write: boolean, alone: Alone = false): T {
    const lock = write ? this.o.writeLock : undefined;
    if (lock) lock.lock(this.busyMs);
    try {
      try {
        if (!alone) (write ? this.beginWrite : this.begin).run();
      } catch (e) {
        throw dbError(e, this.file);
      }
      try {
        const g = op();
        let r = g.next();
        for (let n = 0; !r.done; n++) {
          if (alone && n > 0) throw new Error('sqlfs: an operation run alone yielded a second statement');
          r = g.next(this.exec(r.value));
        }
        if (!alone) this.commit.run();
        return r.value;
      } catch (e) {
        if (this.db.inTransaction) this.rollback.run();
        throw dbError(e, this.file);
      }
    } finally {
      lock?.unlock();
    }
  }

  private exec(step: Step): Rows {
    const s = step.sql;
    let st = this.stmts[s.id];
    if (st === undefined) st = this.stmts[s.id] = this.db.prepare(sqliteText(s.text));
    if (st.reader) return st.raw(true).all(...step.params) as Rows;
    st.run(...step.params);
    return NONE;
  }

  /** Statements outside any operation (mkfs, migrations). */
  execScript(statements: readonly string[]): void {
    this.db.transaction(() => {
      for (const s of statements) this.db.exec(s);
    })();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** A database error as the errno an operation answers (a ZusError passes through). */
function dbError(e: unknown, file: string): unknown {
  if (e instanceof ZusError || !(e instanceof Error)) return e;
  const code = (e as { code?: string }).code ?? '';
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
    return new ZusError(Errno.EEXIST, e.message);
  if (code === 'SQLITE_FULL') return new ZusError(Errno.ENOSPC, `${file}: ${e.message}`);
  if (code === 'SQLITE_READONLY') return new ZusError(Errno.EROFS, `${file}: ${e.message}`);
  if (code.startsWith('SQLITE_')) return new ZusError(Errno.EIO, `${file}: ${e.message} (${code})`);
  return e;
}
