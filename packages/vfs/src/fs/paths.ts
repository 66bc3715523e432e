/**
 * Path resolution on the inode client: components walked from the mount's root, symlinks followed
 * (ELOOP after 40), '..' physical (after symlinks), ENAMETOOLONG, ENOTDIR, trailing slashes, and
 * search permission on every directory passed.
 */
import { fileURLToPath } from 'node:url';
import { modePermits } from '@zufs/zuf-core/api';
import { type InodeAttr, type InodeClient, type LookupResult, newAttr } from '../inode/client.js';
import { type CachedPath, copyAttr, type EntryCache } from '../inode/entry-cache.js';
import { errnoFrom, fail, invalidArgType, invalidArgValue, uvError } from './errors.js';

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
export const MAXSYMLINKS = 40;
export const PATH_MAX = 4096;
export const NAME_MAX = 255;

export interface Cred {
  uid: number;
  gid: number;
  /** A file mode creation mask of this user's own (default: the face's, ZufsMount.umask()). */
  umask?: number;
}

export const R_OK = 4;
export const W_OK = 2;
export const X_OK = 1;

export const isDirMode = (m: number) => (m & S_IFMT) === S_IFDIR;
export const isLinkMode = (m: number) => (m & S_IFMT) === S_IFLNK;

/** Linux's generic_permission on `a`'s mode bits for `cred` (zuf-core's modePermits). */
export function permits(a: InodeAttr, cred: Cred, want: number): boolean {
  return modePermits(a.mode, a.uid, a.gid, cred.uid, cred.gid, want);
}

/** A path argument (string, Buffer, file: URL) as a string; Node's argument errors otherwise. */
export function toPath(p: unknown, name = 'path'): string {
  let s: string;
  if (typeof p === 'string') s = p;
  else if (p instanceof Uint8Array) s = Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString();
  else if (p instanceof URL) {
    if (p.protocol !== 'file:') {
      const e = new TypeError('The URL must be of scheme file') as TypeError & { code: string };
      e.code = 'ERR_INVALID_URL_SCHEME';
      throw e;
    }
    s = fileURLToPath(p);
  } else throw invalidArgType(name, 'of type string or an instance of Buffer or URL', p);
  if (s.includes('\0'))
    throw invalidArgValue(name, s, 'must be a string, Uint8Array, or URL without null bytes');
  return s;
}

/** A name longer than NAME_MAX bytes (a UTF-16 unit is at most 3: only a long one is counted). */
const tooLong = (name: string) => name.length * 3 > NAME_MAX && Buffer.byteLength(name) > NAME_MAX;

/** Names a walk asks of the filesystem in one operation at most (InodeClient.findPath). */
const AHEAD_MAX = 64;

/** The entries of the names a walk asked ahead (Resolver.lookupAhead), and the next to take. */
interface Ahead {
  readonly entries: LookupResult[];
  next: number;
  /** The name after the entries is not there. */
  missing: boolean;
  /** A name to ask after the walk's last (parent(): the path's last name), or ''. */
  readonly tail: string;
}

export interface Node {
  ii: number;
  attr: InodeAttr;
}

/**
 * The mount's root as a walk starts from it: its attributes read when first asked for (a getattr),
 * or given by the LOOKUP_PATH of its first names (ZUFS_LP_START: no crossing of their own).
 */
class RootNode implements Node {
  readonly ii: number;
  private a: InodeAttr | null = null;
  constructor(private readonly c: InodeClient) {
    this.ii = c.rootIi;
  }
  get attr(): InodeAttr {
    this.a ??= this.c.getattr(this.ii);
    return this.a;
  }
  set attr(a: InodeAttr) {
    this.a = a;
  }
  /** The attributes are here (no getattr to ask). */
  get known(): boolean {
    return this.a !== null;
  }
}

/** Where a path's last component lives: its directory, its name, and the entry if there is one. */
export interface Parent {
  dir: Node;
  name: string;
  /** The entry, not followed (null when absent). */
  entry: LookupResult | null;
  trailingSlash: boolean;
  /** The name was '.' or '..': `entry` is that directory. */
  dots: boolean;
  /**
   * The name's entry as the walk to its directory answered it in the same LOOKUP_PATH (null: not
   * there), for entryOf(); undefined when it was not asked.
   */
  ahead?: LookupResult | null;
}

