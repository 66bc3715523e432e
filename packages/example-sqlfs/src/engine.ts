/**
 * The engine interface: one schema and one set of operations, two databases. An operation is a
 * generator that yields SQL statements (written once, with `?` placeholders) and receives their rows;
 * an engine runs it as one transaction. SQLite answers each statement at once (a synchronous
 * operation); PostgreSQL awaits each (an asynchronous one). So the filesystem's logic exists once,
 * and neither engine pays for the other's way of waiting.
 */

export type Dialect = 'sqlite' | 'pg';

/** A statement, prepared once per engine (the id keys each engine's cache of prepared forms). */
export interface Sql {
  readonly id: number;
  readonly text: string;
}

let nextId = 0;
/** Declares a statement (at module load: statements are constants). */
export function sql(text: string): Sql {
  return { id: nextId++, text: text.replace(/\s+/g, ' ').trim() };
}

/** One statement to run and its parameters (numbers, strings, byte arrays, null). */
export interface Step {
  readonly sql: Sql;
  readonly params: readonly unknown[];
}

/** Rows as arrays of column values, in the order of the SELECT (or RETURNING). */
export type Rows = unknown[][];

export type Op<T> = Generator<Step, T, Rows>;

export const q = (s: Sql, ...params: unknown[]): Step => ({ sql: s, params });

/**
 * How an operation runs: in a transaction (false), or as one statement (true: its reads at one
 * snapshot; a row it locks that changed since fails the statement, which is run again). 'latest':
 * one statement whose row lock waits for the holder's commit and then reads that row as committed,
 * while its other reads stay at the snapshot. Only for a statement whose decisions rest on the
 * rows it locks and on unique keys (PG.create): writers of one hot row (a directory many create
 * in) then queue on its lock instead of failing and being run again after a pause.
 */
export type Alone = boolean | 'latest';

export interface Engine {
  readonly dialect: Dialect;
  /** True when run() answers at once (SQLite); false when it returns a Promise (PostgreSQL). */
  readonly sync: boolean;
  /**
   * Runs `op` as one transaction and answers its result: committed when it returns, rolled back when
   * it throws. `write`: the transaction changes something (SQLite takes the write lock first;
   * PostgreSQL retries it whole on a serialization failure). A database error becomes a ZusError
   * (EEXIST for a unique key taken, EIO for a database that does not answer). `alone`: an operation
   * of exactly one statement (a read, or a change made by one statement), run without BEGIN and
   * COMMIT (one statement is atomic and reads one snapshot by itself): on PostgreSQL one round trip
   * instead of three. `'latest'`: such a change that may read the rows it locks as another
   * transaction committed them (READ COMMITTED on PostgreSQL: Alone).
   */
  run<T>(op: () => Op<T>, write: boolean, alone?: Alone): T | Promise<T>;
  close(): void | Promise<void>;
}

/** The SQLite form of a statement: PostgreSQL's row locks are SQLite's one write lock. */
export function sqliteText(text: string): string {
  return text.replace(/ FOR UPDATE/g, '');
}

/** The PostgreSQL form of a statement: `$1, $2, ...` for `?`. */
export function pgText(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}
