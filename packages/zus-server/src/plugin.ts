/**
 * The plugin API: what a filesystem type provides. A filesystem type is an ES module whose default
 * export is an FsType; the server loads it by specifier in every worker (register_fs).
 *
 * The isolate rule: every ZT is a separate V8 isolate. `mount()` runs once, in the mount thread, and
 * returns a descriptor made of plain data and SharedArrayBuffers; every ZT `attach()`es to it and gets
 * its own superblock object. State that every ZT must see lives in shared memory.
 */
import type { ZufRoot } from '@zufs/zuf-core';

export interface MountRequest {
  /** The superblock id the server gave this mount (unique for the server's life). */
  readonly sbId: number;
  /** The mount options, as the app wrote them ("key=value,flag,..."). */
  readonly options: string;
  readonly flags: number;
}

export interface MountResult<D> {
  /** Transferable: plain data and SharedArrayBuffers. Given to attach() in every ZT. */
  readonly descriptor: D;
  /** Inode number of the root directory. */
  readonly rootIno: number;
  /** ZUFS_FSC_* capabilities. */
  readonly caps?: number;
  readonly blocksizeBits?: number;
  /** dpp of the root zus_inode in the filesystem's pmem, if the filesystem shares its inodes. */
  readonly rootZi?: number;
}

/** What a ZT knows when it attaches to a mount. */
export interface AttachContext {
  readonly sbId: number;
  readonly root: ZufRoot;
  /** Index of this ZT in the grid (zt * channels + channel). */
  readonly zt: number;
}

/** What a plugin operation may ask of the ZT serving it. One object per ZT, reused. */
export interface OpContext {
  /** Index of the ZT in the grid. */
  readonly zt: number;
  /** True when the app's wait was interrupted (timeout, abort): a long operation may stop early. */
  interrupted(): boolean;
}

/** statfs output, filled in place (no allocation per call). */
export interface StatfsOut {
  type: number;
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  namelen: number;
  frsize: number;
  flags: number;
}

/**
 * The per-ZT superblock object a plugin returns from attach(). Methods that are absent answer
 * EOPNOTSUPP (or, for the ones ZUFS treats as optional, success). Throw a ZusError for an expected
 * failure; anything else thrown becomes EIO for that operation and a log line.
 */
export interface SuperBlock {
  statfs?(out: StatfsOut): void;
  /**
   * ioctl(2) on an inode: `arg` is the request's argument area (the reply goes there too). Returns the
   * number of reply bytes written at `arg`.
   */
  ioctl?(ino: number, cmd: number, arg: DataView, ctx: OpContext): number;
  /** PUT_MULTY: release what a GET_MULTY took. `io` holds a zufs_ioc_IO at byte `at`. */
  putMulty?(ino: number, io: DataView, at: number): void;
  /** Any operation the framework does not decode itself: the raw operation buffer and the slot's window. */
  operation?(operation: number, op: DataView, window: Uint8Array): number;
  /** Called in each ZT when the mount goes away. */
  detach?(): void;
}

export interface FsType<D = unknown> {
  /** At most 15 bytes (ZUFS allows 4 characters; we are less strict). */
  readonly name: string;
  readonly magic: number;
  readonly version?: { readonly major: number; readonly minor: number };
  /** ZUFS_FSC_* bits. */
  readonly caps?: number;
  readonly maxBytes?: number;
  readonly timeGranularityNs?: number;
  readonly defaultMode?: number;
  /** In the mount thread, once per mount. May be async. */
  mount(req: MountRequest): MountResult<D> | Promise<MountResult<D>>;
  /** In every ZT, once per mount, the first time an operation of the mount reaches it. */
  attach(descriptor: D, ctx: AttachContext): SuperBlock;
  /** In the mount thread, once, after the last operation. */
  umount?(descriptor: D): void | Promise<void>;
  remount?(descriptor: D, options: string, flags: number): void | Promise<void>;
}

/** Identity helper that types a plugin module's default export. */
export function defineFsType<D>(t: FsType<D>): FsType<D> {
  return t;
}
