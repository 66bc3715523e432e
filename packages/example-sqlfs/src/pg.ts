/**
 * The PostgreSQL engine (`pg`): many machines on one database, asynchronous. Each run() takes a
 * connection of a small pool, runs the operation's statements (prepared, named per statement) in one
 * transaction, and commits. Writes are SERIALIZABLE and retried whole on a serialization failure or a
 * deadlock (40001, 40P01) for up to `timeoutMs`, as PostgreSQL-compatible distributed databases
 * require; reads run at a snapshot (REPEATABLE READ, READ ONLY). Only row locks (SELECT ... FOR
 * UPDATE), no advisory locks.
 *
 * Round trips: each statement is one (node-pg sends one and waits for its answer), BEGIN and COMMIT
 * too. So an operation that is one statement runs `alone`, without them: a read, or a change written
 * as one statement (data-modifying WITH clauses, ops.ts). The session's isolation is REPEATABLE READ,
 * so such a statement reads one snapshot and, having locked its inode row FOR UPDATE, fails with
 * 40001 (and is retried) if another transaction changed that row meanwhile, as a transaction would.
 * A create runs on a second pool whose sessions are READ COMMITTED (Alone 'latest'): creators of one
 * directory queue on its row lock, where at REPEATABLE READ every waiter but one failed and paused.
 *
 * A database that goes away: connecting and every statement have deadlines (`timeoutMs`), a lost
 * connection is retried a bounded number of times, then the operation answers EIO. Nothing waits
 * for ever, and the next operation connects again.
 */

import { Errno, isZusError, ZusError } from '@zufs/zus-server';
import pg from 'pg';
import { type Alone, type Engine, type Op, pgText, type Rows } from './engine.js';

export interface PgOptions {
  /** Connections per engine (per ZT). */
  max?: number;
  /** Deadline of a connect and of each statement (ms). */
  timeoutMs?: number;
  /** Writes of this engine before its first ANALYZE; each next one at twice the count (plans, below). */
  analyzeAfter?: number;
}

/** PgOptions.analyzeAfter's default: a directory of a few hundred entries already wants its index. */
const ANALYZE_AFTER = 200;
/** The tables a volume grows in (the others stay a few rows, or keyed by what grows with these). */
const GROWING = ['inode', 'dentry', 'block'];

/** Retries of a transaction that lost its connection (a database away: EIO soon). */
const RETRIES = 8;
const RETRYABLE = new Set(['40001', '40P01']);
/** Connection lost or refused, server shutting down or starting: worth a retry, then EIO. */
const GONE = /^(08|57P0)/;
const GONE_NET = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOENT', 'ETIMEDOUT']);

