/**
 * PmemFs: the filesystem's inode-level, synchronous API over an attached device.
 *
 * Any number of threads may each hold a PmemFs over the same device (PmemFs.attach(descriptor) in a
 * worker): all shared state is in the device's SharedArrayBuffers. Every operation runs under the
 * device's metadata mutex (an Atomics futex lock whose waits are bounded: a holder that died turns
 * into a LockTimeoutError, not a hang). One lock for everything is slow under contention but
 * simply correct; finer locking can come once the durability work settles what a commit is.
 *
 * Expected failures throw ZufsError with a Linux errno. Names are bytes (UTF-8); strings are
 * accepted and encoded.
 */

import {
  DT_DIR,
  decodeZusInodeAttr,
  Errno,
  isDir,
  isReg,
  isU53,
  modeToDtype,
  RENAME_EXCHANGE,
  RENAME_NOREPLACE,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  STATX_ATIME,
  STATX_CTIME,
  STATX_GID,
  STATX_MODE,
  STATX_MTIME,
  STATX_SIZE,
  STATX_UID,
  type Statfs,
  setTimeNs,
  ZUFS_LINK_MAX,
  ZUFS_NAME_LEN,
  ZusInode,
  type ZusInodeAttr,
} from '@zufs/zuf-core/api';
import { ZusError as ZufsError } from '@zufs/zus-server';
import {
  allocIno,
  freeBlockCount,
  freeIno,
  freeInodeCount,
  initRuntime,
  isInodeUsed,
  needBlocks,
} from './alloc.js';
import { type CheckOptions, fsCheck } from './check.js';
import { type DeviceDescriptor, PmemDevice } from './device.js';
import {
  dirFind,
  dirFreeAll,
  dirInsert,
  dirReaddir,
  dirRemove,
  dirRetarget,
  eIno,
  hashOf,
  type ReaddirEmit,
  type ReaddirRawEmit,
} from './dir.js';
import {
  type AppCopy,
  fileCopy,
  fileFallocate,
  fileGetMulty,
  fileRead,
  fileSeek,
  fileTruncate,
  fileWrite,
  fileWriteByApp,
  mapFree,
  odFlags,
  setOdFlags,
} from './file.js';
import {
  clearInode,
  dirCount,
  dirParent,
  dirZi,
  hasValidType,
  initInode,
  liveZi,
  mode,
  nlink,
  nowNs,
  OD_F_TMPFILE,
  regZi,
  setDirCount,
  setDirParent,
  setNlink,
  stamp,
} from './inode.js';
import { initCommittedMap, journalRecover, journalRoom, type RecoveryResult } from './journal.js';
import { loadSuperblocks, loadUsed } from './load.js';
import {
  asIoError,
  BLOCK_SIZE,
  FORMAT_VERSION,
  type Geometry,
  loadSuperblock,
  PMEMFS_MAGIC,
  RT_GEN_FLOOR,
  RT_STATE,
  Super,
  writeSuperblocks,
} from './super.js';
import { checkTarget, symlinkCost, symlinkFree, symlinkInit, symlinkRead } from './symlink.js';
import { xattrFreeAll, xattrGet, xattrList, xattrRemove, xattrSet } from './xattr.js';

/** A name: UTF-8 bytes, or a string to encode. */
export type Name = Uint8Array | string;

/** removeDentry flag: rmdir semantics (the entry must be an empty directory). Without it: unlink. */
export const REMOVE_DIR = 1;

export interface MountOptions {
  /** Longest wait for the metadata lock before LockTimeoutError (default 10 000 ms). */
  lockTimeoutMs?: number;
  /**
   * Whether an inode is still in use (open) by someone: evict() does not free an nlink-0 inode
   * while this says true. Default: never (the VFS side evicts only when the last user is gone).
   */
  inUse?: (ino: number) => boolean;
  /**
   * File devices: a background commit every this many ms (as ext4's `commit=`), so work that
   * never calls fsync is not lost for long. 0 turns it off. Default 5000. Only the first mount of
   * a device (not attach) starts it; close() or stopBackgroundCommit() stops it.
   */
  commitIntervalMs?: number;
  /**
   * This mount is made again after a server restart, under applications that still have files
   * open: nlink-0 inodes are kept (their last close frees them), and new inodes' generations
   * start above `restartEpoch` * 2^32 (RT_GEN_FLOOR). On a device already mounted (a restart that
   * kept its memory) the background commit starts again here.
   */
  restartEpoch?: number;
}

/** What the first mount of a device did before it was usable. */
export interface MountReport {
  /** Journal recovery: the last commit's sequence number, pages replayed, a discarded commit. */
  recovery: RecoveryResult | null;
  /** Inodes with no link left (unlinked while open, or a crash before their eviction), freed. */
  orphansFreed: number;
  /** The image was format version 1 and is now version 2. */
  upgraded: boolean;
}

const DEFAULT_COMMIT_MS = 5000;
/** How long after a failed early commit (a transaction too big for the space left) to try again. */
const EARLY_RETRY_MS = 100;
/** Background committers of the devices mounted in this thread, by their image buffer. */
const committers = new Map<SharedArrayBuffer, ReturnType<typeof setInterval>>();

export interface NewInodeOptions {
  /** Type and permission bits (S_IF* | 0o7777); type 0 means a regular file. */
  mode: number;
  uid?: number;
  gid?: number;
  /** Character and block devices: the device number (encodeDev). */
  rdev?: number;
  /** Symlinks: the target (required). */
  symlinkTarget?: Name;
  /** An O_TMPFILE inode: no name, nlink 0, may be linked later with addDentry. */
  tmpfile?: boolean;
}

