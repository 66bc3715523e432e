import type { Dirent } from './stats.js';

/** What opendir gives: the entries read at open, handed out one by one. */
export class Dir {
  private i = 0;
  private closed = false;
  constructor(
    readonly path: string,
    private readonly ents: Dirent[],
  ) {}
  private check(): void {
    if (this.closed) {
      const e = new Error('Directory handle was closed') as Error & { code: string };
      e.code = 'ERR_DIR_CLOSED';
      throw e;
    }
  }
  readSync(): Dirent | null {
    this.check();
    return this.ents[this.i++] ?? null;
  }
  read(cb?: (err: Error | null, d: Dirent | null) => void): Promise<Dirent | null> | undefined {
    if (cb) {
      const r = this.readSync();
      process.nextTick(() => cb(null, r));
      return undefined;
    }
    return Promise.resolve().then(() => this.readSync());
  }
  closeSync(): void {
    this.check();
    this.closed = true;
  }
  close(cb?: (err: Error | null) => void): Promise<void> | undefined {
    if (cb) {
      let err: Error | null = null;
      try {
        this.closeSync();
      } catch (e) {
        err = e as Error;
      }
      process.nextTick(() => cb(err));
      return undefined;
    }
    return Promise.resolve().then(() => this.closeSync());
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<Dirent> {
    try {
      for (let d = this.readSync(); d; d = this.readSync()) yield d;
    } finally {
      if (!this.closed) this.closeSync();
    }
  }
  *[Symbol.iterator](): Generator<Dirent> {
    try {
      for (let d = this.readSync(); d; d = this.readSync()) yield d;
    } finally {
      if (!this.closed) this.closeSync();
    }
  }
}
