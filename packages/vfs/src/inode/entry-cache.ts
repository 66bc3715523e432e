/**
 * The app side's entry and attribute cache, for a filesystem that allows one (MountResult.appCache:
 * sqlfs): a path walk on a cached tree makes no crossing. Per InodeClient (one mount, one thread).
 *
 * Honest as the filesystem's own caches: a copy is good while the generation word of its inode (of
 * its directory, for a name) has not moved, which every change through this process's server bumps
 * before it replies (zuf-core's InodeGens: this thread and every other see a change at once), and
 * for at most `ttlMs` after it was asked for (changes made where the words do not reach: other
 * machines). A name known absent (ENOENT) is kept too: a create bumps its directory's word.
 *
 * A hit allocates nothing but its key; a miss keeps the answer only if no change ran anywhere in the
 * mount while it was asked (InodeGens, "Reader").
 */
import { type AppCacheOffer, InodeGens } from '@zufs/zuf-core';
import type { ZusInodeAttr } from '@zufs/zuf-core/api';

/** Past this many entries a map is dropped whole (a bounded memory, a rare cost). */
const MAX_ENTRIES = 65_536;

interface CachedAttr {
  readonly attr: ZusInodeAttr;
  at: number;
  gen: number;
}

interface CachedName {
  /** The entry's inode cookie, 0 for a name known absent. */
  ii: number;
  at: number;
  gen: number;
  /** The directory's inode number (the word the name is kept under). */
  dirIno: number;
}

/**
 * A path a walk resolved (the face's Resolver keeps them): good while its directories' words stand
 * (each was searched, looked in, or had its permissions checked on the way) and for the TTL from
 * the oldest answer the walk used.
 */
export interface CachedPath {
  readonly ii: number;
  readonly at: number;
  readonly dirs: readonly number[];
  readonly gens: readonly number[];
}

/** What a miss noted before its request (begin()), for put*(). */
export interface Asked {
  changes: number;
  at: number;
}

export function copyAttr(from: ZusInodeAttr, to: ZusInodeAttr): ZusInodeAttr {
  to.ino = from.ino;
  to.mode = from.mode;
  to.nlink = from.nlink;
  to.size = from.size;
  to.blocks = from.blocks;
  to.uid = from.uid;
  to.gid = from.gid;
  to.rdev = from.rdev;
  to.flags = from.flags;
  to.generation = from.generation;
  to.xattrs = from.xattrs;
  to.atimeNs = from.atimeNs;
  to.mtimeNs = from.mtimeNs;
  to.ctimeNs = from.ctimeNs;
  return to;
}

export class EntryCache {
  private readonly gens: InodeGens;
  readonly ttlMs: number;
  private readonly attrs = new Map<number, CachedAttr>();
  private readonly names = new Map<string, CachedName>();
  private readonly asked: Asked = { changes: 0, at: 0 };
  /** walkBegin(): the change count then, and the oldest answer a hit gave since. */
  private walkChanges = 0;
  private oldest = 0;

  constructor(offer: AppCacheOffer) {
    this.gens = new InodeGens(offer.gens);
    this.ttlMs = offer.ttlMs;
  }

  /** Before a request whose answer may be kept (the same object each time: no allocation). */
  begin(): Asked {
    this.asked.changes = this.gens.changes();
    this.asked.at = performance.now();
    return this.asked;
  }

  /** The attributes of `ii` into `out`, or false. */
  attr(ii: number, out: ZusInodeAttr): boolean {
    const c = this.attrs.get(ii);
    if (c === undefined || performance.now() - c.at >= this.ttlMs || this.gens.gen(c.attr.ino) !== c.gen)
      return false;
    if (c.at < this.oldest) this.oldest = c.at;
    copyAttr(c.attr, out);
    return true;
  }

  /** The inode number of `ii` if this cache has met it (current or not: a cookie keeps its inode). */
  inoOf(ii: number): number {
    return this.attrs.get(ii)?.attr.ino ?? -1;
  }

  putAttr(ii: number, a: ZusInodeAttr, asked: Asked): void {
    const gen = this.gens.gen(a.ino);
    if (this.gens.changes() !== asked.changes) return;
    let c = this.attrs.get(ii);
    if (c === undefined) {
      if (this.attrs.size >= MAX_ENTRIES) this.attrs.clear();
      c = { attr: copyAttr(a, {} as ZusInodeAttr), at: asked.at, gen };
      this.attrs.set(ii, c);
    } else {
      copyAttr(a, c.attr);
      c.at = asked.at;
      c.gen = gen;
    }
  }

  /**
   * `name` in the directory `dirIi`: the entry's cookie, 0 when known absent, -1 when not known (or
   * no longer good). `key` is `${dirIi}/${name}`.
   */
  name(key: string): number {
    const c = this.names.get(key);
    if (c === undefined || performance.now() - c.at >= this.ttlMs || this.gens.gen(c.dirIno) !== c.gen)
      return -1;
    if (c.at < this.oldest) this.oldest = c.at;
    return c.ii;
  }

  /** Keeps `key` (of directory inode `dirIno`) as `ii` (0: absent), asked at `asked`. */
  putName(key: string, dirIno: number, ii: number, asked: Asked): void {
    const gen = this.gens.gen(dirIno);
    if (this.gens.changes() !== asked.changes) return;
    let c = this.names.get(key);
    if (c === undefined) {
      if (this.names.size >= MAX_ENTRIES) this.names.clear();
      c = { ii, at: asked.at, gen, dirIno };
      this.names.set(key, c);
    } else {
      c.ii = ii;
      c.at = asked.at;
      c.gen = gen;
      c.dirIno = dirIno;
    }
  }

  /** Before a walk whose result may be kept as a path (walkEnd). */
  walkBegin(): void {
    this.walkChanges = this.gens.changes();
    this.oldest = performance.now();
  }

  /** After the walk: the path to keep (`dirs`: the inode numbers it went through), or null. */
  walkEnd(ii: number, dirs: number[]): CachedPath | null {
    const gens = dirs.map((ino) => this.gens.gen(ino));
    if (this.gens.changes() !== this.walkChanges) return null;
    return { ii, at: this.oldest, dirs, gens };
  }

  /** True while nothing `p` went through has changed, within the TTL. */
  pathGood(p: CachedPath): boolean {
    if (performance.now() - p.at >= this.ttlMs) return false;
    const { dirs, gens } = p;
    for (let i = 0; i < dirs.length; i++) if (this.gens.gen(dirs[i]) !== gens[i]) return false;
    return true;
  }
}