// Integers come back as numbers (a count, an inode number), not strings.
const INT8 = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export class PgEngine implements Engine {
  readonly dialect = 'pg' as const;
  readonly sync = false;
  readonly pool: pg.Pool;
  /** Connections for statements run alone at READ COMMITTED (Alone 'latest'), opened when first needed. */
  private latestPool: pg.Pool | null = null;
  private readonly poolConfig: pg.PoolConfig;
  /**
   * How long a transaction that keeps losing serialization races (40001, 40P01) is begun again (ms):
   * the mount's `busy`, as SQLite waits for another's write. Not a count: writers of one hot row
   * (a directory many create in) lose often, and a waiter for a row lock always loses (its snapshot
   * predates the holder's commit), so 8 tries failed with EIO under 8 creators of one directory.
   */
  private readonly busyMs: number;
  /** Transactions begun again (a serialization failure, a deadlock, a lost connection): a test's gauge. */
  retries = 0;
  /** Statements sent, BEGIN, COMMIT and ROLLBACK too: each is a round trip (a test's gauge). */
  roundTrips = 0;
  private readonly texts: string[] = [];
  /**
   * Writes so far, and the count at which the engine next asks ANALYZE. A connection plans a named
   * statement once for all after five runs (PostgreSQL's generic plan), from the tables' sizes then:
   * on a new volume, a path walk's recursive join planned on a few rows scanned whole tables once
   * they held 50 000 (10 ms a stat, against 0.15) until autovacuum's ANALYZE, up to a minute later,
   * made every connection plan again. Asking it at 200, 400, 800... writes keeps the plans within
   * twice the tables' size, at a logarithmic cost; autovacuum keeps a volume's steady state.
   */
  private writes = 0;
  private analyzeAt: number;
  private analyzing = false;
  /** ANALYZEs this engine ran (a test's gauge). */
  analyzes = 0;
  /** Connections whose session was set up (isolation of statements run alone). */
  private readonly ready = new WeakSet<pg.PoolClient>();

  constructor(
    readonly url: string,
    o: PgOptions = {},
  ) {
    const timeout = o.timeoutMs ?? 10_000;
    this.busyMs = timeout;
    this.analyzeAt = o.analyzeAfter ?? ANALYZE_AFTER;
    this.poolConfig = {
      connectionString: url,
      max: o.max ?? 4,
      connectionTimeoutMillis: timeout,
      query_timeout: timeout,
      idleTimeoutMillis: 30_000,
      types,
    };
    this.pool = this.newPool();
  }

  private newPool(): pg.Pool {
    const p = new pg.Pool(this.poolConfig);
    // An idle connection the server dropped (a restart): the pool forgets it; the next run connects.
    p.on('error', () => {});
    // One dropped while a run holds it: that run's next statement fails, and it retries.
    p.on('connect', (c) => c.on('error', () => {}));
    return p;
  }

  async run<T>(op: () => Op<T>, write: boolean, alone: Alone = false): Promise<T> {
    const started = performance.now();
    const latest = alone === 'latest';
    const pool = latest ? (this.latestPool ??= this.newPool()) : this.pool;
    for (let attempt = 0; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (e) {
        if (attempt < RETRIES && gone(e)) {
          this.retries++;
          await pause(attempt);
          continue;
        }
        throw pgError(e, this.url);
      }
      let broken = false;
      try {
        if (!this.ready.has(client)) {
          // Once a connection: a statement run alone (no BEGIN) is then a transaction at one snapshot
          // whose row locks fail with 40001 on a concurrent update (retried below); on the latest
          // pool, READ COMMITTED whatever the server's default.
          await this.send(
            client,
            `SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL ${latest ? 'READ COMMITTED' : 'REPEATABLE READ'}`,
          );
          this.ready.add(client);
        }
        if (!alone)
          await this.send(
            client,
            write ? 'BEGIN ISOLATION LEVEL SERIALIZABLE' : 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
          );
        const g = op();
        let r = g.next();
        for (let n = 0; !r.done; n++) {
          if (alone && n > 0) throw new Error('sqlfs: an operation run alone yielded a second statement');
          const s = r.value.sql;
          const text = (this.texts[s.id] ??= pgText(s.text));
          const res = await this.send(client, {
            name: `s${s.id}`,
            text,
            values: r.value.params as unknown[],
            rowMode: 'array',
          });
          r = g.next(res.rows as Rows);
        }
        if (!alone) await this.send(client, 'COMMIT');
        if (write && ++this.writes >= this.analyzeAt) this.analyze();
        return r.value;
      } catch (e) {
        broken = gone(e);
        if (!broken && !alone) await this.send(client, 'ROLLBACK').catch(() => (broken = true));
        const code = (e as { code?: string }).code ?? '';
        const race = RETRYABLE.has(code) && performance.now() - started < this.busyMs;
        if (race || (broken && attempt < RETRIES)) {
          this.retries++;
          await pause(attempt);
          continue;
        }
        throw pgError(e, this.url);
      } finally {
        client.release(broken);
      }
    }
  }

  /** ANALYZE of the growing tables, in the background (see `writes`); one at a time. */
  private analyze(): void {
    this.analyzeAt = this.writes * 2;
    if (this.analyzing) return;
    this.analyzing = true;
    void (async () => {
      try {
        for (const t of GROWING) await this.pool.query(`ANALYZE ${t}`);
        this.analyzes++;
      } catch (e) {
        // Not the tables' owner (42501): autovacuum's ANALYZEs only. Anything else: at the next count.
        if ((e as { code?: string }).code === '42501') this.analyzeAt = Number.POSITIVE_INFINITY;
      } finally {
        this.analyzing = false;
      }
    })();
  }

  private send(client: pg.PoolClient, q: string | pg.QueryArrayConfig): Promise<pg.QueryResult> {
    this.roundTrips++;
    return typeof q === 'string' ? client.query(q) : client.query(q);
  }

  /** Statements outside any operation (mkfs, migrations), in one transaction. */
  async execScript(statements: readonly string[]): Promise<void> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      for (const s of statements) await c.query(s);
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw pgError(e, this.url);
    } finally {
      c.release();
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end(), this.latestPool?.end()]);
  }
}

/**
 * The connection failed (lost, refused, timed out): worth a retry on a new one. Never the operation's
 * own answer, a ZusError: its code is an errno name (ENOENT for a name not there), the same words as
 * a socket's errors, and taking it for one retried every lookup of a missing name 8 times on fresh
 * connections (~0.5-1 s each create or rename: docs/decisions.md).
 */
const gone = (e: unknown) => {
  if (isZusError(e)) return false;
  const code = String((e as { code?: string }).code ?? '');
  const msg = String((e as Error)?.message ?? '');
  return GONE.test(code) || GONE_NET.has(code) || /terminat|Connection|timeout/i.test(msg);
};

/** A little longer each time, with jitter: racing machines do not meet again at once. */
const pause = (attempt: number) =>
  new Promise((r) => setTimeout(r, Math.min(200, 2 ** attempt) * (1 + Math.random())));

function pgError(e: unknown, url: string): unknown {
  if (e instanceof ZusError || !(e instanceof Error)) return e;
  const code = (e as { code?: string }).code ?? '';
  const where = url.replace(/\/\/[^@/]*@/, '//'); // never a password in a message
  if (code === '23505') return new ZusError(Errno.EEXIST, e.message);
  if (code === '53100') return new ZusError(Errno.ENOSPC, `${where}: ${e.message}`);
  if (code === '25006') return new ZusError(Errno.EROFS, `${where}: ${e.message}`);
  return new ZusError(Errno.EIO, `${where}: ${e.message}${code ? ` (${code})` : ''}`);
}
