/**
 * The request handler: one FUSE request in, at most one reply out, mapped onto the inode-level client
 * of @zufs/vfs. One handler per reader thread; it owns that thread's request and reply buffers, so the
 * operation path allocates nothing but decoded names and the occasional error.
 *
 * Node ids: the kernel names the root 1 (FUSE_ROOT_ID); every other inode is named by its zus_ii
 * cookie (sbId * 2^32 + ino: never 1, always below 2^53).
 */

import type { OpenCounts } from '@zufs/vfs';
import type { Statfs } from '@zufs/zuf-core/api';
import type { FuseClient } from './client-types.js';
import {
  Errno,
  isZufsError,
  type LookupResult,
  modeAfterKillPriv,
  newAttr,
  S_IFDIR,
  S_IFMT,
  S_ISGID,
  type SetAttr,
  STATX_ATIME,
  STATX_CTIME,
  STATX_GID,
  STATX_MODE,
  STATX_MTIME,
  STATX_SIZE,
  STATX_UID,
} from './client-types.js';
import {
  encodeName,
  finishDirent,
  finishDirentPlus,
  getS64,
  getU64,
  NameReader,
  putU64,
  type Timeouts,
  writeAttrOut,
  writeEntry,
  writeInitOut,
  writeKstatfs,
  writeOutHeader,
} from './codec.js';
import type { LookupTable } from './lookups.js';
import {
  AccessIn,
  Attr,
  AttrOut,
  BatchForgetIn,
  CopyFileRangeIn,
  CreateIn,
  Dirent,
  DirentPlus,
  EntryOut,
  FALLOCATE_MODES,
  FATTR_ATIME,
  FATTR_ATIME_NOW,
  FATTR_CTIME,
  FATTR_GID,
  FATTR_KILL_SUIDGID,
  FATTR_MODE,
  FATTR_MTIME,
  FATTR_MTIME_NOW,
  FATTR_SIZE,
  FATTR_UID,
  FallocateIn,
  FOPEN_DIRECT_IO,
  ForgetIn,
  ForgetOne,
  FUSE_ACCESS,
  FUSE_ASYNC_READ,
  FUSE_ATOMIC_O_TRUNC,
  FUSE_BATCH_FORGET,
  FUSE_BIG_WRITES,
  FUSE_COPY_FILE_RANGE,
  FUSE_CREATE,
  FUSE_DESTROY,
  FUSE_DO_READDIRPLUS,
  FUSE_EXPORT_SUPPORT,
  FUSE_FALLOCATE,
  FUSE_FLUSH,
  FUSE_FORGET,
  FUSE_FSYNC,
  FUSE_FSYNC_FDATASYNC,
  FUSE_FSYNCDIR,
  FUSE_GETATTR,
  FUSE_GETXATTR,
  FUSE_HANDLE_KILLPRIV_V2,
  FUSE_INIT,
  FUSE_INTERRUPT,
  FUSE_KERNEL_MINOR_VERSION,
  FUSE_KERNEL_VERSION,
  FUSE_LINK,
  FUSE_LISTXATTR,
  FUSE_LOOKUP,
  FUSE_LSEEK,
  FUSE_MAX_PAGES,
  FUSE_MIN_MINOR,
  FUSE_MKDIR,
  FUSE_MKNOD,
  FUSE_OPEN,
  FUSE_OPEN_KILL_SUIDGID,
  FUSE_OPENDIR,
  FUSE_PARALLEL_DIROPS,
  FUSE_READ,
  FUSE_READDIR,
  FUSE_READDIRPLUS,
  FUSE_READDIRPLUS_AUTO,
  FUSE_READLINK,
  FUSE_RELEASE,
  FUSE_RELEASEDIR,
  FUSE_REMOVEXATTR,
  FUSE_RENAME,
  FUSE_RENAME2,
  FUSE_RMDIR,
  FUSE_ROOT_ID,
  FUSE_SETATTR,
  FUSE_SETXATTR,
  FUSE_STATFS,
  FUSE_SYMLINK,
  FUSE_UNLINK,
  FUSE_WRITE,
  FUSE_WRITE_KILL_SUIDGID,
  fuseOpName,
  GetxattrIn,
  GetxattrOut,
  INIT_IN_MIN,
  InHeader,
  InitIn,
  InitOut,
  isNoReply,
  Kstatfs,
  LinkIn,
  LseekIn,
  LseekOut,
  MkdirIn,
  MknodIn,
  OpenIn,
  OpenOut,
  OutHeader,
  RENAME_EXCHANGE,
  RENAME_NOREPLACE,
  ReadIn,
  Rename2In,
  RenameIn,
  recAlign,
  SetattrIn,
  SetxattrIn,
  WriteIn,
  WriteOut,
} from './protocol.js';

/** Where replies go: returns 0, or the errno of a failed write (ENOENT: the request was interrupted). */
export interface FuseTransport {
  write(bytes: Uint8Array, len: number): number;
}

export interface HandlerOptions {
  client: FuseClient;
  transport: FuseTransport;
  /** The kernel's lookup counts, shared by every reader of the mount. */
  lookups: LookupTable;
  /**
   * The mount's open counts (vfs mountOpenCounts), shared with every vfs face of the mount: an inode
   * the kernel holds counts as open there, so a face's unlink keeps it, and the kernel's last
   * FORGET frees it only when no face has it open. Without it, the lookup counts alone decide.
   */
  holds?: Pick<OpenCounts, 'open' | 'close'>;
  /** Largest WRITE payload offered to the kernel at INIT (default 1 MiB). */
  maxWrite?: number;
  /** Seconds the kernel may cache names (default 1). */
  entryTimeout?: number;
  /** Seconds the kernel may cache attributes (default 1; 0 sends every stat to the server). */
  attrTimeout?: number;
  /** Offer READDIRPLUS (default true). */
  readdirplus?: boolean;
  /** Refuse every change with EROFS. */
  readOnly?: boolean;
  /** The kernel checks permissions (mounted with default_permissions): ACCESS then only checks existence. */
  defaultPermissions?: boolean;
  /** When set, new inodes get this owner instead of the calling process's. */
  owner?: { uid: number; gid: number };
  /**
   * Owners as the filesystem stores them and as the machine sees them: pairs [in the filesystem,
   * on the host]. Attributes go out mapped, callers and chown come in mapped back; ids not listed
   * pass unchanged.
   */
  idMap?: IdMap;
  /** st_blksize reported (default 4096). */
  blksize?: number;
  /** Unexpected failures (not a ZufsError) and malformed requests. */
  log?: (message: string) => void;
  /**
   * Where requests and replies live (sizes from requestBufferSize / replyBufferSize). Buffers in a
   * shared pool of the zuf-root let READ and WRITE data go to the ZT without a copy through the
   * channel's window. Default: private buffers.
   */
  buffers?: { request: Uint8Array; reply: Uint8Array };
  /**
   * What INIT agreed, for every reader of the mount (INIT reaches one of them): two Int32 words,
   * the flags and the minor (sessionWords()). Default: this handler's own.
   */
  session?: Int32Array;
  /**
   * Requests read, by opcode (index 0 counts opcodes past the table): this handler's row of
   * requestCounters(), written by this thread only.
   */
  counts?: Float64Array;
}