/**
 * Names each map of the cache holds per thread and user; past it the oldest goes. A package tree
 * of ~11 000 entries (bench workload) fits: at 4 096, dropped whole when full, every scan of it
 * walked from the root again (16.5 LOOKUPs an entry). Strings of ~100 bytes: a few MB a map, full.
 */
const CACHE_MAX = 32_768;
/** Inodes this thread removed that the cache still holds, before it is dropped whole instead. */
const DEAD_MAX = 256;
/** created() scans a cache this small for paths to a reused inode number; a larger one is dropped. */
const DEAD_SCAN_MAX = 256;

/** Makes room for one more entry in a full cache map: the oldest entry (Maps keep insertion order) goes. */
function evictOldest<K, V>(m: Map<K, V>): void {
  if (m.size < CACHE_MAX) return;
  for (const k of m.keys()) {
    m.delete(k);
    return;
  }
}

/**
 * Path resolution with a name cache: a path that resolved once maps to its inode until the mount's
 * shared namespace generation moves (any thread's create, link, unlink, rename, chmod, chown...).
 * Only successful walks are cached; attributes are read fresh (pmem, or a getattr), except the type
 * and permissions of a cached directory for parent() (dirAttrs).
 */
export class Resolver {
  private readonly gen: Int32Array | null;
  private seen = -1;
  private readonly followed = new Map<string, number>();
  private readonly unfollowed = new Map<string, number>();
  /** A path's last component's directory (followed), for parent(). */
  private readonly dirs = new Map<string, number>();
  /** A path's last component, not followed, for parent(). */
  private readonly entries = new Map<string, number>();
  /**
   * Attributes of the directories in `dirs`, for parent()'s checks: of them only the type, mode,
   * uid and gid are used, and a change of those moves the generation word (chmod, chown), so they
   * stay current while the cache is kept. Saves a zus_inode decode (and its allocations) a call.
   */
  private readonly dirAttrs = new Map<number, InodeAttr>();
  /**
   * Inodes whose names this thread removed while the cache was kept (ownChange): cached paths
   * that lead to them are misses until the next drop (the number may come back as a new inode).
   */
  private readonly dead = new Set<number>();
  /** A cached path has a '..' component: it may go through a directory that an rmdir removed. */
  private dotDot = false;
  /** ownChangeStart(): the generation (-1: none to keep) and the client's bump count then. */
  private ownGen = -1;
  private ownBumps = 0;
  /** ownChangeStart(): the other word (names added), which no own removal moves. */
  private ownAdds = -1;
  /**
   * A path this thread's own removal emptied, and both generation words right after it: the name
   * is known absent while neither word moves (any thread's create, link or rename moves one).
   */
  private vacated = '';
  private vacatedGen = -1;
  private vacatedAdds = -1;
  /**
   * On a filesystem that lets the app cache (InodeClient.entryCache()), whose names change elsewhere
   * too: paths resolved, not followed [0] and followed [1], each with the directories it went
   * through (EntryCache.pathGood), so a stat of a cached path is a few loads and no walk.
   */
  private readonly paths = [new Map<string, CachedPath>(), new Map<string, CachedPath>()];

  constructor(
    readonly c: InodeClient,
    readonly cred: Cred,
  ) {
    // Names another machine may change are never cached here: the filesystem's caches expire.
    this.gen = c.namesChangeElsewhere ? null : c.nsGen;
  }

  /** True when the cache may be used: it holds only entries of the current generation. */
  private fresh(): boolean {
    const w = this.gen;
    if (w === null) return false;
    // A restart that rolled the filesystem back moves the namespace word (InodeClient.restarted).
    this.c.restarted();
    const g = Atomics.load(w, 0);
    if (g !== this.seen) {
      this.seen = g;
      this.drop();
    }
    return true;
  }

