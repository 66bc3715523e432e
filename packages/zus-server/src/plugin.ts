/**
 * The plugin API: what a filesystem type provides. A filesystem type is an ES module whose default
 * export is an FsType; the server loads it by specifier in every worker (register_fs).
 *
 * The isolate rule: every ZT is a separate V8 isolate. `mount()` runs once, in the mount thread, and
 * returns a descriptor made of plain data and SharedArrayBuffers; every ZT `attach()`es to it and gets
 * its own superblock object. State that every ZT must see lives in shared memory.
 */
import type { InodeGensDescriptor, ZufRoot } from '@zufs/zuf-core';
import type {
  APP_COPY_ABANDONED,
  APP_COPY_COPYING,
  APP_COPY_DONE,
  FiemapFill,
  Statfs,
  ZdeIter,
} from '@zufs/zuf-core/api';

export interface MountRequest<D = unknown> {
  /** The superblock id the server gave this mount (unique for the server's life). */
  readonly sbId: number;
  /** The mount options, as the app wrote them ("key=value,flag,..."). */
  readonly options: string;
  readonly flags: number;
  /**
   * Set when the server mounts this volume again under running applications, after its threads
   * were replaced (a server thread died, or a live reload): same sbId, same options. Applications
   * keep their open files by inode number, so the mount must answer for the same inodes: an inode
   * it no longer has gives ESTALE. See RestartInfo.
   */
  readonly restart?: RestartInfo<D>;
}

/** What a mount made again after a restart knows of the mount before it. */
export interface RestartInfo<D = unknown> {
  /** The descriptor the previous mount() returned; its shared memory is still there. */
  readonly previous: D;
  /** 'crash': a server thread died (the previous threads may have stopped anywhere); 'reload': a live reload, after every operation finished. */
  readonly reason: 'crash' | 'reload';
  /**
   * The server's restart count (1 for the first): new inode generations should be above any given
   * before the restart in this process (e.g. at least epoch * 2^32), so that an inode lost with
   * what the restart rolled back is never taken for a new one by an fd that still names it.
   */
  readonly epoch: number;
  /**
   * The previous threads died inside a change (a dead ZT was counted in the change seqlock): the
   * previous shared memory may hold a half-made change. A filesystem that keeps its own locks may
   * know better (a lock free means no change of its own was under way).
   */
  readonly midChange: boolean;
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
  /**
   * A mount made again after a restart (MountRequest.restart) serves from the previous mount's
   * shared memory: applications keep their views of it (their NIO maps and zus_inode reads).
   * Otherwise they drop them and ask the server until they are given the new memory.
   */
  readonly sharedKept?: boolean;
  /**
   * The app side may cache this mount's entries and attributes (the face's walk then makes no
   * crossing): `gens` are generation words the filesystem bumps (InodeGens.changed) for every inode
   * a change touches, after its commit and before its reply, so every thread of this process sees
   * its own and the others' changes at once; `ttlMs` (> 0) is how long the app may keep an answer,
   * which bounds how late it sees changes made where the words do not reach (other machines). A
   * filesystem with caches of its own in the ZTs counts their age in its promise: sqlfs gives each
   * side half its `ttl`. Absent (or ttlMs 0): the app caches nothing and asks every time.
   */
  readonly appCache?: { readonly gens: InodeGensDescriptor; readonly ttlMs: number };
}

/** What a ZT knows when it attaches to a mount. */
export interface AttachContext {
  readonly sbId: number;
  readonly root: ZufRoot;
  /** Index of this ZT in the grid (zt * channels + channel); -1 for an inline ZT (serveInline). */
  readonly zt: number;
}

/** How OpContext.copyFromApp went: one of zuf-core's APP_COPY_DONE, APP_COPY_ABANDONED, APP_COPY_COPYING. */
export type AppCopyResult = typeof APP_COPY_DONE | typeof APP_COPY_ABANDONED | typeof APP_COPY_COPYING;

/**
 * What an operation returns: its value, or a Promise of it (an asynchronous operation, such as one
 * that asks a database). A Promise's operation stays pending while other channels serve; it
 * settles within the type's opDeadlineMs or answers EIO. A rejection with a ZusError gives its
 * errno; any other rejection gives EIO and a log line.
 */
export type MaybeAsync<T> = T | PromiseLike<T>;

/**
 * What a plugin operation may ask of the ZT serving it: the last argument of every operation.
 * One object per channel, reused: read what you need of it before your operation's first await.
 */
