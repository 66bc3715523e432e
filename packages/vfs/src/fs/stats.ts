/** Stats, BigIntStats and Dirent shaped like Node's. */
import { type InspectOptions, inspect } from 'node:util';
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
  declare atimeMs: number;
  declare mtimeMs: number;
  declare ctimeMs: number;
  declare birthtimeMs: number;
  declare atime: Date;
  declare mtime: Date;
  declare ctime: Date;
  declare birthtime: Date;
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
  }
  protected fmt(): number {
    return this.mode & S_IFMT;
  }
}

function ns(t: number): bigint {
  return BigInt(Math.round(t));
}

export class BigIntStats extends StatsBase<bigint> {
  declare atimeMs: bigint;
  declare mtimeMs: bigint;
  declare ctimeMs: bigint;
  declare birthtimeMs: bigint;
  declare atimeNs: bigint;
  declare mtimeNs: bigint;
  declare ctimeNs: bigint;
  declare birthtimeNs: bigint;
  declare atime: Date;
  declare mtime: Date;
  declare ctime: Date;
  declare birthtime: Date;
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
    // Node's order: the Ms fields, then the Ns fields.
    const atimeNs = ns(a.atimeNs);
    const mtimeNs = ns(a.mtimeNs);
    const ctimeNs = ns(a.ctimeNs);
    this.atimeMs = atimeNs / 1000000n;
    this.mtimeMs = mtimeNs / 1000000n;
    this.ctimeMs = ctimeNs / 1000000n;
    this.birthtimeMs = this.ctimeMs;
    this.atimeNs = atimeNs;
    this.mtimeNs = mtimeNs;
    this.ctimeNs = ctimeNs;
    this.birthtimeNs = ctimeNs;
  }
  protected fmt(): number {
    return Number(this.mode) & S_IFMT;
  }
}

/**
 * The four Date fields are made when first read, as Node 22's Stats do (nodejs/node#50908): making
 * a Date costs ~40 ns here, the four of them as much as the rest of a stat. They are enumerable
 * accessors of the prototype until read or assigned, then own data properties (so a Date read twice
 * is the same object, and assigning one works). What differs from Node 20's eager fields: an unread
 * date is not an own property (Object.keys, a spread).
 */
function lazyDates(proto: object): void {
  for (const name of ['atime', 'mtime', 'ctime', 'birthtime'] as const) {
    const ms = `${name}Ms` as const;
    const own = (self: object, value: unknown) =>
      Object.defineProperty(self, name, { value, writable: true, enumerable: true, configurable: true });
    Object.defineProperty(proto, name, {
      enumerable: true,
      configurable: true,
      get(this: Record<typeof ms, number | bigint>) {
        const d = new Date(Number(this[ms]));
        own(this, d);
        return d;
      },
      set(this: object, value: unknown) {
        own(this, value);
      },
    });
  }
}
lazyDates(Stats.prototype);
lazyDates(BigIntStats.prototype);

const DATES = ['atime', 'mtime', 'ctime', 'birthtime'];

/** Reads the four dates, so that they are own properties as in Node 20's Stats. */
function withDates<T extends StatsBase<number | bigint>>(st: T): T {
  const d = st as unknown as Record<string, Date>;
  for (const name of DATES) void d[name];
  return st;
}

/** The fields as Node 20's Stats lists them: the dates last, whichever was read first. */
function fields(st: StatsBase<number | bigint>): Record<string, unknown> {
  const src = withDates(st) as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(src)) if (!DATES.includes(k)) out[k] = src[k];
  for (const k of DATES) out[k] = src[k];
  return out;
}
// JSON.stringify and console.log show what Node 20's eager fields show.
for (const proto of [Stats.prototype, BigIntStats.prototype]) {
  Object.defineProperty(proto, 'toJSON', {
    configurable: true,
    writable: true,
    value(this: StatsBase<number | bigint>) {
      return fields(this);
    },
  });
  Object.defineProperty(proto, inspect.custom, {
    configurable: true,
    writable: true,
    value(this: StatsBase<number | bigint>, _depth: number, options: InspectOptions) {
      return inspect(withDates(this), { ...options, customInspect: false });
    },
  });
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