export interface IdMap {
  uid?: ReadonlyArray<readonly [fsId: number, hostId: number]>;
  gid?: ReadonlyArray<readonly [fsId: number, hostId: number]>;
}

/** One direction of an IdMap, or null when it maps nothing. */
function idLookup(pairs: IdMap['uid'], out: boolean): Map<number, number> | null {
  if (!pairs?.length) return null;
  return new Map(pairs.map(([fsId, hostId]) => (out ? [fsId, hostId] : [hostId, fsId])));
}

/** Opcodes a row of request counters has room for (FUSE's run to 52; CUSE_INIT and unknowns go to 0). */
export const COUNTED_OPCODES = 64;

/** Request counters for `readers` handlers, one row of COUNTED_OPCODES each, in shared memory. */
export function requestCounters(readers: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(readers * COUNTED_OPCODES * 8));
}

/** Every row of requestCounters() summed, by opcode name ('LOOKUP': 4, ...); opcodes never seen are left out. */
export function countsByOp(counters: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  for (let op = 0; op < COUNTED_OPCODES; op++) {
    let n = 0;
    for (let at = op; at < counters.length; at += COUNTED_OPCODES) n += counters[at];
    if (n > 0) out[op === 0 ? 'OTHER' : fuseOpName(op)] = n;
  }
  return out;
}

/** The shared words of HandlerOptions.session. */
export function sessionWords(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(8));
}

/** Bytes a reader's read() buffer needs for a given max_write: the header, write_in, the data, slack. */
export function requestBufferSize(maxWrite: number): number {
  return clampMaxWrite(maxWrite) + 4096;
}

/** Bytes of the reply buffer: the out header, then a READ of max_write bytes or an xattr value. */
export function replyBufferSize(maxWrite: number): number {
  return OutHeader.SIZE + Math.max(clampMaxWrite(maxWrite), XATTR_MAX) + 4096;
}

/** max_write as negotiated: whole pages, 4 KiB to 1 MiB (the kernel's default max_pages limit). */
export function clampMaxWrite(maxWrite = 1 << 20): number {
  const m = Math.max(PAGE, Math.min(maxWrite, MAX_PAGES_LIMIT * PAGE));
  return m - (m % PAGE);
}

const PAGE = 4096;
const MAX_PAGES_LIMIT = 256; // the kernel's default fuse_max_pages_limit
const O_EXCL = 0o200;
const O_TRUNC = 0o1000;
const O_ACCMODE = 3;
const O_WRONLY = 1;
const XATTR_MAX = 64 * 1024;
const SEEK_DATA = 3;
const SEEK_HOLE = 4;
/** READDIR offsets 1 and 2 name "." and ".."; the client's cookie c becomes c + DOT_ENTRIES. */
const DOT_ENTRIES = 2;
const TWO32 = 2 ** 32;

/** Thrown inside the handler for a malformed request: answered with its errno, not logged as a bug. */
class BadRequest {
  constructor(readonly errno: number) {}
}
const EINVAL = new BadRequest(Errno.EINVAL);

export class FuseHandler {
  /** The reader fills this with one read() of /dev/fuse, then calls handle(n). */
  readonly request: Uint8Array;
  readonly reply: Uint8Array;
  /** Set once DESTROY was answered: the reader stops. */
  destroyed = false;
  /** Set once this handler answered INIT (one reader does; the others serve without it). */
  initialized = false;
  /** Negotiated at INIT. */
  protoMinor = 0;
  initFlags = 0;
  private readonly session: Int32Array;
  private readonly counts: Float64Array | undefined;
  private readonly holds: HandlerOptions['holds'];
  private readonly mapsIds: boolean;
  private readonly uidIn: Map<number, number> | null;
  private readonly gidIn: Map<number, number> | null;
  private readonly uidOut: Map<number, number> | null;
  private readonly gidOut: Map<number, number> | null;
  private holdsFullLogged = false;

  private readonly req: DataView;
  private readonly out: DataView;
  private readonly client: FuseClient;
  private readonly transport: FuseTransport;
  private readonly lookups: LookupTable;
  private readonly maxWrite: number;
  private readonly maxPages: number;
  private readonly t: Timeouts;
  private readonly plus: boolean;
  private readonly readOnly: boolean;
  private readonly defaultPermissions: boolean;
  private readonly owner: { uid: number; gid: number } | undefined;
  private readonly blksize: number;
  private readonly log: (message: string) => void;
  private readonly names = new NameReader();
  private readonly lr: LookupResult = { ii: 0, ino: 0, attr: newAttr() };
  private readonly child: LookupResult = { ii: 0, ino: 0, attr: newAttr() };
  private readonly attr = newAttr();
  /** revalidate's: the request being served may hold `attr`. */
  private readonly checkAttr = newAttr();
  /** The parent directory's attributes, while a new inode is made in it. */
  private readonly dirAttr = newAttr();
  private readonly sa: SetAttr = {};
  private readonly sf = {} as Statfs;
  /** Node ids given a count by the reply being built: taken back if the kernel does not get it. */
  private readonly pending: number[] = [];
  private pendingN = 0;
  private tableFullLogged = false;
  // One-entry caches of the data views READ and WRITE hand the client (sizes repeat).
  private readView: Uint8Array;
  private writeView: Uint8Array;
  // The request being handled.
  private unique = 0;
  private nodeid = 0;
  private uid = 0;
  private gid = 0;
  private bodyEnd = 0;
  // READDIR state (the client calls back into these).
  private dirAt = 0;
  private dirEnd = 0;
  private dirIi = 0;
  private dirFull = false;
  private readonly onDirent = (name: string, ino: number, type: number, next: number): boolean =>
    this.addDirent(name, ino, type, next);

