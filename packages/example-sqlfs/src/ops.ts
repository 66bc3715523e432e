/**
 * The filesystem: every operation of the plugin API as one transaction of SQL (a generator of
 * statements, run by either engine: engine.ts). Each operation checks before it changes, locks the
 * rows it changes (FOR UPDATE: PostgreSQL's row locks; SQLite holds its one write lock), and keeps
 * link counts and directory sizes in the same transaction as the names they count.
 *
 * Attributes: a directory's size is its number of entries; its link count 2 + its subdirectories;
 * `blocks` counts the file's block rows (i_blocks in 512-byte units is that times block_size / 512);
 * times are nanoseconds in a 64-bit integer, read as two 32-bit halves (exact, no BigInt).
 */
import * as api from '@zufs/zuf-core/api';
import { Errno, type OpContext, type SuperBlock, type ZName, type ZPath, ZusError } from '@zufs/zus-server';
import type { AttrRow, Caches } from './cache.js';
import { type Alone, type Engine, type Op, q, type Rows, type Sql, sql } from './engine.js';

const { ZusInode: Z, S_IFMT, S_IFDIR, S_IFLNK, S_IFREG } = api;
export const ROOT_INO = 1;
const TWO32 = 4294967296;

/** The attribute columns, in this order (A_*): times as [hi, lo] halves. */
const attrCols = (t: string) =>
  `${t}ino, ${t}mode, ${t}nlink, ${t}size, ${t}blocks, ${t}uid, ${t}gid, ${t}rdev, ${t}flags, ${t}parent,
  ${t}atime >> 32, ${t}atime & 4294967295, ${t}mtime >> 32, ${t}mtime & 4294967295, ${t}ctime >> 32, ${t}ctime & 4294967295`;
export const ATTR = attrCols('');
const A_MODE = 1;
const A_NLINK = 2;
const A_SIZE = 3;
const A_BLOCKS = 4;
const A_UID = 5;
const A_GID = 6;
const A_RDEV = 7;
const A_FLAGS = 8;
const A_PARENT = 9;
const A_ATIME = 10;
const A_MTIME = 12;
const A_CTIME = 14;
/** After the attributes, in S.readRows: a block's index and data. */
const A_BLOCK = 16;
/** A time parameter: two halves. */
const T = '? * 4294967296 + ?';

const S = {
  attr: sql(`SELECT ${ATTR} FROM inode WHERE ino = ?`),
  attrLocked: sql(`SELECT ${ATTR} FROM inode WHERE ino = ? FOR UPDATE`),
  lookup: sql(`SELECT d.ino, d.id FROM dentry d WHERE d.parent = ? AND d.name = ?`),
  /** A directory's mode and link count, locked, with its entry of a name: ino and dentry id (or NULLs). */
  lockDir: sql(`SELECT mode, nlink,
    (SELECT d.ino FROM dentry d WHERE d.parent = inode.ino AND d.name = ?),
    (SELECT d.id FROM dentry d WHERE d.parent = inode.ino AND d.name = ?)
    FROM inode WHERE ino = ? FOR UPDATE`),
  lookupAttr: sql(`SELECT ${attrCols('i.')} FROM dentry d JOIN inode i ON i.ino = d.ino
    WHERE d.parent = ? AND d.name = ?`),
  /**
   * SQLite's LOOKUP_PATH (SqlFs.lookupPath): the directory, then the names as one blob joined by '/'
   * (a byte no name holds; SQLite has no array to bind, and instr and substr count a blob's bytes).
   * The directory's attributes (index 0), then one row per name resolved: its attributes and its
   * index from 1, in order; the walk stops at a name that is not there (nothing is under a file or a
   * symlink either) or when no name is left.
   */
  lookupPathSqlite: sql(`WITH RECURSIVE w(n, ino, rest) AS (SELECT 0, ?, ?
    UNION ALL SELECT w.n + 1, d.ino, CASE WHEN instr(w.rest, x'2f') > 0
        THEN substr(w.rest, instr(w.rest, x'2f') + 1) ELSE x'' END
      FROM w JOIN dentry d ON length(w.rest) > 0 AND d.parent = w.ino
        AND d.name = CASE WHEN instr(w.rest, x'2f') > 0
          THEN substr(w.rest, 1, instr(w.rest, x'2f') - 1) ELSE w.rest END)
    SELECT ${attrCols('i.')}, w.n FROM w JOIN inode i ON i.ino = w.ino ORDER BY w.n`),
  newInode: sql(`INSERT INTO inode (mode, uid, gid, nlink, size, rdev, flags, parent, atime, mtime, ctime)
    VALUES (?, ?, ?, ?, ?, ?, 0, ?, ${T}, ${T}, ${T}) RETURNING ${ATTR}`),
  addName: sql('INSERT INTO dentry (parent, name, ino, type) VALUES (?, ?, ?, ?)'),
  dropName: sql('DELETE FROM dentry WHERE id = ?'),
  moveName: sql('UPDATE dentry SET parent = ?, name = ? WHERE id = ?'),
  setName: sql('UPDATE dentry SET ino = ?, type = ? WHERE id = ?'),
  anyName: sql('SELECT 1 FROM dentry WHERE parent = ? LIMIT 1'),
  readdir: sql('SELECT id, name, ino, type FROM dentry WHERE parent = ? AND id >= ? ORDER BY id LIMIT ?'),
  /** A directory gains or loses entries (`size`) and subdirectories (`nlink`). */
  dirChange: sql(
    `UPDATE inode SET nlink = nlink + ?, size = size + ?, mtime = ${T}, ctime = ${T} WHERE ino = ?`,
  ),
  links: sql(`UPDATE inode SET nlink = ?, ctime = ${T} WHERE ino = ?`),
  ctime: sql(`UPDATE inode SET ctime = ${T} WHERE ino = ?`),
  parent: sql('UPDATE inode SET parent = ? WHERE ino = ?'),
  setattr:
    sql(`UPDATE inode SET mode = ?, uid = ?, gid = ?, flags = ?, atime = ${T}, mtime = ${T}, ctime = ${T}
    WHERE ino = ?`),
  resize: sql(`UPDATE inode SET size = ?, blocks = ?, mtime = ${T}, ctime = ${T} WHERE ino = ?`),
  orphan: sql('INSERT INTO orphan (ino, session) VALUES (?, ?) ON CONFLICT (ino) DO NOTHING'),
  unorphan: sql('DELETE FROM orphan WHERE ino = ?'),
  symlinkAdd: sql('INSERT INTO symlink (ino, target) VALUES (?, ?)'),
  /** The rows a write covers; the data only of its two ends (what a partial write keeps). */
  blocksCovered: sql(`SELECT idx, CASE WHEN idx = ? OR idx = ? THEN data END FROM block
    WHERE ino = ? AND idx >= ? AND idx <= ?`),
  putBlock: sql(`INSERT INTO block (ino, idx, data) VALUES (?, ?, ?)
    ON CONFLICT (ino, idx) DO UPDATE SET data = excluded.data`),
  blockData: sql('SELECT data FROM block WHERE ino = ? AND idx = ?'),
  dropBlocksFrom: sql('DELETE FROM block WHERE ino = ? AND idx >= ? RETURNING idx'),
  dropBlocksIn: sql('DELETE FROM block WHERE ino = ? AND idx >= ? AND idx < ? RETURNING idx'),
  freeBlocks: sql('DELETE FROM block WHERE ino = ?'),
  freeXattrs: sql('DELETE FROM xattr WHERE ino = ?'),
  freeSymlink: sql('DELETE FROM symlink WHERE ino = ?'),
  freeInode: sql('DELETE FROM inode WHERE ino = ?'),
  xget: sql('SELECT value FROM xattr WHERE ino = ? AND type = ? AND name = ?'),
  xput: sql(`INSERT INTO xattr (ino, type, name, value) VALUES (?, ?, ?, ?)
    ON CONFLICT (ino, type, name) DO UPDATE SET value = excluded.value`),
  xdel: sql('DELETE FROM xattr WHERE ino = ? AND type = ? AND name = ? RETURNING type'),
  counts: sql('SELECT (SELECT count(*) FROM inode), (SELECT count(*) FROM block)'),
  /**
   * A read: the attributes, and each block of the range (idx, data) or the symlink's target (NULL
   * idx), in one statement. A file with no block in the range: one row of NULLs after the attributes.
   */
  readRows: sql(`SELECT ${attrCols('i.')}, b.idx, coalesce(b.data, s.target) FROM inode i
    LEFT JOIN block b ON b.ino = i.ino AND b.idx >= ? AND b.idx <= ?
    LEFT JOIN symlink s ON s.ino = i.ino
    WHERE i.ino = ? ORDER BY b.idx`),
  /** The inode (its number, or no row) and its xattr's value (NULL when it has none of that name). */
  xgetOf: sql(`SELECT i.ino, x.value FROM inode i
    LEFT JOIN xattr x ON x.ino = i.ino AND x.type = ? AND x.name = ? WHERE i.ino = ?`),
  /** The inode (its number, or no row) and its xattrs' names (NULL type when it has none). */
  xlistOf: sql(`SELECT i.ino, x.type, x.name FROM inode i LEFT JOIN xattr x ON x.ino = i.ino
    WHERE i.ino = ? ORDER BY x.type, x.name`),
};