  /** Forgets every cached name. */
  drop(): void {
    this.paths[0].clear();
    this.paths[1].clear();
    this.followed.clear();
    this.unfollowed.clear();
    this.dirs.clear();
    this.entries.clear();
    this.dirAttrs.clear();
    this.dead.clear();
    this.dotDot = false;
  }

  /** A cached inode for `key`, unless this thread removed it since. */
  private hit(m: Map<string, number>, key: string): number | undefined {
    const ii = m.get(key);
    return ii !== undefined && this.dead.size > 0 && this.dead.has(ii) ? undefined : ii;
  }

  /**
   * Before a change of this thread's own that moves the namespace generation: notes the generation
   * (unless the cache already missed another thread's change: it will be dropped anyway) and how
   * often the client had moved it, for ownRemoval().
   */
  ownChangeStart(): void {
    const w = this.gen;
    const g = w === null ? -1 : Atomics.load(w, 0);
    this.ownGen = g === this.seen ? g : -1;
    this.ownBumps = this.c.nsBumps;
    this.ownAdds = w !== null && w.length > 1 ? Atomics.load(w, 1) : -1;
  }

  /**
   * After this thread removed a name of inode `ii` (unlink, rmdir, a rename's source; `also`: the
   * inode a rename replaced, or -1), since ownChangeStart(): when only the client's own bumps moved
   * the generation meanwhile, the cache is kept and only paths that lead to those inodes are
   * forgotten, instead of every name. The caller leaves out what other paths went through: a
   * symlink, a renamed directory; they drop everything, as another thread's change does.
   * `path` (as the caller spelled it) is then known absent: see entryOf().
   */
  ownRemoval(ii: number, wasDir: boolean, also = -1, path = ''): void {
    const w = this.gen;
    const start = this.ownGen;
    const now = start + this.c.nsBumps - this.ownBumps;
    this.ownGen = -1;
    if (w === null || start < 0 || Atomics.load(w, 0) !== now) return;
    this.seen = now;
    if (path !== '' && this.ownAdds >= 0 && Atomics.load(w, 1) === this.ownAdds) {
      this.vacated = path;
      this.vacatedGen = now;
      this.vacatedAdds = this.ownAdds;
    }
    if (this.dead.size + 2 > DEAD_MAX || (wasDir && this.dotDot)) this.drop();
    else {
      this.dead.add(ii);
      this.dirAttrs.delete(ii);
      if (also >= 0) {
        this.dead.add(also);
        this.dirAttrs.delete(also);
      }
    }
  }

  /**
   * After this thread created `path` (not followed) as inode `ii`: the entry is cached, so the next
   * call on the name needs no LOOKUP. A number this thread marked dead has come back as the new
   * inode: the paths that still lead to the old one are forgotten first (by a scan of a small
   * cache; a large one is dropped instead), then the number is live again.
   */
  created(path: string, ii: number): void {
    if (!this.fresh()) return;
    if (this.dead.size > 0 && this.dead.has(ii)) {
      const m = [this.followed, this.unfollowed, this.dirs, this.entries];
      if (m[0].size + m[1].size + m[2].size + m[3].size > DEAD_SCAN_MAX) this.drop();
      else {
        for (const map of m) for (const [k, v] of map) if (v === ii && k !== path) map.delete(k);
        this.dirAttrs.delete(ii);
        this.dead.delete(ii);
      }
    }
    this.remember(this.entries, path, ii);
  }

  private remember(m: Map<string, number>, path: string, ii: number): void {
    evictOldest(m);
    if (!this.dotDot && path.includes('..')) this.dotDot = true;
    m.set(path, ii);
  }

  /**
   * The attributes of the inode `path` names, into `out` (no Node allocated on a cache hit).
   * Same errors as resolve().
   */
  statPath(path: string, follow: boolean, syscall: string, out: InodeAttr): InodeAttr {
    const ec = this.c.entryCache();
    if (ec !== null) {
      const ii = this.pathHit(ec, path, follow);
      if (ii >= 0) {
        try {
          return this.c.getattr(ii, out);
        } catch {
          this.paths[follow ? 1 : 0].delete(path);
        }
      }
    } else if (this.fresh()) {
      const ii = this.hit(follow ? this.followed : this.unfollowed, path);
      if (ii !== undefined) {
        try {
          return this.c.getattr(ii, out);
        } catch {
          this.drop();
        }
      }
    }
    return copyAttr(this.resolve(path, follow, syscall).attr, out);
  }

