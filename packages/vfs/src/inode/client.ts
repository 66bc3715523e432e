/**
 * The inode-level client: the app side of every zus_api operation for one mount, in one thread. The
 * node:fs face and the FUSE bridge sit on it. Inodes are named by their zus_ii cookie (`ii`).
 *
 * Attributes: each reply that hands over an inode carries a 128-byte zus_inode copy after its struct
 * (see docs/decisions.md, "Attributes travel as a zus_inode copy"). When the server also gives a
 * pool-0 dpp and this client was given the filesystem's pmem, attributes are read from pmem instead
 * (and getattr needs no dispatch).
 */
import {
  type AppCacheOffer,
  type CallOptions,
  type Channel,
  CTL_EPOCH,
  CTL_SHARED_EPOCH,
  changeTicket,
  changeValid,
  copyShared,
  type Dispatcher,
  dispatcherFor,
  type MountInfo,
  SharedBytes,
  type ZufRoot,
  ZufsError,
  zeroShared,
} from '@zufs/zuf-core';
import {
  decodeZusInodeAttr,
  decodeZusInodeWords,
  dppOffset,
  dppPool,
  Errno,
  getU64,
  HOST_LITTLE_ENDIAN,
  IO_POOL_LENT,
  IocAttr,
  IocClone,
  IocDentry,
  IocEvictInode,
  IocFiemap,
  IocHdr,
  IocIO,
  IocLookup,
  IocLookupPath,
  IocMountOptions,
  IocNewInode,
  IocReaddir,
  IocRename,
  IocSeek,
  IocStatfs,
  IocSync,
  IocXattr,
  iomT1Bn,
  isDir,
  LookupPathStep,
  lookupPathNamesAt,
  newZusInodeAttr,
  opName,
  RENAME_EXCHANGE,
  readUtf8,
  S_IFDIR,
  S_IFLNK,
  S_IFREG,
  SEEK_CUR,
  SEEK_END,
  SEEK_SET,
  STATX_ATIME,
  STATX_CTIME,
  STATX_GID,
  STATX_MODE,
  STATX_MTIME,
  STATX_SIZE,
  STATX_UID,
  type Statfs,
  Statfs64,
  setTimeNs,
  setU64,
  utf8Length,
  writeUtf8,
  writeZstr,
  type ZdeEntry,
  type ZdeIter,
  ZI_COPY,
  ZI_TMPFILE,
  ZUF_XF_SECURITY,
  ZUF_XF_SYSTEM,
  ZUF_XF_TRUSTED,
  ZUF_XF_USER,
  ZUFS_FL_TRUNCATE,
  ZUFS_FSC_LOOKUP_PATH,
  ZUFS_FSC_SHARED,
  ZUFS_INODE_SIZE,
  ZUFS_LP_MISSING,
  ZUFS_LP_START,
  ZUFS_MAX_SYMLINK,
  ZUFS_MO_MAX,
  ZUFS_NAME_LEN,
  ZUFS_OP_ADD_DENTRY,
  ZUFS_OP_CLONE,
  ZUFS_OP_COPY,
  ZUFS_OP_EVICT_INODE,
  ZUFS_OP_FALLOCATE,
  ZUFS_OP_FIEMAP,
  ZUFS_OP_FREE_INODE,
  ZUFS_OP_GET_MULTY,
  ZUFS_OP_LLSEEK,
  ZUFS_OP_LOOKUP,
  ZUFS_OP_LOOKUP_PATH,
  ZUFS_OP_NEW_INODE,
  ZUFS_OP_READ,
  ZUFS_OP_READDIR,
  ZUFS_OP_REMOVE_DENTRY,
  ZUFS_OP_RENAME,
  ZUFS_OP_SETATTR,
  ZUFS_OP_SHOW_OPTIONS,
  ZUFS_OP_STATFS,
  ZUFS_OP_SYNC,
  ZUFS_OP_WRITE,
  ZUFS_OP_XATTR_GET,
  ZUFS_OP_XATTR_LIST,
  ZUFS_OP_XATTR_SET,
  ZUFS_RET_APP_COPY,
  ZUFS_RW_APP_COPY,
  ZUFS_RW_APPEND,
  ZUFS_SF_DATASYNC,
  ZUFS_XATTR_SET_EMPTY,
  ZUFS_XATTR_TRUSTED,
  ZufsIomap,
  ZusInode,
  type ZusInodeAttr,
  zdeIterInit,
  zdeNext,
} from '@zufs/zuf-core/api';
import { type Asked, EntryCache } from './entry-cache.js';

/** A decoded zus_inode (the api's ZusInodeAttr). */
export type InodeAttr = ZusInodeAttr;

export interface LookupResult {
  ii: number;
  ino: number;
  attr: InodeAttr;
}

export interface InodeClientOptions {
  /** The filesystem's pmem (pool 0), for filesystems that share their zus_inodes: attributes are read there. */
  pmem?: Uint8Array | SharedBytes;
  /** True when the inode still has users (open files): unlink then leaves FREE_INODE to release(). */
  inUse?(ii: number): boolean;
  /** Bytes of the app buffer a READDIR dispatch asks the server to fill (default 32 KiB, at most the window). */
  readdirBytes?: number;
  /**
   * The mount's namespace generations, shared by every thread of the mount: word 0 is bumped after
   * every change that can break a resolution (unlink, rmdir, rename, chmod/chown, FREE_INODE), word 1
   * (when present) after every name added (create, mkdir, mknod, symlink, link).
   */
  nsGen?: Int32Array;
}

/** setattr input: the fields named by the STATX_* mask are taken. */
export interface SetAttr {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atimeNs?: number;
  mtimeNs?: number;
  ctimeNs?: number;
}

export const newAttr = newZusInodeAttr;

/** Decodes a 128-byte zus_inode at `at` of `dv` into `out`. */
export const readZusInode = (dv: DataView, at: number, out: InodeAttr): InodeAttr =>
  decodeZusInodeAttr(dv, at, out);

const XATTR_PREFIXES: readonly [string, number][] = [
  ['user.', ZUF_XF_USER],
  ['trusted.', ZUF_XF_TRUSTED],
  ['security.', ZUF_XF_SECURITY],
  ['system.', ZUF_XF_SYSTEM],
];

const decoder = new TextDecoder();
/** NIO reads address pmem in blocks of this size (zufs's PAGE_SIZE). */
const BLOCK = 4096;
/** NIO reads ask GET_MULTY for the block map this far ahead (a later read of it needs no dispatch). */
const MAP_AHEAD = 1024 * 1024;
/** The least a GET_MULTY maps ahead, once maps keep being voided right after their first read. */
const MAP_AHEAD_MIN = 16 * 1024;
/** A write of this much or more is copied by the app straight into pmem (ZUFS_RW_APP_COPY). */
const APP_COPY_MIN = 32 * 1024;
/** A write copies this much into the window or more: a parked ZT is woken before the copy (nudge). */
const NUDGE_MIN = 64 * 1024;

/** Clears ch.opBytes[from, to) (zeroShared: fill() on shared memory goes a byte at a time). */
function clearOp(ch: Channel, from: number, to: number): void {
  zeroShared(ch.opBytes, from, to - from);
}
/** Whole-block views a client keeps (a power of 2): see BlockMap.view. */
const VIEW_SLOTS = 512;
/** Copies of a zus_inode from pmem tried while changes keep coming, before asking the server. */
const PMEM_READ_TRIES = 64;

function fail(err: number, syscall: string, what?: string): never {
  throw ZufsError.fromErrno(err, syscall, what);
}

/**
 * Thrown, in soon mode (InodeClient.beginSoon), by a read that a walk needs (LOOKUP, a getattr)
 * when its reply did not come within the spin: the request is in flight, and `done` settles once
 * its result is kept for the next attempt. The caller awaits it and runs its call again; the reads
 * it had made are answered from what was kept, so nothing is asked twice.
 */
export class Pending {
  constructor(
    readonly done: Promise<void>,
    /** Where the call's replies are kept: its next attempts run with it (beginSoon). */
    readonly kept: SoonKept,
  ) {}
}

/** The replies one call in soon mode kept, by request: its own, never another call's. */
export class SoonKept {
  readonly finds = new Map<string, Kept<LookupResult | null>>();
  readonly attrs = new Map<number, Kept<InodeAttr>>();
  readonly batches = new Map<string, Kept<ReaddirBatch>>();
  /** LOOKUP_PATH answers, by start directory, caller and names (null: the filesystem has none). */
  readonly paths = new Map<string, Kept<PathAnswer | null>>();

  constructor(
    /** The namespace word (nsGen[0]) when the call's attempt that asked first began (-1: none). */
    readonly names: number,
    /** How often the call dropped what it had kept because names changed while it waited. */
    readonly drops = 0,
  ) {}
}

/** Drops of a call's kept replies (names kept changing while it waited) before it waits on the thread. */
const SOON_DROPS_MAX = 3;

/** A LOOKUP_PATH's answer: an entry a name resolved; the name after them is missing; the start's attributes (ZUFS_LP_START). */
type PathAnswer = { entries: LookupResult[]; missing: boolean; start: InodeAttr | null };

/** One READDIR's entries: names, and (ino, type, cookie after it) for each; more to come. */
type ReaddirBatch = { names: string[]; nums: number[]; more: boolean };

/** A kept reply of soon mode: the result, or what it threw. */
type Kept<T> = { ok: true; value: T } | { ok: false; error: unknown };

const settle = <T>(fn: () => T): Kept<T> => {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
};