  constructor(o: HandlerOptions) {
    this.client = o.client;
    this.transport = o.transport;
    this.lookups = o.lookups;
    this.maxWrite = clampMaxWrite(o.maxWrite);
    this.maxPages = this.maxWrite / PAGE;
    this.t = { entry: o.entryTimeout ?? 1, attr: o.attrTimeout ?? 1 };
    this.plus = o.readdirplus ?? true;
    this.readOnly = o.readOnly ?? false;
    this.defaultPermissions = o.defaultPermissions ?? true;
    this.owner = o.owner;
    this.blksize = o.blksize ?? PAGE;
    this.session = o.session ?? sessionWords();
    if (o.counts && o.counts.length < COUNTED_OPCODES)
      throw new RangeError(`counts needs ${COUNTED_OPCODES} slots`);
    this.counts = o.counts;
    this.holds = o.holds;
    this.uidIn = idLookup(o.idMap?.uid, false);
    this.gidIn = idLookup(o.idMap?.gid, false);
    this.uidOut = idLookup(o.idMap?.uid, true);
    this.gidOut = idLookup(o.idMap?.gid, true);
    this.mapsIds = this.uidOut !== null || this.gidOut !== null;
    this.log = o.log ?? ((m) => console.error(`@zufs/fuse: ${m}`));
    const reqSize = requestBufferSize(this.maxWrite);
    const replySize = replyBufferSize(this.maxWrite);
    const b = o.buffers;
    if (b && (b.request.length < reqSize || b.reply.length < replySize))
      throw new RangeError(`handler buffers need ${reqSize} and ${replySize} bytes`);
    this.request = b ? b.request.subarray(0, reqSize) : new Uint8Array(reqSize);
    this.reply = b ? b.reply.subarray(0, replySize) : new Uint8Array(replySize);
    this.req = new DataView(this.request.buffer, this.request.byteOffset, this.request.length);
    this.out = new DataView(this.reply.buffer, this.reply.byteOffset, this.reply.length);
    this.readView = this.reply.subarray(OutHeader.SIZE, OutHeader.SIZE + PAGE);
    this.writeView = this.request.subarray(InHeader.SIZE + WriteIn.SIZE, InHeader.SIZE + WriteIn.SIZE + PAGE);
  }

  /** The max_write this handler negotiates. */
  get maxWriteBytes(): number {
    return this.maxWrite;
  }

  /**
   * Handles the `n` bytes of `request` read from the device: writes at most one reply (none for
   * FORGET, BATCH_FORGET and INTERRUPT). Never throws.
   */
  handle(n: number): void {
    const v = this.req;
    if (n < OutHeader.SIZE) {
      // Not even a unique to answer to.
      this.log(`dropped a ${n}-byte request`);
      return;
    }
    this.unique = getU64(v, InHeader.unique);
    this.pendingN = 0;
    if (n < InHeader.SIZE || n > this.request.length) {
      this.log(`request of ${n} bytes: no room for its header`);
      this.error(Errno.EIO);
      return;
    }
    const len = v.getUint32(InHeader.len, true);
    const opcode = v.getUint32(InHeader.opcode, true);
    const ext = v.getUint16(InHeader.total_extlen, true) * 8;
    if (this.counts) this.counts[opcode < COUNTED_OPCODES ? opcode : 0]++;
    if (len !== n || InHeader.SIZE + ext > n) {
      if (isNoReply(opcode)) return;
      this.log(`${fuseOpName(opcode)}: header says ${len} bytes (ext ${ext}), read ${n}`);
      this.error(Errno.EINVAL);
      return;
    }
    this.nodeid = getU64(v, InHeader.nodeid);
    this.uid = this.inUid(v.getUint32(InHeader.uid, true));
    this.gid = this.inGid(v.getUint32(InHeader.gid, true));
    this.bodyEnd = n - ext;
    try {
      this.dispatch(opcode);
    } catch (e) {
      if (isNoReply(opcode)) {
        if (!(e instanceof BadRequest)) this.log(`${fuseOpName(opcode)}: ${describe(e)}`);
        return;
      }
      this.undoPending();
      if (e instanceof BadRequest) this.error(e.errno);
      else if (isZufsError(e) && e.errno > 0 && e.errno < 4096) this.error(e.errno);
      else {
        this.log(`${fuseOpName(opcode)} failed: ${describe(e)}`);
        this.error(Errno.EIO);
      }
    }
  }

  private dispatch(op: number): void {
    const B = InHeader.SIZE;
    switch (op) {
      case FUSE_INIT:
        this.init(B);
        return;
      case FUSE_LOOKUP:
        this.lookup(B);
        return;
      case FUSE_FORGET:
        this.need(B, ForgetIn.SIZE);
        this.drop(this.nodeid, getU64(this.req, B + ForgetIn.nlookup));
        return;
      case FUSE_BATCH_FORGET:
        this.batchForget(B);
        return;
      case FUSE_GETATTR:
        this.client.getattr(this.ii(this.nodeid), this.attr);
        this.replyAttr(this.attr);
        return;
      case FUSE_SETATTR:
        this.setattr(B);
        return;
      case FUSE_READLINK:
        this.readlink();
        return;
      case FUSE_SYMLINK:
        this.symlink(B);
        return;
      case FUSE_MKNOD:
        this.mknod(B);
        return;
      case FUSE_MKDIR:
        this.mkdir(B);
        return;
      case FUSE_UNLINK:
      case FUSE_RMDIR:
        this.remove(B, op === FUSE_RMDIR);
        return;
      case FUSE_RENAME:
      case FUSE_RENAME2:
        this.rename(B, op === FUSE_RENAME2);
        return;
      case FUSE_LINK:
        this.link(B);
        return;
      case FUSE_OPEN:
      case FUSE_OPENDIR:
        this.open(B, op === FUSE_OPEN);
        return;
      case FUSE_READ:
        this.read(B);
        return;
      case FUSE_WRITE:
        this.write(B);
        return;
      case FUSE_STATFS:
        this.statfs();
        return;
      case FUSE_RELEASE:
      case FUSE_RELEASEDIR:
        // No per-open state: the handle is 0 and data is written through.
        this.ok(OutHeader.SIZE);
        return;
      case FUSE_FLUSH:
        // Nothing to flush (data is written through, no POSIX locks): ENOSYS tells the kernel to
        // stop sending FLUSH at every close.
        throw new BadRequest(Errno.ENOSYS);
      case FUSE_FSYNC:
      case FUSE_FSYNCDIR:
        this.need(B, 16);
        this.client.fsync(
          this.ii(this.nodeid),
          (this.req.getUint32(B + 8, true) & FUSE_FSYNC_FDATASYNC) !== 0,
        );
        this.ok(OutHeader.SIZE);
        return;
      case FUSE_SETXATTR:
        this.setxattr(B);
        return;
      case FUSE_GETXATTR:
        this.getxattr(B);
        return;
      case FUSE_LISTXATTR:
        this.listxattr(B);
        return;
      case FUSE_REMOVEXATTR: {
        this.writable();
        const name = this.name(B);
        this.client.removexattr(this.ii(this.nodeid), name);
        this.ok(OutHeader.SIZE);
        return;
      }
      case FUSE_READDIR:
      case FUSE_READDIRPLUS:
        this.readdir(B, op === FUSE_READDIRPLUS);
        return;
      case FUSE_ACCESS:
        this.access(B);
        return;
      case FUSE_CREATE:
        this.create(B);
        return;
      case FUSE_INTERRUPT:
        // Operations run to completion in microseconds; the reply to the original request is the answer.
        return;
      case FUSE_DESTROY:
        this.destroyed = true;
        this.ok(OutHeader.SIZE);
        return;
      case FUSE_FALLOCATE: {
        this.need(B, FallocateIn.SIZE);
        this.writable();
        const v = this.req;
        const mode = v.getUint32(B + FallocateIn.mode, true);
        if (mode & ~FALLOCATE_MODES) throw new BadRequest(Errno.EOPNOTSUPP);
        this.client.fallocate(
          this.ii(this.nodeid),
          mode,
          getU64(v, B + FallocateIn.offset),
          getU64(v, B + FallocateIn.length),
        );
        this.ok(OutHeader.SIZE);
        return;
      }
      case FUSE_LSEEK:
        this.lseek(B);
        return;
      case FUSE_COPY_FILE_RANGE:
        this.copyFileRange(B);
        return;
      default:
        throw new BadRequest(Errno.ENOSYS);
    }
  }

