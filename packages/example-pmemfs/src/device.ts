/**
 * The pmem device: one SharedArrayBuffer holding the whole image, shared by every thread that
 * attaches to it, optionally backed by an image file.
 *
 * Beside the image lives a small control buffer (DRAM only, never written to the file):
 * - the metadata mutex every thread takes around a filesystem change,
 * - a few runtime words the filesystem keeps for all threads (free counts, allocation hints),
 * - the dirty map: one bit per 4 KiB page of the image. `persist()` sets bits with Atomics.or from
 *   any thread; `flush()` (any one thread at a time) takes the bits with Atomics.exchange, writes
 *   each run of consecutive dirty pages with one pwrite, and fdatasyncs. A page dirtied again while
 *   a flush runs keeps (or gets back) its bit, so the next flush writes it.
 * - the journal's state (journal.ts): whether flushes are journaled commits yet, the last commit's
 *   sequence number, and the committed block map (which data blocks the last durable commit uses).
 * - the lazy map (a device opened sparse): one bit per page of file data still on the file only,
 *   read by whichever thread first needs it (loadLazy(), under its own lock), and the count of
 *   those pages (0: nothing to check).
 *
 * Until a filesystem is mounted on it (PmemFs.mount replays the journal and turns journaling on),
 * flush() writes dirty pages in place: that is mkfs's path, and a raw image tool's.
 */
import * as fs from 'node:fs';
import { SharedBytes, SharedMutex } from '@zufs/zus-server';
import { type ImageLock, lockImage, releaseLockToken } from './image-lock.js';
import { journalCommit } from './journal.js';
import { LOW_BYTES } from './super.js';

/** The unit of dirty tracking and of the image size. */
export const PAGE_SIZE = 4096;
/**
 * The largest device: 16 GiB, where a Uint32Array over it (the block maps and bitmaps are read as
 * words) stops on Node 20 (typed arrays hold at most 2^32 elements). A Uint8Array stops at 4 GiB:
 * `u8` covers that much and `bytes` (zuf-core SharedBytes) the whole device.
 */
export const MAX_DEVICE_SIZE = 2 ** 34;
/** Words of the control buffer the filesystem may use for its runtime state. */
export const RUNTIME_WORDS = 16;

// Control buffer layout, in Int32 words.
const W_MUTEX = 0;
const W_FLUSH = 1;
const W_JMODE = 2; // 0: flush writes in place; 1: flush is a journaled commit
const W_JSEQ = 3; // sequence number of the last commit
// Pages dirtied since the last commit's snapshot that a commit must journal (metadata, and blocks
// the last commit uses): how big the next transaction is growing (PmemFs commits early on it).
const W_JDIRTY = 4;
const W_JDATA = 5; // journal mode: the first data page (pages below it are metadata)
const W_LAZY = 6; // pages still lazy (the lazy map's set bits)
const W_LAZY_LOCK = 7; // taken around reading a lazy page (and dropping one)
const W_JSLOT = 8; // the commit slot of the last commit
const W_JCKPT = 9; // 1: the last commit's pages went home without an fdatasync yet
const W_RUNTIME = 10;
const W_DIRTY = W_RUNTIME + RUNTIME_WORDS;

const FLUSH_LOCK_MS = 120_000;
/** A private word to sleep on between tries of a lock. */
const pauseWord = new Int32Array(new SharedArrayBuffer(4));

/** Everything another thread needs to attach: plain data and SharedArrayBuffers (transferable). */
export interface DeviceDescriptor {
  /** The image file, or null for a memory-only device. */
  readonly path: string | null;
  readonly size: number;
  readonly data: SharedArrayBuffer;
  readonly ctl: SharedArrayBuffer;
  /** The token of the image's lock, held by the view that opened the file (a restart takes it back). */
  readonly lockToken?: string;
}