  /**
   * The mount's root, its attributes read when first asked for: a walk by uid 0 never asks (see
   * walk), which saves a crossing per path on a filesystem that keeps nothing (sqlfs with ttl=0).
   */
  root(): RootNode {
    return new RootNode(this.c);
  }

  private check(path: string, syscall: string): void {
    if (path === '') fail('ENOENT', syscall, path);
    // A UTF-16 unit is at most 3 UTF-8 bytes: only a long path needs counting.
    if (path.length * 3 >= PATH_MAX && Buffer.byteLength(path) >= PATH_MAX)
      fail('ENAMETOOLONG', syscall, path);
  }

  lookup(dir: Node, name: string, syscall: string, path: string): LookupResult | null {
    if (tooLong(name)) fail('ENAMETOOLONG', syscall, path);
    try {
      return this.c.find(dir.ii, name);
    } catch (e) {
      const n = errnoFrom(e);
      if (n === 2) return null;
      throw uvError(n, syscall, path);
    }
  }

  /**
   * lookup() of `name` in `dir`, with the plain names that follow it in `todo` (popped from its
   * end) asked in the same operation (InodeClient.findPath: one crossing for a path, not one a name),
   * and `ahead.tail` after them when they are all of `todo`. Their entries go on `ahead` (emptied
   * first), for the walk to take in turn, each checked as it comes; `ahead.missing` says the name
   * after them is not there. What the walk leaves is the tail's (Parent.ahead). Same errors as
   * lookup().
   */
  private lookupAhead(
    dir: Node,
    name: string,
    todo: readonly string[],
    ahead: Ahead,
    syscall: string,
    path: string,
    root = false,
  ): LookupResult | null {
    if (tooLong(name)) fail('ENAMETOOLONG', syscall, path);
    const names = [name];
    let i = todo.length - 1;
    for (; i >= 0 && names.length < AHEAD_MAX; i--) {
      const t = todo[i];
      if (t === '' || t === '.' || t === '..' || tooLong(t)) break;
      names.push(t);
    }
    // Every name left is in: the caller's next name too (it is plain: parent() checked).
    if (i < 0 && ahead.tail !== '' && names.length < AHEAD_MAX) names.push(ahead.tail);
    ahead.entries.length = 0;
    ahead.next = 1;
    const start = root ? newAttr() : null;
    try {
      ahead.missing = this.c.findPath(dir.ii, names, this.cred.uid, this.cred.gid, ahead.entries, start);
      if (start !== null && start.ino !== 0) dir.attr = start;
    } catch (e) {
      const n = errnoFrom(e);
      if (n === 2) return null;
      throw uvError(n, syscall, path);
    }
    if (ahead.entries.length > 0) return ahead.entries[0];
    ahead.missing = false;
    return null;
  }

  /**
   * The entry of a walk's next `name` in `cur`: from what the walk asked ahead (`ahead`, when the
   * filesystem takes a path in one request), else asked now, with the names after it in `todo`.
   */
  private entry(
    cur: Node,
    name: string,
    todo: readonly string[],
    ahead: Ahead | null,
    syscall: string,
    path: string,
  ): LookupResult | null {
    if (ahead === null) return this.lookup(cur, name, syscall, path);
    const e = this.takeAhead(ahead);
    return e !== undefined ? e : this.lookupAhead(cur, name, todo, ahead, syscall, path);
  }

  /** The entry of the walk's next name from what lookupAhead() got, or undefined when it has none. */
  private takeAhead(ahead: Ahead): LookupResult | null | undefined {
    if (ahead.next < ahead.entries.length) return ahead.entries[ahead.next++];
    if (!ahead.missing) return undefined;
    ahead.missing = false;
    return null;
  }

  /**
   * Where a walk keeps the names it asked ahead (`tail`: a name to ask after the walk's, or ''); null
   * when the filesystem takes one name a request.
   */
  private ahead(tail: string): Ahead | null {
    return this.c.asksPaths ? { entries: [], next: 0, missing: false, tail } : null;
  }