/** setattr values; which ones apply is the STATX_* mask. Times are ns since the epoch. */
export interface SetattrIn {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atime?: number;
  mtime?: number;
  ctime?: number;
}

/** A decoded zus_inode (for tools and tests; the fast path reads pmem at iget's offset). */
export type InodeAttr = ZusInodeAttr;

const encoder = new TextEncoder();

const toBytes = (name: Name): Uint8Array => (typeof name === 'string' ? encoder.encode(name) : name);
const isDot = (n: Uint8Array) => n.length === 1 && n[0] === 0x2e;
const isDotDot = (n: Uint8Array) => n.length === 2 && n[0] === 0x2e && n[1] === 0x2e;

const NAME_TOO_LONG = `name longer than ${ZUFS_NAME_LEN} bytes`;

/** Checks a name for a directory entry: ENOENT empty, ENAMETOOLONG past 255 bytes, EINVAL for '/' or NUL. */
function checkName(n: Uint8Array): void {
  if (n.length === 0) throw new ZufsError(Errno.ENOENT, 'empty name');
  if (n.length > ZUFS_NAME_LEN) throw new ZufsError(Errno.ENAMETOOLONG, NAME_TOO_LONG);
  if (n.includes(0x2f) || n.includes(0)) throw new ZufsError(Errno.EINVAL, "name contains '/' or NUL");
}

function checkOffset(off: number, what = 'offset'): void {
  if (!isU53(off)) badOffset(off, what); // compares only, the throw out of line: see zuf-core isU53
}

function badOffset(off: number, what: string): never {
  throw new ZufsError(Errno.EINVAL, `bad ${what} ${off}`);
}

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
  throw new Error('@zufs/example-pmemfs needs a little-endian host');
}

export class PmemFs {
  readonly device: PmemDevice;
  readonly geometry: Geometry;
  readonly rootIno: number;
  private readonly sb: Super;
  private readonly lockMs: number;
  private readonly inUse: (ino: number) => boolean;
  /** What mounting did (first mount of a device only; null for later mounts and attaches). */
  mountReport: MountReport | null = null;
  /** The last background (or early) commit's failure, if it failed (it is retried). */
  lastCommitError: unknown = null;
  /**
   * Journaled pages in the next transaction at which an operation's end checks that the transaction
   * still fits, with room for as many pages again (journal.ts journalRoom): when it would not, the
   * operation's end commits at once (an `rm -r` on a full device, whose freed blocks are no use to
   * the journal until a commit). Moves up by the same step after each check. 0: not a file device.
   */
  private earlyCheckAt: number;
  private readonly earlyStep: number;
  /** After an early commit failed, none is tried before this time (performance.now()). */
  private earlyRetryAt = 0;

  private constructor(sb: Super, opts: MountOptions) {
    this.sb = sb;
    this.device = sb.dev;
    this.geometry = sb.g;
    this.rootIno = sb.g.rootIno;
    this.lockMs = opts.lockTimeoutMs ?? 10_000;
    this.inUse = opts.inUse ?? (() => false);
    this.earlyStep = Math.max(1, Math.floor((sb.g.journalBlocks - 2) / 4));
    this.earlyCheckAt = sb.dev.path === null ? 0 : this.earlyStep;
  }

  /**
   * Mounts the filesystem on `device`: checks the superblock (copy 1 when copy 0 is damaged; EINVAL
   * for a newer format or no valid copy). The first mount of a device also replays the journal's
   * last commit (journal.ts), counts free space, frees orphans (inodes with no link left) and, for
   * a file device, turns flush() into journaled commits and starts the background commit.
   */
  static mount(device: PmemDevice, opts: MountOptions = {}): PmemFs {
    const first = Atomics.load(device.runtime, RT_STATE) === 0;
    if (first) loadSuperblocks(device);
    let g = loadSuperblock(device).g;
    const report: MountReport = { recovery: null, orphansFreed: 0, upgraded: false };
    if (first) {
      report.recovery = journalRecover(device, g, device.path !== null);
      if (report.recovery.replayed > 0) g = loadSuperblock(device).g;
      loadUsed(device, g, true);
      if (g.version < FORMAT_VERSION) {
        g = { ...g, version: FORMAT_VERSION };
        writeSuperblocks(device, g);
        // In place and synced, before the journal is on: an older zufs must refuse the image
        // before any commit of the newer format can be on it.
        device.flush();
        report.upgraded = true;
      }
      if (device.path !== null) {
        initCommittedMap(device, g);
        device.setJournalMode(true, report.recovery.seq, g.dataStart, report.recovery.slot);
      }
    }
    const sb = new Super(device, g);
    initRuntime(sb);
    const fs = new PmemFs(sb, opts);
    const restart = opts.restartEpoch !== undefined;
    if (restart) Atomics.store(sb.rt, RT_GEN_FLOOR, opts.restartEpoch!);
    if (first && !restart) report.orphansFreed = fs.freeOrphans();
    if (first) fs.mountReport = report;
    if (first || restart) {
      const ms = opts.commitIntervalMs ?? DEFAULT_COMMIT_MS;
      if (device.path !== null && ms > 0) fs.startBackgroundCommit(ms);
    }
    return fs;
  }