/** How a file device is opened. */
export interface OpenFileOptions {
  /** Called as the image loads (loading is most of what opening a large image costs). */
  onProgress?: (bytesRead: number, size: number) => void;
  /** Who the image's lock names ("zufs mount /mnt/x"; default: this process's command line). */
  holder?: string;
  /**
   * false: take no `IMAGE.lock` (tests that simulate a crash, tools that know nobody else opens
   * the image). Default true: a second opener anywhere gets EBUSY (image-lock.ts).
   */
  lock?: boolean;
  /**
   * Read nothing now: the filesystem reads the pages the image uses when it mounts it
   * (loadPages(), then loadDone()); the rest stays zero pages that cost no memory.
   */
  sparse?: boolean;
}

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size <= 0 || size % PAGE_SIZE !== 0 || size > MAX_DEVICE_SIZE) {
    throw new RangeError(
      `device size must be a positive multiple of ${PAGE_SIZE} up to ${MAX_DEVICE_SIZE} bytes, got ${size}`,
    );
  }
}

function newCtl(size: number, tracked: boolean): SharedArrayBuffer {
  // The dirty map, the committed block map (same size: a bit per page bounds a bit per block), then
  // the lazy map.
  const dirtyWords = tracked ? Math.ceil(size / PAGE_SIZE / 32) : 0;
  return new SharedArrayBuffer((W_DIRTY + 3 * dirtyWords) * 4);
}

/** Writes up to `len` bytes of the device at `off` to the same place of the image file (up to 64 MiB). */
export function writeImage(fd: number, bytes: SharedBytes, off: number, len: number): number {
  const base = bytes.base(off);
  return fs.writeSync(fd, bytes.view(off), off - base, Math.min(len, 1 << 26), off);
}

const LOAD_CHUNK = 1 << 20;
let loadScratch: Buffer | null = null;
let zeroChunk: Buffer | null = null;

/**
 * Reads [at, at + len) of the image file `fd` into `bytes`. With `skipZeros` it reads through a
 * scratch buffer and copies only chunks that are not all zero: the device's pages there stay
 * untouched zero pages of the SharedArrayBuffer, which cost no memory (a mostly empty 16 GiB image
 * then costs what it holds, not 16 GiB). Without it, it reads straight into the device.
 */
export function readImageInto(
  fd: number,
  bytes: SharedBytes,
  at: number,
  len: number,
  onProgress?: (bytesRead: number, size: number) => void,
  skipZeros = false,
): void {
  for (let done = 0; done < len; ) {
    const off = at + done;
    const want = Math.min(len - done, skipZeros ? LOAD_CHUNK : 1 << 26);
    let n: number;
    if (skipZeros) {
      loadScratch ??= Buffer.allocUnsafe(LOAD_CHUNK);
      zeroChunk ??= Buffer.alloc(LOAD_CHUNK);
      n = fs.readSync(fd, loadScratch, 0, want, off);
      if (n > 0 && !loadScratch.subarray(0, n).equals(zeroChunk.subarray(0, n)))
        bytes.write(loadScratch.subarray(0, n), off);
    } else n = fs.readSync(fd, bytes.view(off), off - bytes.base(off), want, off);
    if (n <= 0) throw new Error(`short read at ${off} of ${bytes.byteLength}`);
    done += n;
    onProgress?.(off + n, bytes.byteLength);
  }
}

export class PmemDevice {
  readonly path: string | null;
  readonly size: number;
  readonly data: SharedArrayBuffer;
  readonly ctl: SharedArrayBuffer;
  /**
   * The image's first LOW_BYTES (all of it, up to 4 GiB), byte by byte: the superblock, bitmaps,
   * inode table, journal, and the directory, symlink and xattr blocks (alloc.ts keeps those low).
   */
  readonly u8: Uint8Array;
  /** The whole image, byte by byte, for file data (which may lie anywhere). */
  readonly bytes: SharedBytes;
  readonly dv: DataView;
  /** The image as little-endian u32 words (index = byte offset / 4). */
  readonly u32: Uint32Array;
  /** The metadata lock, shared by every thread attached to this device. */
  readonly mutex: SharedMutex;
  /** RUNTIME_WORDS shared words for the filesystem's DRAM-only state. */
  readonly runtime: Int32Array;
  private readonly words: Int32Array;
  private readonly dirtyWords: number;
  private readonly flushLock: SharedMutex;
  private readonly lazyLock: SharedMutex;
  /** The lazy map (see the top): one bit per page, set while the page is on the file only. */
  private readonly lazyMap: Int32Array;
  private fd: number | null = null;
  private closed = false;
  /** The image's lock, held by the view that opened the file (attached views hold none). */
  private lock: ImageLock | null = null;
  /** A device opened sparse, until loadDone(): one bit per page not read from the file yet. */
  private unloaded: Int32Array | null = null;

