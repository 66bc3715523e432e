/** Stats, BigIntStats and Dirent shaped like Node's. */
import type { InodeAttr } from '../inode/client.js';

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;
const S_IFSOCK = 0o140000;

/** The device number every zufs Stats reports (one per mount). */
export const ZUFS_DEV = 0x7a7566;

abstract class StatsBase<T extends number | bigint> {
  declare dev: T;
  declare mode: T;
  declare nlink: T;
  declare uid: T;
  declare gid: T;
  declare rdev: T;
  declare blksize: T;
  declare ino: T;
  declare size: T;
  declare blocks: T;
  protected abstract fmt(): number;
  isFile(): boolean {
    return this.fmt() === S_IFREG;
  }
  isDirectory(): boolean {
    return this.fmt() === S_IFDIR;
  }
  isSymbolicLink(): boolean {
    return this.fmt() === S_IFLNK;
  }
  isCharacterDevice(): boolean {
    return this.fmt() === S_IFCHR;
  }
  isBlockDevice(): boolean {
    return this.fmt() === S_IFBLK;
  }
  isFIFO(): boolean {
    return this.fmt() === S_IFIFO;
  }
  isSocket(): boolean {
    return this.fmt() === S_IFSOCK;
  }
}

function blocks512(a: InodeAttr): number {
  return a.blocks;
}

export class Stats extends StatsBase<number> {
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  birthtimeMs: number;
  atime: Date;
  mtime: Date;
  ctime: Date;
  birthtime: Date;
  constructor(a: InodeAttr) {
    super();
    this.dev = ZUFS_DEV;
    this.mode = a.mode;
    this.nlink = a.nlink;
    this.uid = a.uid;
    this.gid = a.gid;
    this.rdev = a.rdev;
    this.blksize = 4096;
    this.ino = a.ino;
    this.size = a.size;
    this.blocks = blocks512(a);
    this.atimeMs = a.atimeNs / 1e6;
    this.mtimeMs = a.mtimeNs / 1e6;
    this.ctimeMs = a.ctimeNs / 1e6;
    this.birthtimeMs = this.ctimeMs;
    this.atime = new Date(this.atimeMs);
    this.mtime = new Date(this.mtimeMs);
    this.ctime = new Date(this.ctimeMs);
    this.birthtime = new Date(this.birthtimeMs);
  }
  protected fmt(): number {
    return this.mode & S_IFMT;
  }
}

function ns(t: number): bigint {
  return BigInt(Math.round(t));
}

export class BigIntStats extends StatsBase<bigint> {
  atimeMs: bigint;
  mtimeMs: bigint;
  ctimeMs: bigint;
  birthtimeMs: bigint;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  birthtimeNs: bigint;
  atime: Date;
  mtime: Date;
  ctime: Date;
  birthtime: Date;
  constructor(a: InodeAttr) {
    super();
    this.dev = BigInt(ZUFS_DEV);
    this.mode = BigInt(a.mode);
    this.nlink = BigInt(a.nlink);
    this.uid = BigInt(a.uid);
    this.gid = BigInt(a.gid);
    this.rdev = BigInt(a.rdev);
    this.blksize = 4096n;
    this.ino = BigInt(a.ino);
    this.size = BigInt(a.size);
    this.blocks = BigInt(blocks512(a));
    this.atimeNs = ns(a.atimeNs);
    this.mtimeNs = ns(a.mtimeNs);
    this.ctimeNs = ns(a.ctimeNs);
    this.birthtimeNs = this.ctimeNs;
    this.atimeMs = this.atimeNs / 1000000n;
    this.mtimeMs = this.mtimeNs / 1000000n;
    this.ctimeMs = this.ctimeNs / 1000000n;
    this.birthtimeMs = this.ctimeMs;
    this.atime = new Date(Number(this.atimeMs));
    this.mtime = new Date(Number(this.mtimeMs));
    this.ctime = new Date(Number(this.ctimeMs));
    this.birthtime = new Date(Number(this.birthtimeMs));
  }
  protected fmt(): number {
    return Number(this.mode) & S_IFMT;
  }
}

export function makeStats(a: InodeAttr, bigint?: boolean): Stats | BigIntStats {
  return bigint ? new BigIntStats(a) : new Stats(a);
}

/** DT_* (readdir's type) to S_IFMT. */
export function dtToMode(dt: number): number {
  return (dt & 0o17) << 12;
}

export class Dirent {
  constructor(
    readonly name: string,
    private readonly type: number,
    readonly parentPath: string,
  ) {}
  get path(): string {
    return this.parentPath;
  }
  isFile(): boolean {
    return this.type === S_IFREG;
  }
  isDirectory(): boolean {
    return this.type === S_IFDIR;
  }
  isSymbolicLink(): boolean {
    return this.type === S_IFLNK;
  }
  isCharacterDevice(): boolean {
    return this.type === S_IFCHR;
  }
  isBlockDevice(): boolean {
    return this.type === S_IFBLK;
  }
  isFIFO(): boolean {
    return this.type === S_IFIFO;
  }
  isSocket(): boolean {
    return this.type === S_IFSOCK;
  }
}

export interface StatFsResult {
  type: number;
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
}