export interface OpContext {
  /** Index of the channel in the grid (-1: an app thread serving its own operations, serveInline). */
  readonly zt: number;
  /**
   * Counts the channel's operations: with `zt`, it names the operation in progress, for a plugin
   * that keeps something from one of its calls to the next within an operation (sqlfs keeps a
   * LOOKUP's row for the getattr the server asks in the same operation). Costs nothing, where
   * `signal` as a key costs an AbortController (~4 us).
   */
  readonly seq: number;
  /** True when the app's wait was interrupted (timeout, abort): a long operation may stop early. */
  interrupted(): boolean;
  /**
   * Aborted when the app's wait is interrupted (its timeout, its AbortSignal) or the operation
   * outlives the type's opDeadlineMs: hand it to the client library (fetch, pg, the AWS SDK).
   * Made on first use (a synchronous operation that never asks pays nothing); one per operation.
   */
  readonly signal: AbortSignal;
  /**
   * For a WRITE with ZUFS_RW_APP_COPY (SuperBlock.appCopy): the app copies the data itself into
   * the shared memory it was given at mount (the filesystem's pmem). `runs` holds `n` triples:
   * byte offset there, offset in the write's data, length. Call it once, under the lock that keeps
   * those bytes yours. It returns when:
   * - APP_COPY_DONE: the app copied every run;
   * - APP_COPY_ABANDONED: it did not begin within ServerOptions.appCopyWaitMs (or could not be
   *   asked): nothing was written, nothing will be. Fail the write, keep nothing of it past the
   *   old size;
   * - APP_COPY_COPYING: it began and went silent past a second wait (a thread held still in a
   *   debugger, or ended mid-copy). Its copy may still land in those bytes at any later time: fail
   *   the write, and never give those bytes to anyone else (pmemfs hands the blocks to an unlinked
   *   inode that the next mount frees).
   */
  copyFromApp(runs: Float64Array, n: number): AppCopyResult;
}

/**
 * A name of a request (a zufs_str), as a view of the operation buffer: no copy and no allocation.
 * `bytes[at .. at + len)` are the name's UTF-8 bytes; `str()` decodes them once (cached).
 * Valid only during the call: the buffer is the next request's after the reply.
 */
export interface ZName {
  readonly bytes: Uint8Array;
  readonly at: number;
  readonly len: number;
  /** The name as a string (decoded on the first call, then cached until the next request). */
  str(): string;
  /** True when the name's bytes equal `b[bAt .. bAt + bLen)`. */
  equals(b: Uint8Array, bAt: number, bLen: number): boolean;
}

/**
 * The names of a LOOKUP_PATH request, as views of the operation buffer, and where each name's answer
 * goes: no copy and no allocation. One object per channel, reused: valid during the call (until its
 * Promise settles).
 */
export interface ZPath {
  /** How many names (at least 1). */
  readonly n: number;
  /**
   * Name `i` (0 <= i < n): one ZName object, pointed at that name each call (read it before the next).
   * Never empty, and never holding '/' or NUL (the server answers such a request EINVAL).
   */
  name(i: number): ZName;
  /**
   * Name `i` leads to inode `ino` (steps are given in order, 0 first): returns the view where its
   * 128-byte zus_inode copy goes; write it as getattr() writes one.
   */
  step(i: number, ino: number): DataView;
}

/**
 * The per-ZT superblock object a plugin returns from attach(): zus_sbi_operations and
 * zus_zii_operations of zus_api.h in one object. Every operation gets primitive arguments (inode
 * numbers, not cookies), views of the shared buffers and per-channel scratch objects, and last the
 * OpContext; it may return its value or a Promise of it (MaybeAsync: see FsType.opDeadlineMs and
 * the guide, "Asynchronous operations"). The views stay the operation's until it settles.
 * Methods that are absent answer what Linux answers for a filesystem without that operation (create
 * EACCES; mkdir, symlink, link, unlink, rename, setattr EPERM; statfs ENOSYS; read, write EINVAL;
 * xattrs, fallocate, clone, fiemap EOPNOTSUPP; with no change method at all, every change EROFS),
 * or, for the ones ZUFS treats as optional, success (evictInode, freeInode, mmapClose, sync,
 * preRead, putMulty). Throw a ZusError for an expected
 * failure; anything else thrown becomes EIO for that operation and a log line.
 *
 * Attributes (see docs/decisions.md, "Attributes travel as a zus_inode copy"): every operation that
 * hands the app an inode (lookup, newInode, setattr / getattr, removeDentry) answers with a 128-byte
 * zus_inode copy that the framework asks of getattr(); a filesystem that keeps its zus_inodes in
 * shared pmem may also give their dpp with ziDpp().
 */
