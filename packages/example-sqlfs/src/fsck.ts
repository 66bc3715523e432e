/**
 * fsck for sqlfs: every invariant the operations keep, checked in one transaction (a snapshot of the
 * volume, so it may run while machines use it), and with `repair` fixed in the same transaction:
 * - names that lead nowhere (a missing inode, a parent that is not a directory): removed;
 * - link counts (a file's names; a directory's 2 + subdirectories), directory sizes (entries), a
 *   directory's parent, an entry's type: set to what the names say;
 * - orphans: an inode with no name and links left is linked into /lost+found; an unlinked inode no
 *   live session holds (its process died before freeing it) is freed;
 * - rows no inode owns (blocks, symlink targets, xattrs), blocks past the end of their file, a
 *   file's block count: removed, recounted.
 */
import * as api from '@zufs/zuf-core/api';
import { type Engine, type Op, q, type Rows, sql } from './engine.js';
import { freeRows, ROOT_INO } from './ops.js';
import { readMeta, sessionDead } from './volume.js';

const { S_IFMT, S_IFDIR, S_IFREG } = api;

export interface CheckReport {
  /** No problem found. */
  clean: boolean;
  problems: string[];
  repairs: string[];
  /** Problems left (a check without repair leaves them all). */
  remaining: string[];
  /** Mounts using the volume (their sessions are alive). */
  liveSessions: number;
  ms: number;
}

const S = {
  danglingNames: sql(`SELECT d.id, d.parent, d.ino FROM dentry d LEFT JOIN inode i ON i.ino = d.ino
    LEFT JOIN inode p ON p.ino = d.parent
    WHERE i.ino IS NULL OR p.ino IS NULL OR (p.mode & ${S_IFMT}) <> ${S_IFDIR}`),
  dropName: sql('DELETE FROM dentry WHERE id = ?'),
  inodes: sql(`SELECT i.ino, i.mode, i.nlink, i.size, i.blocks, i.parent,
    (SELECT count(*) FROM dentry d WHERE d.ino = i.ino),
    (SELECT count(*) FROM dentry d WHERE d.parent = i.ino),
    (SELECT count(*) FROM dentry d JOIN inode c ON c.ino = d.ino
      WHERE d.parent = i.ino AND (c.mode & ${S_IFMT}) = ${S_IFDIR}),
    (SELECT min(d.parent) FROM dentry d WHERE d.ino = i.ino),
    (SELECT count(*) FROM block b WHERE b.ino = i.ino),
    (SELECT o.session FROM orphan o WHERE o.ino = i.ino)
    FROM inode i ORDER BY i.ino`),
  badTypes: sql(`SELECT d.id, d.type, i.mode FROM dentry d JOIN inode i ON i.ino = d.ino`),
  setType: sql('UPDATE dentry SET type = ? WHERE id = ?'),
  fixDir: sql('UPDATE inode SET nlink = ?, size = ?, parent = ? WHERE ino = ?'),
  fixLinks: sql('UPDATE inode SET nlink = ? WHERE ino = ?'),
  fixBlocks: sql('UPDATE inode SET blocks = ? WHERE ino = ?'),
  strayBlocks: sql(`SELECT b.ino, count(*) FROM block b LEFT JOIN inode i ON i.ino = b.ino
    WHERE i.ino IS NULL OR (i.mode & ${S_IFMT}) <> ${S_IFREG} GROUP BY b.ino`),
  pastEnd: sql(`SELECT b.ino, count(*) FROM block b JOIN inode i ON i.ino = b.ino
    WHERE b.idx * ? >= i.size AND (i.mode & ${S_IFMT}) = ${S_IFREG} GROUP BY b.ino`),
  dropPastEnd: sql(`DELETE FROM block WHERE ino = ? AND idx * ? >= (SELECT size FROM inode WHERE ino = ?)`),
  dropBlocks: sql('DELETE FROM block WHERE ino = ?'),
  strayRows: [
    [
      'symlink target',
      sql('SELECT s.ino FROM symlink s LEFT JOIN inode i ON i.ino = s.ino WHERE i.ino IS NULL'),
      sql('DELETE FROM symlink WHERE ino = ?'),
    ],
    [
      'xattr',
      sql('SELECT DISTINCT x.ino FROM xattr x LEFT JOIN inode i ON i.ino = x.ino WHERE i.ino IS NULL'),
      sql('DELETE FROM xattr WHERE ino = ?'),
    ],
    [
      'orphan record',
      sql('SELECT o.ino FROM orphan o LEFT JOIN inode i ON i.ino = o.ino WHERE i.ino IS NULL OR i.nlink > 0'),
      sql('DELETE FROM orphan WHERE ino = ?'),
    ],
  ] as const,
  sessions: sql('SELECT id, host, pid, beat FROM session'),
  dropSession: sql('DELETE FROM session WHERE id = ?'),
  lostFound: sql(`SELECT d.ino FROM dentry d WHERE d.parent = ${ROOT_INO} AND d.name = ?`),
  newDir: sql(`INSERT INTO inode (mode, uid, gid, nlink, size, parent, atime, mtime, ctime)
    VALUES (?, 0, 0, 2, 0, ?, ?, ?, ?) RETURNING ino`),
  addName: sql('INSERT INTO dentry (parent, name, ino, type) VALUES (?, ?, ?, ?)'),
};