const unkept = <T>(k: Kept<T>): T => {
  if (!k.ok) throw k.error;
  return k.value;
};

export class InodeClient {
  readonly rootIi: number;
  readonly sbId: number;
  private readonly d: Dispatcher;
  private pmemView: DataView | null;
  /** pmem as words, for zus_inodes (decodeZusInodeWords): null on a big-endian host. */
  private pmemWords: Uint32Array | null;
  /**
   * Where each inode's zus_inode lies in pmem (0: not known, or released). A released inode's
   * entry is set to 0, not deleted: a Map that deletes and re-adds a key at every create/remove
   * pair rehashes (~0.2 us a pair).
   */
  private readonly ziDpps = new Map<number, number>();
  private readonly readdirBytes: number;
  private readonly linkBuf = new Uint8Array(ZUFS_MAX_SYMLINK);
  private readonly iter: ZdeIter;
  private readonly ent: ZdeEntry = { ino: 0, type: 0, pos: 0, name: '', nameAt: 0, nameLen: 0 };
  /** The shared namespace generation word (index 0), or null when names are not cached. */
  readonly nsGen: Int32Array | null;
  /** The filesystem's names change elsewhere too (ZUFS_FSC_SHARED): paths are not cached. */
  readonly namesChangeElsewhere: boolean;
  /**
   * The filesystem answers LOOKUP_PATH (ZUFS_FSC_LOOKUP_PATH): findPath() asks several names of a
   * path in one operation. Off if it answers EOPNOTSUPP.
   */
  private pathLookups: boolean;
  /** How often this client moved nsGen (a face tells its own changes from other threads'). */
  nsBumps = 0;
  /** The entry the last unlink or rmdir removed (after a stale `known`, not the one given). */
  lastRemoved: LookupResult | null = null;
  /** The inode the last rename replaced, as the filesystem reported it (0: none). */
  lastReplaced = 0;
  /** The zuf-root's restart count, and its CTL_SHARED_EPOCH, when this client last looked. */
  private epoch: number;
  private sharedEpoch: number;
  /** NIO reads (GET_MULTY, then one copy from pmem): on until the filesystem says it has none. */
  private nio: boolean;
  /** Large writes copied by the app into pmem: on until the filesystem says EOPNOTSUPP. */
  private appCopy = true;
  /** The block map of the range last asked for by GET_MULTY, with its change-seqlock ticket. */
  private readonly map = new BlockMap();
  /**
   * How far GET_MULTY maps ahead: MAP_AHEAD while maps serve later reads; cut down to MAP_AHEAD_MIN
   * while each is voided (a change anywhere) before a second read, as with reads between writes,
   * where a 1 MiB map (256 entries, ~6 us) would be paid for every small read.
   */
  private mapAhead = MAP_AHEAD;
  /** Reads the current map served without a GET_MULTY of their own. */
  private mapHits = 0;
  private pmemBytes: SharedBytes | null;
  /** The filesystem type declared itself remote (FsType.remote): soon mode waits without spinning. */
  readonly remote: boolean;
  /**
   * Soon mode (beginSoon): the reads that change nothing (LOOKUP, LOOKUP_PATH, getattr, READDIR)
   * do not hold the thread past a spin; they throw Pending instead, until the first change
   * (settle()).
   */
  private soon = false;
  /** In soon mode: a LOOKUP may wait off the thread, a create (a change) would end that. */
  get inSoonMode(): boolean {
    return this.soon;
  }
  /** The replies the call in soon mode kept (made at its first Pending; null until then). */
  private kept: SoonKept | null = null;
  /** The namespace word when the attempt in soon mode began (what a SoonKept made now records). */
  private soonNames = -1;
  /** The channel of a soon-mode read whose reply is still to come (callOrKeep). */
  private held: Channel | null = null;
  /**
   * The Pending of this call's attempt, once one was thrown: a caller that caught it (a face helper
   * that turns errors into answers) cannot go on to change anything, since every later request, and
   * settle(), throws it again; runSoon takes it (takePending) whatever the attempt returned.
   */
  private pendingNow: Pending | null = null;
  /**
   * The face unmounted the filesystem (unmounted()): a request now would name a superblock the
   * server no longer has (it answers EINVAL); a call that began before, and waited past the umount
   * (soon mode), fails with EIO instead.
   */
  private gone = false;
  /**
   * Entries and attributes kept on this side, for a filesystem that allows it (MountResult.appCache,
   * ZUFS_FSC_APP_CACHE): null otherwise, and from a restart that replaced its shared memory on.
   */
  private entries: EntryCache | null;

  constructor(
    readonly root: ZufRoot,
    readonly mount: MountInfo,
    private readonly opts: InodeClientOptions = {},
  ) {
    this.rootIi = mount.rootIi;
    this.sbId = mount.sbId;
    // The first restarted() looks: the pmem a posted MountInfo carries may predate a restart.
    this.epoch = -1;
    this.sharedEpoch =
      (mount as MountInfo & { pmemEpoch?: number }).pmemEpoch ?? Atomics.load(root.ctl, CTL_SHARED_EPOCH);
    this.remote = mount.fsType.remote === true;
    this.d = dispatcherFor(root);
    // vfs's mount() puts the namespace word and the published pmem on the MountInfo it hands out,
    // so a client built in any thread from that (posted) MountInfo shares them.
    const shared = mount as MountInfo & { shared?: SharedArrayBuffer; pmem?: SharedArrayBuffer };
    // A device past 4 GiB has no single Uint8Array (zuf-core SharedBytes); words and DataViews reach 16 GiB.
    const p = opts.pmem
      ? opts.pmem instanceof SharedBytes
        ? opts.pmem
        : SharedBytes.of(opts.pmem)
      : shared.pmem
        ? new SharedBytes(shared.pmem)
        : undefined;
    this.pmemView = p ? new DataView(p.buffer, p.byteOffset, p.byteLength) : null;
    this.pmemWords =
      p && HOST_LITTLE_ENDIAN && (p.byteOffset & 3) === 0
        ? new Uint32Array(p.buffer, p.byteOffset, Math.floor(p.byteLength / 4)) // 4 GiB >>> 2 is 0
        : null;
    this.pmemBytes = p ?? null;
    this.nio = this.pmemBytes !== null;
    this.nsGen = opts.nsGen ?? (shared.shared ? new Int32Array(shared.shared, 0, 2) : null);
    this.namesChangeElsewhere = (mount.caps & ZUFS_FSC_SHARED) !== 0;
    this.pathLookups = (mount.caps & ZUFS_FSC_LOOKUP_PATH) !== 0;
    const offer = (mount as MountInfo & { appCache?: AppCacheOffer }).appCache;
    this.entries = offer ? new EntryCache(offer) : null;
    if (mount.rootZi && p) this.ziDpps.set(mount.rootIi, mount.rootZi);
    this.readdirBytes = Math.min(opts.readdirBytes ?? 32 * 1024, root.slots[0].window.byteLength);
    this.iter = zdeIterInit(new DataView(new ArrayBuffer(0)), 0, 0);
  }

  // ~~~ names and attributes ~~~

  /** LOOKUP: `name` in directory `dirIi`. Pass `out` to reuse a result object (no allocation). */
  lookup(dirIi: number, name: string, out?: LookupResult): LookupResult {
    const r = this.find(dirIi, name, out);
    if (r === null) fail(Errno.ENOENT, 'lookup', name);
    return r;
  }

  /** lookup(), with null for a name that is not there (no error built: ENOENT is common). */
  find(dirIi: number, name: string, out?: LookupResult): LookupResult | null {
    let ec = this.entries;
    if (ec !== null && this.restarted()) ec = this.entries;
    const key = this.soon || ec !== null ? `${dirIi}/${name}` : '';
    let dirIno = -1;
    let asked: Asked | null = null;
    if (ec !== null) {
      const ii = ec.name(key);
      if (ii === 0) return null;
      if (ii > 0) {
        const r = out ?? { ii: 0, ino: 0, attr: newAttr() };
        if (ec.attr(ii, r.attr)) {
          r.ii = ii;
          r.ino = r.attr.ino;
          return r;
        }
      }
      // Kept under its directory's word: a directory this cache has not met is asked each time.
      dirIno = ec.inoOf(dirIi);
      if (dirIno >= 0) asked = ec.begin();
    }
    if (this.kept !== null) {
      const k = this.kept.finds.get(key);
      if (k) return copyLookup(unkept(k), out);
    }
    const ch = this.begin(ZUFS_OP_LOOKUP, IocLookup.SIZE, IocLookup._zi, ZI_COPY.LOOKUP + ZUFS_INODE_SIZE);
    try {
      setU64(ch.op, IocLookup.dir_ii, dirIi);
      this.name(ch.op, IocLookup.str, name, 'lookup');
      const err = this.callOrKeep(ch, (e, kept) =>
        kept.finds.set(
          key,
          settle(() => this.findReply(ch, e, name)),
        ),
      );
      const r = this.findReply(ch, err, name, out);
      if (asked !== null) {
        ec!.putName(key, dirIno, r === null ? 0 : r.ii, asked);
        if (r !== null) ec!.putAttr(r.ii, r.attr, asked);
      }
      return r;
    } finally {
      this.releaseUnlessHeld(ch);
    }
  }

  /** findPath() may ask several names in one operation (else it is one find()). */
  get asksPaths(): boolean {
    return this.pathLookups;
  }

