/** The file descriptor table: open flags, file position, and who still uses an inode. */
import { constants } from 'node:fs';
import { fail, invalidArgValue } from './errors.js';
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

  /** `shared`: the mount's counts, so that an unlink in another thread keeps our open inode alive. */
  constructor(private readonly shared?: OpenCounter) {}

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
    return f;
  }

  /**
   * Forgets `fd`; returns the file and whether the inode must be freed now: with shared counts,
   * when this was the last open file in any thread of an inode that lost its last link; without,
   * when it was this table's last (the caller then checks the link count).
   */
  remove(fd: unknown, syscall: string): [OpenFile, boolean] {
    const f = this.get(fd, syscall);
    this.files[fd as number] = undefined;
    if (this.next > (fd as number)) this.next = fd as number;
    const n = (this.users.get(f.ii) ?? 1) - 1;
    this.users.set(f.ii, n);
    if (n === 0 && ++this.idle > IDLE_USERS_MAX) this.sweep();
    if (this.shared) return [f, this.shared.close(f.ii)];
    return [f, n === 0];
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