const LOST_FOUND = Buffer.from('lost+found');

function* check(repair: boolean): Op<Omit<CheckReport, 'ms' | 'clean' | 'remaining'>> {
  const problems: string[] = [];
  const repairs: string[] = [];
  const found = (problem: string, fix?: string) => {
    problems.push(problem);
    if (repair && fix) repairs.push(fix);
  };
  const meta = yield* readMeta();
  const bs = Number(meta.get('block_size'));

  // Sessions: which mounts are alive (their orphans are theirs to free).
  const live = new Set<number>();
  for (const r of (yield q(S.sessions)) as Rows) {
    if (!sessionDead(r)) live.add(Number(r[0]));
    else if (repair) yield q(S.dropSession, r[0]); // a dead mount's leftover: not damage
  }

  for (const [id, parent, ino] of (yield q(S.danglingNames)) as Rows) {
    found(
      `entry ${id} of directory ${parent} names inode ${ino}, which is missing or not under a directory`,
      `removed entry ${id}`,
    );
    if (repair) yield q(S.dropName, id);
  }
  for (const [id, type, mode] of (yield q(S.badTypes)) as Rows) {
    const want = api.modeToDtype(Number(mode));
    if (Number(type) === want) continue;
    found(`entry ${id} says type ${type}, its inode is ${want}`, `entry ${id}: type ${want}`);
    if (repair) yield q(S.setType, want, id);
  }

  let lostFound = 0;
  const rows: Rows = yield q(S.inodes);
  const inodes = new Set(rows.map((r) => Number(r[0])));
  for (const r of rows) {
    const [ino, mode, nlink, size, blocks, parent] = r.slice(0, 6).map(Number);
    const [names, entries, subdirs] = r.slice(6, 9).map(Number);
    const namedIn = r[9] === null ? 0 : Number(r[9]);
    const blockRows = Number(r[10]);
    const orphanOf = r[11] === null ? null : Number(r[11]);
    const dir = (mode & S_IFMT) === S_IFDIR;
    if (ino === ROOT_INO && !dir) {
      problems.push('the root is not a directory');
      continue;
    }
    if (names === 0 && ino !== ROOT_INO) {
      if (nlink === 0) {
        if (orphanOf !== null && live.has(orphanOf)) continue; // open somewhere: its session frees it
        found(`orphan inode ${ino}: unlinked, and no live mount holds it`, `freed inode ${ino}`);
        if (repair) yield* freeRows(ino);
        continue;
      }
      found(`inode ${ino} has ${nlink} links and no name`, `inode ${ino} linked as /lost+found/#${ino}`);
      if (repair) {
        if (!lostFound) lostFound = yield* lostAndFound(inodes);
        yield q(S.addName, lostFound, Buffer.from(`#${ino}`), ino, api.modeToDtype(mode));
        yield* recount(ino, dir, lostFound);
        yield* recount(lostFound, true, ROOT_INO);
      }
      continue;
    }
    if (dir) {
      const wantLinks = 2 + subdirs;
      const wantParent = ino === ROOT_INO ? ROOT_INO : namedIn;
      if (nlink !== wantLinks || size !== entries || parent !== wantParent) {
        found(
          `directory ${ino}: links ${nlink}, size ${size}, parent ${parent}; its entries say ${wantLinks}, ${entries}, ${wantParent}`,
          `directory ${ino}: links ${wantLinks}, size ${entries}, parent ${wantParent}`,
        );
        if (repair) yield q(S.fixDir, wantLinks, entries, wantParent, ino);
      }
    } else if (nlink !== names) {
      found(`inode ${ino}: ${nlink} links, ${names} names`, `inode ${ino}: ${names} links`);
      if (repair) yield q(S.fixLinks, names, ino);
    }
    if ((mode & S_IFMT) === S_IFREG && blocks !== blockRows) {
      found(`inode ${ino}: counts ${blocks} blocks, holds ${blockRows}`, `inode ${ino}: ${blockRows} blocks`);
      if (repair) yield q(S.fixBlocks, blockRows, ino);
    }
  }
  if (!inodes.has(ROOT_INO)) problems.push('the root directory is missing');

  for (const [ino, n] of (yield q(S.strayBlocks)) as Rows) {
    found(
      `${n} blocks of inode ${ino}, which is missing or not a file`,
      `removed ${n} blocks of inode ${ino}`,
    );
    if (repair) yield q(S.dropBlocks, ino);
  }
  for (const [ino, n] of (yield q(S.pastEnd, bs)) as Rows) {
    found(`inode ${ino}: ${n} blocks past its end`, `inode ${ino}: removed ${n} blocks past its end`);
    if (repair) {
      yield q(S.dropPastEnd, ino, bs, ino);
      const left: Rows = yield q(sql('SELECT count(*) FROM block WHERE ino = ?'), ino);
      yield q(S.fixBlocks, Number(left[0][0]), ino);
    }
  }
  for (const [what, find, drop] of S.strayRows)
    for (const [ino] of (yield q(find)) as Rows) {
      found(`a ${what} of inode ${ino}, which no longer needs it`, `removed the ${what} of inode ${ino}`);
      if (repair) yield q(drop, ino);
    }
  return { problems, repairs, liveSessions: live.size };
}