/** The mode's type bits, as SQL compares them (S_IFMT, S_IFDIR, S_IFREG). */
const IFMT = `mode & ${S_IFMT}`;
/**
 * PostgreSQL only (data-modifying WITH clauses, which SQLite lacks; SQLite runs the same change as
 * several statements, each as cheap as a function call): a create, and the two changes every small
 * write of a file makes, each as one statement, so one round trip with no BEGIN or COMMIT (pg.ts). Each locks
 * the inode row first (`a`), changes only the rows of an inode it may change (`ok`: not a directory;
 * a truncate: a regular file), and answers the mode it saw (no row: no such inode; a mode but NULL
 * attributes: nothing changed) and the attributes after the change. Every sub-statement reads the snapshot from before the statement.
 */
const PG = {
  /** LOOKUP_PATH as S.lookupPathSqlite, the names as one bytea[] ($2). */
  lookupPath: sql(`WITH RECURSIVE w(n, ino) AS (SELECT 0, $1::bigint
    UNION ALL SELECT w.n + 1, d.ino FROM w JOIN dentry d ON d.parent = w.ino
      AND d.name = ($2::bytea[])[w.n + 1])
    SELECT ${attrCols('i.')}, w.n FROM w JOIN inode i ON i.ino = w.ino ORDER BY w.n`),
  /**
   * A write within one block: $1 ino, $2 block index, $3 where the write begins in the block,
   * $4 the bytes, $5 the file's end after the write, $6 $7 the time's halves. An existing block keeps
   * its bytes around the written ones (a block shorter than $3 is first padded with zeros).
   */
  writeBlock: sql(`WITH a AS (SELECT mode FROM inode WHERE ino = $1 FOR UPDATE),
    ok AS (SELECT 1 FROM a WHERE ${IFMT} <> ${S_IFDIR}),
    had AS (SELECT count(*) AS n FROM block WHERE ino = $1 AND idx = $2),
    b AS (INSERT INTO block (ino, idx, data)
      SELECT $1, $2, decode(repeat('00', $3::int), 'hex') || $4::bytea FROM ok
      ON CONFLICT (ino, idx) DO UPDATE SET data = substring(block.data FROM 1 FOR $3::int)
        || decode(repeat('00', greatest(0, $3::int - length(block.data))), 'hex') || $4::bytea
        || substring(block.data FROM $3::int + length($4::bytea) + 1)
      RETURNING 1),
    u AS (UPDATE inode SET size = greatest(size, $5), blocks = blocks + 1 - (SELECT n FROM had),
      mtime = $6 * 4294967296 + $7, ctime = $6 * 4294967296 + $7
      WHERE ino = $1 AND EXISTS (SELECT 1 FROM ok) RETURNING ${ATTR})
    SELECT a.mode, u.* FROM a LEFT JOIN u ON true`),
  /**
   * A create of a name (not a symlink, not O_TMPFILE): $1 the directory, $2 the name, $3-$15
   * S.newInode's parameters, $16 the entry's DT_* type, $17 the subdirectories it adds (1 for a
   * directory), $18 $19 the directory's new times. Answers the directory's mode and link count (no
   * row: no such directory), then the new inode's attributes (NULL: the name exists, nothing made).
   * Run at READ COMMITTED (Alone 'latest'): `d` waits for the directory's row lock and reads the row
   * as committed (a removed directory: no row, or nlink 0); the name's check reads the snapshot, so
   * a name another transaction made meanwhile fails the insert on the unique key (23505: EEXIST),
   * and `u` adds to the counts as committed.
   */
  create: sql(`WITH d AS (SELECT mode, nlink FROM inode WHERE ino = $1 FOR UPDATE),
    ok AS (SELECT 1 FROM d WHERE ${IFMT} = ${S_IFDIR} AND nlink > 0
      AND NOT EXISTS (SELECT 1 FROM dentry WHERE parent = $1 AND name = $2)),
    i AS (INSERT INTO inode (mode, uid, gid, nlink, size, rdev, flags, parent, atime, mtime, ctime)
      SELECT $3, $4, $5, $6, $7, $8, 0, $9, $10 * 4294967296 + $11, $12 * 4294967296 + $13,
        $14 * 4294967296 + $15 FROM ok RETURNING ${ATTR}),
    n AS (INSERT INTO dentry (parent, name, ino, type) SELECT $1, $2, ino, $16 FROM i RETURNING 1),
    u AS (UPDATE inode SET nlink = nlink + $17, size = size + 1, mtime = $18 * 4294967296 + $19,
      ctime = $18 * 4294967296 + $19 WHERE ino = $1 AND EXISTS (SELECT 1 FROM i) RETURNING 1)
    SELECT d.mode, d.nlink, i.* FROM d LEFT JOIN i ON true`),
  /**
   * A truncate to $2 bytes: $1 ino, $3 the blocks kept (those below it go), $4 the bytes the last
   * kept block keeps (0: all), $5 $6 the time's halves.
   */
  truncate: sql(`WITH a AS (SELECT mode FROM inode WHERE ino = $1 FOR UPDATE),
    ok AS (SELECT 1 FROM a WHERE ${IFMT} = ${S_IFREG}),
    d AS (DELETE FROM block WHERE ino = $1 AND idx >= $3 AND EXISTS (SELECT 1 FROM ok) RETURNING 1),
    c AS (UPDATE block SET data = substring(data FROM 1 FOR $4::int)
      WHERE ino = $1 AND idx = $3 - 1 AND $4::int > 0 AND length(data) > $4::int AND EXISTS (SELECT 1 FROM ok)
      RETURNING 1),
    u AS (UPDATE inode SET size = $2, blocks = blocks - (SELECT count(*) FROM d),
      mtime = $5 * 4294967296 + $6, ctime = $5 * 4294967296 + $6
      WHERE ino = $1 AND EXISTS (SELECT 1 FROM ok) RETURNING ${ATTR})
    SELECT a.mode, u.* FROM a LEFT JOIN u ON true`),
};