  /**
   * After a server restart, the device the previous mount left in memory, if it is whole: no
   * operation and no commit was under way when the threads died (the metadata lock and the flush
   * lock are both free: a change of pmemfs's own is only ever made under the first, a commit under
   * the second; a live holder lets go within `waitMs`, a dead one never). Then nothing is lost,
   * not even what was written since the last commit. null: roll back to the last commit (mount the
   * image again).
   */
  static wholeAfterRestart(prev: DeviceDescriptor, waitMs = 50): PmemDevice | null {
    const dev = PmemDevice.attach(prev);
    if (Atomics.load(dev.runtime, RT_STATE) === 0) return null;
    return dev.quiescent(waitMs) ? dev : null;
  }

  /** Frees every inode with no link left (first mount: nobody can have it open). */
  private freeOrphans(): number {
    let freed = 0;
    const ibm = this.sb.u32;
    const w0 = this.sb.ibmOff / 4;
    for (let ino = 1; ino < this.geometry.inodeCount; ino++) {
      // Free slots are skipped without the lock, 32 at a time (a mount's cost follows the used
      // inodes, not the table's size); a used one is checked again under it.
      if (ibm[w0 + (ino >>> 5)] === 0) {
        ino |= 31;
        continue;
      }
      if (!isInodeUsed(this.sb, ino)) continue;
      // One orphan per hold of the lock: an early commit may come between two.
      const sb = this.enter();
      try {
        if (ino === this.rootIno || !isInodeUsed(sb, ino)) continue;
        const zi = sb.zi(ino);
        if (nlink(sb, zi) !== 0 || !hasValidType(mode(sb, zi))) continue;
        try {
          this.discard(sb, zi, ino);
          freed++;
        } catch {
          // A damaged orphan stays for fsck (its map or directory is unreadable); mount goes on.
        }
      } catch (e) {
        throw asIoError(e);
      } finally {
        this.leave();
      }
    }
    return freed;
  }

  /**
   * Background commit every `ms` from now on (0: off), for a file device; the thread that mounted
   * runs it (remount's `commit=`).
   */
  setCommitInterval(ms: number): void {
    PmemFs.stopBackgroundCommit(this.device.descriptor());
    if (this.device.path !== null && ms > 0) this.startBackgroundCommit(ms);
  }

  private startBackgroundCommit(ms: number): void {
    const dev = this.device;
    PmemFs.stopBackgroundCommit(dev.descriptor());
    const timer = setInterval(() => {
      if (dev.isClosed) {
        PmemFs.stopBackgroundCommit(dev.descriptor());
        return;
      }
      try {
        dev.flush();
        this.lastCommitError = null;
      } catch (e) {
        this.lastCommitError = e;
      }
    }, ms);
    timer.unref();
    committers.set(dev.data, timer);
  }

  /** Stops the background commit of the device `desc` names, if this thread runs one. */
  static stopBackgroundCommit(desc: DeviceDescriptor): void {
    const timer = committers.get(desc.data);
    if (timer !== undefined) clearInterval(timer);
    committers.delete(desc.data);
  }

  /** Unmount: stops the background commit, commits what is dirty, closes this thread's device. */
  close(): void {
    PmemFs.stopBackgroundCommit(this.device.descriptor());
    this.device.close();
  }

  /** Mounts in another thread, from the descriptor of a device mounted elsewhere. */
  static attach(desc: DeviceDescriptor, opts: MountOptions = {}): PmemFs {
    return PmemFs.mount(PmemDevice.attach(desc), opts);
  }

  descriptor(): DeviceDescriptor {
    return this.device.descriptor();
  }

  private enter(): Super {
    this.device.mutex.lock(this.lockMs);
    return this.sb;
  }

  private leave(): void {
    this.device.mutex.unlock();
    const at = this.earlyCheckAt;
    if (at > 0) {
      const pages = this.device.journalDirtyPages;
      if (pages >= at || (pages > 0 && this.lowOnSpace())) this.earlyCheck(pages);
      else if (pages < at - this.earlyStep) this.earlyCheckAt = this.earlyStep; // a commit came
    }
  }

  /**
   * The next transaction has grown by another step: if it would not fit the journal with room for
   * one more step, commit now, between two operations (a consistent state, as the background
   * commit's). A failure is kept in lastCommitError and retried later: the operation that just
   * ended has succeeded all the same.
   */
  /** Fewer free blocks than twice the journal: a commit's overflow copies may not find room. */
  private lowOnSpace(): boolean {
    return freeBlockCount(this.sb) < 2 * this.geometry.journalBlocks;
  }

  /**
   * Before an operation that may change up to `pages` more pages (a write of that many): commits
   * first unless the transaction would still fit with them. leave()'s checks keep room for one
   * step (a quarter of the journal) past the transaction; an operation larger than that (a 1 MiB
   * write is 256 pages) could grow it past what a commit can hold, and a transaction the journal
   * cannot hold never commits. Each page either takes a free block (a new block goes home, no
   * copy) or adds one to journal (a block of the last commit rewritten), so twice `pages` is safe.
   * The commit runs here, before the operation allocates, so the free blocks it counts are there.
   */
  private roomFor(pages: number): void {
    if (this.earlyCheckAt === 0 || pages <= this.earlyStep) return;
    const dev = this.device;
    const have = dev.journalDirtyPages;
    if (have === 0 || !dev.journaled || dev.isClosed) return;
    if (journalRoom(dev, this.geometry, have + 2 * pages + this.earlyStep) >= 0) return;
    try {
      dev.flush();
      this.earlyCheckAt = this.earlyStep;
    } catch (e) {
      this.lastCommitError = e;
    }
  }

