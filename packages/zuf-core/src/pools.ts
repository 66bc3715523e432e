/**
 * Shared buffer pools 1..6, the analog of ZUFS's ALLOC_BUFFER: an app allocates its I/O buffer
 * here and passes it to the server by dpp, so the data is never copied between threads.
 * A pool is pages of 4 KiB with a bitmap and a run length per first page, under a shared mutex.
 * Allocation is not on the operation path (buffers are allocated once and reused).
 */
import { SharedMutex } from './locks.js';

export const POOL_PAGE = 4096;

export interface PoolDescriptor {
  readonly data: SharedArrayBuffer;
  readonly meta: SharedArrayBuffer;
}

// meta words: [0] mutex, [1] free pages, [2] next-fit hint, then the bitmap, then run lengths.
const M_LOCK = 0;
const M_FREE = 1;
const M_HINT = 2;
const M_BITMAP = 3;

export class SharedPool {
  readonly data: SharedArrayBuffer;
  readonly bytes: Uint8Array;
  readonly pages: number;
  private readonly meta: Int32Array;
  private readonly mutex: SharedMutex;
  private readonly runsAt: number;

  static create(size: number): PoolDescriptor {
    if (!Number.isInteger(size) || size < POOL_PAGE || size % POOL_PAGE) {
      throw new RangeError(`pool size must be a positive multiple of ${POOL_PAGE}, got ${size}`);
    }
    const pages = size / POOL_PAGE;
    const meta = new SharedArrayBuffer((M_BITMAP + Math.ceil(pages / 32) + pages) * 4);
    new Int32Array(meta)[M_FREE] = pages;
    return { data: new SharedArrayBuffer(size), meta };
  }

  constructor(d: PoolDescriptor) {
    this.data = d.data;
    this.bytes = new Uint8Array(d.data);
    this.pages = d.data.byteLength / POOL_PAGE;
    this.meta = new Int32Array(d.meta);
    this.mutex = new SharedMutex(this.meta, M_LOCK);
    this.runsAt = M_BITMAP + Math.ceil(this.pages / 32);
  }

  get freeBytes(): number {
    return Atomics.load(this.meta, M_FREE) * POOL_PAGE;
  }

  /** Returns the byte offset of `size` bytes (rounded up to pages), or -1 when the pool is full. */
  alloc(size: number): number {
    const n = Math.max(1, Math.ceil(size / POOL_PAGE));
    const m = this.meta;
    this.mutex.lock();
    try {
      if (n > m[M_FREE]) return -1;
      const start = this.findRun(m[M_HINT], n);
      const at = start >= 0 ? start : this.findRun(0, n);
      if (at < 0) return -1;
      for (let p = at; p < at + n; p++) m[M_BITMAP + (p >>> 5)] |= 1 << (p & 31);
      m[this.runsAt + at] = n;
      m[M_FREE] -= n;
      m[M_HINT] = (at + n) % this.pages;
      return at * POOL_PAGE;
    } finally {
      this.mutex.unlock();
    }
  }

  free(offset: number): void {
    const p = offset / POOL_PAGE;
    const m = this.meta;
    this.mutex.lock();
    try {
      const n = Number.isInteger(p) && p >= 0 && p < this.pages ? m[this.runsAt + p] : 0;
      if (n <= 0) throw new RangeError(`pool: no allocation starts at offset ${offset}`);
      for (let q = p; q < p + n; q++) m[M_BITMAP + (q >>> 5)] &= ~(1 << (q & 31));
      m[this.runsAt + p] = 0;
      m[M_FREE] += n;
    } finally {
      this.mutex.unlock();
    }
  }

  /** Size in bytes of the allocation starting at `offset`, 0 if none. */
  sizeOf(offset: number): number {
    const p = offset / POOL_PAGE;
    if (!Number.isInteger(p) || p < 0 || p >= this.pages) return 0;
    return Atomics.load(this.meta, this.runsAt + p) * POOL_PAGE;
  }

  private findRun(from: number, n: number): number {
    const m = this.meta;
    let run = 0;
    for (let p = from; p < this.pages; p++) {
      if (m[M_BITMAP + (p >>> 5)] & (1 << (p & 31))) run = 0;
      else if (++run === n) return p - n + 1;
    }
    return -1;
  }
}