const fail = (errno: number, what?: string): never => {
  throw new ZusError(errno, what);
};
const isDirMode = (mode: number) => (mode & S_IFMT) === S_IFDIR;
const nameBytes = (n: ZName) => Buffer.from(n.bytes.subarray(n.at, n.at + n.len)); // a copy: the view is the request's

/** Names `from..` of a LOOKUP_PATH for PG.lookupPath: copies (the views are the request's). */
function pathNames(path: ZPath, from: number): Buffer[] {
  const names: Buffer[] = [];
  for (let i = from; i < path.n; i++) names.push(nameBytes(path.name(i)));
  return names;
}

/** Names `from..` joined by '/' in one buffer, for S.lookupPathSqlite (the server let no name hold one). */
function pathBlob(path: ZPath, from: number): Buffer {
  let len = path.n - from - 1;
  for (let i = from; i < path.n; i++) len += path.name(i).len;
  const b = Buffer.allocUnsafe(len);
  for (let i = from, at = 0; i < path.n; i++) {
    if (i > from) b[at++] = 0x2f;
    const n = path.name(i);
    b.set(n.bytes.subarray(n.at, n.at + n.len), at);
    at += n.len;
  }
  return b;
}

const num = (v: unknown) => Number(v);
const hi = (ns: number) => Math.floor(ns / TWO32);
const lo = (ns: number) => ns - Math.floor(ns / TWO32) * TWO32;
const nowNs = () => Date.now() * 1e6;
/** Namespaces' prefixes by ZUF_XF_* (listxattr answers full names). */
const XF_PREFIX = ['', 'security.', 'system.', 'trusted.', 'user.'].map((p) => Buffer.from(p));

/** The attributes a change left on `ino`, read under generation `gen` (taken before its statement). */
interface Kept {
  ino: number;
  gen: number;
  row: AttrRow;
}

export interface FsConfig {
  readonly blockSize: number;
  /** This mount's session (orphans it leaves are freed by it, or by fsck once it is dead). */
  readonly session: number;
  /** The mount options as the app gave them (SHOW_OPTIONS). */
  readonly options: string;
}

/** Deletes inode `ino` and everything it owns. */
export function* freeRows(ino: number): Op<void> {
  yield q(S.freeBlocks, ino);
  yield q(S.freeXattrs, ino);
  yield q(S.freeSymlink, ino);
  yield q(S.unorphan, ino);
  yield q(S.freeInode, ino);
}

/** The attribute row as a zus_inode (the copy every reply that names an inode carries). */
function encodeAttr(row: AttrRow, zi: DataView, blockSize: number): void {
  for (let i = 0; i < 128; i += 4) zi.setUint32(i, 0, true);
  const mode = num(row[A_MODE]);
  zi.setUint16(Z.i_flags, num(row[A_FLAGS]), true);
  zi.setUint16(Z.i_mode, mode, true);
  zi.setUint32(Z.i_nlink, num(row[A_NLINK]), true);
  api.setU64(zi, Z.i_size, num(row[A_SIZE]));
  api.setU64(zi, Z.i_blocks, (num(row[A_BLOCKS]) * blockSize) / 512);
  for (const [f, c] of [
    [Z.i_atime, A_ATIME],
    [Z.i_mtime, A_MTIME],
    [Z.i_ctime, A_CTIME],
  ]) {
    zi.setUint32(f, num(row[c + 1]), true);
    zi.setUint32(f + 4, num(row[c]), true);
  }
  api.setU64(zi, Z.i_ino, num(row[0]));
  zi.setUint32(Z.i_uid, num(row[A_UID]), true);
  zi.setUint32(Z.i_gid, num(row[A_GID]), true);
  if (isDirMode(mode)) api.setU64(zi, Z.i_dir + 8, num(row[A_PARENT]));
  else zi.setUint32(Z.i_rdev, num(row[A_RDEV]), true);
}