  /**
   * Walks `comps` from `stack` (the directories down to where the walk stands), following symlinks
   * in every component (and in the last when `followLast`). Returns the stack ending at the result.
   */
  private walk(
    stack: Node[],
    comps: string[],
    followLast: boolean,
    syscall: string,
    path: string,
    dirs: number[] | null = null,
    tail: Ahead | null = null,
  ): Node[] {
    let links = 0;
    const todo = comps.slice().reverse();
    const ahead = tail ?? this.ahead('');
    while (todo.length) {
      const name = todo.pop()!;
      // Every directory whose type, permissions or names the walk depends on.
      if (dirs !== null) dirs.push(stack[stack.length - 1].attr.ino);
      const cur = stack[stack.length - 1];
      // The root is a directory (its attributes are not asked for that), and uid 0 may search any
      // directory (permits): a walk by root from the root needs nothing of it.
      const atRoot = cur.ii === this.c.rootIi;
      if (!atRoot && !isDirMode(cur.attr.mode)) fail('ENOTDIR', syscall, path);
      if (name === '' || name === '.') continue;
      // Another user's walk needs the root's x bits: asked with the names after it, in one request.
      const first =
        ahead !== null &&
        cur instanceof RootNode &&
        !cur.known &&
        this.cred.uid !== 0 &&
        name !== '..' &&
        !tooLong(name)
          ? this.lookupAhead(cur, name, todo, ahead, syscall, path, true)
          : undefined;
      if (!(atRoot && this.cred.uid === 0) && !permits(cur.attr, this.cred, X_OK))
        fail('EACCES', syscall, path);
      if (name === '..') {
        if (stack.length > 1) stack.pop();
        continue;
      }
      const e = first !== undefined ? first : this.entry(cur, name, todo, ahead, syscall, path);
      if (!e) fail('ENOENT', syscall, path);
      const last = todo.length === 0;
      if (isLinkMode(e.attr.mode) && (!last || followLast)) {
        if (++links > MAXSYMLINKS) fail('ELOOP', syscall, path);
        const target = this.c.readlink(e.ii);
        if (target.startsWith('/')) stack.splice(1);
        const parts = target.split('/');
        for (let i = parts.length - 1; i >= 0; i--) todo.push(parts[i]);
        continue;
      }
      stack.push({ ii: e.ii, attr: e.attr });
    }
    return stack;
  }

  /** The inode of `path` in `paths`, if it is still good there, or -1. */
  private pathHit(ec: EntryCache, path: string, follow: boolean): number {
    const p = this.paths[follow ? 1 : 0].get(path);
    return p !== undefined && ec.pathGood(p) ? p.ii : -1;
  }

  /** resolve() on a filesystem that lets the app cache: the path walked once, then kept. */
  private resolveKept(ec: EntryCache, path: string, follow: boolean, syscall: string): Node {
    const ii = this.pathHit(ec, path, follow);
    if (ii >= 0) {
      try {
        return { ii, attr: this.c.getattr(ii) };
      } catch {
        this.paths[follow ? 1 : 0].delete(path);
      }
    }
    if (this.c.answersKept()) return this.walkPath(path, follow, syscall);
    const dirs: number[] = [];
    ec.walkBegin();
    const n = this.walkPath(path, follow, syscall, dirs);
    const kept = ec.walkEnd(n.ii, dirs);
    if (kept !== null) {
      const m = this.paths[follow ? 1 : 0];
      evictOldest(m);
      m.set(path, kept);
    }
    return n;
  }

  /** The inode `path` names (`follow`: through a final symlink). A trailing slash needs a directory. */
  resolve(path: string, follow: boolean, syscall: string): Node {
    const ec = this.c.entryCache();
    if (ec !== null) return this.resolveKept(ec, path, follow, syscall);
    const cached = this.fresh();
    if (cached) {
      const ii = this.hit(follow ? this.followed : this.unfollowed, path);
      if (ii !== undefined) {
        try {
          return { ii, attr: this.c.getattr(ii) };
        } catch {
          this.drop();
        }
      }
    }
    const n = (cached ? this.viaParent(path, follow, syscall) : null) ?? this.walkPath(path, follow, syscall);
    if (cached) this.remember(follow ? this.followed : this.unfollowed, path, n.ii);
    return n;
  }