export interface SuperBlock {
  /**
   * The filesystem's write honours ZUFS_RW_APP_COPY (then `buf` is empty and the data comes through
   * OpContext.copyFromApp). Without it such a WRITE gets EOPNOTSUPP and the app sends the data.
   */
  readonly appCopy?: boolean;
  // ~~~ zus_sbi_operations ~~~
  statfs?(out: Statfs, ctx: OpContext): MaybeAsync<void>;
  /** SHOW_OPTIONS: the mount options as text (at most ZUFS_MO_MAX bytes of UTF-8). */
  showOptions?(ctx: OpContext): MaybeAsync<string>;
  /**
   * NEW_INODE: create an inode from `zi` (i_mode, i_uid, i_gid, times, i_rdev; i_nlink and i_size
   * are the filesystem's to set) and, unless `flags & ZI_TMPFILE` (then `name` is null), link it as
   * `name` in directory `dir`. A symlink's target is `symlink` (a view, valid during the call).
   * Returns the new inode number. Throw EEXIST when `name` is taken: the app does not always look
   * it up first (mkdir asks straight away), and app threads of a mount may race for one name.
   */
  newInode?(
    dir: number,
    name: ZName | null,
    zi: DataView,
    flags: number,
    symlink: Uint8Array | null,
    ctx: OpContext,
  ): MaybeAsync<number>;
  /** FREE_INODE: the app dropped an inode whose i_nlink is 0: free it and its blocks. */
  freeInode?(ino: number, ctx: OpContext): MaybeAsync<void>;
  /** LOOKUP: the inode number of `name` in directory `dir`; 0 (or a thrown ENOENT) when it is not there. */
  lookup?(dir: number, name: ZName, ctx: OpContext): MaybeAsync<number>;
  /**
   * LOOKUP_PATH (optional; for a filesystem whose every LOOKUP costs a round trip to somewhere else):
   * the names of `path` looked up one in the other from directory `dir`, in one call. For each name
   * resolved, in order, call `path.step(i, ino)` and write the inode's zus_inode copy into the view
   * it returns (the attributes a LOOKUP's reply would carry, as current). Return how many names were
   * resolved: stop at a name that is not there (return its index; never throw ENOENT for it) and
   * after an inode that is not a directory (nothing is under it). Check no permission: the framework
   * cuts the walk after a symlink (the app follows it), after a non-directory, and after a directory
   * the caller may not search (its x bits for the request's uid and gid, as the app's own walk checks:
   * zuf-core's modePermits), from the copies you wrote, and the app goes on from there by itself; a
   * name left missing is ENOENT to the app. When the app does not know `dir`'s attributes
   * (ZUFS_LP_START), the framework asks getattr(dir) after this call, in the same operation (a
   * filesystem may answer it from what this call read), and goes nowhere unless the caller may
   * search it. Declare ZUFS_FSC_LOOKUP_PATH in MountResult.caps with it: only then does the app
   * send it (to a superblock without this method it answers EOPNOTSUPP, and the app walks with
   * LOOKUPs).
   */
  lookupPath?(dir: number, path: ZPath, ctx: OpContext): MaybeAsync<number>;
  /** ADD_DENTRY (link): link inode `ino` as `name` in `dir` and raise its i_nlink (EEXIST when taken). */
  addDentry?(dir: number, ino: number, name: ZName, ctx: OpContext): MaybeAsync<void>;
  /**
   * REMOVE_DENTRY (unlink, rmdir): remove `name` (inode `ino`) from `dir` and lower its i_nlink (a
   * directory's to 0); throw ENOTEMPTY for a directory that has entries. When `name` no longer
   * names `ino` (the app's view is stale: another thread renamed or removed it), throw ENOENT and
   * change nothing: the app looks the name up again. The app frees the inode (FREE_INODE) once
   * i_nlink is 0 and it has no users left.
   */
  removeDentry?(dir: number, ino: number, name: ZName, ctx: OpContext): MaybeAsync<void>;
  /**
   * RENAME (renameat2): `flags` RENAME_NOREPLACE (EEXIST when the target exists) or RENAME_EXCHANGE
   * (swap the two). A replaced target loses a link (a directory target must be empty: ENOTEMPTY);
   * `timeNs` is the ctime/mtime to set: on both
   * directories, and the ctime of the moved inode (the app side sends no SETATTR for it). Return
   * the inode the rename replaced (0: none): the app frees it when that was its last link, and
   * learns it from you, not from its own view of the target, which another thread may have changed.
   * A filesystem that returns nothing leaves the app to its view.
   */
  rename?(
    oldDir: number,
    oldName: ZName,
    newDir: number,
    newName: ZName,
    flags: number,
    timeNs: number,
    ctx: OpContext,
  ): MaybeAsync<number | undefined>;
  /**
   * READDIR: emit entries of `dir` starting at cookie `pos` (0: the start) with zdeEmit(it, ino,
   * DT_type, posOfNextEntry, name) until it returns false; the framework answers `more` from it.
   * "." and ".." are not emitted (the app side makes them).
   */
  readdir?(dir: number, pos: number, it: ZdeIter, ctx: OpContext): MaybeAsync<void>;
  /** The dpp (pool 0) of an inode's zus_inode when the filesystem keeps it in shared pmem, else 0. */
  ziDpp?(ino: number): number;