/** A time field of a zus_inode as the two halves a statement takes. */
const ziTime = (zi: DataView, f: number) => [zi.getUint32(f + 4, true), zi.getUint32(f, true)];

/**
 * One ZT's filesystem over one engine: the SuperBlock's operations. A method answers at once on
 * SQLite and with a Promise on PostgreSQL (the engine decides; the logic is the same generators).
 */
export class SqlFs {
  /**
   * With no cache (ttl 0): by channel (OpContext.zt), the row a LOOKUP read and the operation it
   * read it in (OpContext.seq), for the inode copy its reply carries (the server asks getattr for
   * it in the same operation): never another operation's row, so a strict stat reads each inode
   * once, not twice.
   */
  private readonly lookedUp = new Map<number, { seq: number; row: AttrRow | undefined }>();

  constructor(
    readonly eng: Engine,
    readonly cache: Caches,
    readonly cfg: FsConfig,
  ) {}

  /** A read; `alone` when it is one statement (no transaction around it: engine.ts). */
  private look<T>(op: () => Op<T>, alone = false): T | Promise<T> {
    return this.eng.run(op, false, alone);
  }

  /**
   * A change: afterwards (committed or not) every ZT's cached copies of the inodes in `touched` go;
   * those of `kept` (the attributes the change left, read by it) are then this ZT's copies, so the
   * open after a write needs no LOOKUP of the database. `alone`: the change is one statement.
   */
  private change<T>(op: (touched: number[], kept: Kept[]) => Op<T>, alone: Alone = false): T | Promise<T> {
    const touched: number[] = [];
    const kept: Kept[] = [];
    const done = () => {
      for (const ino of touched) if (!kept.some((k) => k.ino === ino)) this.cache.changed(ino);
      for (const k of kept) this.cache.changedTo(k.ino, k.gen, k.row);
    };
    let r: T | Promise<T>;
    try {
      r = this.eng.run(() => op(touched, kept), true, alone);
    } catch (e) {
      done();
      throw e;
    }
    if (r instanceof Promise) return r.finally(done);
    done();
    return r;
  }

  // ~~~ reads ~~~

  *attrOf(ino: number, lock = false): Op<AttrRow> {
    const rows: Rows = yield q(lock ? S.attrLocked : S.attr, ino);
    return rows[0] ?? fail(Errno.ESTALE, `inode ${ino}`);
  }

  /** Keeps `row` for the getattr of the operation `ctx` (lookedUp). */
  private keepLooked(ctx: OpContext, row: AttrRow): void {
    const k = this.lookedUp.get(ctx.zt);
    if (k === undefined) this.lookedUp.set(ctx.zt, { seq: ctx.seq, row });
    else {
      k.seq = ctx.seq;
      k.row = row;
    }
  }

  getattr(ino: number, zi: DataView, ctx?: OpContext): void | Promise<void> {
    const hit = this.cache.attr(ino);
    if (hit) return encodeAttr(hit, zi, this.cfg.blockSize);
    if (ctx && this.cache.ttlMs <= 0) {
      const k = this.lookedUp.get(ctx.zt);
      const row = k !== undefined && k.seq === ctx.seq ? k.row : undefined;
      if (row !== undefined && num(row[0]) === ino) return encodeAttr(row, zi, this.cfg.blockSize);
    }
    const c = this.cache;
    const self = this;
    return this.look(function* () {
      const gen = c.gen(ino);
      const row = yield* self.attrOf(ino);
      c.putAttr(ino, row, gen);
      encodeAttr(row, zi, self.cfg.blockSize);
    }, true);
  }

  lookup(dir: number, name: ZName, ctx?: OpContext): number | Promise<number> {
    const key = name.str();
    const hit = this.cache.name(dir, key);
    if (hit !== undefined && this.cache.attr(hit)) return hit;
    const c = this.cache;
    const bytes = nameBytes(name);
    // The row, for the getattr the server asks in this operation (lookedUp).
    const strict = ctx !== undefined && c.ttlMs <= 0 ? ctx : null;
    const self = this;
    return this.look(function* () {
      const gd = c.gen(dir);
      const rows: Rows = yield q(S.lookupAttr, dir, bytes);
      const row = rows[0] ?? fail(Errno.ENOENT, key);
      const ino = num(row[0]);
      c.putName(dir, key, ino, gd);
      c.putAttr(ino, row, c.gen(ino));
      if (strict) self.keepLooked(strict, row);
      return ino;
    }, true);
  }

  /**
   * LOOKUP_PATH: the names the ZT's cache holds, then the rest in one statement (a recursive walk
   * of `dentry` joined with `inode`, run alone: one round trip on PostgreSQL). The framework checks
   * the search permission of each directory passed, from the attributes given here.
   */
  lookupPath(dir: number, path: ZPath, ctx?: OpContext): number | Promise<number> {
    const c = this.cache;
    const bs = this.cfg.blockSize;
    let from = 0;
    for (; from < path.n; from++) {
      const ino = c.name(dir, path.name(from).str());
      const row = ino === undefined ? undefined : c.attr(ino);
      if (row === undefined) break;
      encodeAttr(row, path.step(from, ino!), bs);
      dir = ino!;
    }
    if (from === path.n) return from;
    const pg = this.eng.dialect === 'pg';
    const arg = pg ? pathNames(path, from) : pathBlob(path, from);
    const start = dir;
    // The start's row, for the getattr the server may ask of it in this operation (ZUFS_LP_START).
    const strict = ctx !== undefined && from === 0 && c.ttlMs <= 0 ? ctx : null;
    const self = this;
    return this.look(function* () {
      const changes = c.changes();
      const rows: Rows = yield q(pg ? PG.lookupPath : S.lookupPathSqlite, start, arg);
      // Kept as lookup() keeps its answers, under words taken after the read (the inodes on the
      // way are known only from it), when no change ran from before the read to after the words
      // were taken (Caches.changes; InodeGens, "Reader").
      const gens = rows.map((row) => c.gen(num(row[0])));
      const keep = c.changes() === changes;
      let at = start;
      let steps = 0;
      rows.forEach((row, j) => {
        const n = num(row[A_BLOCK]);
        const ino = num(row[0]);
        if (keep) c.putAttr(ino, row, gens[j]);
        if (n === 0) {
          if (strict) self.keepLooked(strict, row);
          return;
        }
        const i = from + n - 1;
        encodeAttr(row, path.step(i, ino), bs);
        if (keep) c.putName(at, path.name(i).str(), ino, gens[j - 1]);
        at = ino;
        steps++;
      });
      return from + steps; // no row at all: the start is gone, its first name not there
    }, true);
  }