  /**
   * A path the cache does not hold, resolved through parent(): its directory from the cache when
   * it is there (one LOOKUP, not one a component: a scan's first pass), then its name. Null when
   * only a whole walk answers: a trailing slash, '.' or '..' last, a symlink to follow.
   */
  private viaParent(path: string, follow: boolean, syscall: string): Node | null {
    if (path.charCodeAt(path.length - 1) === 47) return null;
    const par = this.parent(path, syscall);
    const e = par.entry;
    if (par.dots || (e !== null && follow && isLinkMode(e.attr.mode))) return null;
    if (e === null) fail('ENOENT', syscall, path);
    return { ii: e.ii, attr: e.attr };
  }

  private walkPath(path: string, follow: boolean, syscall: string, dirs: number[] | null = null): Node {
    this.check(path, syscall);
    const trailing = /\/\.?$/.test(path) && path !== '/';
    const comps = path.split('/');
    const stack = this.walk([this.root()], comps, follow || trailing, syscall, path, dirs);
    const n = stack[stack.length - 1];
    if (trailing && !isDirMode(n.attr.mode)) fail('ENOTDIR', syscall, path);
    return n;
  }

  /**
   * The directory holding `path`'s last component, and that entry if it exists (not followed).
   * `lookupName` false leaves the entry to entryOf(): rename and link resolve both directories
   * before either name, as Linux does (so a missing directory wins over an over-long name).
   */
  parent(path: string, syscall: string, lookupName = true): Parent {
    this.check(path, syscall);
    // The last name, and its directory's key (the path up to that name's slash: '' and '/'
    // differ), found without splitting: the path is split only when it must be walked.
    let end = path.length;
    while (end > 1 && path.charCodeAt(end - 1) === 47) end--;
    const trailingSlash = end < path.length;
    const slash = path.lastIndexOf('/', end - 1);
    const name = path.slice(slash + 1, end);
    const dirKey = path.slice(0, slash + 1);
    const cached = name !== '' && name !== '.' && name !== '..' && this.fresh();
    let stack: Node[] | null = null;
    if (cached) {
      let ii = this.hit(this.dirs, dirKey);
      // Else the directory as a path of its own (one this thread made or resolved): the first
      // name made in a new directory, or stat in a directory read, needs no walk from the root.
      if (ii === undefined && slash > 0) {
        const dirPath = path.slice(0, slash);
        ii = this.hit(this.followed, dirPath) ?? this.hit(this.entries, dirPath);
      }
      if (ii !== undefined) {
        let attr = this.dirAttrs.get(ii);
        if (attr === undefined) {
          try {
            attr = this.c.getattr(ii);
            // Only a directory's attributes are kept (an entry may be a link, or a file: walk).
            if (isDirMode(attr.mode)) {
              evictOldest(this.dirAttrs);
              this.dirAttrs.set(ii, attr);
            }
          } catch {
            this.drop();
          }
        }
        if (attr !== undefined && isDirMode(attr.mode)) stack = [{ ii, attr }];
      }
    }
    // The last name is asked with the directory's (one LOOKUP_PATH), when it is a plain one.
    let tail: Ahead | null = null;
    if (stack === null) {
      const comps = slash < 0 ? [] : path.slice(0, slash).split('/');
      if (name !== '' && name !== '.' && name !== '..' && !tooLong(name)) tail = this.ahead(name);
      stack = this.walk([this.root()], comps, true, syscall, path, null, tail);
      if (cached) this.remember(this.dirs, dirKey, stack[stack.length - 1].ii);
    }
    const dir = stack[stack.length - 1];
    if (!isDirMode(dir.attr.mode)) fail('ENOTDIR', syscall, path);
    if (name === '' || name === '.' || name === '..') {
      const st = name === '..' && stack.length > 1 ? stack[stack.length - 2] : dir;
      const entry: LookupResult = { ii: st.ii, ino: st.attr.ino, attr: st.attr };
      return { dir, name: name || '.', entry, trailingSlash: true, dots: true };
    }
    if (!permits(dir.attr, this.cred, X_OK)) fail('EACCES', syscall, path);
    const par: Parent = { dir, name, entry: null, trailingSlash, dots: false };
    if (tail !== null) par.ahead = this.takeAhead(tail);
    if (lookupName) this.entryOf(par, path, syscall);
    return par;
  }