  // ~~~ session ~~~

  private init(B: number): void {
    this.need(B, INIT_IN_MIN);
    const v = this.req;
    const major = v.getUint32(B + InitIn.major, true);
    const minor = v.getUint32(B + InitIn.minor, true);
    const readahead = v.getUint32(B + InitIn.max_readahead, true);
    const offered = v.getUint32(B + InitIn.flags, true);
    const o = this.out;
    const at = OutHeader.SIZE;
    if (major > FUSE_KERNEL_VERSION) {
      // A newer major: answer with ours only; the kernel sends INIT again at our version.
      for (let i = 0; i < 8; i++) o.setUint8(at + i, 0);
      o.setUint32(at + InitOut.major, FUSE_KERNEL_VERSION, true);
      this.ok(at + 8);
      return;
    }
    if (major < FUSE_KERNEL_VERSION || minor < FUSE_MIN_MINOR) {
      this.log(`kernel FUSE ${major}.${minor} is older than 7.${FUSE_MIN_MINOR}`);
      throw new BadRequest(Errno.EPROTO);
    }
    // KILLPRIV_V2: we drop suid/sgid and capabilities on write, truncate and chown ourselves, so the
    // kernel need not ask GETXATTR security.capability before every write (it marks inodes NOSEC).
    let want =
      FUSE_ASYNC_READ |
      FUSE_BIG_WRITES |
      FUSE_PARALLEL_DIROPS |
      FUSE_MAX_PAGES |
      FUSE_HANDLE_KILLPRIV_V2 |
      FUSE_ATOMIC_O_TRUNC |
      FUSE_EXPORT_SUPPORT;
    if (this.plus) want |= FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO;
    const flags = (offered & want) >>> 0;
    this.protoMinor = Math.min(minor, FUSE_KERNEL_MINOR_VERSION);
    this.initFlags = flags;
    Atomics.store(this.session, 1, this.protoMinor);
    // Stored before the reply goes: the kernel sends nothing else (to any reader) until it has it.
    Atomics.store(this.session, 0, flags);
    writeInitOut(o, at, {
      major: FUSE_KERNEL_VERSION,
      minor: this.protoMinor,
      maxReadahead: Math.min(readahead, this.maxWrite),
      flags,
      maxBackground: 64,
      congestionThreshold: 48,
      maxWrite: this.maxWrite,
      timeGran: 1,
      maxPages: flags & FUSE_MAX_PAGES ? this.maxPages : 0,
    });
    this.initialized = true;
    this.ok(at + InitOut.SIZE);
  }

  // ~~~ names ~~~

  private lookup(B: number): void {
    const name = this.name(B);
    if (name === '.') {
      // Export support: the kernel revalidates a file handle's nodeid (of any type) after it forgot
      // the inode. A slot freed since answers ESTALE; one reused has another generation, which the
      // kernel checks.
      const ii = this.ii(this.nodeid);
      const a = this.client.getattr(ii, this.lr.attr);
      if (a.mode === 0 || a.nlink === 0) throw new BadRequest(Errno.ESTALE);
      this.replyEntry(ii, a);
      return;
    }
    // '..' (a handle's parent, export support) the filesystem resolves as any name.
    const r = this.client.find(this.ii(this.nodeid), name, this.lr);
    if (r === null) throw new BadRequest(Errno.ENOENT);
    this.replyEntry(r.ii, r.attr);
  }

  private batchForget(B: number): void {
    this.need(B, BatchForgetIn.SIZE);
    const v = this.req;
    const count = v.getUint32(B + BatchForgetIn.count, true);
    // Take the entries that are there; a count past the body is a malformed request.
    const room = Math.floor((this.bodyEnd - B - BatchForgetIn.SIZE) / ForgetOne.SIZE);
    const n = Math.min(count, room);
    for (let i = 0, at = B + BatchForgetIn.SIZE; i < n; i++, at += ForgetOne.SIZE) {
      try {
        this.drop(getU64(v, at + ForgetOne.nodeid), getU64(v, at + ForgetOne.nlookup));
      } catch (e) {
        this.log(`BATCH_FORGET: ${describe(e)}`);
      }
    }
    if (count > room) this.log(`BATCH_FORGET of ${count} entries with room for ${room}`);
  }

  /** The kernel forgets `n` lookups of `nodeid`; an inode without links goes when none is left. */
  private drop(nodeid: number, n: number): void {
    if (nodeid === FUSE_ROOT_ID || nodeid === 0 || n <= 0) return;
    const left = this.lookups.forget(nodeid, n);
    if (left !== 0) return;
    if (this.holds) {
      // The kernel's hold ends; the inode goes if it lost its last link meanwhile and nothing else
      // (a vfs face of the mount) has it open.
      if (this.holds.close(nodeid)) this.client.release(nodeid, 0);
      return;
    }
    let nlink: number;
    try {
      nlink = this.client.getattr(nodeid, this.attr).nlink;
    } catch (e) {
      if (isZufsError(e)) return; // already gone
      throw e;
    }
    if (nlink === 0) this.client.release(nodeid, 0);
  }