  readdir(dir: number, pos: number, it: api.ZdeIter): void | Promise<void> {
    return this.look(function* () {
      const batch = 256;
      for (let from = pos; ; ) {
        const rows: Rows = yield q(S.readdir, dir, from, batch);
        for (const r of rows) {
          const name = r[1] as Uint8Array;
          if (!api.zdeEmit(it, num(r[2]), num(r[3]), num(r[0]) + 1, name)) return;
        }
        if (rows.length < batch) return;
        from = num(rows[rows.length - 1][0]) + 1;
      }
    });
  }

  read(ino: number, pos: number, len: number, buf: Uint8Array, at: number): number | Promise<number> {
    const bs = this.cfg.blockSize;
    // Never from the cache: a read sees the size and blocks committed when it runs (close-to-open).
    // One statement (attributes, and the blocks of the range or a symlink's target): one snapshot.
    const first = Math.floor(pos / bs);
    const last = len > 0 ? Math.floor((pos + len - 1) / bs) : first - 1;
    return this.look(function* () {
      const rows: Rows = yield q(S.readRows, first, last, ino);
      const a = rows[0] ?? fail(Errno.ESTALE, `inode ${ino}`);
      const mode = num(a[A_MODE]);
      if (isDirMode(mode)) fail(Errno.EISDIR, `inode ${ino}`);
      if ((mode & S_IFMT) === S_IFLNK) {
        const target = (a[A_BLOCK + 1] as Uint8Array | null) ?? new Uint8Array(0);
        const n = Math.max(0, Math.min(len, target.length - pos));
        buf.set(target.subarray(pos, pos + n), at);
        return n;
      }
      const n = Math.max(0, Math.min(len, num(a[A_SIZE]) - pos));
      if (n === 0) return 0;
      buf.fill(0, at, at + n); // holes read as zeros
      for (const r of rows) {
        if (r[A_BLOCK] === null) continue; // no block in the range
        const start = num(r[A_BLOCK]) * bs;
        const data = r[A_BLOCK + 1] as Uint8Array;
        const from = Math.max(pos, start);
        const to = Math.min(pos + n, start + data.length);
        if (to > from) buf.set(data.subarray(from - start, to - start), at + from - pos);
      }
      return n;
    }, true);
  }

  statfs(out: api.Statfs): void | Promise<void> {
    const bs = this.cfg.blockSize;
    return this.look(function* () {
      const [files, blocks] = ((yield q(S.counts)) as Rows)[0].map(num);
      // No fixed capacity: the database's. Say 2^40 bytes, so df shows room.
      const total = Math.max(blocks, Math.floor(2 ** 40 / bs));
      out.bsize = out.frsize = bs;
      out.blocks = total;
      out.bfree = out.bavail = total - blocks;
      out.files = 2 ** 32;
      out.ffree = 2 ** 32 - files;
      out.namelen = 255;
    }, true);
  }

  showOptions(): string {
    return this.cfg.options;
  }

  evictInode(ino: number): void {
    this.cache.forget(ino);
  }

  getxattr(ino: number, type: number, name: ZName, out: Uint8Array, at: number, max: number) {
    const key = nameBytes(name);
    return this.look(function* () {
      const r = ((yield q(S.xgetOf, type, key, ino)) as Rows)[0] ?? fail(Errno.ESTALE, `inode ${ino}`);
      const v = r[1] as Uint8Array | null;
      if (!v) return fail(Errno.ENODATA, name.str());
      if (max === 0) return v.length;
      if (v.length > max) fail(Errno.ERANGE);
      out.set(v, at);
      return v.length;
    }, true);
  }

  listxattr(ino: number, out: Uint8Array, at: number, max: number, trusted: boolean) {
    return this.look(function* () {
      const rows: Rows = yield q(S.xlistOf, ino);
      if (rows.length === 0) fail(Errno.ESTALE, `inode ${ino}`);
      let n = 0;
      for (const [, type, name] of rows) {
        if (type === null) continue; // none
        const t = num(type);
        if (t === api.ZUF_XF_TRUSTED && !trusted) continue;
        const pre = XF_PREFIX[t] ?? XF_PREFIX[0];
        const nm = name as Uint8Array;
        const len = pre.length + nm.length + 1;
        if (max > 0) {
          if (n + len > max) fail(Errno.ERANGE);
          out.set(pre, at + n);
          out.set(nm, at + n + pre.length);
          out[at + n + len - 1] = 0;
        }
        n += len;
      }
      return n;
    }, true);
  }

  // ~~~ changes ~~~

  /**
   * Locks directory `dir` (ENOENT: removed, ENOTDIR) and answers its entry `name` ([ino, dentry id],
   * or undefined; none asked when null), in one statement.
   */
  private *lockDir(dir: number, name: Buffer | null): Op<[number, number] | undefined> {
    const d = ((yield q(S.lockDir, name, name, dir)) as Rows)[0] ?? fail(Errno.ESTALE, `inode ${dir}`);
    if (!isDirMode(num(d[0]))) fail(Errno.ENOTDIR, `inode ${dir}`);
    if (num(d[1]) === 0) fail(Errno.ENOENT, `directory ${dir} was removed`);
    return d[2] === null ? undefined : [num(d[2]), num(d[3])];
  }

  /** The entry `name` of `dir`: [ino, dentry id], or undefined. */
  private *entry(dir: number, name: Buffer): Op<[number, number] | undefined> {
    const r = ((yield q(S.lookup, dir, name)) as Rows)[0];
    return r ? [num(r[0]), num(r[1])] : undefined;
  }

  /** `dir` gains (+1) or loses (-1) an entry, and `subdirs` subdirectories; its times are `ns`. */
  private dirChange(dir: number, entries: number, subdirs: number, ns: number) {
    return q(S.dirChange, subdirs, entries, hi(ns), lo(ns), hi(ns), lo(ns), dir);
  }

