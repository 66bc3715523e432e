/**
 * Generation words of a filesystem's inodes, in shared memory: they let a cache kept outside the ZT
 * that changes an inode (another ZT of the server, an app's face) tell at once that its copy is
 * void, with one Atomics.load. A filesystem whose state also changes elsewhere (other machines)
 * pairs them with a TTL: the words give this process's changes at once, the TTL bounds the rest.
 *
 * Layout (Int32 words from byteOffset): [0] counts every change of the mount; [1 + (ino & (n - 1))]
 * is the generation of inode `ino` (n, a power of two, words shared by the inodes with those low
 * bits: a change voids its neighbours' copies too, a cost, never an error).
 *
 * Writer (the ZT, after the change is committed and before it replies): changed(ino) for each inode
 * the change touched (its attributes, or the names of a directory) bumps the count, then the
 * inode's word. A reply that follows therefore finds every copy of those inodes void.
 *
 * Reader: a copy is good while gen(ino) has not moved since it was kept. Keeping one needs care,
 * since the answer may have been read before a change that bumps after it: take changes() before
 * the request, gen(ino) after the reply, then keep the answer (under that gen) only if changes() is
 * still what it was. Why that is enough (every Atomics operation is sequentially consistent): a
 * change that the answer missed commits after the read, so it bumps after the request was sent; if
 * it bumped the word before the reader's gen(ino), it bumped the count before that too, and the
 * reader's last look at the count sees it; if after, the kept gen is the old one and voids the copy.
 * An answer taken while changes run anywhere is simply not kept.
 */

/** What another thread needs to see the same words (structured-cloneable). */
export interface InodeGensDescriptor {
  readonly buffer: SharedArrayBuffer;
  readonly byteOffset: number;
  /** Inode words (a power of two). */
  readonly inodes: number;
}

export class InodeGens {
  /** The bytes the words of `inodes` inode words take (the count included). */
  static bytes(inodes: number): number {
    return 4 * (1 + inodes);
  }

  private readonly words: Int32Array;
  private readonly mask: number;

  constructor(readonly d: InodeGensDescriptor) {
    const n = d.inodes;
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 24 || (n & (n - 1)) !== 0)
      throw new RangeError(`inode generation words: ${n} is not a power of two up to 2^24`);
    this.words = new Int32Array(d.buffer, d.byteOffset, 1 + n);
    this.mask = n - 1;
  }

  /** Writer: after a committed change of `ino` (its attributes, or a directory's names). */
  changed(ino: number): void {
    Atomics.add(this.words, 0, 1);
    Atomics.add(this.words, 1 + (ino & this.mask), 1);
  }

  /**
   * Writer: changed(ino), and whether `ino`'s word was still `gen` until then (no other change of
   * an inode on that word since `gen` was read): the changer's copy is then the newest, under gen + 1.
   */
  changedFrom(ino: number, gen: number): boolean {
    Atomics.add(this.words, 0, 1);
    return Atomics.add(this.words, 1 + (ino & this.mask), 1) === gen;
  }

  /** How many changes the mount has had: a reader's look before its request and after its reply. */
  changes(): number {
    return Atomics.load(this.words, 0);
  }

  /** The generation of `ino`'s word: a copy kept under it is good while it stays. */
  gen(ino: number): number {
    return Atomics.load(this.words, 1 + (ino & this.mask));
  }
}