  /**
   * `names` looked up one in the other from directory `dirIi`, for a walk by `uid`:`gid`: an entry
   * for each name resolved is pushed on `out`, in order. The filesystem answers as many as it can in
   * one LOOKUP_PATH and stops after a symlink, a non-directory or a directory the caller may not
   * search (the caller's walk sees why from the last entry, and goes on by itself); a name this
   * side's cache knows is answered from it, alone (the walk asks again for the rest). Returns true
   * when the name after the last pushed is known to be missing. `start`: the caller does not know
   * `dirIi`'s attributes; they are asked in the same request (ZUFS_LP_START) and written there
   * (its `ino` stays 0 when they were not: the caller asks getattr). On a filesystem without
   * LOOKUP_PATH, or for one name without `start`: one find(). In soon mode, a reply that outlives
   * the spin throws Pending, and the call's next attempt gets it from what was kept (as find()).
   */
  findPath(
    dirIi: number,
    names: readonly string[],
    uid: number,
    gid: number,
    out: LookupResult[],
    start: InodeAttr | null = null,
  ): boolean {
    const ec = this.entryCache();
    if (
      (names.length < 2 && start === null) ||
      !this.pathLookups ||
      (ec !== null && ec.name(`${dirIi}/${names[0]}`) >= 0)
    ) {
      const r = this.find(dirIi, names[0]);
      if (r !== null) out.push(r);
      return r === null;
    }
    const key = this.soon ? `${dirIi}:${uid}:${gid}:${start !== null}:${names.join('/')}` : '';
    const k = this.kept?.paths.get(key);
    let missing: boolean | null;
    if (k !== undefined) {
      const a = unkept(k);
      if (a !== null) {
        out.push(...a.entries);
        if (start !== null && a.start !== null) Object.assign(start, a.start);
      }
      missing = a === null ? null : a.missing;
    } else missing = this.askPath(dirIi, names, uid, gid, out, key, start);
    if (missing !== null) return missing;
    this.pathLookups = false; // a mount that declared it without the method: LOOKUPs from now on
    return this.findPath(dirIi, names.slice(0, 1), uid, gid, out);
  }

  /** findPath()'s LOOKUP_PATH; null when the filesystem has none (EOPNOTSUPP). */
  private askPath(
    dirIi: number,
    names: readonly string[],
    uid: number,
    gid: number,
    out: LookupResult[],
    key: string,
    start: InodeAttr | null,
  ): boolean | null {
    const ec = this.entries;
    // As many names as the request carries (its steps, then the names).
    const lens: number[] = [];
    let bytes = 0;
    for (const name of names) {
      const len = utf8Length(name);
      if (len > ZUFS_NAME_LEN) fail(Errno.ENAMETOOLONG, 'lookup', name.slice(0, 32));
      if (len === 0) fail(Errno.ENOENT, 'lookup', 'empty name');
      lens.push(len);
      bytes += 1 + len;
    }
    const asked = ec !== null ? ec.begin() : null;
    const ch = this.begin(ZUFS_OP_LOOKUP_PATH, 0);
    try {
      let n = names.length;
      const room = Math.min(ch.capacity, 0xffff);
      while (n > 1 && lookupPathNamesAt(n) + bytes > room) bytes -= 1 + lens[--n];
      ch.begin(
        ZUFS_OP_LOOKUP_PATH,
        lookupPathNamesAt(n) + bytes,
        IocLookupPath.done,
        lookupPathNamesAt(n) - IocLookupPath.done,
      );
      const v = ch.op;
      setU64(v, IocLookupPath.dir_ii, dirIi);
      v.setUint32(IocLookupPath.uid, uid, true);
      v.setUint32(IocLookupPath.gid, gid, true);
      v.setUint16(IocLookupPath.names, n, true);
      v.setUint32(IocLookupPath.flags, start !== null ? ZUFS_LP_START : 0, true);
      for (let i = 0, at = lookupPathNamesAt(n); i < n; at += 1 + lens[i++]) writeZstr(v, at, names[i]);
      const err = this.callOrKeep(ch, (e, kept) =>
        kept.paths.set(
          key,
          settle(() => {
            const entries: LookupResult[] = [];
            if (e === -Errno.EOPNOTSUPP) return null;
            const first = start === null ? null : newAttr();
            const missing = this.pathReply(ch, e, dirIi, names, n, null, entries, first);
            return { entries, missing, start: first };
          }),
        ),
      );
      return err === -Errno.EOPNOTSUPP ? null : this.pathReply(ch, err, dirIi, names, n, asked, out, start);
    } finally {
      this.releaseUnlessHeld(ch);
    }
  }

  /** LOOKUP_PATH's reply: its entries on `out`, and into this side's cache as LOOKUP answers go. */
  private pathReply(
    ch: Channel,
    err: number,
    dirIi: number,
    names: readonly string[],
    n: number,
    asked: Asked | null,
    out: LookupResult[],
    start: InodeAttr | null,
  ): boolean {
    if (err) fail(err, 'lookup', names[0]);
    const v = ch.op;
    const done = v.getUint16(IocLookupPath.done, true);
    if (done > n) fail(Errno.EIO, 'lookup', `LOOKUP_PATH answered ${done} of ${n} names`);
    const missing = (v.getUint32(IocLookupPath.flags, true) & ZUFS_LP_MISSING) !== 0 && done < n;
    const ec = this.entries;
    if (start !== null) {
      readZusInode(v, IocLookupPath.start, start);
      if (ec !== null && asked !== null) ec.putAttr(dirIi, start, asked);
    }
    // A name is kept under its directory's word, when this cache knows the directory (as find()).
    let dir = dirIi;
    let dirIno = ec !== null ? ec.inoOf(dirIi) : -1;
    for (let i = 0; i < done; i++) {
      const at = IocLookupPath.steps + i * LookupPathStep.SIZE;
      const r = this.inodeReply(
        v,
        at + LookupPathStep.zus_ii,
        at + LookupPathStep._zi,
        at + LookupPathStep.zi,
      );
      out.push(r);
      if (ec !== null && asked !== null) {
        if (dirIno >= 0) ec.putName(`${dir}/${names[i]}`, dirIno, r.ii, asked);
        ec.putAttr(r.ii, r.attr, asked);
      }
      dir = r.ii;
      dirIno = r.ino;
    }
    if (missing && ec !== null && asked !== null && dirIno >= 0)
      ec.putName(`${dir}/${names[done]}`, dirIno, 0, asked);
    return missing;
  }

  private findReply(ch: Channel, err: number, name: string, out?: LookupResult): LookupResult | null {
    if (err === -Errno.ENOENT) return null;
    if (err) fail(err, 'lookup', name);
    return this.inodeReply(ch.op, IocLookup.zus_ii, IocLookup._zi, ZI_COPY.LOOKUP, out);
  }

  /**
   * ch.call(); in soon mode, callSoon(): a reply that outlives the spin throws Pending, and when it
   * comes `keep` keeps the result and the channel is released (until then the caller leaves it:
   * releaseUnlessHeld).
   */
  private callOrKeep(ch: Channel, keep: (err: number, kept: SoonKept) => void): number {
    if (!this.soon) return ch.call();
    const r = ch.callSoon(undefined, this.remote);
    if (typeof r === 'number') return r;
    this.held = ch;
    const kept = (this.kept ??= new SoonKept(this.soonNames));
    throw (this.pendingNow = new Pending(
      r.then(
        (err) => {
          try {
            keep(err, kept);
          } finally {
            ch.release();
          }
        },
        (e) => {
          // The wait itself failed: the call fails with it, and the channel goes back.
          ch.release();
          throw e;
        },
      ),
      kept,
    ));
  }

  /** The Pending this attempt threw, if any (then its result is void: the call runs again). */
  takePending(): Pending | null {
    const p = this.pendingNow;
    this.endSoon();
    return p;
  }

  /** Releases `ch`, unless its reply is still to come (callOrKeep threw Pending). */
  private releaseUnlessHeld(ch: Channel): void {
    if (this.held === ch) this.held = null;
    else ch.release();
  }

  /**
   * Soon mode, for a caller that keeps its event loop (the face's promise and callback forms): from
   * now until settle() or endSoon(), a LOOKUP(_PATH), getattr or READDIR whose reply outlives the spin (at
   * once on a remote filesystem) throws Pending instead of waiting; the caller awaits it and calls
   * again.
   */
  beginSoon(kept: SoonKept | null = null): void {
    // A call that waited past the umount does not answer from what it had kept.
    if (this.gone) fail(Errno.EIO, 'dispatch', 'the filesystem was unmounted');
    const names = this.nsGen === null ? -1 : Atomics.load(this.nsGen, 0);
    if (kept !== null && kept.names !== names) {
      // A name went or moved while the call waited (any thread's unlink, rename, chmod...): what it
      // kept may name an inode freed, moved or reused, which its change would then reach. It asks
      // again; a call whose names keep changing waits on the thread instead, as the sync form does.
      // (A name added meanwhile may be missed, as by a sync walk a moment earlier.)
      if (kept.drops >= SOON_DROPS_MAX) return;
      kept = new SoonKept(names, kept.drops + 1);
    }
    this.soon = true;
    this.kept = kept;
    this.soonNames = names;
  }

  /**
   * A change is coming (an fd taken, any other request): from now on reads wait as usual, since a
   * call that changed something cannot be run again.
   */
  settle(): void {
    if (this.pendingNow !== null) throw this.pendingNow;
    if (this.soon) this.forgetKept();
  }

  /**
   * The attempt is over (it answered, or threw Pending: then the call's next attempt begins soon
   * mode again with what it kept): this thread's other calls meanwhile are not in soon mode.
   */
  endSoon(): void {
    this.pendingNow = null;
    this.forgetKept();
  }