  newInode(dir: number, name: ZName | null, zi: DataView, flags: number, symlink: Uint8Array | null) {
    const mode = zi.getUint16(Z.i_mode, true);
    const tmp = (flags & api.ZI_TMPFILE) !== 0;
    const key = name ? nameBytes(name) : null;
    const target = symlink ? Buffer.from(symlink) : null;
    const dirMode = isDirMode(mode);
    const self = this;
    const c = this.cache;
    /** S.newInode's parameters (and PG.create's after the directory and the name). */
    const inode = () => [
      mode,
      zi.getUint32(Z.i_uid, true),
      zi.getUint32(Z.i_gid, true),
      tmp ? 0 : dirMode ? 2 : 1,
      target ? target.length : 0,
      (mode & S_IFMT) === S_IFREG || dirMode ? 0 : zi.getUint32(Z.i_rdev, true),
      dirMode ? dir : 0,
      ...ziTime(zi, Z.i_atime),
      ...ziTime(zi, Z.i_mtime),
      ...ziTime(zi, Z.i_ctime),
    ];
    if (this.eng.dialect === 'pg' && key && !tmp && !target)
      // A name for a file, a directory or a device: one statement (PG.create).
      return this.change(function* (touched) {
        touched.push(dir);
        const ns = nowNs();
        const args = [...inode(), api.modeToDtype(mode), dirMode ? 1 : 0, hi(ns), lo(ns)];
        const r = ((yield q(PG.create, dir, key, ...args)) as Rows)[0] ?? fail(Errno.ESTALE, `inode ${dir}`);
        if (!isDirMode(num(r[0]))) fail(Errno.ENOTDIR, `inode ${dir}`);
        if (num(r[1]) === 0) fail(Errno.ENOENT, `directory ${dir} was removed`);
        if (r[2] === null) fail(Errno.EEXIST, name?.str());
        const row = r.slice(2);
        const ino = num(row[0]);
        c.putAttr(ino, row, c.gen(ino));
        return ino;
      }, 'latest');
    return this.change(function* (touched) {
      if (yield* self.lockDir(dir, key)) fail(Errno.EEXIST, name?.str());
      const ns = nowNs();
      const row = ((yield q(S.newInode, ...inode())) as Rows)[0];
      const ino = num(row[0]);
      if (target) yield q(S.symlinkAdd, ino, target);
      if (tmp) yield q(S.orphan, ino, self.cfg.session);
      else {
        yield q(S.addName, dir, key, ino, api.modeToDtype(mode));
        yield self.dirChange(dir, 1, dirMode ? 1 : 0, ns);
        touched.push(dir);
      }
      c.putAttr(ino, row, c.gen(ino));
      return ino;
    });
  }

  addDentry(dir: number, ino: number, name: ZName) {
    const key = nameBytes(name);
    const self = this;
    return this.change(function* (touched) {
      const taken = yield* self.lockDir(dir, key);
      const a = yield* self.attrOf(ino, true);
      const mode = num(a[A_MODE]);
      if (isDirMode(mode)) fail(Errno.EPERM, 'a hard link to a directory');
      if (taken) fail(Errno.EEXIST, name.str());
      const ns = nowNs();
      yield q(S.addName, dir, key, ino, api.modeToDtype(mode));
      if (num(a[A_NLINK]) === 0) yield q(S.unorphan, ino); // an O_TMPFILE given a name
      yield q(S.links, num(a[A_NLINK]) + 1, hi(ns), lo(ns), ino);
      yield self.dirChange(dir, 1, 0, ns);
      touched.push(dir, ino);
    });
  }

  /** `ino` loses its name `id` (of `dir`) and one link (a directory: all of them, and `dir` its ".."). */
  private *unlinkEntry(dir: number, id: number, a: AttrRow, ns: number): Op<void> {
    const ino = num(a[0]);
    const dirMode = isDirMode(num(a[A_MODE]));
    yield q(S.dropName, id);
    const links = dirMode ? 0 : num(a[A_NLINK]) - 1;
    yield q(S.links, links, hi(ns), lo(ns), ino);
    if (links === 0) yield q(S.orphan, ino, this.cfg.session); // freed by FREE_INODE once unused
    yield this.dirChange(dir, -1, dirMode ? -1 : 0, ns);
  }

  /** ENOTEMPTY when directory `ino` has entries. */
  private *mustBeEmpty(ino: number, what: string): Op<void> {
    if (((yield q(S.anyName, ino)) as Rows).length > 0) fail(Errno.ENOTEMPTY, what);
  }

  removeDentry(dir: number, ino: number, name: ZName) {
    const key = nameBytes(name);
    const self = this;
    return this.change(function* (touched) {
      const e = yield* self.lockDir(dir, key);
      if (!e || e[0] !== ino) fail(Errno.ENOENT, name.str()); // the app looks again
      const a = yield* self.attrOf(ino, true);
      if (isDirMode(num(a[A_MODE]))) yield* self.mustBeEmpty(ino, name.str());
      yield* self.unlinkEntry(dir, (e as [number, number])[1], a, nowNs());
      touched.push(dir, ino);
    });
  }