  private constructor(desc: DeviceDescriptor) {
    this.path = desc.path;
    this.size = desc.size;
    this.data = desc.data;
    this.ctl = desc.ctl;
    this.u8 = new Uint8Array(desc.data, 0, Math.min(desc.size, LOW_BYTES));
    this.bytes = new SharedBytes(desc.data, 0, desc.size);
    this.dv = new DataView(desc.data, 0, desc.size);
    this.u32 = new Uint32Array(desc.data, 0, desc.size / 4);
    this.words = new Int32Array(desc.ctl);
    this.dirtyWords = (this.words.length - W_DIRTY) / 3;
    this.lazyMap = this.words.subarray(W_DIRTY + 2 * this.dirtyWords);
    this.mutex = new SharedMutex(
      this.words,
      W_MUTEX,
      `pmemfs metadata lock of ${desc.path ?? 'a memory device'}`,
    );
    this.flushLock = new SharedMutex(
      this.words,
      W_FLUSH,
      `pmemfs flush lock of ${desc.path ?? 'a memory device'}`,
    );
    this.lazyLock = new SharedMutex(
      this.words,
      W_LAZY_LOCK,
      `pmemfs lazy-load lock of ${desc.path ?? 'a memory device'}`,
    );
    this.runtime = this.words.subarray(W_RUNTIME, W_RUNTIME + RUNTIME_WORDS);
  }

  /** A memory-only device of `size` zero bytes (tests): persist() and flush() do nothing. */
  static memory(size: number): PmemDevice {
    checkSize(size);
    return new PmemDevice({ path: null, size, data: new SharedArrayBuffer(size), ctl: newCtl(size, false) });
  }

  /**
   * Creates (or truncates) the image file `path` with `size` zero bytes and opens it. The image's
   * lock is taken first: an image in use is never truncated.
   */
  static createFile(path: string, size: number, opts: OpenFileOptions = {}): PmemDevice {
    checkSize(size);
    const lock = opts.lock === false ? null : lockImage(path, opts.holder);
    try {
      const fd = fs.openSync(path, 'w+', 0o644);
      try {
        fs.ftruncateSync(fd, size);
      } catch (e) {
        fs.closeSync(fd);
        throw e;
      }
      const dev = PmemDevice.load(path, fd, lock, { ...opts, sparse: true });
      dev.loadDone(); // all zero: nothing to read
      return dev;
    } catch (e) {
      lock?.release();
      throw e;
    }
  }

  /**
   * Loads the image file `path` into a new SharedArrayBuffer, read-write: takes the image's lock
   * (EBUSY if another opener holds it) until close().
   */
  static openFile(path: string, opts: OpenFileOptions = {}): PmemDevice {
    const fd = fs.openSync(path, 'r+'); // ENOENT, EACCES...: before a lock file is made
    let lock: ImageLock | null = null;
    try {
      if (opts.lock !== false) lock = lockImage(path, opts.holder);
      return PmemDevice.load(path, fd, lock, opts);
    } catch (e) {
      lock?.release();
      throw e;
    }
  }