  /**
   * Soon mode ends: what the call kept is no longer looked at, since the change that ends it may
   * void it (a name kept absent that the call then makes).
   */
  private forgetKept(): void {
    this.soon = false;
    this.kept = null;
  }

  /**
   * The filesystem was unmounted: every later request fails with EIO, and nothing is read from its
   * pmem (it may be another mount's by now). Replies still to come are taken and dropped.
   */
  unmounted(): void {
    this.gone = true;
    this.entries = null;
    this.ziDpps.clear();
    this.nio = false;
  }

  /** The app-side entry cache, when the filesystem allows one (after a restart check: one load). */
  entryCache(): EntryCache | null {
    if (this.entries !== null) this.restarted();
    return this.entries;
  }

  /**
   * This attempt of a call in soon mode answers from replies an earlier attempt kept (beginSoon):
   * they may predate a change, so a walk now cannot be kept as a path (EntryCache.walkEnd).
   */
  answersKept(): boolean {
    return this.kept !== null;
  }

  /** The inode's attributes (a SETATTR with an empty mask, or a read of pmem). */
  getattr(ii: number, out: InodeAttr = newAttr()): InodeAttr {
    this.restarted();
    const ec = this.entries;
    if (ec !== null) {
      if (ec.attr(ii, out)) return out;
      if (this.kept === null) {
        const asked = ec.begin();
        this.setattrOp(ii, 0, undefined, out);
        ec.putAttr(ii, out, asked);
        return out;
      }
    }
    const dpp = this.ziDpps.get(ii);
    if (dpp && this.pmemView && this.tryPmemInode(dppOffset(dpp), out)) return out;
    if (this.kept !== null) {
      const k = this.kept.attrs.get(ii);
      if (k) return Object.assign(out, unkept(k));
    }
    return this.setattrOp(ii, 0, undefined, out);
  }

  /**
   * A zus_inode read from pmem, under the server's change seqlock (zuf-core change.ts): decoded
   * straight from pmem while no ZT is changing anything, and kept only if no change began
   * meanwhile (decoding cannot throw, so a torn read costs only a retry). False when changes kept
   * coming (the caller then asks the server; `out` is then overwritten).
   */
  private tryPmemInode(at: number, out: InodeAttr): boolean {
    const v = this.pmemView!;
    const words = this.pmemWords;
    const ctl = this.root.ctl;
    for (let tries = 0; tries < PMEM_READ_TRIES; tries++) {
      const ticket = changeTicket(ctl);
      if (ticket < 0) continue; // a change is being served: it takes a few microseconds
      if (words !== null && (at & 3) === 0) decodeZusInodeWords(words, at / 4, out);
      else readZusInode(v, at, out);
      if (changeValid(ctl, ticket)) return true;
    }
    return false;
  }

  /**
   * The server's rollback count (CTL_SHARED_EPOCH): it moves when a restart mounted a volume again
   * from its last commit, losing the inodes made since. Whoever names inodes by number across calls
   * (the kernel mount's node ids, the face's fds) checks their generations once it moved.
   */
  get rollbacks(): number {
    return Atomics.load(this.root.ctl, CTL_SHARED_EPOCH);
  }

  /**
   * Called before anything read without a dispatch (pmem, the name cache): true when the server
   * restarted since this client last looked. A restart that gave a mount new shared memory (it
   * rolled back to its last commit: CTL_SHARED_EPOCH) voids what this client read from the old one:
   * its pmem (from now on it asks the server), its block map and its names. One load otherwise.
   */
  restarted(): boolean {
    const ctl = this.root.ctl;
    const e = Atomics.load(ctl, CTL_EPOCH);
    if (e === this.epoch) return false;
    this.epoch = e;
    if (Atomics.load(ctl, CTL_SHARED_EPOCH) !== this.sharedEpoch) {
      this.sharedEpoch = Atomics.load(ctl, CTL_SHARED_EPOCH);
      this.pmemView = this.pmemWords = this.pmemBytes = null;
      this.nio = false;
      this.ziDpps.clear();
      this.map.ii = -1;
      // The filesystem's generation words went with it: nothing kept here can be checked now.
      this.entries = null;
      this.bumpNs();
    }
    return true;
  }

  /** After a change that can break a resolution (a name gone or moved, a permission): word 0. */
  private bumpNs(): void {
    if (this.nsGen) {
      Atomics.add(this.nsGen, 0, 1);
      this.nsBumps++;
    }
  }

  /**
   * After a name was added: word 1. A path that resolved still resolves the same (it only went
   * through names that existed), so positive name caches keep their entries; a negative cache
   * would watch this word.
   */
  private bumpNsAdd(): void {
    if (this.nsGen && this.nsGen.length > 1) Atomics.add(this.nsGen, 1, 1);
  }

  /** SETATTR of the fields named by `mask` (STATX_*); a size change is a truncate (FALLOCATE, as ZUFS). */
  setattr(ii: number, mask: number, attrs: SetAttr, out: InodeAttr = newAttr()): InodeAttr {
    if (mask & STATX_SIZE) {
      this.truncate(ii, attrs.size ?? 0);
      mask &= ~STATX_SIZE;
    }
    return this.setattrOp(ii, mask, attrs, out);
  }

  private setattrOp(ii: number, mask: number, a: SetAttr | undefined, out: InodeAttr): InodeAttr {
    if (mask !== 0 && this.soon) this.forgetKept();
    const ch = this.begin(ZUFS_OP_SETATTR, ZI_COPY.SETATTR_END, 0, ZI_COPY.SETATTR_END);
    try {
      const v = ch.op;
      setU64(v, IocAttr.zus_ii, ii);
      v.setUint32(IocAttr.zuf_attr, mask, true);
      const z = ZI_COPY.SETATTR;
      if (a) {
        if (mask & STATX_MODE) v.setUint16(z + ZusInode.i_mode, a.mode ?? 0, true);
        if (mask & STATX_UID) v.setUint32(z + ZusInode.i_uid, a.uid ?? 0, true);
        if (mask & STATX_GID) v.setUint32(z + ZusInode.i_gid, a.gid ?? 0, true);
        if (mask & STATX_ATIME) setTimeNs(v, z + ZusInode.i_atime, a.atimeNs ?? 0);
        if (mask & STATX_MTIME) setTimeNs(v, z + ZusInode.i_mtime, a.mtimeNs ?? 0);
        if (mask & STATX_CTIME) setTimeNs(v, z + ZusInode.i_ctime, a.ctimeNs ?? 0);
      }
      const err = this.callOrKeep(ch, (e, kept) =>
        kept.attrs.set(
          ii,
          settle(() => this.attrReply(ch, e, ii, mask, newAttr())),
        ),
      );
      return this.attrReply(ch, err, ii, mask, out);
    } finally {
      this.releaseUnlessHeld(ch);
    }
  }

  private attrReply(ch: Channel, err: number, ii: number, mask: number, out: InodeAttr): InodeAttr {
    if (err) fail(err, mask ? 'setattr' : 'getattr');
    const v = ch.op;
    if (mask & (STATX_MODE | STATX_UID | STATX_GID)) this.bumpNs();
    this.rememberZi(ii, getU64(v, ZI_COPY.SETATTR_ZI));
    return readZusInode(v, ZI_COPY.SETATTR, out);
  }

  create(dirIi: number, name: string, mode = 0o644, uid = 0, gid = 0): LookupResult {
    return this.newInode(dirIi, name, S_IFREG | (mode & 0o7777), uid, gid, 0, null, 0, 'open');
  }

  mkdir(dirIi: number, name: string, mode = 0o755, uid = 0, gid = 0): LookupResult {
    return this.newInode(dirIi, name, S_IFDIR | (mode & 0o7777), uid, gid, 0, null, 0, 'mkdir');
  }

  /** mknod: `mode` carries the type (S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK, S_IFREG). */
  mknod(dirIi: number, name: string, mode: number, rdev = 0, uid = 0, gid = 0): LookupResult {
    return this.newInode(dirIi, name, mode, uid, gid, rdev, null, 0, 'mknod');
  }

  symlink(dirIi: number, name: string, target: string, uid = 0, gid = 0): LookupResult {
    return this.newInode(dirIi, name, S_IFLNK | 0o777, uid, gid, 0, target, 0, 'symlink');
  }

  /** An O_TMPFILE inode: not linked anywhere (i_nlink 0) until link(). */
  tmpfile(mode = 0o600, uid = 0, gid = 0): LookupResult {
    return this.newInode(this.rootIi, '', S_IFREG | (mode & 0o7777), uid, gid, 0, null, ZI_TMPFILE, 'open');
  }

