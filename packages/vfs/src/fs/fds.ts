/** The file descriptor table: open flags, file position, and who still uses an inode. */
import { constants } from 'node:fs';
import { fail, invalidArgValue, uvError } from './errors.js';

/** Linux's ESTALE: libuv on Node 20 has no name for it. */
const ESTALE = 116;

import { validateFd } from './validate.js';

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_SYNC } = constants;

const FLAGS: Record<string, number> = {
  r: O_RDONLY,
  rs: O_RDONLY | O_SYNC,
  sr: O_RDONLY | O_SYNC,
  'r+': O_RDWR,
  'rs+': O_RDWR | O_SYNC,
  'sr+': O_RDWR | O_SYNC,
  w: O_TRUNC | O_CREAT | O_WRONLY,
  wx: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  xw: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  'w+': O_TRUNC | O_CREAT | O_RDWR,
  'wx+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  'xw+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  a: O_APPEND | O_CREAT | O_WRONLY,
  ax: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  xa: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  as: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
  sa: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
  'a+': O_APPEND | O_CREAT | O_RDWR,
  'ax+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
  'xa+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
  'as+': O_APPEND | O_CREAT | O_RDWR | O_SYNC,
  'sa+': O_APPEND | O_CREAT | O_RDWR | O_SYNC,
};

/** Node's stringToFlags: 'r', 'w+', 'ax'... or a number. */
export function parseFlags(flags: unknown, dflt = 'r'): number {
  if (flags === undefined || flags === null) flags = dflt;
  if (typeof flags === 'number') return flags;
  if (typeof flags === 'string') {
    const f = FLAGS[flags];
    if (f !== undefined) return f;
  }
  throw invalidArgValue('flags', flags);
}

export interface OpenFile {
  ii: number;
  flags: number;
  pos: number;
  path: string;
  readable: boolean;
  writable: boolean;
  append: boolean;
  isDir: boolean;
  /** The inode's generation when it was opened: with `ii`, what names it across a server restart. */
  gen?: number;
  /**
   * The zuf-root's CTL_SHARED_EPOCH when opened (or last found alive): a restart that rolled the
   * filesystem back moves it, and the fd is checked once (FdRestartCheck) before its next use.
   */
  epoch?: number;
  /** Its inode did not survive a server restart: every use is ESTALE (close is fine). */
  stale?: boolean;
}

/** How the table checks its fds after a server restart that rolled a filesystem back. */
export interface FdRestartCheck {
  /** The epoch word (zuf-root control words) and where it is. */
  readonly ctl: Int32Array;
  readonly at: number;
  /** True when the fd's inode is still there with the generation it had (`f.gen`). */
  alive(f: OpenFile): boolean;
}

/** Open files per inode across threads (the mount's OpenCounts), or just this table's. */
export interface OpenCounter {
  open(ii: number): void;
  /** True when the close was the last of an inode that has lost its last link. */
  close(ii: number): boolean;
}

/** Inodes the users map may hold at 0 before they are swept out. */
const IDLE_USERS_MAX = 1024;

/**
 * A thread's fds. Kept in an array (fds are small and reused lowest first) and the per-inode
 * counts are left at 0 rather than deleted: a Map that deletes and re-adds a key at every
 * open/close pair rehashes (40-200 ns a pair, measured), a visible part of a 5 us open-write-close.
 */
export class FdTable {
  private readonly files: (OpenFile | undefined)[] = [];
  private readonly users = new Map<number, number>();
  private idle = 0;
  private next = 3;

  /**
   * `shared`: the mount's counts, so that an unlink in another thread keeps our open inode alive.
   * `restart`: how fds are checked after a server restart (none: never).
   */
  constructor(
    private readonly shared?: OpenCounter,
    private readonly restart?: FdRestartCheck,
  ) {}

  /** The epoch an fd opened now carries. */
  epochNow(): number {
    return this.restart ? Atomics.load(this.restart.ctl, this.restart.at) : 0;
  }

  add(f: OpenFile): number {
    this.shared?.open(f.ii);
    while (this.files[this.next] !== undefined) this.next++;
    const fd = this.next++;
    this.files[fd] = f;
    const n = this.users.get(f.ii) ?? 0;
    if (n === 0 && this.users.has(f.ii)) this.idle--;
    this.users.set(f.ii, n + 1);
    return fd;
  }

  get(fd: unknown, syscall: string): OpenFile {
    validateFd(fd);
    return this.at(fd, syscall);
  }

  /** get() for an fd the caller has validated already (checkFd): read and write check it first. */
  at(fd: number, syscall: string): OpenFile {
    const f = this.files[fd];
    if (!f) fail('EBADF', syscall);
    const r = this.restart;
    if (r !== undefined && f.epoch !== Atomics.load(r.ctl, r.at)) this.recheck(f, r);
    if (f.stale) throw uvError(-ESTALE, syscall, f.path);
    return f;
  }

  /** After a restart that rolled the filesystem back: is the fd's inode the one it opened? */
  private recheck(f: OpenFile, r: FdRestartCheck): void {
    const now = Atomics.load(r.ctl, r.at);
    if (!f.stale && !r.alive(f)) f.stale = true;
    f.epoch = now;
  }

  /**
   * Forgets `fd`; returns the file and whether the inode must be freed now: with shared counts,
   * when this was the last open file in any thread of an inode that lost its last link; without,
   * when it was this table's last (the caller then checks the link count).
   */
  remove(fd: unknown, syscall: string): [OpenFile, boolean] {
    validateFd(fd);
    const f = this.files[fd];
    if (!f) fail('EBADF', syscall);
    this.files[fd as number] = undefined;
    if (this.next > (fd as number)) this.next = fd as number;
    const n = (this.users.get(f.ii) ?? 1) - 1;
    this.users.set(f.ii, n);
    if (n === 0 && ++this.idle > IDLE_USERS_MAX) this.sweep();
    // A stale fd's inode number may be another inode's now: it frees nothing.
    if (this.shared) return [f, this.shared.close(f.ii) && !f.stale];
    return [f, n === 0 && !f.stale];
  }

  /** True when `fd`s of this table free inodes themselves (shared counts): see remove(). */
  get sharedCounts(): boolean {
    return this.shared !== undefined;
  }

  inUse(ii: number): boolean {
    return (this.users.get(ii) ?? 0) > 0;
  }

  /** Deletes the inodes no fd holds any more. */
  private sweep(): void {
    for (const [ii, n] of this.users) if (n === 0) this.users.delete(ii);
    this.idle = 0;
  }
}

/** Node's fd check: an int32 >= 0 (ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE). */
export const checkFd: (fd: unknown) => asserts fd is number = validateFd;