  private setattr(B: number): void {
    this.need(B, SetattrIn.SIZE);
    const v = this.req;
    const valid = v.getUint32(B + SetattrIn.valid, true);
    const ii = this.ii(this.nodeid);
    const a = this.sa;
    let mask = 0;
    const changes = FATTR_MODE | FATTR_UID | FATTR_GID | FATTR_SIZE | FATTR_ATIME | FATTR_MTIME | FATTR_CTIME;
    if (valid & changes) this.writable();
    if (valid & FATTR_MODE) {
      const cur = this.client.getattr(ii, this.attr).mode;
      a.mode = (cur & S_IFMT) | (v.getUint32(B + SetattrIn.mode, true) & 0o7777);
      mask |= STATX_MODE;
    }
    if (valid & FATTR_UID) {
      a.uid = this.inUid(v.getUint32(B + SetattrIn.uid, true));
      mask |= STATX_UID;
    }
    if (valid & FATTR_GID) {
      a.gid = this.inGid(v.getUint32(B + SetattrIn.gid, true));
      mask |= STATX_GID;
    }
    if (valid & FATTR_SIZE) {
      a.size = getU64(v, B + SetattrIn.size);
      mask |= STATX_SIZE;
    }
    const now = Date.now() * 1e6;
    if (valid & FATTR_ATIME) {
      a.atimeNs = valid & FATTR_ATIME_NOW ? now : this.time(B + SetattrIn.atime, B + SetattrIn.atimensec);
      mask |= STATX_ATIME;
    }
    if (valid & FATTR_MTIME) {
      a.mtimeNs = valid & FATTR_MTIME_NOW ? now : this.time(B + SetattrIn.mtime, B + SetattrIn.mtimensec);
      mask |= STATX_MTIME;
    }
    if (valid & FATTR_CTIME) {
      a.ctimeNs = this.time(B + SetattrIn.ctime, B + SetattrIn.ctimensec);
      mask |= STATX_CTIME;
    } else if (mask) {
      // Any change of an inode changes its ctime; the kernel sends FATTR_CTIME only with writeback caching.
      a.ctimeNs = now;
      mask |= STATX_CTIME;
    }
    // KILLPRIV_V2: a chown drops setuid/setgid (unless this very request sets the mode), judged on
    // the inode before the change (its old group), in the same SETATTR.
    if (this.killPrivV2 && valid & (FATTR_UID | FATTR_GID) && !(valid & FATTR_MODE)) {
      const cur = this.client.getattr(ii, this.attr).mode;
      const mode = modeAfterKillPriv(cur, this.uid === 0, this.gid === this.attr.gid, true);
      if (mode !== cur) {
        a.mode = mode;
        mask |= STATX_MODE;
      }
    }
    this.client.setattr(ii, mask, a, this.attr);
    // A truncate drops them when the kernel says so (it says so on every chown too: done above);
    // a truncate and a chown drop file capabilities.
    if (this.killPrivV2 && valid & (FATTR_SIZE | FATTR_UID | FATTR_GID)) {
      const chown = valid & (FATTR_UID | FATTR_GID);
      this.killPriv(ii, !(valid & FATTR_MODE) && !chown && (valid & FATTR_KILL_SUIDGID) !== 0);
    }
    this.replyAttr(mask & ~STATX_SIZE ? this.attr : this.client.getattr(ii, this.attr));
  }

  /**
   * OPEN, OPENDIR. With FUSE_ATOMIC_O_TRUNC agreed, an O_TRUNC open truncates here, so the kernel
   * sends no SETATTR after it.
   */
  private open(B: number, file: boolean): void {
    this.need(B, OpenIn.SIZE);
    const flags = this.req.getUint32(B + OpenIn.flags, true);
    if (this.readOnly && (flags & O_ACCMODE) !== 0) throw new BadRequest(Errno.EROFS);
    if (file && flags & O_TRUNC && Atomics.load(this.session, 0) & FUSE_ATOMIC_O_TRUNC) {
      const ii = this.ii(this.nodeid);
      this.client.truncate(ii, 0);
      if (this.killPrivV2)
        this.killPriv(ii, (this.req.getUint32(B + OpenIn.open_flags, true) & FUSE_OPEN_KILL_SUIDGID) !== 0);
    }
    this.replyOpen(OutHeader.SIZE, false);
  }

  /** FUSE_HANDLE_KILLPRIV_V2 was agreed (by whichever reader answered INIT). */
  private get killPrivV2(): boolean {
    return (Atomics.load(this.session, 0) & FUSE_HANDLE_KILLPRIV_V2) !== 0;
  }

  /**
   * What FUSE_HANDLE_KILLPRIV_V2 leaves to us after a write, truncate or chown: the file's
   * capabilities go (security.capability), and with `suidgid` the setuid and setgid bits as Linux
   * drops them (modeAfterKillPriv): the kernel asks (the flag) only for a caller without
   * CAP_FSETID. Whether the caller is in the file's group is judged by the request's gid (the
   * kernel does not send supplementary groups). A chown's are dropped in setattr().
   */
  private killPriv(ii: number, suidgid: boolean): void {
    const a = this.client.getattr(ii, this.attr);
    if (a.xattrs) {
      try {
        this.client.removexattr(ii, 'security.capability');
      } catch (e) {
        if (!isZufsError(e) || e.errno !== Errno.ENODATA) throw e;
      }
    }
    if (!suidgid) return;
    const mode = modeAfterKillPriv(a.mode, false, this.gid === a.gid, false);
    if (mode !== a.mode)
      this.client.setattr(ii, STATX_MODE | STATX_CTIME, { mode, ctimeNs: Date.now() * 1e6 }, this.attr);
  }

  /** Nanoseconds since the epoch from setattr_in's (s64 sec, u32 nsec); before 1970 is refused. */
  private time(secAt: number, nsecAt: number): number {
    const s = getS64(this.req, secAt);
    const ns = this.req.getUint32(nsecAt, true);
    if (s < 0 || ns > 999_999_999 || s > 2 ** 33) throw EINVAL;
    return s * 1e9 + ns;
  }

  private readlink(): void {
    const target = this.client.readlink(this.ii(this.nodeid));
    const n = encodeName(this.reply, OutHeader.SIZE, this.reply.length, target);
    if (n < 0) throw new BadRequest(Errno.ENAMETOOLONG);
    this.ok(OutHeader.SIZE + n);
  }

  private symlink(B: number): void {
    this.writable();
    const name = this.name(B);
    const target = this.names.read(this.request, this.names.next, this.bodyEnd);
    if (target === null) throw EINVAL;
    const r = this.client.symlink(
      this.ii(this.nodeid),
      name,
      target,
      this.newUid(),
      this.newGid(this.ii(this.nodeid)),
    );
    this.replyEntry(r.ii, r.attr);
  }