  private newInode(
    dirIi: number,
    name: string,
    mode: number,
    uid: number,
    gid: number,
    rdev: number,
    target: string | null,
    flags: number,
    syscall: string,
  ): LookupResult {
    const ch = this.begin(
      ZUFS_OP_NEW_INODE,
      IocNewInode.SIZE,
      IocNewInode._zi,
      ZI_COPY.NEW_INODE + ZUFS_INODE_SIZE - IocNewInode._zi,
    );
    try {
      const v = ch.op;
      clearOp(ch, IocNewInode.zi, IocNewInode.SIZE);
      const z = IocNewInode.zi;
      v.setUint16(z + ZusInode.i_mode, mode, true);
      v.setUint32(z + ZusInode.i_uid, uid, true);
      v.setUint32(z + ZusInode.i_gid, gid, true);
      v.setUint32(z + 96, rdev, true);
      const now = Date.now() * 1e6;
      setTimeNs(v, z + ZusInode.i_mtime, now);
      setTimeNs(v, z + ZusInode.i_ctime, now);
      setTimeNs(v, z + ZusInode.i_atime, now);
      setU64(v, IocNewInode.dir_ii, dirIi);
      if (!(flags & ZI_TMPFILE)) this.name(v, IocNewInode.str, name, syscall);
      setU64(v, IocNewInode.flags, flags);
      if (target !== null) {
        const n = utf8Length(target);
        if (n > ZUFS_MAX_SYMLINK) fail(Errno.ENAMETOOLONG, syscall, 'symlink target');
        writeUtf8(ch.windowView, 0, target, n);
        setU64(v, z + ZusInode.i_size, n);
        ch.setData(0, n);
      }
      this.call(ch, syscall, name);
      if (!(flags & ZI_TMPFILE)) this.bumpNsAdd();
      return this.inodeReply(v, IocNewInode.zus_ii, IocNewInode._zi, ZI_COPY.NEW_INODE);
    } finally {
      ch.release();
    }
  }

  /** link(2): `ii` gets the name `name` in `dirIi`. Returns its attributes after. */
  link(ii: number, dirIi: number, name: string): InodeAttr {
    return this.dentry(ZUFS_OP_ADD_DENTRY, ii, dirIi, name, 'link');
  }

  /**
   * unlink(2): not for directories (EISDIR). Frees the inode when its last link went and it has no
   * users. `known`: the entry as the caller just looked it up (saves a LOOKUP; a stale one costs a
   * retry: the filesystem refuses to remove a name that holds another inode).
   */
  unlink(dirIi: number, name: string, known?: LookupResult | null): InodeAttr {
    return this.removeName(dirIi, name, known ?? null, false);
  }

  /** rmdir(2): ENOTDIR for what is not a directory; ENOTEMPTY is the filesystem's. `known`: as unlink's. */
  rmdir(dirIi: number, name: string, known?: LookupResult | null): void {
    this.removeName(dirIi, name, known ?? null, true);
  }

  private removeName(dirIi: number, name: string, known: LookupResult | null, dir: boolean): InodeAttr {
    const syscall = dir ? 'rmdir' : 'unlink';
    this.lastRemoved = null;
    for (;;) {
      const e = known ?? this.lookup(dirIi, name);
      if (dir && !isDir(e.attr.mode)) fail(Errno.ENOTDIR, syscall, name);
      if (!dir && isDir(e.attr.mode)) fail(Errno.EISDIR, syscall, name);
      let a: InodeAttr;
      try {
        a = this.dentry(ZUFS_OP_REMOVE_DENTRY, e.ii, dirIi, name, syscall);
      } catch (err) {
        if (known !== null && (err as ZufsError).errno === Errno.ENOENT) {
          known = null; // the caller's view was stale: look again
          continue;
        }
        throw err;
      }
      this.lastRemoved = e;
      if (a.nlink === 0 && !this.opts.inUse?.(e.ii)) this.release(e.ii, 0);
      return a;
    }
  }

  private dentry(op: number, ii: number, dirIi: number, name: string, syscall: string): InodeAttr {
    const ch = this.begin(
      op,
      IocDentry.SIZE,
      IocDentry.ino,
      ZI_COPY.DENTRY + ZUFS_INODE_SIZE - IocDentry.ino,
    );
    try {
      const v = ch.op;
      setU64(v, IocDentry.zus_ii, ii);
      setU64(v, IocDentry.zus_dir_ii, dirIi);
      this.name(v, IocDentry.str, name, syscall);
      this.call(ch, syscall, name);
      if (op === ZUFS_OP_ADD_DENTRY) this.bumpNsAdd();
      else this.bumpNs();
      return readZusInode(v, ZI_COPY.DENTRY, newAttr());
    } finally {
      ch.release();
    }
  }

  /**
   * The app forgets an inode: FREE_INODE when its i_nlink is 0 (`nlink` as last seen), else
   * EVICT_INODE. The VFS calls this when the last user of an unlinked inode goes.
   */
  release(ii: number, nlink: number, flags = 0): void {
    const ch = this.begin(nlink === 0 ? ZUFS_OP_FREE_INODE : ZUFS_OP_EVICT_INODE, IocEvictInode.SIZE);
    try {
      setU64(ch.op, IocEvictInode.zus_ii, ii);
      setU64(ch.op, IocEvictInode.flags, flags);
      this.call(ch, 'evict');
      if (this.ziDpps.has(ii)) this.ziDpps.set(ii, 0);
      if (nlink === 0) this.bumpNs();
    } finally {
      ch.release();
    }
  }

  /**
   * renameat2: RENAME_NOREPLACE / RENAME_EXCHANGE in `flags`. A replaced inode left without links is
   * freed. `known`: the two entries as the caller just looked them up (saves two LOOKUPs).
   */
  rename(
    oldDirIi: number,
    oldName: string,
    newDirIi: number,
    newName: string,
    flags = 0,
    known?: { src: LookupResult; dst: LookupResult | null },
  ): void {
    const src = known?.src ?? this.lookup(oldDirIi, oldName);
    const dst = known ? known.dst : this.find(newDirIi, newName);
    if (dst && !(flags & 2) && dst.ino !== src.ino) {
      if (isDir(src.attr.mode) && !isDir(dst.attr.mode)) fail(Errno.ENOTDIR, 'rename', newName);
      if (!isDir(src.attr.mode) && isDir(dst.attr.mode)) fail(Errno.EISDIR, 'rename', newName);
    }
    // Our view of the target; the server says which inode it really replaced (another thread may
    // have changed the target since we looked).
    let replaced = dst && !(flags & RENAME_EXCHANGE) && dst.ino !== src.ino ? dst.ii : 0;
    const ch = this.begin(ZUFS_OP_RENAME, IocRename.SIZE, IocRename.new_zus_ii, 8);
    try {
      const v = ch.op;
      setU64(v, IocRename.old_dir_ii, oldDirIi);
      setU64(v, IocRename.new_dir_ii, newDirIi);
      setU64(v, IocRename.old_zus_ii, src.ii);
      setU64(v, IocRename.new_zus_ii, dst ? dst.ii : 0);
      this.name(v, IocRename.old_d_str, oldName, 'rename');
      this.name(v, IocRename.new_d_str, newName, 'rename');
      setTimeNs(v, IocRename.time, Date.now() * 1e6);
      setU64(v, IocRename.flags, flags);
      this.call(ch, 'rename', oldName);
      this.bumpNs();
      if (ch.outLen >= 8 && !(flags & RENAME_EXCHANGE)) replaced = getU64(v, IocRename.new_zus_ii);
    } finally {
      ch.release();
    }
    this.lastReplaced = replaced;
    if (replaced !== 0) {
      let nlink = 1;
      try {
        nlink = this.getattr(replaced).nlink;
      } catch (e) {
        // Freed already: a thread that had it open closed it meanwhile.
        if ((e as ZufsError).errno !== Errno.ESTALE) throw e;
      }
      if (nlink === 0 && !this.opts.inUse?.(replaced)) this.release(replaced, 0);
    }
  }

  /**
   * READDIR from cookie `pos` (0: the start; "." and ".." are not listed). `cb` gets each entry and
   * the cookie to resume after it; returning false stops. Returns the cookie to resume at, or -1 when
   * the directory was read to its end.
   */
  readdir(
    dirIi: number,
    pos: number,
    cb: (name: string, ino: number, type: number, next: number) => unknown,
  ): number {
    for (;;) {
      const { names, nums, more } = this.readdirBatch(dirIi, pos);
      // Callbacks run with the channel given back: they may call this client again.
      for (let i = 0; i < names.length; i++) {
        pos = nums[i * 3 + 2];
        if (cb(names[i], nums[i * 3], nums[i * 3 + 1], pos) === false) return pos;
      }
      if (!more) return -1;
      if (names.length === 0) fail(Errno.EINVAL, 'readdir', 'an entry does not fit the buffer');
    }
  }

  /** One READDIR from cookie `pos` (in soon mode a read like LOOKUP: kept by directory and cookie). */
  private readdirBatch(dirIi: number, pos: number): ReaddirBatch {
    const key = this.soon ? `${dirIi}@${pos}` : '';
    if (this.kept !== null) {
      const k = this.kept.batches.get(key);
      if (k) return unkept(k);
    }
    const ch = this.begin(
      ZUFS_OP_READDIR,
      IocReaddir.SIZE,
      IocReaddir.more,
      IocReaddir.SIZE - IocReaddir.more,
    );
    try {
      const v = ch.op;
      setU64(v, IocReaddir.dir_ii, dirIi);
      setU64(v, IocReaddir.pos, pos);
      v.setUint8(IocReaddir.more, 0);
      ch.setData(0, this.readdirBytes);
      const err = this.callOrKeep(ch, (e, kept) =>
        kept.batches.set(
          key,
          settle(() => this.readdirReply(ch, e)),
        ),
      );
      return this.readdirReply(ch, err);
    } finally {
      this.releaseUnlessHeld(ch);
    }
  }

  private readdirReply(ch: Channel, err: number): ReaddirBatch {
    if (err) fail(err, 'readdir');
    const names: string[] = [];
    const nums: number[] = [];
    const it = zdeIterInit(ch.windowView, 0, this.readdirBytes, this.iter);
    for (let e = zdeNext(it, this.ent); e; e = zdeNext(it, this.ent)) {
      names.push(e.name);
      nums.push(e.ino, e.type, e.pos);
    }
    return { names, nums, more: ch.op.getUint8(IocReaddir.more) !== 0 };
  }