/** /lost+found, made when missing. */
function* lostAndFound(inodes: Set<number>): Op<number> {
  const have = ((yield q(S.lostFound, LOST_FOUND)) as Rows)[0];
  if (have) return Number(have[0]);
  const ns = Date.now() * 1e6;
  const ino = Number(((yield q(S.newDir, S_IFDIR | 0o700, ROOT_INO, ns, ns, ns)) as Rows)[0][0]);
  inodes.add(ino);
  yield q(S.addName, ROOT_INO, LOST_FOUND, ino, api.DT_DIR);
  yield* recount(ROOT_INO, true, ROOT_INO);
  return ino;
}

const COUNTS =
  sql(`SELECT (SELECT count(*) FROM dentry WHERE ino = ?), (SELECT count(*) FROM dentry WHERE parent = ?),
  (SELECT count(*) FROM dentry d JOIN inode c ON c.ino = d.ino WHERE d.parent = ? AND (c.mode & ${S_IFMT}) = ${S_IFDIR})`);

/** Sets an inode's counts from its names (after lost+found took it). */
function* recount(ino: number, dir: boolean, parent: number): Op<void> {
  const [names, entries, subdirs] = ((yield q(COUNTS, ino, ino, ino)) as Rows)[0].map(Number);
  if (dir) yield q(S.fixDir, 2 + subdirs, entries, parent, ino);
  else yield q(S.fixLinks, names, ino);
}

/** Checks the volume behind `eng` (and repairs it with `repair`). */
export async function fsck(eng: Engine, o: { repair?: boolean } = {}): Promise<CheckReport> {
  const t0 = performance.now();
  const repair = !!o.repair;
  const r = await eng.run(() => check(repair), repair);
  const remaining = repair ? r.problems.filter((p) => /root/.test(p)) : r.problems;
  return { ...r, clean: r.problems.length === 0, remaining, ms: performance.now() - t0 };
}