  private mknod(B: number): void {
    this.need(B, MknodIn.SIZE);
    this.writable();
    const v = this.req;
    const mode = v.getUint32(B + MknodIn.mode, true);
    const rdev = v.getUint32(B + MknodIn.rdev, true);
    const name = this.name(B + MknodIn.SIZE);
    if ((mode & S_IFMT) === 0 || (mode & S_IFMT) === S_IFDIR) throw EINVAL;
    const r = this.client.mknod(
      this.ii(this.nodeid),
      name,
      mode,
      rdev,
      this.newUid(),
      this.newGid(this.ii(this.nodeid)),
    );
    this.replyEntry(r.ii, r.attr);
  }

  private mkdir(B: number): void {
    this.need(B, MkdirIn.SIZE);
    this.writable();
    const mode = this.req.getUint32(B + MkdirIn.mode, true);
    const name = this.name(B + MkdirIn.SIZE);
    const dir = this.ii(this.nodeid);
    const gid = this.newGid(dir);
    // A directory made in a setgid directory is setgid too, so the group carries down the tree.
    const sgid = this.dirAttr.mode & S_ISGID;
    const r = this.client.mkdir(dir, name, (mode & 0o7777) | sgid, this.newUid(), gid);
    this.replyEntry(r.ii, r.attr);
  }

  private remove(B: number, dir: boolean): void {
    this.writable();
    const name = this.name(B);
    if (dir) this.client.rmdir(this.ii(this.nodeid), name);
    else this.client.unlink(this.ii(this.nodeid), name);
    this.ok(OutHeader.SIZE);
  }