  // ~~~ data ~~~

  /** READ into `dest` from file position `pos`; returns the bytes read (short at end of file). */
  read(ii: number, pos: number, dest: Uint8Array): number {
    this.restarted();
    if (this.nio && dest.length > 0) {
      const n = this.nioRead(ii, pos, dest);
      if (n >= 0) return n;
    }
    return this.io(ZUFS_OP_READ, ii, pos, dest, 0, 'read');
  }

  /**
   * read() for a caller that keeps its event loop: the bytes read when the reply came within the
   * spin, else a Promise of them (at once on a remote filesystem). `opts.signal` interrupts the
   * server's operation (the channel's abort flag). A `dest` larger than the window is read by
   * read(), waiting.
   */
  readSoon(ii: number, pos: number, dest: Uint8Array, opts?: CallOptions): number | Promise<number> {
    this.restarted();
    if (this.nio && dest.length > 0) {
      const n = this.nioRead(ii, pos, dest);
      if (n >= 0) return n;
    }
    const ch = this.begin(ZUFS_OP_READ, IocIO.SIZE, IocIO.last_pos, 8);
    if (dest.length > ch.window.byteLength) {
      ch.release();
      return this.read(ii, pos, dest);
    }
    this.ioRequest(ch, ii, pos, 0);
    ch.setData(0, dest.length);
    return this.callSoon(ch, opts, (err) => {
      if (err) fail(err, 'read');
      const got = getU64(ch.op, IocIO.last_pos) - pos;
      if (got > 0) copyShared(dest, ch.window.subarray(0, got), 0);
      return got > 0 ? got : 0;
    });
  }

  /**
   * write() for a caller that keeps its event loop: one WRITE of `src` (up to ioChunk bytes) at
   * `pos`, or at the end with `append`; the file position after it when the reply came within the
   * spin, else a Promise of it (at once on a remote filesystem). A write the app copies into pmem
   * is write()'s: the filesystem holds its lock until the app copies, which it must not put off.
   */
  writeSoon(
    ii: number,
    pos: number,
    src: Uint8Array,
    append: boolean,
    opts?: CallOptions,
  ): number | Promise<number> {
    const rw = append ? ZUFS_RW_APPEND : 0;
    this.restarted(); // a restart may have taken the pmem an app copy would fill
    if (src.length >= APP_COPY_MIN && this.appCopy && !append && this.pmemBytes !== null)
      return this.write(ii, pos, src, append);
    const ch = this.begin(ZUFS_OP_WRITE, IocIO.SIZE, IocIO.last_pos, 8);
    if (src.length > ch.window.byteLength) {
      ch.release(); // a smaller window than ioChunk (an inline slot's): write() takes it in pieces
      return this.write(ii, pos, src, append);
    }
    this.ioRequest(ch, ii, pos, rw);
    ch.setData(0, src.length);
    copyShared(ch.window, src, 0);
    return this.callSoon(ch, opts, (err) => {
      if (err) fail(err, 'write');
      return getU64(ch.op, IocIO.last_pos);
    });
  }

  /** The largest write writeSoon takes (the window). */
  get ioChunk(): number {
    return this.root.slots[0].window.byteLength;
  }

  /**
   * Calls `ch` for a caller that keeps its event loop: `reply(err)` at once when the reply came
   * within the spin, else a Promise of it; the channel is released once the reply is read.
   */
  private callSoon<T>(ch: Channel, opts: CallOptions | undefined, reply: (err: number) => T): T | Promise<T> {
    let inFlight = false;
    try {
      const r = ch.callSoon(opts, this.remote);
      if (typeof r === 'number') return reply(r);
      inFlight = true;
      return r.then(
        (err) => {
          try {
            return reply(err);
          } finally {
            ch.release();
          }
        },
        (e) => {
          ch.release();
          throw e;
        },
      );
    } finally {
      if (!inFlight) ch.release();
    }
  }

  /** The zufs_ioc_IO of a READ or WRITE of `ii` at `pos` (the data's place is the caller's). */
  private ioRequest(ch: Channel, ii: number, pos: number, rw: number): void {
    const v = ch.op;
    clearOp(ch, IocIO.zus_ii, IocIO.SIZE);
    setU64(v, IocIO.zus_ii, ii);
    setU64(v, IocIO.filepos, pos);
    v.setUint32(IocIO.rw, rw, true);
  }

  /**
   * NIO read, as ZUFS's: GET_MULTY asks where the file's blocks are in pmem, and the bytes are
   * copied from there straight into `dest` (one copy, no window). Valid only if no change was served
   * meanwhile (the change seqlock stands in for the block references ZUFS's GET_MULTY took: a
   * truncate cannot hand our blocks to another file under us unnoticed). The block map is asked for
   * ahead of the read (mapAhead) and kept with its seqlock ticket: while no change is served
   * anywhere, the next reads of that range need no dispatch at all. Returns -1 when the READ
   * operation must do it instead: a change came, the filesystem has no GET_MULTY, or it refused.
   */
  private nioRead(ii: number, pos: number, dest: Uint8Array): number {
    const ctl = this.root.ctl;
    let done = 0;
    while (done < dest.length) {
      const at = pos + done;
      const valid = changeValid(ctl, this.map.ticket);
      if (ii === this.map.ii && valid && this.map.covers(at)) this.mapHits++;
      else {
        // Voided by a change before it served a second read: ask less ahead. Too short for the
        // reads that come (a miss while still valid): ask more.
        if (!valid && this.mapHits === 0) this.mapAhead = Math.max(MAP_AHEAD_MIN, this.mapAhead >> 2);
        else this.mapAhead = Math.min(MAP_AHEAD, this.mapAhead * 4);
        this.mapHits = 0;
        const got = this.fetchMap(ii, at, dest.length - done);
        if (got < 0) return -1;
      }
      const n = this.map.copy(this.pmemBytes!, at, dest, done);
      // Checked after the copy: a change served during it (another thread) voids what we copied.
      if (!changeValid(ctl, this.map.ticket)) {
        this.map.ii = -1;
        return -1;
      }
      done += n;
      if (n === 0 || this.map.eofAt(at + n)) break;
    }
    return done;
  }

  /** GET_MULTY for [at, at + max(want, mapAhead)) into this.map. -1: read through READ instead. */
  private fetchMap(ii: number, at: number, want: number): number {
    const ctl = this.root.ctl;
    const ticket = changeTicket(ctl);
    if (ticket < 0) return -1;
    const ch = this.begin(ZUFS_OP_GET_MULTY, IocIO.SIZE, IocIO.last_pos, 8);
    try {
      const v = ch.op;
      const maxIom = Math.floor((ch.capacity - IocIO.iom_e) / 8);
      const first = Math.floor(at / BLOCK);
      const ask = Math.min(Math.max(want, this.mapAhead), (maxIom - 1) * BLOCK);
      clearOp(ch, IocIO.zus_ii, IocIO.SIZE);
      setU64(v, IocIO.zus_ii, ii);
      setU64(v, IocIO.filepos, at);
      v.setUint32(IocHdr.len, ask, true);
      v.setUint32(IocIO.ziom + ZufsIomap.iom_max, Math.ceil((at + ask) / BLOCK) - first, true);
      const err = ch.call();
      if (err) {
        if (err === -Errno.ENOTSUP || err === -Errno.EOPNOTSUPP) this.nio = false;
        return -1;
      }
      const end = getU64(v, IocIO.last_pos);
      const n = v.getUint32(IocIO.ziom + ZufsIomap.iom_n, true);
      this.map.fill(ii, ticket, first, at, end, end < at + ask, v, IocIO.iom_e, n);
      return n;
    } finally {
      ch.release();
    }
  }

  /** WRITE `src` at `pos` (`append`: at the end of the file); returns the file position after the write. */
  write(ii: number, pos: number, src: Uint8Array, append = false): number {
    return this.io(ZUFS_OP_WRITE, ii, pos, src, append ? ZUFS_RW_APPEND : 0, 'write');
  }