  private earlyCheck(pages: number): void {
    const dev = this.device;
    const g = this.geometry;
    // Low on space, the overflow blocks a commit would copy into may go to a write before it runs:
    // then the journal region alone must hold the transaction, checked at every operation's end.
    const low = this.lowOnSpace();
    this.earlyCheckAt = low ? pages + 1 : pages + this.earlyStep;
    const now = performance.now();
    if (now < this.earlyRetryAt || !dev.journaled || dev.isClosed) return;
    if (journalRoom(dev, g, pages + this.earlyStep, !low) >= 0) return;
    try {
      dev.flush();
      this.earlyCheckAt = this.earlyStep;
    } catch (e) {
      this.lastCommitError = e;
      this.earlyRetryAt = now + EARLY_RETRY_MS;
    }
  }

  // ~~~ superblock ~~~

  statfs(out: Statfs = {} as Statfs): Statfs {
    const sb = this.enter();
    try {
      out.type = PMEMFS_MAGIC;
      out.bsize = BLOCK_SIZE;
      out.frsize = BLOCK_SIZE;
      out.blocks = sb.g.dataBlocks;
      out.bfree = freeBlockCount(sb);
      out.bavail = out.bfree;
      out.files = sb.g.inodeCount - 1;
      out.ffree = freeInodeCount(sb);
      out.namelen = ZUFS_NAME_LEN;
      out.flags = 0;
      return out;
    } catch (e) {
      throw asIoError(e);
    } finally {
      this.leave();
    }
  }

  /**
   * Commits every recorded change (a journaled commit, journal.ts): when it returns, everything
   * done before it is durable. Returns the bytes written home. Takes the metadata lock itself,
   * only while it snapshots the dirty pages.
   */
  sync(): number {
    return this.device.flush();
  }

  /**
   * fsync/fdatasync of `ino`: like ext4, commits everything dirty (one journal), which costs what
   * changed since the last commit, not the device. ESTALE for an inode that is not live.
   */
  fsync(ino: number): number {
    this.iget(ino);
    return this.device.flush();
  }

  /** fsck-lite: the list of broken invariants (empty when clean). */
  check(opts: CheckOptions = {}): string[] {
    const sb = this.enter();
    try {
      return fsCheck(sb, opts);
    } catch (e) {
      throw asIoError(e);
    } finally {
      this.leave();
    }
  }

  // ~~~ inodes ~~~

  /** The byte offset of inode `ino`'s zus_inode in the device (its pool-0 dpp). ESTALE if not live. */
  iget(ino: number): number {
    const sb = this.enter();
    try {
      return liveZi(sb, ino);
    } catch (e) {
      throw asIoError(e);
    } finally {
      this.leave();
    }
  }

  getattr(ino: number): InodeAttr {
    const sb = this.enter();
    try {
      return decodeZusInodeAttr(sb.dv, liveZi(sb, ino));
    } catch (e) {
      throw asIoError(e);
    } finally {
      this.leave();
    }
  }

  /** The inode `name` names in directory `dir`, or 0. '.' and '..' resolve too. */
  lookup(dir: number, name: Name): number {
    const n = toBytes(name);
    const sb = this.enter();
    try {
      const dzi = dirZi(sb, dir);
      if (isDot(n)) return dir;
      if (isDotDot(n)) return dirParent(sb, dzi);
      checkName(n);
      const e = dirFind(sb, dzi, n, hashOf(sb, n));
      return e < 0 ? 0 : eIno(sb, e);
    } catch (e) {
      throw asIoError(e);
    } finally {
      this.leave();
    }
  }

  /**
   * Creates an inode and (unless tmpfile) its entry `name` in `dir`, as ZUFS_OP_NEW_INODE; returns
   * its number. A directory starts with nlink 2 and raises its parent's. EEXIST, ENOENT (dir
   * removed), EMLINK (parent has 32000 links), ENOSPC (no inode or block), ENAMETOOLONG.
   */
  newInode(dir: number, name: Name, opts: NewInodeOptions): number {
    const n = toBytes(name);
    const target = opts.symlinkTarget === undefined ? null : toBytes(opts.symlinkTarget);
    const type = opts.mode & S_IFMT || S_IFREG;
    if (!hasValidType(type)) throw new ZufsError(Errno.EINVAL, `bad file type ${type.toString(8)}`);
    if ((type === S_IFLNK) !== (target !== null)) {
      throw new ZufsError(Errno.EINVAL, 'a symlink, and only a symlink, needs a target');
    }
    if (target) checkTarget(target);
    if (opts.tmpfile && type !== S_IFREG)
      throw new ZufsError(Errno.EINVAL, 'a tmpfile must be a regular file');
    const sb = this.enter();
    try {
      const dzi = dirZi(sb, dir);
      let hash = 0;
      if (!opts.tmpfile) {
        if (isDot(n) || isDotDot(n)) throw new ZufsError(Errno.EEXIST, 'name exists');
        checkName(n);
        if (nlink(sb, dzi) === 0) throw new ZufsError(Errno.ENOENT, 'directory was removed');
        hash = hashOf(sb, n);
        if (dirFind(sb, dzi, n, hash) >= 0) throw new ZufsError(Errno.EEXIST, 'name exists');
        if (type === S_IFDIR && nlink(sb, dzi) >= ZUFS_LINK_MAX)
          throw new ZufsError(Errno.EMLINK, 'too many links');
      }
      needBlocks(sb, target ? symlinkCost(target.length) : 0, true);
      const ino = allocIno(sb);
      const links = opts.tmpfile ? 0 : type === S_IFDIR ? 2 : 1;
      const zi = initInode(sb, ino, type | (opts.mode & 0o7777), opts.uid ?? 0, opts.gid ?? 0, links);
      if (type === S_IFDIR) {
        setDirCount(sb, zi, 0);
        setDirParent(sb, zi, dir);
      } else if (type === S_IFCHR || type === S_IFBLK) {
        sb.dv.setUint32(zi + ZusInode.i_rdev, (opts.rdev ?? 0) >>> 0, true);
      } else if (target) {
        symlinkInit(sb, zi, target);
      }
      if (opts.tmpfile) {
        setOdFlags(sb, zi, OD_F_TMPFILE);
        return ino;
      }
      try {
        dirInsert(sb, dzi, n, hash, ino, modeToDtype(type));
      } catch (e) {
        this.discard(sb, zi, ino);
        throw e;
      }
      if (type === S_IFDIR) setNlink(sb, dzi, nlink(sb, dzi) + 1);
      stamp(sb, dzi, 'mc');
      return ino;
    } catch (e) {
      throw asIoError(e);
    } finally {
      this.leave();
    }
  }