  /** Reads the open image `fd` into a new device that owns fd and lock (closes fd on failure). */
  private static load(path: string, fd: number, lock: ImageLock | null, opts: OpenFileOptions): PmemDevice {
    try {
      const size = fs.fstatSync(fd).size;
      checkSize(size);
      const data = new SharedArrayBuffer(size);
      const dev = new PmemDevice({ path, size, data, ctl: newCtl(size, true) });
      dev.fd = fd;
      dev.lock = lock;
      if (opts.sparse) dev.unloaded = new Int32Array(Math.ceil(size / PAGE_SIZE / 32)).fill(-1);
      // Loading is most of what opening a large image costs; stretches of zeros are not copied.
      else readImageInto(fd, dev.bytes, 0, size, opts.onProgress, true);
      return dev;
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /** Another view of a device opened elsewhere (typically in another thread). */
  static attach(desc: DeviceDescriptor): PmemDevice {
    return new PmemDevice(desc);
  }

  /**
   * Reads pages [first, first + count) from the image file, those not read yet, on a device opened
   * `sparse` (a no-op on any other device, and after loadDone()). The thread that opened the device
   * loads what its filesystem uses before anything else reads or changes those pages.
   */
  loadPages(first: number, count: number): void {
    const un = this.unloaded;
    if (un === null) return;
    const end = Math.min(first + count, this.size / PAGE_SIZE);
    const pending = (p: number) => (un[p >>> 5] & (1 << (p & 31))) !== 0;
    for (let p = Math.max(0, first); p < end; ) {
      if (!pending(p)) {
        p = un[p >>> 5] === 0 ? (p | 31) + 1 : p + 1;
        continue;
      }
      let e = p;
      for (; e < end && pending(e); e++) un[e >>> 5] &= ~(1 << (e & 31));
      this.readImage(p * PAGE_SIZE, (e - p) * PAGE_SIZE);
      p = e;
    }
  }

  /** Whether pages are still to be read (opened `sparse`, loadDone() not called yet). */
  get loading(): boolean {
    return this.unloaded !== null;
  }

  /**
   * While loading: leaves pages [first, first + count) on the file, those not read yet, to be read
   * when first needed (loadLazy()). For file data only: pmemfs reads and changes it through
   * file.ts, which calls loadLazy() first, and freeing or allocating a block drops its lazy page
   * (dropLazy()).
   */
  leaveLazy(first: number, count: number): void {
    const un = this.unloaded;
    if (un === null || this.path === null) return;
    const lazy = this.lazyMap;
    const end = Math.min(first + count, this.size / PAGE_SIZE);
    let n = 0;
    // A word of each map at a time: the pages of [first, end) in word w, those still unread.
    for (let p = first; p < end; ) {
      const w = p >>> 5;
      const hi = Math.min(end - (w << 5), 32);
      const range = (hi === 32 ? -1 : (1 << hi) - 1) & ~((1 << (p & 31)) - 1);
      const bits = un[w] & range;
      if (bits !== 0) {
        un[w] &= ~bits;
        Atomics.or(lazy, w, bits);
        for (let b = bits; b !== 0; b &= b - 1) n++;
      }
      p = (w + 1) << 5;
    }
    Atomics.add(this.words, W_LAZY, n);
  }

  /** Pages still lazy: on the file only, read by the first loadLazy() that covers them. */
  get lazyPages(): number {
    return Atomics.load(this.words, W_LAZY);
  }

  /**
   * Reads the lazy pages of the byte range [at, at + len) from the image file (any thread, before
   * it reads or changes them). One word read when no page is lazy, as on every device loaded whole.
   */
  loadLazy(at: number, len: number): void {
    if (Atomics.load(this.words, W_LAZY) === 0 || len <= 0) return;
    const lazy = this.lazyMap;
    const first = Math.floor(at / PAGE_SIZE);
    const end = Math.floor((at + len - 1) / PAGE_SIZE) + 1;
    for (let p = first; p < end; p++) {
      if ((Atomics.load(lazy, p >>> 5) & (1 << (p & 31))) !== 0) {
        this.readLazy(p, end);
        return;
      }
    }
  }

  /** Block `p` was freed or allocated: its bytes on the file are nobody's, never to be read. */
  dropLazy(p: number): void {
    if (Atomics.load(this.words, W_LAZY) === 0) return;
    const bit = 1 << (p & 31);
    if ((Atomics.load(this.lazyMap, p >>> 5) & bit) === 0) return;
    // Under the lock: a read of this page under way (a stale map's) must not land after our writes.
    this.lazyLock.lock(FLUSH_LOCK_MS);
    try {
      if (Atomics.and(this.lazyMap, p >>> 5, ~bit) & bit) Atomics.sub(this.words, W_LAZY, 1);
    } finally {
      this.lazyLock.unlock();
    }
  }

  /** loadLazy's slow path: reads each run of lazy pages in [first, end) with one pread. */
  private readLazy(first: number, end: number): void {
    const lazy = this.lazyMap;
    const isLazy = (p: number) => (Atomics.load(lazy, p >>> 5) & (1 << (p & 31))) !== 0;
    this.checkOpen();
    this.lazyLock.lock(FLUSH_LOCK_MS);
    try {
      for (let p = first; p < end; ) {
        if (!isLazy(p)) {
          p++;
          continue;
        }
        let e = p + 1;
        while (e < end && isLazy(e)) e++;
        this.readImage(p * PAGE_SIZE, (e - p) * PAGE_SIZE);
        // Cleared after the read: a thread that sees the bit clear sees the bytes.
        for (let q = p; q < e; q++) Atomics.and(lazy, q >>> 5, ~(1 << (q & 31)));
        Atomics.sub(this.words, W_LAZY, e - p);
        p = e;
      }
    } finally {
      this.lazyLock.unlock();
    }
  }

  /**
   * Ends loading: pages not read stay zero for good (the filesystem uses none of them, and a page
   * it starts using is written whole by the next flush), so a later loadPages() cannot overwrite
   * what changed since.
   */
  loadDone(): void {
    this.unloaded = null;
  }

  /** Reads [at, at + len) of the image file into the device. */
  private readImage(at: number, len: number, onProgress?: (bytesRead: number, size: number) => void): void {
    readImageInto(this.openFd(), this.bytes, at, len, onProgress);
  }

  /** Page `p` of the device, as a view of its own (it allocates: for commits and tools). */
  page(p: number): Uint8Array {
    const at = p * PAGE_SIZE;
    const base = this.bytes.base(at);
    return this.bytes.view(at).subarray(at - base, at - base + PAGE_SIZE);
  }

  descriptor(): DeviceDescriptor {
    const d = { path: this.path, size: this.size, data: this.data, ctl: this.ctl };
    return this.lock ? { ...d, lockToken: this.lock.holder.token } : d;
  }

  /**
   * True when no thread is inside a change, a commit or a lazy read of this device: its metadata
   * lock, its flush lock and its lazy-load lock can all be taken within `waitMs` (a live holder
   * lets go in microseconds; one whose thread died never does). All are let go again before it
   * returns.
   */
  quiescent(waitMs: number): boolean {
    const deadline = performance.now() + waitMs;
    const take = (m: SharedMutex): boolean => {
      while (!m.tryLock()) {
        if (performance.now() > deadline) return false;
        Atomics.wait(pauseWord, 0, 0, 1);
      }
      return true;
    };
    if (!take(this.flushLock)) return false;
    try {
      if (!take(this.mutex)) return false;
      this.mutex.unlock();
      if (!take(this.lazyLock)) return false;
      this.lazyLock.unlock();
      return true;
    } finally {
      this.flushLock.unlock();
    }
  }

  /**
   * A view attached after a server restart takes the image over from the view that opened it, in
   * a thread that died: the image's lock (that thread's, or none if it let go on its way out) is
   * taken again for this view, which then writes the image as its opener did.
   */
  takeOver(prev: DeviceDescriptor, holder?: string): void {
    if (this.path === null) return;
    if (prev.lockToken) releaseLockToken(this.path, prev.lockToken);
    this.lock = lockImage(this.path, holder);
  }

  /** Records that `[offset, offset + length)` changed and must reach the file at the next flush. */
  persist(offset: number, length: number): void {
    if (this.path === null || length <= 0) return;
    const w = this.words;
    const last = Math.floor((offset + length - 1) / PAGE_SIZE);
    const jdata = Atomics.load(w, W_JDATA); // 0: not journaling yet
    const cm = W_DIRTY + this.dirtyWords;
    // Always a read-modify-write: it orders our data stores before the flusher's exchange.
    for (let p = Math.floor(offset / PAGE_SIZE); p <= last; p++) {
      const bit = 1 << (p & 31);
      const old = Atomics.or(w, W_DIRTY + (p >>> 5), bit);
      if (jdata === 0 || old & bit) continue;
      const b = p - jdata;
      if (b < 0 || (w[cm + (b >>> 5)] >>> (b & 31)) & 1) Atomics.add(w, W_JDIRTY, 1);
    }
  }

  /**
   * persist() for a caller that holds the metadata mutex, as every filesystem change does. While
   * journaling, a commit takes the dirty bits under that same mutex, so the lock already orders our
   * stores before its snapshot: a page whose bit is still set needs no atomic read-modify-write
   * (an uncontended one costs more than the rest of a small metadata change's bookkeeping).
   */
  persistLocked(offset: number, length: number): void {
    const w = this.words;
    const p = Math.floor(offset / PAGE_SIZE);
    if (
      length > 0 &&
      offset + length <= (p + 1) * PAGE_SIZE &&
      w[W_JMODE] === 1 &&
      (w[W_DIRTY + (p >>> 5)] & (1 << (p & 31))) !== 0
    )
      return;
    this.persist(offset, length);
  }

  /**
   * Pages dirtied since the last commit's snapshot that the next commit journals (metadata and
   * blocks the last commit uses; new blocks go home without the journal). Approximate, never low.
   */
  get journalDirtyPages(): number {
    return Atomics.load(this.words, W_JDIRTY);
  }

  /** The dirty ranges as [offset, length] pairs, coalesced (for tests and tools). */
  dirtyRanges(): [number, number][] {
    const out: [number, number][] = [];
    this.scanDirty(false, (off, len) => out.push([off, len]));
    return out;
  }

  /**
   * Makes every change durable; returns the bytes written home. Once a filesystem is mounted on the
   * device this is a journaled commit (journal.ts: atomic, takes the metadata lock for its snapshot,
   * so the caller must not hold it); before that (mkfs) it writes the dirty ranges in place and
   * fdatasyncs. Flushes from different threads run one at a time, so when flush() returns, every
   * persist() that returned before it began is durable.
   */
  flush(): number {
    if (this.path === null) return 0;
    this.checkOpen();
    this.flushLock.lock(FLUSH_LOCK_MS);
    try {
      const fd = this.openFd();
      if (Atomics.load(this.words, W_JMODE) === 1) return journalCommit(this, fd);
      let bytes = 0;
      this.scanDirty(true, (off, len) => {
        for (let done = 0; done < len; ) done += writeImage(fd, this.bytes, off + done, len - done);
        bytes += len;
      });
      if (bytes > 0) fs.fdatasyncSync(fd);
      return bytes;
    } finally {
      this.flushLock.unlock();
    }
  }

  /**
   * Flushes (file devices) and closes this thread's file descriptor. Other attachments stay usable.
   * The view that opened the file also lets go of the image's lock, once its changes are durable.
   */
  close(): void {
    if (this.closed) return;
    try {
      this.flush();
    } finally {
      this.closed = true;
      if (this.fd !== null) fs.closeSync(this.fd);
      this.fd = null;
      this.lock?.release();
      this.lock = null;
    }
  }

  /**
   * Closes this view without writing anything back and lets go of the image's lock: for an image
   * found unmountable right after it was opened.
   */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
    this.lock?.release();
    this.lock = null;
  }

  /** Whether close() was called on this view. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Whether flush() is a journaled commit (set once a filesystem is mounted on this device). */
  get journaled(): boolean {
    return Atomics.load(this.words, W_JMODE) === 1;
  }

  /**
   * @internal journal.ts: turns journaled commits on (or off, for mkfs), with the sequence number
   * of the last commit on the image.
   */
  setJournalMode(on: boolean, seq = 0, dataStart = 0, slot = 1): void {
    Atomics.store(this.words, W_JSEQ, seq | 0);
    Atomics.store(this.words, W_JSLOT, slot);
    Atomics.store(this.words, W_JCKPT, 0);
    Atomics.store(this.words, W_JDATA, on ? dataStart : 0);
    Atomics.store(this.words, W_JDIRTY, 0);
    Atomics.store(this.words, W_JMODE, on ? 1 : 0);
  }

  /** @internal the last commit's sequence number (journal.ts bumps it). */
  get journalSeq(): number {
    return Atomics.load(this.words, W_JSEQ) >>> 0;
  }

  set journalSeq(seq: number) {
    Atomics.store(this.words, W_JSEQ, seq | 0);
  }

  /** @internal the commit slot (0 or 1) of the last commit: the next commit uses the other. */
  get journalSlot(): number {
    return Atomics.load(this.words, W_JSLOT);
  }

  set journalSlot(slot: number) {
    Atomics.store(this.words, W_JSLOT, slot);
  }

  /** @internal the last commit's pages went home and no fdatasync followed yet. */
  get checkpointPending(): boolean {
    return Atomics.load(this.words, W_JCKPT) === 1;
  }

  set checkpointPending(pending: boolean) {
    Atomics.store(this.words, W_JCKPT, pending ? 1 : 0);
  }

  /** @internal the committed block map: one bit per data block, set = used by the last commit. */
  get committedMap(): Int32Array {
    return this.words.subarray(W_DIRTY + this.dirtyWords, W_DIRTY + 2 * this.dirtyWords);
  }

  /** @internal this thread's file descriptor of the image (null for memory devices). */
  fileFd(): number | null {
    if (this.path === null) return null;
    this.checkOpen();
    return this.openFd();
  }

  /**
   * @internal takes the dirty bits (clearing them) and returns the dirty page numbers, ascending.
   * The caller holds the metadata lock, so the pages' contents are consistent with each other.
   */
  takeDirtyPages(): Uint32Array {
    Atomics.store(this.words, W_JDIRTY, 0);
    const out: number[] = [];
    this.scanDirty(true, (off, len) => {
      for (let p = off / PAGE_SIZE, end = (off + len) / PAGE_SIZE; p < end; p++) out.push(p);
    });
    return Uint32Array.from(out);
  }

  /** @internal gives pages back their dirty bits (a commit that failed: the next one retries). */
  redirty(pages: ArrayLike<number>): void {
    const w = this.words;
    Atomics.add(w, W_JDIRTY, pages.length);
    for (let i = 0; i < pages.length; i++) Atomics.or(w, W_DIRTY + (pages[i] >>> 5), 1 << (pages[i] & 31));
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('pmem device is closed');
  }

  private openFd(): number {
    if (this.fd === null) this.fd = fs.openSync(this.path as string, 'r+');
    return this.fd;
  }

  /** Calls `run(offset, length)` for each maximal run of dirty pages; `take` clears the bits read. */
  private scanDirty(take: boolean, run: (offset: number, length: number) => void): void {
    const w = this.words;
    const pages = this.size / PAGE_SIZE;
    let start = -1;
    for (let i = W_DIRTY, end = W_DIRTY + this.dirtyWords; i < end; i++) {
      const bits = take ? (w[i] === 0 ? 0 : Atomics.exchange(w, i, 0)) : Atomics.load(w, i);
      const base = (i - W_DIRTY) * 32;
      if ((bits === 0 && start < 0) || (bits === -1 && start >= 0)) continue;
      for (let b = 0; b < 32 && base + b < pages; b++) {
        const dirty = (bits & (1 << b)) !== 0;
        if (dirty && start < 0) start = base + b;
        else if (!dirty && start >= 0) {
          run(start * PAGE_SIZE, (base + b - start) * PAGE_SIZE);
          start = -1;
        }
      }
    }
    if (start >= 0) run(start * PAGE_SIZE, (pages - start) * PAGE_SIZE);
  }
}