  private io(op: number, ii: number, pos: number, buf: Uint8Array, rw: number, syscall: string): number {
    const pool = this.poolOf(buf);
    const ch = this.begin(op, IocIO.SIZE, IocIO.last_pos, 8);
    try {
      const v = ch.op;
      const win = ch.window;
      // Served in this thread (an inline ZT): the ZT copies straight from / into `buf`.
      const lent = pool === 0 && ch.lend(buf);
      const chunk = pool || lent ? buf.length : win.byteLength;
      // A large write the filesystem lets the app copy straight into its pmem: one copy, not two.
      this.restarted();
      let appCopy =
        op === ZUFS_OP_WRITE &&
        !pool &&
        !lent &&
        this.appCopy &&
        !(rw & ZUFS_RW_APPEND) &&
        this.pmemBytes !== null;
      let done = 0;
      let end = pos;
      let redo = false;
      do {
        const n = Math.min(chunk, buf.length - done);
        const byApp = appCopy && n >= APP_COPY_MIN;
        if (done > 0 || redo) ch.begin(op, IocIO.SIZE, IocIO.last_pos, 8);
        redo = false;
        this.ioRequest(ch, ii, pos, rw);
        if (pool) {
          v.setUint32(IocIO.pool, pool, true);
          ch.setData(buf.byteOffset - this.root.pools[pool]!.bytes.byteOffset, n);
        } else if (lent) {
          v.setUint32(IocIO.pool, IO_POOL_LENT, true);
          ch.setData(done, n);
        } else if (byApp) {
          v.setUint32(IocIO.rw, rw | ZUFS_RW_APP_COPY, true);
          ch.setData(0, n);
        } else {
          ch.setData(0, n);
          if (op === ZUFS_OP_WRITE && n > 0) {
            if (n >= NUDGE_MIN) ch.nudge();
            copyShared(win, n === buf.length ? buf : buf.subarray(done, done + n), 0);
          }
        }
        if (byApp) {
          let err = ch.call();
          if (err === 0 && v.getUint32(IocIO.ret_flags, true) & ZUFS_RET_APP_COPY) {
            err = ch.copyRuns(n === buf.length ? buf : buf.subarray(done, done + n), this.pmemBytes!);
          }
          if (err === -Errno.EOPNOTSUPP) {
            // This filesystem wants the data sent: through the window from now on.
            this.appCopy = appCopy = false;
            redo = true;
            continue;
          }
          if (err) fail(err, syscall);
        } else this.call(ch, syscall);
        end = getU64(v, IocIO.last_pos);
        if (op === ZUFS_OP_READ) {
          const got = end - pos;
          if (!pool && !lent && got > 0)
            copyShared(buf, got === win.byteLength ? win : win.subarray(0, got), done);
          done += got;
          pos = end;
          if (got < n) return done;
        } else {
          // A short write (the device filled up) ends here: the caller sees the short count.
          const wrote = rw & ZUFS_RW_APPEND ? n : end - pos;
          done += n;
          pos = end;
          rw &= ~ZUFS_RW_APPEND; // the rest follows the first chunk
          if (wrote < n) break;
        }
      } while (done < buf.length);
      return op === ZUFS_OP_READ ? done : end;
    } finally {
      ch.release();
    }
  }

  /** A shared pool (1..6) holding `buf`, or 0 when it must bounce through the window. */
  private poolOf(buf: Uint8Array): number {
    const pools = this.root.pools;
    if (!(buf.buffer instanceof SharedArrayBuffer)) return 0;
    for (let p = 1; p < pools.length && p <= 6; p++) {
      const b = pools[p]?.bytes;
      if (
        b &&
        b.buffer === buf.buffer &&
        buf.byteOffset >= b.byteOffset &&
        buf.byteOffset + buf.length <= b.byteOffset + b.byteLength
      )
        return p;
    }
    return 0;
  }

  truncate(ii: number, size: number): void {
    this.fallocOp(ii, ZUFS_FL_TRUNCATE, size, -1, 'truncate');
  }

  /** fallocate(2): FALLOC_FL_* `mode` over [pos, pos + len). */
  fallocate(ii: number, mode: number, pos: number, len: number): void {
    this.fallocOp(ii, mode, pos, pos + len, 'fallocate');
  }

  private fallocOp(ii: number, mode: number, pos: number, end: number, syscall: string): void {
    const ch = this.begin(ZUFS_OP_FALLOCATE, IocIO.SIZE);
    try {
      const v = ch.op;
      clearOp(ch, IocIO.zus_ii, IocIO.SIZE);
      setU64(v, IocIO.zus_ii, ii);
      setU64(v, IocIO.filepos, pos);
      v.setUint32(IocIO.rw, mode >>> 0, true);
      if (end < 0) {
        v.setUint32(IocIO.last_pos, 0xffffffff, true);
        v.setUint32(IocIO.last_pos + 4, 0xffffffff, true);
      } else setU64(v, IocIO.last_pos, end);
      this.call(ch, syscall);
    } finally {
      ch.release();
    }
  }

  fsync(ii: number, datasync = false, offset = 0, length = 0): void {
    const ch = this.begin(ZUFS_OP_SYNC, IocSync.SIZE);
    try {
      const v = ch.op;
      setU64(v, IocSync.zus_ii, ii);
      setU64(v, IocSync.offset, offset);
      setU64(v, IocSync.length, length);
      setU64(v, IocSync.flags, datasync ? ZUFS_SF_DATASYNC : 0);
      this.call(ch, 'fsync');
    } finally {
      ch.release();
    }
  }

  /** lseek(2): SEEK_SET / SEEK_END here, SEEK_DATA / SEEK_HOLE by the filesystem (ENXIO past the end). */
  seek(ii: number, offset: number, whence: number): number {
    if (whence === SEEK_SET) return offset;
    if (whence === SEEK_END) return this.getattr(ii).size + offset;
    if (whence === SEEK_CUR) fail(Errno.EINVAL, 'lseek', 'SEEK_CUR needs a file position');
    const ch = this.begin(ZUFS_OP_LLSEEK, IocSeek.SIZE, IocSeek.offset_out, 8);
    try {
      const v = ch.op;
      setU64(v, IocSeek.zus_ii, ii);
      setU64(v, IocSeek.offset_in, offset);
      v.setUint32(IocSeek.whence, whence, true);
      this.call(ch, 'lseek');
      return getU64(v, IocSeek.offset_out);
    } finally {
      ch.release();
    }
  }

  /** CLONE (or COPY with `copy`): `len` bytes (0: to the end of src). */
  clone(srcIi: number, dstIi: number, posIn: number, posOut: number, len: number, copy = false): void {
    const ch = this.begin(copy ? ZUFS_OP_COPY : ZUFS_OP_CLONE, IocClone.SIZE);
    try {
      const v = ch.op;
      setU64(v, IocClone.src_zus_ii, srcIi);
      setU64(v, IocClone.dst_zus_ii, dstIi);
      setU64(v, IocClone.pos_in, posIn);
      setU64(v, IocClone.pos_out, posOut);
      setU64(v, IocClone.len, len);
      setU64(v, IocClone.len_up, Math.ceil(len / 4096) * 4096);
      this.call(ch, copy ? 'copy_file_range' : 'ioctl_ficlone');
    } finally {
      ch.release();
    }
  }

  /** FIEMAP: up to `max` extents as [logical, physical, length, flags]. */
  fiemap(ii: number, start: number, length: number, max = 32): number[][] {
    const ch = this.begin(ZUFS_OP_FIEMAP, IocFiemap.SIZE, IocFiemap.extents_mapped, 8);
    try {
      const v = ch.op;
      setU64(v, IocFiemap.zus_ii, ii);
      setU64(v, IocFiemap.start, start);
      setU64(v, IocFiemap.length, length);
      v.setUint32(IocFiemap.flags, 0, true);
      v.setUint32(IocFiemap.extents_max, max, true);
      ch.setData(0, max * 56);
      this.call(ch, 'fiemap');
      const n = v.getUint32(IocFiemap.extents_mapped, true);
      const out: number[][] = [];
      const w = ch.windowView;
      for (let i = 0; i < Math.min(n, max); i++)
        out.push([
          getU64(w, i * 56),
          getU64(w, i * 56 + 8),
          getU64(w, i * 56 + 16),
          w.getUint32(i * 56 + 40, true),
        ]);
      return out;
    } finally {
      ch.release();
    }
  }

  readlink(ii: number): string {
    const n = this.read(ii, 0, this.linkBuf);
    return decoder.decode(this.linkBuf.subarray(0, n));
  }

  // ~~~ xattrs ~~~

  getxattr(ii: number, name: string): Uint8Array {
    const ch = this.begin(ZUFS_OP_XATTR_GET, IocXattr.SIZE, IocXattr.user_buf_size);
    try {
      const v = ch.op;
      const at = this.xattrName(ch, ii, name, 'getxattr');
      const room = ch.capacity - at;
      v.setUint32(IocXattr.user_buf_size, room, true);
      v.setUint16(IocHdr.out_max, ch.capacity - IocXattr.user_buf_size, true);
      this.call(ch, 'getxattr', name);
      const n = v.getUint32(IocXattr.user_buf_size, true);
      return ch.opBytes.slice(IocXattr.buf, IocXattr.buf + n);
    } finally {
      ch.release();
    }
  }

  /** setxattr(2): `flags` XATTR_CREATE / XATTR_REPLACE. */
  setxattr(ii: number, name: string, value: Uint8Array, flags = 0): void {
    this.xattrSet(ii, name, value, flags, 'setxattr');
  }

  removexattr(ii: number, name: string): void {
    this.xattrSet(ii, name, null, 0, 'removexattr');
  }

  private xattrSet(ii: number, name: string, value: Uint8Array | null, flags: number, syscall: string): void {
    const ch = this.begin(ZUFS_OP_XATTR_SET, IocXattr.SIZE);
    try {
      const v = ch.op;
      const at = this.xattrName(ch, ii, name, syscall);
      const n = value ? value.length : 0;
      if (at + n > ch.capacity) fail(Errno.E2BIG, syscall, name);
      if (value) ch.opBytes.set(value, at);
      v.setUint32(IocXattr.flags, flags, true);
      v.setUint32(IocXattr.user_buf_size, n, true);
      if (value && n === 0) v.setUint16(IocXattr.ioc_flags, ZUFS_XATTR_SET_EMPTY, true);
      v.setUint16(IocHdr.in_len, at + n, true);
      this.call(ch, syscall, name);
    } finally {
      ch.release();
    }
  }