  private rename(B: number, two: boolean): void {
    const size = two ? Rename2In.SIZE : RenameIn.SIZE;
    this.need(B, size);
    this.writable();
    const v = this.req;
    const newdir = getU64(v, B + RenameIn.newdir);
    const flags = two ? v.getUint32(B + Rename2In.flags, true) : 0;
    if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE) || flags === (RENAME_NOREPLACE | RENAME_EXCHANGE))
      throw EINVAL;
    const oldName = this.name(B + size);
    const newName = this.names.read(this.request, this.names.next, this.bodyEnd);
    if (newName === null) throw EINVAL;
    this.client.rename(this.ii(this.nodeid), oldName, this.ii(newdir), newName, flags);
    this.ok(OutHeader.SIZE);
  }

  private link(B: number): void {
    this.need(B, LinkIn.SIZE);
    this.writable();
    const old = getU64(this.req, B + LinkIn.oldnodeid);
    const name = this.name(B + LinkIn.SIZE);
    const ii = this.ii(old);
    const a = this.client.link(ii, this.ii(this.nodeid), name);
    this.replyEntry(ii, a);
  }

  private create(B: number): void {
    this.need(B, CreateIn.SIZE);
    this.writable();
    const v = this.req;
    const flags = v.getUint32(B + CreateIn.flags, true);
    const mode = v.getUint32(B + CreateIn.mode, true);
    const name = this.name(B + CreateIn.SIZE);
    const dir = this.ii(this.nodeid);
    let r: LookupResult;
    let created = true;
    try {
      r = this.client.create(dir, name, mode & 0o7777, this.newUid(), this.newGid(dir));
    } catch (e) {
      created = false;
      // The name appeared since the kernel's lookup: open it, as open(O_CREAT) without O_EXCL does.
      if (!isZufsError(e) || e.errno !== Errno.EEXIST || flags & O_EXCL) throw e;
      r = this.client.lookup(dir, name, this.lr);
      if ((r.attr.mode & S_IFMT) === S_IFDIR) throw new BadRequest(Errno.EISDIR);
      if (flags & O_TRUNC) {
        this.client.truncate(r.ii, 0);
        if (this.killPrivV2)
          this.killPriv(r.ii, (v.getUint32(B + CreateIn.open_flags, true) & FUSE_OPEN_KILL_SUIDGID) !== 0);
        this.client.getattr(r.ii, r.attr);
      }
    }
    this.entryAt(OutHeader.SIZE, r.ii, r.attr);
    this.replyOpen(OutHeader.SIZE + EntryOut.SIZE, created && (flags & O_ACCMODE) === O_WRONLY);
  }

  // ~~~ data ~~~

  private read(B: number): void {
    this.need(B, ReadIn.SIZE);
    const v = this.req;
    const size = v.getUint32(B + ReadIn.size, true);
    if (size > this.reply.length - OutHeader.SIZE) throw EINVAL;
    const off = getU64(v, B + ReadIn.offset);
    let view = this.readView;
    if (view.length !== size)
      view = this.readView = this.reply.subarray(OutHeader.SIZE, OutHeader.SIZE + size);
    const n = size === 0 ? 0 : this.client.read(this.ii(this.nodeid), off, view);
    this.ok(OutHeader.SIZE + n);
  }

  private write(B: number): void {
    this.need(B, WriteIn.SIZE);
    const v = this.req;
    const size = v.getUint32(B + WriteIn.size, true);
    const at = B + WriteIn.SIZE;
    if (size > this.bodyEnd - at) throw EINVAL;
    this.writable();
    const off = getU64(v, B + WriteIn.offset);
    let view = this.writeView;
    if (view.byteOffset !== at || view.length !== size)
      view = this.writeView = this.request.subarray(at, at + size);
    const ii = this.ii(this.nodeid);
    if (size > 0) this.client.write(ii, off, view);
    if (this.killPrivV2)
      this.killPriv(ii, (v.getUint32(B + WriteIn.write_flags, true) & FUSE_WRITE_KILL_SUIDGID) !== 0);
    const o = this.out;
    o.setUint32(OutHeader.SIZE + WriteOut.size, size, true);
    o.setUint32(OutHeader.SIZE + WriteOut.padding, 0, true);
    this.ok(OutHeader.SIZE + WriteOut.SIZE);
  }

  private statfs(): void {
    writeKstatfs(this.out, OutHeader.SIZE, this.client.statfs(this.sf));
    this.ok(OutHeader.SIZE + Kstatfs.SIZE);
  }

  private lseek(B: number): void {
    this.need(B, LseekIn.SIZE);
    const v = this.req;
    const whence = v.getUint32(B + LseekIn.whence, true);
    // The kernel seeks SET / CUR / END itself; it asks only for data and holes.
    if (whence !== SEEK_DATA && whence !== SEEK_HOLE) throw EINVAL;
    const pos = this.client.seek(this.ii(this.nodeid), getU64(v, B + LseekIn.offset), whence);
    putU64(this.out, OutHeader.SIZE + LseekOut.offset, pos);
    this.ok(OutHeader.SIZE + LseekOut.SIZE);
  }

  private copyFileRange(B: number): void {
    this.need(B, CopyFileRangeIn.SIZE);
    this.writable();
    const v = this.req;
    if (getU64(v, B + CopyFileRangeIn.flags) !== 0) throw EINVAL;
    const src = this.ii(this.nodeid);
    const dst = this.ii(getU64(v, B + CopyFileRangeIn.nodeid_out));
    const offIn = getU64(v, B + CopyFileRangeIn.off_in);
    const offOut = getU64(v, B + CopyFileRangeIn.off_out);
    const len = getU64(v, B + CopyFileRangeIn.len);
    // Up to the end of the source; the reply says how much (u32: the kernel asks at most that much).
    const size = this.client.getattr(src, this.attr).size;
    const n = Math.min(len, Math.max(0, size - offIn), 0xfffff000);
    if (n > 0) this.client.clone(src, dst, offIn, offOut, n, true);
    this.out.setUint32(OutHeader.SIZE + WriteOut.size, n, true);
    this.out.setUint32(OutHeader.SIZE + WriteOut.padding, 0, true);
    this.ok(OutHeader.SIZE + WriteOut.SIZE);
  }

  // ~~~ xattrs ~~~

  private setxattr(B: number): void {
    this.need(B, SetxattrIn.SIZE);
    this.writable();
    const v = this.req;
    const size = v.getUint32(B + SetxattrIn.size, true);
    const flags = v.getUint32(B + SetxattrIn.flags, true);
    const name = this.name(B + SetxattrIn.SIZE);
    const at = this.names.next;
    if (size > this.bodyEnd - at) throw EINVAL;
    this.client.setxattr(this.ii(this.nodeid), name, this.request.subarray(at, at + size), flags);
    this.ok(OutHeader.SIZE);
  }

  private getxattr(B: number): void {
    this.need(B, GetxattrIn.SIZE);
    const size = this.req.getUint32(B + GetxattrIn.size, true);
    const name = this.name(B + GetxattrIn.SIZE);
    const value = this.client.getxattr(this.ii(this.nodeid), name);
    this.replyXattr(size, value.length, value, null);
  }

  private listxattr(B: number): void {
    this.need(B, GetxattrIn.SIZE);
    const size = this.req.getUint32(B + GetxattrIn.size, true);
    const list = this.client.listxattr(this.ii(this.nodeid));
    let total = 0;
    for (const n of list) total += Buffer.byteLength(n) + 1;
    this.replyXattr(size, total, null, list);
  }

  /** size 0 asks for the length; a buffer too small is ERANGE. */
  private replyXattr(size: number, total: number, value: Uint8Array | null, list: string[] | null): void {
    const o = this.out;
    if (size === 0) {
      o.setUint32(OutHeader.SIZE + GetxattrOut.size, total, true);
      o.setUint32(OutHeader.SIZE + GetxattrOut.padding, 0, true);
      this.ok(OutHeader.SIZE + GetxattrOut.SIZE);
      return;
    }
    if (total > size) throw new BadRequest(Errno.ERANGE);
    if (total > this.reply.length - OutHeader.SIZE) throw new BadRequest(Errno.E2BIG);
    if (value) this.reply.set(value, OutHeader.SIZE);
    else if (list) {
      let at = OutHeader.SIZE;
      for (const n of list) {
        at += encodeName(this.reply, at, this.reply.length, n);
        this.reply[at++] = 0;
      }
    }
    this.ok(OutHeader.SIZE + total);
  }

  // ~~~ directories ~~~

  private readdir(B: number, plus: boolean): void {
    this.need(B, ReadIn.SIZE);
    const v = this.req;
    const size = v.getUint32(B + ReadIn.size, true);
    const off = getU64(v, B + ReadIn.offset);
    const dir = this.ii(this.nodeid);
    this.dirAt = OutHeader.SIZE;
    this.dirEnd = Math.min(this.reply.length, OutHeader.SIZE + size);
    this.dirIi = dir;
    this.dirFull = false;
    const ino = dir % TWO32;
    // "." and "..": the kernel takes no count for them in READDIRPLUS.
    if (off === 0 && !this.dot('.', ino, 1, plus)) {
      this.ok(this.dirAt);
      return;
    }
    if (off <= 1 && !this.dot('..', ino, 2, plus)) {
      this.ok(this.dirAt);
      return;
    }
    this.dirPlus = plus;
    this.client.readdir(dir, off <= DOT_ENTRIES ? 0 : off - DOT_ENTRIES, this.onDirent);
    this.ok(this.dirAt);
  }

  private dirPlus = false;

  private dot(name: string, ino: number, off: number, plus: boolean): boolean {
    const b = this.reply;
    const at = this.dirAt;
    if (plus) {
      const size = recAlign(DirentPlus.name + name.length);
      if (at + size > this.dirEnd) return false;
      b.fill(0, at, at + EntryOut.SIZE);
      encodeName(b, at + DirentPlus.name, this.dirEnd, name);
      this.dirAt += finishDirentPlus(this.out, b, at, ino, off, 4, name.length);
    } else {
      const size = recAlign(Dirent.name + name.length);
      if (at + size > this.dirEnd) return false;
      encodeName(b, at + Dirent.name, this.dirEnd, name);
      this.dirAt += finishDirent(this.out, b, at, ino, off, 4, name.length);
    }
    return true;
  }

  private addDirent(name: string, ino: number, type: number, next: number): boolean {
    if (this.dirFull) return false;
    const b = this.reply;
    const at = this.dirAt;
    const off = next + DOT_ENTRIES;
    const nameAt = at + (this.dirPlus ? DirentPlus.name : Dirent.name);
    const n = encodeName(b, nameAt, this.dirEnd, name);
    if (n < 0 || recAlign(nameAt - at + n) > this.dirEnd - at) {
      this.dirFull = true;
      return false;
    }
    if (!this.dirPlus) {
      this.dirAt += finishDirent(this.out, b, at, ino, off, type, n);
      return true;
    }
    const c = this.client.find(this.dirIi, name, this.child);
    if (c === null) return true; // removed since the listing: leave it out
    // The name was encoded before the lookup; the lookup used the client, not this buffer.
    this.entryAt(at, c.ii, c.attr);
    this.dirAt += finishDirentPlus(this.out, b, at, ino, off, type, n);
    return true;
  }

  private access(B: number): void {
    this.need(B, AccessIn.SIZE);
    const mask = this.req.getUint32(B + AccessIn.mask, true) & 7;
    const a = this.client.getattr(this.ii(this.nodeid), this.attr);
    if (!this.defaultPermissions && mask) {
      let ok: boolean;
      if (this.uid === 0) ok = !(mask & 1) || (a.mode & 0o111) !== 0 || (a.mode & S_IFMT) === S_IFDIR;
      else {
        const shift = this.uid === a.uid ? 6 : this.gid === a.gid ? 3 : 0;
        ok = ((a.mode >>> shift) & 7 & mask) === mask;
      }
      if (!ok) throw new BadRequest(Errno.EACCES);
    }
    if (this.readOnly && mask & 2) throw new BadRequest(Errno.EROFS);
    this.ok(OutHeader.SIZE);
  }

  // ~~~ replies ~~~

  /** The inode of a node id the kernel sent: ESTALE when a rollback lost it (LookupTable). */
  private ii(nodeid: number): number {
    if (nodeid === FUSE_ROOT_ID) return this.client.rootIi;
    const epoch = this.client.rollbacks;
    if (!this.lookups.checked(epoch)) this.lookups.revalidate(epoch, this.alive);
    if (this.lookups.isStale(nodeid)) throw new BadRequest(Errno.ESTALE);
    return nodeid;
  }

  /** The inode `nodeid` is there with generation `gen` (revalidate's question after a rollback). */
  private readonly alive = (nodeid: number, gen: number): boolean => {
    try {
      const a = this.client.getattr(nodeid, this.checkAttr);
      return a.mode !== 0 && a.generation === gen;
    } catch (e) {
      // Gone (ENOENT, ESTALE...); an EIO says nothing of the inode: the check is made again later.
      if (isZufsError(e) && e.errno !== Errno.EIO) return false;
      throw e;
    }
  };

  private nid(ii: number): number {
    return ii === this.client.rootIi ? FUSE_ROOT_ID : ii;
  }

  private newUid(): number {
    return this.owner ? this.owner.uid : this.uid;
  }

  /** The group of a new inode in `dir`: the directory's when it is setgid (as Linux does), else the caller's. */
  private newGid(dir: number): number {
    const d = this.client.getattr(dir, this.dirAttr);
    if (d.mode & S_ISGID) return d.gid;
    return this.owner ? this.owner.gid : this.gid;
  }

  private writable(): void {
    if (this.readOnly) throw new BadRequest(Errno.EROFS);
  }

  /** The body holds at least `size` bytes of struct at `at`. */
  private need(at: number, size: number): void {
    if (at + size > this.bodyEnd) throw EINVAL;
  }

  /** A NUL-terminated name at `at` (at most 255 bytes, no "/"). */
  private name(at: number): string {
    if (at >= this.bodyEnd) throw EINVAL;
    const s = this.names.read(this.request, at, this.bodyEnd);
    if (s === null) throw EINVAL;
    if (this.names.next - at - 1 > 255) throw new BadRequest(Errno.ENAMETOOLONG);
    if (s.length === 0 || s.includes('/')) throw EINVAL;
    return s;
  }

  /** An entry_out at `at` for inode `ii`, counted as one more kernel lookup. */
  private entryAt(at: number, ii: number, a: typeof this.attr): void {
    const nodeid = this.nid(ii);
    if (nodeid !== FUSE_ROOT_ID) {
      const count = this.lookups.add(nodeid, 1, a.generation);
      if (count < 0) {
        if (!this.tableFullLogged) this.log(`lookup table full (${this.lookups.capacity}): counts are lost`);
        this.tableFullLogged = true;
      } else {
        if (count === 1 && this.holds) this.hold(nodeid);
        if (this.pendingN === this.pending.length) this.pending.push(nodeid);
        else this.pending[this.pendingN] = nodeid;
        this.pendingN++;
      }
    }
    writeEntry(this.out, at, nodeid, a, this.t, this.blksize);
    if (this.mapsIds) this.outIds(at + EntryOut.attr);
  }

  /** A caller's or a chown's uid / gid, as the filesystem stores it. */
  private inUid(id: number): number {
    return this.uidIn?.get(id) ?? id;
  }

  private inGid(id: number): number {
    return this.gidIn?.get(id) ?? id;
  }

  /** Rewrites the owner of the fuse_attr at `at` of the reply as the host sees it. */
  private outIds(at: number): void {
    const o = this.out;
    const uid = o.getUint32(at + Attr.uid, true);
    const gid = o.getUint32(at + Attr.gid, true);
    o.setUint32(at + Attr.uid, this.uidOut?.get(uid) ?? uid, true);
    o.setUint32(at + Attr.gid, this.gidOut?.get(gid) ?? gid, true);
  }

  private replyEntry(ii: number, a: typeof this.attr): void {
    this.entryAt(OutHeader.SIZE, ii, a);
    this.ok(OutHeader.SIZE + EntryOut.SIZE);
  }

  private replyAttr(a: typeof this.attr): void {
    writeAttrOut(this.out, OutHeader.SIZE, a, this.t, this.blksize);
    if (this.mapsIds) this.outIds(OutHeader.SIZE + AttrOut.attr);
    this.ok(OutHeader.SIZE + 104);
  }

  /**
   * open_out; `direct` for a file just created, write-only (FOPEN_DIRECT_IO). Before a write through
   * the page cache the kernel asks GETXATTR security.capability unless the inode is marked NOSEC,
   * and every attribute refresh (the CREATE reply is one) clears that mark: one GETXATTR per new
   * file. On the direct path it leaves dropping privileges to us (KILLPRIV_V2) and asks nothing;
   * nothing could be read through a write-only open, and writes reach us either way. Opens of
   * existing files stay cached: an O_TRUNC open asks GETXATTR unless the inode is NOSEC, and only a
   * cached write marks it so (then rewrites cost OPEN, WRITE, RELEASE).
   */
  private replyOpen(at: number, direct: boolean): void {
    const o = this.out;
    putU64(o, at + OpenOut.fh, 0);
    o.setUint32(at + OpenOut.open_flags, direct ? FOPEN_DIRECT_IO : 0, true);
    o.setUint32(at + OpenOut.padding, 0, true);
    this.ok(at + OpenOut.SIZE);
  }

  private ok(len: number): void {
    writeOutHeader(this.out, len, 0, this.unique);
    const err = this.transport.write(this.reply, len);
    // The kernel never saw the reply (interrupted, or the mount is going): it holds no new entries.
    if (err !== 0) this.undoPending();
    this.pendingN = 0;
  }

  private error(errno: number): void {
    writeOutHeader(this.out, OutHeader.SIZE, -errno, this.unique);
    this.transport.write(this.reply, OutHeader.SIZE);
  }

  /** The kernel holds `nodeid` now: count it open for the whole mount. */
  private hold(nodeid: number): void {
    try {
      this.holds!.open(nodeid);
    } catch (e) {
      // ENFILE: the mount's table is full; the inode is then kept by its lookup count alone.
      if (!this.holdsFullLogged) this.log(`open counts: ${describe(e)}`);
      this.holdsFullLogged = true;
    }
  }

  private undoPending(): void {
    const n = this.pendingN;
    this.pendingN = 0;
    for (let i = 0; i < n; i++) {
      try {
        this.drop(this.pending[i], 1);
      } catch (e) {
        this.log(`dropping an unsent entry: ${describe(e)}`);
      }
    }
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}