  rename(oldDir: number, oldName: ZName, newDir: number, newName: ZName, flags: number, timeNs: number) {
    const [ok, nk] = [nameBytes(oldName), nameBytes(newName)];
    const self = this;
    return this.change(function* (touched): Op<number> {
      // Both directories locked in inode order: two renames between the same two never deadlock.
      // Each directory's entry is read by the statement that locks it.
      let found: [number, number] | undefined;
      let dst: [number, number] | undefined;
      if (oldDir === newDir) {
        found = yield* self.lockDir(oldDir, ok);
        dst = yield* self.entry(newDir, nk);
      } else if (oldDir < newDir) {
        found = yield* self.lockDir(oldDir, ok);
        dst = yield* self.lockDir(newDir, nk);
      } else {
        dst = yield* self.lockDir(newDir, nk);
        found = yield* self.lockDir(oldDir, ok);
      }
      const src = found ?? fail(Errno.ENOENT, oldName.str());
      const sa = yield* self.attrOf(src[0], true);
      const srcDir = isDirMode(num(sa[A_MODE]));
      touched.push(oldDir, newDir, src[0]);
      const ns = timeNs || nowNs();
      if (dst && dst[0] === src[0]) return 0; // two names of one inode: nothing to do
      if (srcDir && oldDir !== newDir) yield* self.notUnder(src[0], newDir);
      if (flags & api.RENAME_EXCHANGE) {
        if (!dst) fail(Errno.ENOENT, newName.str());
        const da = yield* self.attrOf((dst as [number, number])[0], true);
        const dstDir = isDirMode(num(da[A_MODE]));
        if (dstDir && oldDir !== newDir) yield* self.notUnder(num(da[0]), oldDir);
        touched.push(num(da[0]));
        yield q(S.setName, num(da[0]), api.modeToDtype(num(da[A_MODE])), src[1]);
        yield q(S.setName, src[0], api.modeToDtype(num(sa[A_MODE])), (dst as [number, number])[1]);
        const delta = (dstDir ? 1 : 0) - (srcDir ? 1 : 0);
        if (oldDir !== newDir) {
          if (srcDir) yield q(S.parent, newDir, src[0]);
          if (dstDir) yield q(S.parent, oldDir, num(da[0]));
        }
        yield self.dirChange(oldDir, 0, oldDir === newDir ? 0 : delta, ns);
        if (oldDir !== newDir) yield self.dirChange(newDir, 0, -delta, ns);
        yield q(S.ctime, hi(ns), lo(ns), src[0]);
        yield q(S.ctime, hi(ns), lo(ns), num(da[0]));
        return 0;
      }
      let replaced = 0;
      if (dst) {
        if (flags & api.RENAME_NOREPLACE) fail(Errno.EEXIST, newName.str());
        const da = yield* self.attrOf(dst[0], true);
        const dstDir = isDirMode(num(da[A_MODE]));
        if (srcDir && !dstDir) fail(Errno.ENOTDIR, newName.str());
        if (!srcDir && dstDir) fail(Errno.EISDIR, newName.str());
        if (dstDir) yield* self.mustBeEmpty(dst[0], newName.str());
        yield* self.unlinkEntry(newDir, dst[1], da, ns);
        replaced = dst[0];
        touched.push(replaced);
      }
      yield q(S.moveName, newDir, nk, src[1]);
      if (oldDir !== newDir) {
        if (srcDir) yield q(S.parent, newDir, src[0]);
        yield self.dirChange(oldDir, -1, srcDir ? -1 : 0, ns);
        yield self.dirChange(newDir, 1, srcDir ? 1 : 0, ns);
      } else yield self.dirChange(oldDir, 0, 0, ns);
      yield q(S.ctime, hi(ns), lo(ns), src[0]);
      return replaced;
    });
  }

  /** EINVAL when directory `dir` is `ino` or lies under it (a directory moved into itself). */
  private *notUnder(ino: number, dir: number): Op<void> {
    for (let d = dir, depth = 0; d !== ROOT_INO && d !== 0; depth++) {
      if (d === ino || depth > 4096) fail(Errno.EINVAL, 'a directory cannot move under itself');
      d = num((yield* this.attrOf(d))[A_PARENT]);
    }
  }

  freeInode(ino: number) {
    return this.change(function* (touched) {
      const r = ((yield q(S.attrLocked, ino)) as Rows)[0];
      if (!r) return; // already freed (fsck, or another machine's session)
      touched.push(ino);
      if (num(r[A_NLINK]) > 0) return; // named again meanwhile
      yield* freeRows(ino);
    });
  }

  setattr(ino: number, mask: number, zi: DataView) {
    const self = this;
    return this.change(function* (touched) {
      const a = yield* self.attrOf(ino, true);
      touched.push(ino);
      if (mask & api.STATX_SIZE) yield* self.truncate(a, api.getU64(zi, Z.i_size));
      const mode = num(a[A_MODE]);
      const time = (bit: number, f: number, col: number) =>
        mask & bit ? ziTime(zi, f) : [num(a[col]), num(a[col + 1])];
      const ns = nowNs();
      const ctime =
        mask & api.STATX_CTIME ? ziTime(zi, Z.i_ctime) : mask ? [hi(ns), lo(ns)] : time(0, 0, A_CTIME);
      yield q(
        S.setattr,
        mask & api.STATX_MODE ? (mode & S_IFMT) | (zi.getUint16(Z.i_mode, true) & 0o7777) : mode,
        mask & api.STATX_UID ? zi.getUint32(Z.i_uid, true) : num(a[A_UID]),
        mask & api.STATX_GID ? zi.getUint32(Z.i_gid, true) : num(a[A_GID]),
        mask & api.ZUFS_STATX_FLAGS ? zi.getUint16(Z.i_flags, true) : num(a[A_FLAGS]),
        ...time(api.STATX_ATIME, Z.i_atime, A_ATIME),
        ...time(api.STATX_MTIME, Z.i_mtime, A_MTIME),
        ...ctime,
        ino,
      );
    });
  }

  fallocate(ino: number, mode: number, pos: number, end: number) {
    if (mode === api.ZUFS_FL_TRUNCATE && this.eng.dialect === 'pg') return this.truncateAlone(ino, pos);
    const self = this;
    return this.change(function* (touched) {
      const a = yield* self.attrOf(ino, true);
      touched.push(ino);
      if (mode & api.ZUFS_FL_TRUNCATE) return yield* self.truncate(a, pos);
      if (mode & ~api.FALLOC_FL_KEEP_SIZE) fail(Errno.EOPNOTSUPP, `fallocate mode ${mode}`);
      // Blocks are made when written (holes cost nothing): allocating only moves the size.
      if (!(mode & api.FALLOC_FL_KEEP_SIZE) && end > num(a[A_SIZE])) {
        const ns = nowNs();
        yield q(S.resize, end, num(a[A_BLOCKS]), hi(ns), lo(ns), hi(ns), lo(ns), ino);
      }
    });
  }

  /**
   * A change of one statement of PG (PG.writeBlock, PG.truncate): the inode's row after it is kept
   * in the cache. `args` follow the inode number.
   */
  private alone(ino: number, stmt: Sql, args: unknown[]): Promise<void> {
    const c = this.cache;
    return this.change(function* (touched, kept) {
      touched.push(ino); // its copies go, even if the answer is lost after the commit
      const gen = c.gen(ino);
      const r = ((yield q(stmt, ino, ...args)) as Rows)[0] ?? fail(Errno.ESTALE, `inode ${ino}`);
      const mode = num(r[0]);
      if (isDirMode(mode)) fail(Errno.EISDIR, `inode ${ino}`);
      if (r[1] === null) fail(Errno.EINVAL, `inode ${ino} is not a regular file`);
      kept.push({ ino, gen, row: r.slice(1) });
    }, true) as Promise<void>;
  }