  /**
   * Adds the name `name` in `dir` for inode `ino` (a hard link, or the first name of a tmpfile).
   * EPERM for a directory, EMLINK at 32000 links, EEXIST, ENOENT (inode already unlinked).
   */
  addDentry(dir: number, ino: number, name: Name): void {
    const n = toBytes(name);
    const sb = this.enter();
    try {
      const dzi = dirZi(sb, dir);
      const zi = liveZi(sb, ino);
      if (isDot(n) || isDotDot(n)) throw new ZufsError(Errno.EEXIST, 'name exists');
      checkName(n);
      if (isDir(mode(sb, zi))) throw new ZufsError(Errno.EPERM, 'no hard links to directories');
      if (nlink(sb, dzi) === 0) throw new ZufsError(Errno.ENOENT, 'directory was removed');
      const links = nlink(sb, zi);
      const tmpfile = (odFlags(sb, zi) & OD_F_TMPFILE) !== 0;
      if (links === 0 && !tmpfile) throw new ZufsError(Errno.ENOENT, 'inode was unlinked');
      if (links >= ZUFS_LINK_MAX) throw new ZufsError(Errno.EMLINK, 'too many links');
      const hash = hashOf(sb, n);
      if (dirFind(sb, dzi, n, hash) >= 0) throw new ZufsError(Errno.EEXIST, 'name exists');
      dirInsert(sb, dzi, n, hash, ino, modeToDtype(mode(sb, zi)));
      setNlink(sb, zi, links + 1);
      if (tmpfile) setOdFlags(sb, zi, odFlags(sb, zi) & ~OD_F_TMPFILE);
      stamp(sb, zi, 'c');
      stamp(sb, dzi, 'mc');
    } catch (e) {
      throw asIoError(e);
    } finally {
      this.leave();
    }
  }

  /**
   * Removes the entry `name` from `dir` and returns the inode it named (now with one link less;
   * evict it when nlink is 0). Without REMOVE_DIR, unlink: EISDIR for a directory. With it, rmdir:
   * ENOTDIR for a non-directory, ENOTEMPTY, EINVAL for '.'.
   */
  /**
   * Removes `name` from `dir`; returns its inode (evict() it when its last link went). `ino`, when
   * not 0: the inode the caller believes the name holds (another one there is ENOENT, untouched),
   * removed as what it is, a directory (rmdir's rules) or not, whatever `flags` say.
   */
  removeDentry(dir: number, name: Name, flags = 0, ino = 0): number {
    const n = toBytes(name);
    const rmdir = (flags & REMOVE_DIR) !== 0;
    const sb = this.enter();
    try {
      const dzi = dirZi(sb, dir);
      if (isDot(n)) throw new ZufsError(rmdir ? Errno.EINVAL : Errno.EISDIR, "cannot remove '.'");
      if (isDotDot(n)) throw new ZufsError(rmdir ? Errno.ENOTEMPTY : Errno.EISDIR, "cannot remove '..'");
      checkName(n);
      const e = dirFind(sb, dzi, n, hashOf(sb, n));
      if (e < 0) throw new ZufsError(Errno.ENOENT, 'no such entry');
      const at = eIno(sb, e);
      if (ino !== 0 && at !== ino) throw new ZufsError(Errno.ENOENT, 'the name holds another inode now');
      const zi = sb.zi(at);
      const isD = isDir(mode(sb, zi));
      if (ino === 0 && rmdir && !isD) throw new ZufsError(Errno.ENOTDIR, 'not a directory');
      if (ino === 0 && !rmdir && isD) throw new ZufsError(Errno.EISDIR, 'is a directory');
      if (isD && dirCount(sb, zi) > 0) throw new ZufsError(Errno.ENOTEMPTY, 'directory not empty');
      dirRemove(sb, dzi, e);
      if (isD) {
        setNlink(sb, zi, 0);
        setNlink(sb, dzi, nlink(sb, dzi) - 1);
      } else {
        setNlink(sb, zi, nlink(sb, zi) - 1);
      }
      stamp(sb, zi, 'c');
      stamp(sb, dzi, 'mc');
      return at;
    } catch (e) {
      throw asIoError(e);
    } finally {
      this.leave();
    }
  }

  /**
   * The VFS forgets inode `ino`: when it has no link left (and the inUse hook says nobody has it
   * open), its blocks, xattrs and slot are freed. Returns whether it was freed. ZUFS's FREE_INODE
   * and EVICT_INODE both land here.
   */
  evict(ino: number): boolean {
    const sb = this.enter();
    try {
      const zi = liveZi(sb, ino);
      if (nlink(sb, zi) !== 0 || ino === this.rootIno || this.inUse(ino)) return false;
      this.discard(sb, zi, ino);
      return true;
    } catch (e) {
      throw asIoError(e);
    } finally {
      this.leave();
    }
  }