  // ~~~ zus_zii_operations ~~~
  /** EVICT_INODE: the app forgot the inode (it keeps its links). `flags`: ZI_LOOKUP_RACE. */
  evictInode?(ino: number, flags: number, ctx: OpContext): MaybeAsync<void>;
  /** Writes the inode's 128-byte zus_inode into `zi` (the attribute copy of a reply). */
  getattr?(ino: number, zi: DataView, ctx: OpContext): MaybeAsync<void>;
  /** SETATTR: apply the fields named by `mask` (STATX_* | ZUFS_STATX_*) from `zi` (STATX_SIZE: truncate). */
  setattr?(ino: number, mask: number, zi: DataView, ctx: OpContext): MaybeAsync<void>;
  /**
   * READ: copy up to `len` bytes at file position `pos` to `buf[at ..]` (the map window, or a shared
   * pool). Returns the bytes read (short at end of file). A symlink reads as its target.
   */
  read?(
    ino: number,
    pos: number,
    len: number,
    buf: Uint8Array,
    at: number,
    ctx: OpContext,
  ): MaybeAsync<number>;
  /** PRE_READ: read-ahead hint for [pos, pos + len). */
  preRead?(ino: number, pos: number, len: number, ctx: OpContext): MaybeAsync<void>;
  /**
   * WRITE: `len` bytes at `buf[at ..]` to file position `pos` (`rw & ZUFS_RW_APPEND`: at the end of
   * the file, whatever `pos`). Returns the file position just past the last byte written.
   */
  write?(
    ino: number,
    pos: number,
    len: number,
    buf: Uint8Array,
    at: number,
    rw: number,
    ctx: OpContext,
  ): MaybeAsync<number>;
  /** GET_MULTY (NIO reads/writes): fill the io-map of the zufs_ioc_IO at `at` of `io`. */
  getMulty?(ino: number, io: DataView, at: number, ctx: OpContext): MaybeAsync<void>;
  /** PUT_MULTY: release what a GET_MULTY took. `io` holds a zufs_ioc_IO at byte `at`. */
  putMulty?(ino: number, io: DataView, at: number, ctx: OpContext): MaybeAsync<void>;
  /** MMAP_CLOSE: the last mapping of the file went away. */
  mmapClose?(ino: number, rw: number, ctx: OpContext): MaybeAsync<void>;
  /** SYNC: make [offset, offset + length) durable (length 0: all); `flags` ZUFS_SF_*. */
  sync?(ino: number, offset: number, length: number, flags: number, ctx: OpContext): MaybeAsync<void>;
  /**
   * FALLOCATE: `mode` FALLOC_FL_* over [pos, end), or ZUFS_FL_TRUNCATE: set the size to `pos` and
   * free what lies past it (`end` is then meaningless).
   */
  fallocate?(ino: number, mode: number, pos: number, end: number, ctx: OpContext): MaybeAsync<void>;
  /** LLSEEK: SEEK_DATA / SEEK_HOLE from `offset`; returns the offset found (ENXIO past the end). */
  seek?(ino: number, offset: number, whence: number, ctx: OpContext): MaybeAsync<number>;
  /** CLONE / COPY (`copy` true): `len` bytes (0: to the end of src) from src@posIn to dst@posOut. */
  clone?(
    src: number,
    dst: number,
    posIn: number,
    posOut: number,
    len: number,
    copy: boolean,
    ctx: OpContext,
  ): MaybeAsync<void>;
  /**
   * ioctl(2) on an inode: `arg` is the request's argument area (the reply goes there too). Returns the
   * number of reply bytes written at `arg`.
   */
  ioctl?(ino: number, cmd: number, arg: DataView, ctx: OpContext): MaybeAsync<number>;
  /**
   * XATTR_GET: the value of `name` in namespace `type` (ZUF_XF_*, the name has no prefix) into
   * `out[at .. at + max)`; returns its size. With `max` 0 only the size is asked; throw ERANGE when it
   * does not fit, ENODATA when there is no such attribute.
   */
  getxattr?(
    ino: number,
    type: number,
    name: ZName,
    out: Uint8Array,
    at: number,
    max: number,
    ctx: OpContext,
  ): MaybeAsync<number>;
  /**
   * XATTR_SET: `value` is `buf[at .. at + len)`, or null for a removal (ENODATA when absent). `flags`
   * XATTR_CREATE (EEXIST) / XATTR_REPLACE (ENODATA).
   */
  setxattr?(
    ino: number,
    type: number,
    name: ZName,
    buf: Uint8Array | null,
    at: number,
    len: number,
    flags: number,
    ctx: OpContext,
  ): MaybeAsync<void>;
  /**
   * XATTR_LIST: the full names ("user.x\0security.y\0") into `out[at .. at + max)`; returns their
   * size (`max` 0: only the size; ERANGE when they do not fit). `trusted`: trusted.* may be listed.
   */
  listxattr?(
    ino: number,
    out: Uint8Array,
    at: number,
    max: number,
    trusted: boolean,
    ctx: OpContext,
  ): MaybeAsync<number>;
  /** FIEMAP: add extents with fiemapFillNextExtent(fill, ...) for [start, start + length). */
  fiemap?(
    ino: number,
    fill: FiemapFill,
    start: number,
    length: number,
    flags: number,
    ctx: OpContext,
  ): MaybeAsync<void>;

