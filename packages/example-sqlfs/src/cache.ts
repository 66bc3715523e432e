/**
 * The entry and attribute caches of one ZT, and what keeps them honest.
 *
 * Other machines: an entry expires `ttlMs` after it was read from the database (the mount option
 * `ttl`, 1 s by default, 0: no cache), so a change made elsewhere is seen within the TTL, as NFS and
 * JuiceFS promise (close-to-open; reads of file data always go to the database).
 *
 * This machine: every ZT of the server keeps its own cache (a ZT is an isolate), and so may every app
 * thread's face (MountResult.appCache), so a change made through one ZT must void the others' copies
 * at once. `gens` (zus-server's InodeGens) are generation words in shared memory, one per inode
 * number modulo their count: a change bumps the word of each inode it touched (after its commit,
 * before its reply), and a cached copy is good only while the word it was read under has not moved.
 * A thread thus sees its own writes, and its server's, at once.
 *
 * The TTL is shared out: a ZT keeps a copy half the mount's `ttl`, and an app's face keeps what a
 * ZT answered (maybe from its cache) the other half, so a change elsewhere is seen within `ttl`.
 */
import type { InodeGens } from '@zufs/zus-server';
import type { Rows } from './engine.js';

/** Generation words: a power of two, one 4-byte word each (16 KiB). */
export const GEN_WORDS = 4096;
/** Past this many entries a cache is dropped whole (a bounded memory, a rare cost). */
const MAX_ENTRIES = 65536;

interface Cached<T> {
  v: T;
  at: number;
  gen: number;
}

export type AttrRow = Rows[number];

export class Caches {
  private readonly attrs = new Map<number, Cached<AttrRow>>();
  private readonly names = new Map<string, Cached<number>>();

  constructor(
    private readonly gens: InodeGens,
    readonly ttlMs: number,
  ) {}

  /** The word to read `ino` under: take it before the read whose result will be cached. */
  gen(ino: number): number {
    return this.gens.gen(ino);
  }

  /**
   * Every change of the mount counts here: an answer read when the count stood still across its
   * read may be kept under the words taken after it (InodeGens, "Reader"), for inodes the read
   * itself found (a path's directories).
   */
  changes(): number {
    return this.gens.changes();
  }

  /** After this server changed `ino` (committed): every ZT's copies of it are void. */
  changed(ino: number): void {
    this.gens.changed(ino);
  }

  /**
   * After this server changed `ino` to attributes `row` (committed), read under generation `gen`:
   * every ZT's copies are void, and `row` is this ZT's, unless another change of `ino` (or of an
   * inode sharing its word) moved the word meanwhile: then which one is newer is not known.
   */
  changedTo(ino: number, gen: number, row: AttrRow): void {
    if (this.gens.changedFrom(ino, gen)) this.putAttr(ino, row, (gen + 1) | 0);
  }

  private fresh<T>(c: Cached<T> | undefined, ino: number): c is Cached<T> {
    return c !== undefined && performance.now() - c.at < this.ttlMs && this.gens.gen(ino) === c.gen;
  }

  attr(ino: number): AttrRow | undefined {
    const c = this.attrs.get(ino);
    return this.fresh(c, ino) ? c.v : undefined;
  }

  putAttr(ino: number, row: AttrRow, gen: number): void {
    if (this.ttlMs <= 0) return;
    if (this.attrs.size >= MAX_ENTRIES) this.attrs.clear();
    this.attrs.set(ino, { v: row, at: performance.now(), gen });
  }

  /** `dir`'s entry `name` (watched by the directory's word: any change of the directory voids it). */
  name(dir: number, name: string): number | undefined {
    const c = this.names.get(`${dir}/${name}`);
    return this.fresh(c, dir) ? c.v : undefined;
  }

  putName(dir: number, name: string, ino: number, gen: number): void {
    if (this.ttlMs <= 0) return;
    if (this.names.size >= MAX_ENTRIES) this.names.clear();
    this.names.set(`${dir}/${name}`, { v: ino, at: performance.now(), gen });
  }

  /** The app forgot `ino` (EVICT_INODE). */
  forget(ino: number): void {
    this.attrs.delete(ino);
  }
}