  /** Frees everything an inode owns, and its slot. */
  private discard(sb: Super, zi: number, ino: number): void {
    if (isDir(mode(sb, zi))) dirFreeAll(sb, zi);
    else mapFree(sb, zi, 0, Infinity);
    symlinkFree(sb, zi);
    xattrFreeAll(sb, zi);
    clearInode(sb, zi);
    freeIno(sb, ino);
  }

  /** Whether directory `ancestor` is `dir` or one of its ancestors. */
  private isAncestor(sb: Super, ancestor: number, dir: number): boolean {
    for (let d = dir, steps = 0; steps < sb.g.inodeCount; steps++) {
      if (d === ancestor) return true;
      if (d === this.rootIno) return false;
      d = dirParent(sb, sb.zi(d));
    }
    throw new ZufsError(Errno.EIO, 'directory parents form a loop');
  }

  /**
   * renameat2(2): moves `oldName` of `oldDir` to `newName` of `newDir`, replacing what was there
   * (a file, or an empty directory by a directory). RENAME_NOREPLACE: EEXIST instead. RENAME_EXCHANGE:
   * swaps the two (both must exist). Returns the inode a replace unlinked (evict it), else 0.
   */
  rename(oldDir: number, oldName: Name, newDir: number, newName: Name, flags = 0): number {
    if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE) || flags === (RENAME_NOREPLACE | RENAME_EXCHANGE)) {
      throw new ZufsError(Errno.EINVAL, `rename flags ${flags}`);
    }
    const on = toBytes(oldName);
    const nn = toBytes(newName);
    const sb = this.enter();
    try {
      const odzi = dirZi(sb, oldDir);
      const ndzi = dirZi(sb, newDir);
      if (isDot(on) || isDotDot(on) || isDot(nn) || isDotDot(nn)) {
        throw new ZufsError(Errno.EBUSY, "cannot rename '.' or '..'");
      }
      checkName(on);
      checkName(nn);
      const oh = hashOf(sb, on);
      const nh = hashOf(sb, nn);
      let oe = dirFind(sb, odzi, on, oh);
      if (oe < 0) throw new ZufsError(Errno.ENOENT, 'no such entry');
      if (nlink(sb, ndzi) === 0) throw new ZufsError(Errno.ENOENT, 'target directory was removed');
      const sIno = eIno(sb, oe);
      const szi = sb.zi(sIno);
      const sDir = isDir(mode(sb, szi));
      const ne = dirFind(sb, ndzi, nn, nh);
      const tIno = ne < 0 ? 0 : eIno(sb, ne);
      const tzi = tIno === 0 ? 0 : sb.zi(tIno);
      const tDir = tIno !== 0 && isDir(mode(sb, tzi));
      const moves = oldDir !== newDir;

      if (flags & RENAME_EXCHANGE) {
        if (ne < 0) throw new ZufsError(Errno.ENOENT, 'no entry to exchange with');
        if (sIno === tIno) return 0;
        if (moves) {
          if (sDir && this.isAncestor(sb, sIno, newDir))
            throw new ZufsError(Errno.EINVAL, 'into its own subtree');
          if (tDir && this.isAncestor(sb, tIno, oldDir))
            throw new ZufsError(Errno.EINVAL, 'into its own subtree');
          if (sDir !== tDir) {
            const gains = sDir ? ndzi : odzi;
            if (nlink(sb, gains) >= ZUFS_LINK_MAX) throw new ZufsError(Errno.EMLINK, 'too many links');
            setNlink(sb, gains, nlink(sb, gains) + 1);
            const loses = sDir ? odzi : ndzi;
            setNlink(sb, loses, nlink(sb, loses) - 1);
          }
          if (sDir) setDirParent(sb, szi, newDir);
          if (tDir) setDirParent(sb, tzi, oldDir);
        }
        dirRetarget(sb, oe, tIno, modeToDtype(mode(sb, tzi)));
        dirRetarget(sb, ne, sIno, modeToDtype(mode(sb, szi)));
        stamp(sb, szi, 'c');
        stamp(sb, tzi, 'c');
        stamp(sb, odzi, 'mc');
        if (moves) stamp(sb, ndzi, 'mc');
        return 0;
      }

      if (ne >= 0) {
        if (flags & RENAME_NOREPLACE) throw new ZufsError(Errno.EEXIST, 'target exists');
        if (sIno === tIno) return 0; // two names of one inode: POSIX says do nothing
        if (sDir && !tDir) throw new ZufsError(Errno.ENOTDIR, 'target is not a directory');
        if (!sDir && tDir) throw new ZufsError(Errno.EISDIR, 'target is a directory');
        if (tDir && dirCount(sb, tzi) > 0) throw new ZufsError(Errno.ENOTEMPTY, 'target directory not empty');
      }
      if (sDir && moves) {
        if (this.isAncestor(sb, sIno, newDir)) throw new ZufsError(Errno.EINVAL, 'into its own subtree');
        if (!tDir && nlink(sb, ndzi) >= ZUFS_LINK_MAX) throw new ZufsError(Errno.EMLINK, 'too many links');
      }
      const sType = sDir ? DT_DIR : modeToDtype(mode(sb, szi));
      if (ne >= 0) {
        dirRetarget(sb, ne, sIno, sType);
        if (tDir) {
          setNlink(sb, tzi, 0);
          setNlink(sb, ndzi, nlink(sb, ndzi) - 1);
        } else {
          setNlink(sb, tzi, nlink(sb, tzi) - 1);
        }
        stamp(sb, tzi, 'c');
      } else {
        dirInsert(sb, ndzi, nn, nh, sIno, sType); // the only step that can fail (ENOSPC): do it first
        oe = dirFind(sb, odzi, on, oh); // a split may have moved the old entry
      }
      dirRemove(sb, odzi, oe);
      if (sDir && moves) {
        setDirParent(sb, szi, newDir);
        setNlink(sb, odzi, nlink(sb, odzi) - 1);
        setNlink(sb, ndzi, nlink(sb, ndzi) + 1);
      }
      stamp(sb, szi, 'c');
      stamp(sb, odzi, 'mc');
      if (moves) stamp(sb, ndzi, 'mc');
      return tIno;
    } catch (e) {
      throw asIoError(e);
    } finally {
      this.leave();
    }
  }

  /**
   * Emits the entries of `dir` from position `pos` (0 to start): '.', '..', then every name, by
   * calling emit(ino, DT_ type, nextPos, nameBytes) until it returns false or none is left. Returns
   * the position to resume at (the declined entry's), or DIR_POS_END. `nameBytes` is a view of pmem,
   * valid during the call only. Positions stay valid while entries come and go (see dir.ts). `emit`
   * runs under the metadata lock: it must not call this filesystem.
   */
  readdir(dir: number, pos: number, emit: ReaddirEmit): number {
    return this.readdirRaw(dir, pos, (ino, type, next, bytes, at, len) =>
      emit(ino, type, next, bytes.subarray(at, at + len)),
    );
  }

  /**
   * readdir() with each name as `bytes[at .. at + len)` (pmem itself, or a constant for '.' and
   * '..'): no view is made per entry. What the ZT adapter fills a READDIR buffer with.
   */
  readdirRaw(dir: number, pos: number, emit: ReaddirRawEmit): number {
    const sb = this.enter();
    try {
      return dirReaddir(sb, dirZi(sb, dir), dir, pos, emit);
    } catch (e) {
      throw asIoError(e);
    } finally {
      this.leave();
    }
  }

  // ~~~ file data ~~~

  /** Reads into `dest` from `offset`; returns the bytes read (0 at or past the end). */
  read(ino: number, offset: number, dest: Uint8Array): number {
    checkOffset(offset);
    const sb = this.enter();
    try {
      return fileRead(sb, regZi(sb, ino), offset, dest);
    } catch (e) {
      throw asIoError(e);
    } finally {
      this.leave();
    }
  }

  /**
   * Writes `src` at `offset`, allocating blocks and extending the size; returns the bytes written,
   * fewer when the device filled up (ENOSPC when none fit). EFBIG past the largest file size.
   */
  write(ino: number, offset: number, src: Uint8Array): number {
    checkOffset(offset);
    this.roomFor(Math.ceil(src.length / BLOCK_SIZE) + 1);
    const sb = this.enter();
    try {
      return fileWrite(sb, regZi(sb, ino), offset, src);
    } catch (e) {
      throw asIoError(e);
    } finally {
      this.leave();
    }
  }

  /**
   * Writes `length` bytes at `offset` that the caller's app copies itself: allocates, then calls
   * `copy` with the runs of pmem to fill, (byte offset, offset in the data, length) triples, while
   * the metadata lock keeps them this file's. Returns the bytes written (short when the device
   * filled up); EIO when the app did not copy (nothing past the old size is kept; when its copy
   * may still land, the range's blocks go to an orphan inode: fileWriteByApp).
   */
  writeByApp(ino: number, offset: number, length: number, copy: AppCopy): number {
    checkOffset(offset);
    this.roomFor(Math.ceil(length / BLOCK_SIZE) + 1);
    const sb = this.enter();
    try {
      return fileWriteByApp(sb, regZi(sb, ino), offset, length, copy);
    } catch (e) {
      throw asIoError(e);
    } finally {
      this.leave();
    }
  }

  /**
   * NIO: fills `out` with the pmem byte offsets of the blocks holding [offset, offset + length),
   * clipped at the end of the file, one per block from the block of `offset` (0 for a hole); returns
   * how many it filled. The reader copies straight from pmem, starting at out[0] + offset % 4096.
   */
  getMulty(ino: number, offset: number, length: number, out: number[] | Float64Array): number {
    checkOffset(offset);
    const sb = this.enter();
    try {
      return fileGetMulty(sb, regZi(sb, ino), offset, length, out);
    } catch (e) {
      throw asIoError(e);
    } finally {
      this.leave();
    }
  }

  /** Sets the size (truncate(2)): frees what lies past it, zeroes the tail of a partial last block. */
  truncate(ino: number, size: number): void {
    checkOffset(size, 'size');
    const sb = this.enter();
    try {
      fileTruncate(sb, regZi(sb, ino), size);
    } catch (e) {
      throw asIoError(e);
    } finally {
      this.leave();
    }
  }

  /**
   * fallocate(2): mode 0 (allocate, extend the size), FALLOC_FL_KEEP_SIZE, PUNCH_HOLE | KEEP_SIZE,
   * ZERO_RANGE (| KEEP_SIZE). Allocation is all or nothing (ENOSPC). EOPNOTSUPP for other modes.
   */
  fallocate(ino: number, falloc: number, offset: number, length: number): void {
    const sb = this.enter();
    try {
      const zi = liveZi(sb, ino);
      const m = mode(sb, zi);
      if (isDir(m)) throw new ZufsError(Errno.EISDIR, 'is a directory');
      if (!isReg(m)) throw new ZufsError(Errno.ENODEV, 'not a regular file');
      fileFallocate(sb, zi, falloc, offset, length);
    } catch (e) {
      throw asIoError(e);
    } finally {
      this.leave();
    }
  }

  /** lseek(2) with SEEK_DATA or SEEK_HOLE; ENXIO at or past the end of the file. */
  seek(ino: number, offset: number, whence: number): number {
    const sb = this.enter();
    try {
      return fileSeek(sb, regZi(sb, ino), offset, whence);
    } catch (e) {
      throw asIoError(e);
    } finally {
      this.leave();
    }
  }

  /**
   * copy_file_range(2) (ZUFS_OP_COPY, and ZUFS_OP_CLONE, which copies too): copies `length` bytes,
   * clipped at the source's end, keeping holes. Returns the bytes copied. EINVAL for overlapping
   * ranges of one file.
   */
  copyRange(srcIno: number, srcOffset: number, dstIno: number, dstOffset: number, length: number): number {
    checkOffset(srcOffset);
    checkOffset(dstOffset);
    checkOffset(length, 'length');
    this.roomFor(Math.ceil(length / BLOCK_SIZE) + 1);
    const sb = this.enter();
    try {
      return fileCopy(sb, regZi(sb, srcIno), srcOffset, regZi(sb, dstIno), dstOffset, length);
    } catch (e) {
      throw asIoError(e);
    } finally {
      this.leave();
    }
  }

  // ~~~ attributes ~~~

  /**
   * Changes the attributes the STATX_* `mask` names (MODE: the permission bits; UID; GID; SIZE:
   * truncate; ATIME, MTIME, CTIME: ns since the epoch). ctime becomes now unless the mask sets it.
   */
  setattr(ino: number, mask: number, attr: SetattrIn): void {
    const sb = this.enter();
    try {
      const zi = liveZi(sb, ino);
      const dv = sb.dv;
      if (mask & STATX_SIZE) {
        if (attr.size === undefined) throw new ZufsError(Errno.EINVAL, 'STATX_SIZE without a size');
        checkOffset(attr.size, 'size');
        fileTruncate(sb, regZi(sb, ino), attr.size);
      }
      if (mask & STATX_MODE) {
        dv.setUint16(zi + ZusInode.i_mode, (mode(sb, zi) & S_IFMT) | ((attr.mode ?? 0) & 0o7777), true);
      }
      if (mask & STATX_UID) dv.setUint32(zi + ZusInode.i_uid, (attr.uid ?? 0) >>> 0, true);
      if (mask & STATX_GID) dv.setUint32(zi + ZusInode.i_gid, (attr.gid ?? 0) >>> 0, true);
      const times: [number, number, number | undefined][] = [
        [STATX_ATIME, ZusInode.i_atime, attr.atime],
        [STATX_MTIME, ZusInode.i_mtime, attr.mtime],
        [STATX_CTIME, ZusInode.i_ctime, (mask & STATX_CTIME && attr.ctime) || nowNs()],
      ];
      for (const [bit, at, ns] of times) {
        if (mask & bit || bit === STATX_CTIME) {
          if (ns === undefined) throw new ZufsError(Errno.EINVAL, 'a time bit without its time');
          setTimeNs(dv, zi + at, ns);
        }
      }
      sb.touch(zi, 128);
    } catch (e) {
      throw asIoError(e);
    } finally {
      this.leave();
    }
  }

  // ~~~ symlinks ~~~

  /** The target of symlink `ino` (a copy). EINVAL when it is not a symlink. */
  readlink(ino: number): Uint8Array {
    const sb = this.enter();
    try {
      return symlinkRead(sb, liveZi(sb, ino));
    } catch (e) {
      throw asIoError(e);
    } finally {
      this.leave();
    }
  }

  // ~~~ xattrs ~~~

  /** Copies the value of `name` into `buf` and returns its length (buf null: only the length). ENODATA, ERANGE. */
  getxattr(ino: number, name: Name, buf: Uint8Array | null): number {
    const n = toBytes(name);
    const sb = this.enter();
    try {
      return xattrGet(sb, liveZi(sb, ino), n, buf);
    } catch (e) {
      throw asIoError(e);
    } finally {
      this.leave();
    }
  }

  /** setxattr(2) with XATTR_CREATE (EEXIST) / XATTR_REPLACE (ENODATA); E2BIG past 64 KiB, ENOSPC past the block. */
  setxattr(ino: number, name: Name, value: Uint8Array, flags = 0): void {
    const n = toBytes(name);
    const sb = this.enter();
    try {
      xattrSet(sb, liveZi(sb, ino), n, value, flags);
    } catch (e) {
      throw asIoError(e);
    } finally {
      this.leave();
    }
  }

  /** The names, each NUL terminated, into `buf`; returns their total length (buf null: only that). ERANGE. */
  listxattr(ino: number, buf: Uint8Array | null): number {
    const sb = this.enter();
    try {
      return xattrList(sb, liveZi(sb, ino), buf);
    } catch (e) {
      throw asIoError(e);
    } finally {
      this.leave();
    }
  }

  removexattr(ino: number, name: Name): void {
    const n = toBytes(name);
    const sb = this.enter();
    try {
      xattrRemove(sb, liveZi(sb, ino), n);
    } catch (e) {
      throw asIoError(e);
    } finally {
      this.leave();
    }
  }
}