  /** Any operation the framework does not decode itself: the raw operation buffer and the slot's window. */
  operation?(operation: number, op: DataView, window: Uint8Array): number;
  /** Called in each ZT when the mount goes away. */
  detach?(): void;
}

export interface FsType<D = unknown> {
  /** At most 15 bytes (ZUFS allows 4 characters; we are less strict). */
  readonly name: string;
  readonly magic: number;
  /**
   * The on-image format's version. A live reload (ZusServer.reload) keeps volumes mounted only
   * across the same major version: a new major is refused and the old code keeps serving.
   */
  readonly version?: { readonly major: number; readonly minor: number };
  /** ZUFS_FSC_* bits. */
  readonly caps?: number;
  readonly maxBytes?: number;
  readonly timeGranularityNs?: number;
  readonly defaultMode?: number;
  /**
   * The filesystem lives on the network (a database, an object store, another machine): its
   * operations return Promises. Its ZT threads then always wait on their channels from their event
   * loop (Atomics.waitAsync), so its client library's sockets and timers run between operations,
   * and no thread serves its operations inline (serveInline refuses it).
   */
  readonly remote?: boolean;
  /**
   * How long an operation that returned a Promise may stay pending: past it the app gets EIO, the
   * operation's signal aborts, and its channel waits for the Promise to settle before it serves
   * again (the plugin may still write into the operation's buffers). Default 30 000 ms.
   */
  readonly opDeadlineMs?: number;
  /**
   * In the mount thread, once per mount; again after a restart (req.restart). May be async. A
   * filesystem that cannot take a restart over throws: the mount is then gone (EIO for its users).
   */
  mount(req: MountRequest<D>): MountResult<D> | Promise<MountResult<D>>;
  /** In every ZT, once per mount, the first time an operation of the mount reaches it. */
  attach(descriptor: D, ctx: AttachContext): SuperBlock;
  /** In the mount thread, once, after the last operation. */
  umount?(descriptor: D): void | Promise<void>;
  /**
   * In the mount thread: `options` change a mounted volume (ZUFS_REM_* `flags`). A restart mounts
   * the volume again with the mount's options, each key the remount gave taking its new value; a
   * filesystem whose remount means something else returns the whole options to mount again with.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a hook that returns nothing (sync or async) is the usual one
  remount?(descriptor: D, options: string, flags: number): void | string | Promise<void | string>;
}

/** Identity helper that types a plugin module's default export. */
export function defineFsType<D>(t: FsType<D>): FsType<D> {
  return t;
}