  listxattr(ii: number): string[] {
    const ch = this.begin(ZUFS_OP_XATTR_LIST, IocXattr.SIZE, IocXattr.user_buf_size, 0);
    try {
      const v = ch.op;
      clearOp(ch, IocXattr.zus_ii, IocXattr.SIZE);
      setU64(v, IocXattr.zus_ii, ii);
      v.setUint16(IocXattr.ioc_flags, ZUFS_XATTR_TRUSTED, true);
      v.setUint32(IocXattr.user_buf_size, ch.capacity - IocXattr.buf, true);
      v.setUint16(IocHdr.out_max, ch.capacity - IocXattr.user_buf_size, true);
      this.call(ch, 'listxattr');
      const n = v.getUint32(IocXattr.user_buf_size, true);
      const s = readUtf8(v, IocXattr.buf, n);
      return s.split('\0').filter((x) => x.length > 0);
    } finally {
      ch.release();
    }
  }

  /** Writes the request head and the name (namespace in `type`, prefix stripped); returns where data goes. */
  private xattrName(ch: Channel, ii: number, name: string, syscall: string): number {
    const v = ch.op;
    clearOp(ch, IocXattr.zus_ii, IocXattr.SIZE);
    setU64(v, IocXattr.zus_ii, ii);
    let type = 0;
    let bare = name;
    for (const [p, t] of XATTR_PREFIXES) {
      if (name.startsWith(p)) {
        type = t;
        bare = name.slice(p.length);
        break;
      }
    }
    if (!type) fail(Errno.EOPNOTSUPP, syscall, name);
    const n = utf8Length(bare);
    if (n === 0 || n > ZUFS_NAME_LEN) fail(n ? Errno.ERANGE : Errno.EINVAL, syscall, name);
    writeUtf8(v, IocXattr.buf, bare, n);
    v.setUint8(IocXattr.buf + n, 0);
    v.setUint32(IocXattr.type, type, true);
    v.setUint16(IocXattr.name_len, n + 1, true);
    v.setUint16(IocHdr.in_len, IocXattr.buf + n + 1, true);
    return IocXattr.buf + n + 1;
  }

  // ~~~ superblock ~~~

  statfs(out?: Statfs): Statfs {
    const ch = this.begin(ZUFS_OP_STATFS, IocStatfs.SIZE, IocStatfs.statfs_out, Statfs64.SIZE);
    try {
      const v = ch.op;
      setU64(v, IocStatfs.zus_sbi, this.sbId);
      this.call(ch, 'statfs');
      const a = IocStatfs.statfs_out;
      const o = out ?? ({} as Statfs);
      o.type = getU64(v, a + Statfs64.f_type);
      o.bsize = getU64(v, a + Statfs64.f_bsize);
      o.blocks = getU64(v, a + Statfs64.f_blocks);
      o.bfree = getU64(v, a + Statfs64.f_bfree);
      o.bavail = getU64(v, a + Statfs64.f_bavail);
      o.files = getU64(v, a + Statfs64.f_files);
      o.ffree = getU64(v, a + Statfs64.f_ffree);
      o.namelen = getU64(v, a + Statfs64.f_namelen);
      o.frsize = getU64(v, a + Statfs64.f_frsize);
      o.flags = getU64(v, a + Statfs64.f_flags);
      return o;
    } finally {
      ch.release();
    }
  }

  showOptions(): string {
    const ch = this.begin(ZUFS_OP_SHOW_OPTIONS, IocMountOptions.SIZE, IocMountOptions.buf, ZUFS_MO_MAX);
    try {
      setU64(ch.op, IocMountOptions.zus_sbi, this.sbId);
      this.call(ch, 'show_options');
      return readUtf8(ch.op, IocMountOptions.buf, ch.outLen);
    } finally {
      ch.release();
    }
  }

  // ~~~ plumbing ~~~

  private begin(op: number, inLen: number, outStart = 0, outMax = 0): Channel {
    // After a Pending nothing is asked (see pendingNow); any request but LOOKUP(_PATH), getattr and READDIR
    // may change something: soon mode ends (see settle()).
    if (this.pendingNow !== null) throw this.pendingNow;
    if (this.gone) fail(Errno.EIO, opName(op), 'the filesystem was unmounted');
    if (
      this.soon &&
      op !== ZUFS_OP_LOOKUP &&
      op !== ZUFS_OP_LOOKUP_PATH &&
      op !== ZUFS_OP_SETATTR &&
      op !== ZUFS_OP_READDIR
    )
      this.forgetKept();
    const ch = this.d.acquire();
    ch.begin(op, inLen, outStart, outMax);
    return ch;
  }

  private call(ch: Channel, syscall: string, what?: string): void {
    const err = ch.call();
    if (err) fail(err, syscall, what);
  }

  private name(v: DataView, at: number, name: string, syscall: string): void {
    const n = utf8Length(name);
    if (n > ZUFS_NAME_LEN) fail(Errno.ENAMETOOLONG, syscall, name.slice(0, 32));
    if (n === 0) fail(Errno.ENOENT, syscall, 'empty name');
    writeZstr(v, at, name);
  }

  /** Where `ii`'s zus_inode lies, when it is in this mount's pmem: later getattrs read it there. */
  private rememberZi(ii: number, dpp: number): void {
    if (dpp !== 0 && this.pmemView && dppPool(dpp) === 0) this.ziDpps.set(ii, dpp);
  }

  private inodeReply(
    v: DataView,
    iiAt: number,
    ziAt: number,
    copyAt: number,
    out?: LookupResult,
  ): LookupResult {
    const ii = getU64(v, iiAt);
    const dpp = getU64(v, ziAt);
    const r = out ?? { ii: 0, ino: 0, attr: newAttr() };
    r.ii = ii;
    this.rememberZi(ii, dpp);
    // The reply's own copy is as fresh as pmem: no need to look there now.
    readZusInode(v, copyAt, r.attr);
    r.ino = r.attr.ino;
    return r;
  }
}

/** `r` into `out` when one is given (lookup()'s contract), else `r` itself. */
function copyLookup(r: LookupResult | null, out?: LookupResult): LookupResult | null {
  if (r === null || out === undefined) return r;
  out.ii = r.ii;
  out.ino = r.ino;
  Object.assign(out.attr, r.attr);
  return out;
}

/**
 * Where the blocks of one file range lie in pmem, as a GET_MULTY answered it: valid while the change
 * seqlock ticket it was taken under holds (then neither the file's size nor its blocks changed).
 */
class BlockMap {
  ii = -1;
  ticket = -1;
  /** File block of blocks[0]; the map covers file bytes [start, end). */
  private first = 0;
  private start = 0;
  private end = 0;
  /** True when `end` is the end of the file (the server clipped the range there). */
  private eof = false;
  private n = 0;
  /** pmem block numbers, 0 for a hole. */
  private blocks = new Float64Array(0);
  /**
   * Views of whole pmem blocks, direct-mapped by block number: a 4 KiB read of a hot block would
   * otherwise spend a tenth of its time making a subarray. A view only names bytes (of this
   * client's pmem), so it never goes stale: what it holds is checked by the change seqlock, as any
   * copy is.
   */
  private views: Uint8Array[] = new Array(VIEW_SLOTS);
  /** The block each view is of (-1: none yet). */
  private viewBns = new Float64Array(VIEW_SLOTS).fill(-1);

  fill(
    ii: number,
    ticket: number,
    first: number,
    start: number,
    end: number,
    eof: boolean,
    v: DataView,
    at: number,
    n: number,
  ): void {
    if (this.blocks.length < n) this.blocks = new Float64Array(Math.max(n, 64));
    for (let i = 0; i < n; i++) {
      const bn = iomT1Bn(v, at + i * 8);
      this.blocks[i] = bn > 0 ? bn : 0;
    }
    this.ii = ii;
    this.ticket = ticket;
    this.first = first;
    this.start = start;
    this.end = Math.max(start, end);
    this.eof = eof;
    this.n = n;
  }

  covers(pos: number): boolean {
    return pos >= this.start && (pos < this.end || (this.eof && pos >= this.end));
  }

  eofAt(pos: number): boolean {
    return this.eof && pos >= this.end;
  }

  private view(pmem: SharedBytes, bn: number): Uint8Array {
    const slot = bn & (VIEW_SLOTS - 1);
    if (this.viewBns[slot] === bn) return this.views[slot];
    this.viewBns[slot] = bn;
    const at = bn * BLOCK - pmem.base(bn * BLOCK);
    return (this.views[slot] = pmem.view(bn * BLOCK).subarray(at, at + BLOCK));
  }

  /** Copies from `pos` into dest[to..] as far as the map goes; runs contiguous in pmem take one set(). */
  copy(pmem: SharedBytes, pos: number, dest: Uint8Array, to: number): number {
    const stop = Math.min(this.end, pos + dest.length - to);
    // Look no further than the blocks this copy needs (the map may reach 1 MiB ahead).
    const last = Math.min(this.n, Math.ceil(stop / BLOCK) - this.first);
    let p = pos;
    while (p < stop) {
      const i = Math.floor(p / BLOCK) - this.first;
      if (i < 0 || i >= this.n) break;
      const bn = this.blocks[i];
      let j = i + 1;
      if (bn > 0) while (j < last && this.blocks[j] === bn + (j - i)) j++;
      else while (j < last && this.blocks[j] === 0) j++;
      const runEnd = Math.min(stop, (this.first + j) * BLOCK);
      const d = to + (p - pos);
      if (bn > 0) {
        const src = bn * BLOCK + (p - (this.first + i) * BLOCK);
        const len = runEnd - p;
        if (len === BLOCK && src === bn * BLOCK) copyShared(dest, this.view(pmem, bn), d);
        else pmem.read(src, dest, d, len);
      } else dest.fill(0, d, d + (runEnd - p));
      p = runEnd;
    }
    return p - pos;
  }
}