  /** Looks up the last name of a parent() made without it; sets and returns `par.entry`. */
  entryOf(par: Parent, path: string, syscall: string): LookupResult | null {
    let entry = this.known(par, path);
    if (entry === undefined) {
      // What the walk's LOOKUP_PATH answered, once: a later look (after a change) asks again.
      entry = par.ahead !== undefined ? par.ahead : this.lookup(par.dir, par.name, syscall, path);
      par.ahead = undefined;
      if (entry && this.caches) this.remember(this.entries, path, entry.ii);
    }
    par.entry = entry;
    return entry;
  }

  /**
   * The last name of a parent() as far as this cache knows, with no LOOKUP: its entry, null when
   * it is known absent, undefined when only a LOOKUP can tell.
   */
  known(par: Parent, path: string): LookupResult | null | undefined {
    if (par.dots) return par.entry;
    // The name this thread just removed, with no change anywhere since: absent, no LOOKUP (a
    // rename back and forth, a file unlinked and created again). Bumps come before a change's
    // caller returns, so no thread can know of a newer name while both words still stand.
    const w = this.gen;
    if (
      path === this.vacated &&
      w !== null &&
      Atomics.load(w, 0) === this.vacatedGen &&
      Atomics.load(w, 1) === this.vacatedAdds
    ) {
      return null;
    }
    const ii = this.fresh() ? this.hit(this.entries, path) : undefined;
    if (ii !== undefined) {
      try {
        const attr = this.c.getattr(ii);
        return { ii, ino: attr.ino, attr };
      } catch {
        this.drop();
      }
    }
    return undefined;
  }

  /** True when names are cached here (not on a filesystem whose names change elsewhere too). */
  get caches(): boolean {
    return this.gen !== null;
  }

  /** The canonical path of `path` (symlinks resolved). */
  realpath(path: string, syscall: string): string {
    this.check(path, syscall);
    // Node's JS realpathSync ('lstat') names the prefix it failed at, and stats each symlink before
    // it reads it (a dangling link or a loop fails there, from stat); realpath(3) names the path.
    const js = syscall === 'lstat';
    const names: string[] = [];
    const at = (name: string) => (js ? `/${[...names, name].join('/')}` : path);
    let links = 0;
    const stack: Node[] = [this.root()];
    const todo = path.split('/').reverse();
    const ahead = this.ahead('');
    while (todo.length) {
      const name = todo.pop()!;
      if (name === '' || name === '.') continue;
      const cur = stack[stack.length - 1];
      if (!isDirMode(cur.attr.mode)) fail('ENOTDIR', syscall, at(name));
      if (name === '..') {
        if (stack.length > 1) {
          stack.pop();
          names.pop();
        }
        continue;
      }
      if (!permits(cur.attr, this.cred, X_OK)) fail('EACCES', syscall, at(name));
      const e = this.entry(cur, name, todo, ahead, syscall, at(name));
      if (!e) fail('ENOENT', syscall, at(name));
      if (isLinkMode(e.attr.mode)) {
        if (js) this.resolve(at(name), true, 'stat');
        if (++links > MAXSYMLINKS) fail('ELOOP', js ? 'stat' : syscall, at(name));
        const target = this.c.readlink(e.ii);
        if (target.startsWith('/')) {
          stack.splice(1);
          names.length = 0;
        }
        const parts = target.split('/');
        for (let i = parts.length - 1; i >= 0; i--) todo.push(parts[i]);
        continue;
      }
      stack.push({ ii: e.ii, attr: e.attr });
      names.push(name);
    }
    return `/${names.join('/')}`;
  }
}