  /** PostgreSQL: truncate in one statement (PG.truncate). */
  private truncateAlone(ino: number, size: number): Promise<void> {
    const bs = this.cfg.blockSize;
    const ns = nowNs();
    return this.alone(ino, PG.truncate, [size, Math.ceil(size / bs), size % bs, hi(ns), lo(ns)]);
  }

  /** Sets the size of the regular file `a` to `size`: blocks past it go, the last one is cut. */
  private *truncate(a: AttrRow, size: number): Op<void> {
    const ino = num(a[0]);
    const mode = num(a[A_MODE]);
    if (isDirMode(mode)) fail(Errno.EISDIR, `inode ${ino}`);
    if ((mode & S_IFMT) !== S_IFREG) fail(Errno.EINVAL, `inode ${ino} is not a regular file`);
    const bs = this.cfg.blockSize;
    let blocks = num(a[A_BLOCKS]);
    if (size < num(a[A_SIZE])) {
      const keep = Math.ceil(size / bs); // blocks [0, keep) stay
      blocks -= ((yield q(S.dropBlocksFrom, ino, keep)) as Rows).length;
      const cut = size % bs;
      if (cut > 0) {
        const d = ((yield q(S.blockData, ino, keep - 1)) as Rows)[0]?.[0] as Uint8Array | undefined;
        if (d && d.length > cut) yield q(S.putBlock, ino, keep - 1, Buffer.from(d.subarray(0, cut)));
      }
    }
    const ns = nowNs();
    yield q(S.resize, size, blocks, hi(ns), lo(ns), hi(ns), lo(ns), ino);
  }

  write(ino: number, pos: number, len: number, buf: Uint8Array, at: number, rw: number) {
    const bs = this.cfg.blockSize;
    // An engine that sends later (PostgreSQL) gets a copy: the window is the next request's after the reply.
    const src = this.eng.sync ? buf : Buffer.from(buf.subarray(at, at + len));
    const base = this.eng.sync ? at : 0;
    const first = Math.floor(pos / bs);
    if (
      this.eng.dialect === 'pg' &&
      !(rw & api.ZUFS_RW_APPEND) &&
      len > 0 &&
      first === Math.floor((pos + len - 1) / bs)
    ) {
      // Within one block (the common small write): one statement (PG.writeBlock).
      const ns = nowNs();
      return this.alone(ino, PG.writeBlock, [first, pos - first * bs, src, pos + len, hi(ns), lo(ns)]).then(
        () => pos + len,
      );
    }
    const self = this;
    return this.change(function* (touched): Op<number> {
      const a = yield* self.attrOf(ino, true);
      const mode = num(a[A_MODE]);
      if (isDirMode(mode)) fail(Errno.EISDIR, `inode ${ino}`);
      touched.push(ino);
      const size = num(a[A_SIZE]);
      const p = rw & api.ZUFS_RW_APPEND ? size : pos;
      if (len === 0) return p;
      const end = p + len;
      const first = Math.floor(p / bs);
      const last = Math.floor((end - 1) / bs);
      const have: Rows = yield q(S.blocksCovered, first, last, ino, first, last);
      const ends = new Map<number, Uint8Array>();
      for (const r of have) if (r[1]) ends.set(num(r[0]), r[1] as Uint8Array);
      for (let b = first; b <= last; b++) {
        const s = b === first ? p - b * bs : 0; // where the write begins in this block
        const e = b === last ? end - b * bs : bs; // and ends
        const from = base + b * bs + s - p; // in `src`
        let data: Uint8Array;
        const old = ends.get(b);
        if (s === 0 && (e === bs || !old || old.length <= e))
          data = Buffer.from(src.buffer, src.byteOffset + from, e); // the block whole (or all it holds)
        else {
          const d = Buffer.alloc(Math.max(old?.length ?? 0, e));
          if (old) d.set(old);
          d.set(src.subarray(from, from + e - s), s);
          data = d;
        }
        yield q(S.putBlock, ino, b, data);
      }
      const ns = nowNs();
      const blocks = num(a[A_BLOCKS]) + (last - first + 1 - have.length);
      yield q(S.resize, Math.max(size, end), blocks, hi(ns), lo(ns), hi(ns), lo(ns), ino);
      return end;
    });
  }

  sync(): void {
    // Every operation is a committed transaction already.
  }

  setxattr(
    ino: number,
    type: number,
    name: ZName,
    buf: Uint8Array | null,
    at: number,
    len: number,
    flags: number,
  ) {
    const key = nameBytes(name);
    const value = buf ? Buffer.from(buf.subarray(at, at + len)) : null;
    const self = this;
    return this.change(function* (touched) {
      yield* self.attrOf(ino, true);
      touched.push(ino);
      const ns = nowNs();
      if (!value) {
        if (((yield q(S.xdel, ino, type, key)) as Rows).length === 0) fail(Errno.ENODATA, name.str());
      } else {
        const had = ((yield q(S.xget, ino, type, key)) as Rows).length > 0;
        if (had && flags & api.XATTR_CREATE) fail(Errno.EEXIST, name.str());
        if (!had && flags & api.XATTR_REPLACE) fail(Errno.ENODATA, name.str());
        yield q(S.xput, ino, type, key, value);
      }
      yield q(S.ctime, hi(ns), lo(ns), ino);
    });
  }

  /** The SuperBlock the server calls: these methods, bound. */
  superBlock(): SuperBlock {
    const sb: Record<string, unknown> = {};
    for (const m of [
      'statfs',
      'showOptions',
      'newInode',
      'freeInode',
      'lookup',
      'lookupPath',
      'addDentry',
      'removeDentry',
      'rename',
      'readdir',
      'evictInode',
      'getattr',
      'setattr',
      'read',
      'write',
      'sync',
      'fallocate',
      'getxattr',
      'setxattr',
      'listxattr',
    ] as const)
      sb[m] = (this[m] as (...a: unknown[]) => unknown).bind(this);
    return sb as SuperBlock;
  }
}
