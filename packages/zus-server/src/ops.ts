/**
 * The operation switch (zus-vfs of ZUFS): decode a request from the operation buffer, find the
 * superblock its cookie names, call the plugin, encode the reply. Returns 0 or a negative errno.
 *
 * Replies that hand the app an inode carry a 128-byte zus_inode copy right after the operation's
 * struct (ziCopyAt): LOOKUP, NEW_INODE, ADD_DENTRY, REMOVE_DENTRY and SETATTR (whose copy is also the
 * request's new values; a SETATTR with an empty mask is a getattr). See docs/decisions.md.
 * LOOKUP_PATH carries one in each step of its reply, written by the plugin's lookupPath.
 */
import {
  Errno,
  type FiemapFill,
  getTimeNs,
  getU64,
  IO_POOL_LENT,
  IocAttr,
  IocClone,
  IocDentry,
  IocEvictInode,
  IocFiemap,
  IocHdr,
  IocIO,
  IocIoctl,
  IocLookup,
  IocLookupPath,
  IocMmapClose,
  IocMountOptions,
  IocNewInode,
  IocReaddir,
  IocRename,
  IocSeek,
  IocStatfs,
  IocSync,
  IocXattr,
  isDir,
  isLnk,
  isU53,
  LookupPathStep,
  lookupPathNamesAt,
  modePermits,
  S_IFMT,
  S_IFREG,
  type Statfs,
  Statfs64,
  setU64,
  type ZdeIter,
  ZI_COPY,
  ZI_TMPFILE,
  ZUFS_INODE_SIZE,
  ZUFS_LP_MISSING,
  ZUFS_LP_START,
  ZUFS_MO_MAX,
  ZUFS_OP_ADD_DENTRY,
  ZUFS_OP_CLONE,
  ZUFS_OP_COPY,
  ZUFS_OP_EVICT_INODE,
  ZUFS_OP_FALLOCATE,
  ZUFS_OP_FIEMAP,
  ZUFS_OP_FREE_INODE,
  ZUFS_OP_GET_MULTY,
  ZUFS_OP_IOCTL,
  ZUFS_OP_LLSEEK,
  ZUFS_OP_LOOKUP,
  ZUFS_OP_LOOKUP_PATH,
  ZUFS_OP_MMAP_CLOSE,
  ZUFS_OP_NEW_INODE,
  ZUFS_OP_PRE_READ,
  ZUFS_OP_PUT_MULTY,
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
  ZUFS_RW_APP_COPY,
  ZUFS_RW_APPEND,
  ZUFS_XATTR_SET_EMPTY,
  ZUFS_XATTR_TRUSTED,
  ZufsIomap,
  ZusInode,
  zdeEmitInit,
} from '@zufs/zuf-core/api';
import { iiCookie, iiIno, iiSb } from './cookies.js';
import type { Mounted } from './mount-table.js';
import type { ZName, ZPath } from './plugin.js';
import type { Zt } from './zt.js';

const ENOTSUP = -Errno.EOPNOTSUPP;
const EINVAL = -Errno.EINVAL;

/**
 * What a change the plugin does not implement answers, as Linux's VFS does for a filesystem
 * without that inode or file operation: a filesystem that implements no change at all is a
 * read-only one (EROFS, as squashfs); otherwise create is EACCES, mkdir, mknod, symlink, link,
 * unlink, rmdir, rename and setattr EPERM, tmpfile EOPNOTSUPP, read and write EINVAL.
 */
function noChange(m: Mounted, errno: number): number {
  return m.readOnly ? -Errno.EROFS : -errno;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** A zufs_str of the request, viewed in place. */
class ReqName implements ZName {
  at = 0;
  len = 0;
  private cached: string | null = null;
  constructor(readonly bytes: Uint8Array) {}
  /** Points at the zufs_str at `at` of the buffer; false when its length is 0. */
  set(at: number): boolean {
    this.len = this.bytes[at];
    this.at = at + 1;
    this.cached = null;
    return this.len > 0;
  }
  setRaw(at: number, len: number): void {
    this.at = at;
    this.len = len;
    this.cached = null;
  }
  str(): string {
    if (this.cached === null) this.cached = decoder.decode(this.bytes.subarray(this.at, this.at + this.len));
    return this.cached;
  }
  equals(b: Uint8Array, bAt: number, bLen: number): boolean {
    if (bLen !== this.len) return false;
    const a = this.bytes;
    for (let i = 0; i < bLen; i++) if (a[this.at + i] !== b[bAt + i]) return false;
    return true;
  }
}

/**
 * A name of a path: no '/' and no NUL (a plugin may join a request's names with '/', as sqlfs does
 * for SQLite; such a name is a path, which no walk sends as one name).
 */
function plainName(v: DataView, at: number, len: number): boolean {
  for (let i = at; i < at + len; i++) {
    const c = v.getUint8(i);
    if (c === 0x2f || c === 0) return false;
  }
  return true;
}

/** The names of a LOOKUP_PATH request (its zufs_str after the steps) and the steps the plugin gave. */
class ReqPath implements ZPath {
  n = 0;
  /** How many names the plugin resolved (its answer, kept while the start's attributes are read). */
  k = 0;
  /** Where the start directory's zus_inode goes (ZUFS_LP_START). */
  readonly start: DataView;
  /** Byte offset of each name's zufs_str in the buffer. */
  readonly at: Int32Array;
  /** The inode each step gave (0: none yet). */
  readonly inos: Float64Array;
  /** A view of each step's zus_inode copy, made when first used. */
  private readonly zis: DataView[] = [];

  constructor(
    private readonly v: DataView,
    private readonly reqName: ReqName,
    max: number,
  ) {
    this.at = new Int32Array(max);
    this.inos = new Float64Array(max);
    this.start = new DataView(v.buffer, v.byteOffset + IocLookupPath.start, ZUFS_INODE_SIZE);
  }

  /** Reads the request's `n` names, up to byte `end`; false when they are malformed. */
  set(n: number, end: number): boolean {
    if (n < 1 || n > this.at.length) return false;
    let at = lookupPathNamesAt(n);
    for (let i = 0; i < n; i++) {
      if (at >= end) return false;
      const len = this.v.getUint8(at);
      if (len === 0 || at + 1 + len > end || !plainName(this.v, at + 1, len)) return false;
      this.at[i] = at;
      this.inos[i] = 0;
      at += 1 + len;
    }
    this.n = n;
    return true;
  }

  name(i: number): ZName {
    if (!(i >= 0 && i < this.n)) throw new RangeError(`name ${i} of ${this.n}`);
    this.reqName.set(this.at[i]);
    return this.reqName;
  }

  step(i: number, ino: number): DataView {
    if (!(i >= 0 && i < this.n) || !(ino > 0)) throw new RangeError(`step ${i} (inode ${ino}) of ${this.n}`);
    this.inos[i] = ino;
    return this.zi(i);
  }

  zi(i: number): DataView {
    let z = this.zis[i];
    if (z === undefined) {
      const at = this.v.byteOffset + IocLookupPath.steps + i * LookupPathStep.SIZE + LookupPathStep.zi;
      z = this.zis[i] = new DataView(this.v.buffer, at, ZUFS_INODE_SIZE);
    }
    return z;
  }
}

/**
 * What the op handlers below return when the plugin returned a Promise: the ZT keeps the operation
 * pending (Zt.later) and runs the handler's Then step once it settles.
 */
export const PENDING = 1;

/** The step of an operation after the plugin's call: encodes the reply (0, -errno, or PENDING again). */
export type Then = (zt: Zt, m: Mounted, v: DataView, value: unknown) => number;

/** Scratch objects, one set per channel: operations never allocate, and a pending one keeps its own. */
export interface OpScratch {
  name1: ReqName;
  name2: ReqName;
  path: ReqPath;
  /** Request zus_inode of NEW_INODE. */
  reqZi: DataView;
  zi: { lookup: DataView; newInode: DataView; dentry: DataView; setattr: DataView };
  iter: ZdeIter;
  fill: FiemapFill;
  windowView: DataView;
  statfs: Statfs;
  /** Where the reply ends once the zus_inode copy is written (ziCopy). */
  replyEnd: number;
}

function scratchFor(zt: Zt, v: DataView): OpScratch {
  return zt.scratch ?? makeScratch(zt, v);
}

function makeScratch(zt: Zt, v: DataView): OpScratch {
  const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  const zi = (at: number) => new DataView(v.buffer, v.byteOffset + at, ZUFS_INODE_SIZE);
  const w = zt.slot.window;
  const windowView = new DataView(w.buffer, w.byteOffset, w.byteLength);
  const name1 = new ReqName(bytes);
  // A LOOKUP_PATH's names: at most one a step and two bytes of the buffer.
  const maxNames = Math.floor((zt.capacity - IocLookupPath.steps) / (LookupPathStep.SIZE + 2));
  zt.scratch = {
    name1,
    name2: new ReqName(bytes),
    path: new ReqPath(v, name1, Math.max(0, maxNames)),
    reqZi: zi(IocNewInode.zi),
    zi: {
      lookup: zi(ZI_COPY.LOOKUP),
      newInode: zi(ZI_COPY.NEW_INODE),
      dentry: zi(ZI_COPY.DENTRY),
      setattr: zi(ZI_COPY.SETATTR),
    },
    iter: zdeEmitInit(windowView, 0, 0),
    fill: { dv: windowView, at: 0, extentsMax: 0, extentsMapped: 0 },
    windowView,
    statfs: {
      type: 0,
      bsize: 0,
      blocks: 0,
      bfree: 0,
      bavail: 0,
      files: 0,
      ffree: 0,
      namelen: 0,
      frsize: 0,
      flags: 0,
    },
    replyEnd: 0,
  };
  return zt.scratch;
}

/** Sets out_len so the reply ends at byte `end` of the buffer. */
function replyTo(v: DataView, end: number): void {
  v.setUint16(IocHdr.out_len, Math.max(0, end - v.getUint16(IocHdr.out_start, true)), true);
}

/** The mount an inode cookie names, or null. */
function mountOf(zt: Zt, v: DataView, at: number): Mounted | undefined {
  return zt.mounted(iiSb(getU64(v, at)));
}

function inoAt(v: DataView, at: number): number {
  return iiIno(getU64(v, at));
}

/**
 * Where the request's data [offset, offset + len) is: the window (pool 0), a shared pool (1-6), or
 * the buffer an inline caller lent (IO_POOL_LENT); null when there is none or it is out of bounds.
 */
function dataOf(zt: Zt, v: DataView, pool: number): Uint8Array | null {
  const off = v.getUint32(IocHdr.offset, true);
  const len = v.getUint32(IocHdr.len, true);
  const buf =
    pool === 0
      ? zt.slot.window
      : pool === IO_POOL_LENT
        ? zt.slot.lent
        : pool <= 6
          ? (zt.root.pools[pool]?.bytes ?? null)
          : null;
  if (!buf || off + len > buf.byteLength) return null;
  return buf;
}

/**
 * Writes the inode's zus_inode copy at `zi` (the plugin's getattr) and ends the reply at `end`.
 * The last plugin call of every operation that hands the app an inode.
 */
function ziCopy(zt: Zt, m: Mounted, v: DataView, ino: number, zi: DataView, end: number): number {
  if (!m.sb.getattr) throw new Error('the filesystem has no getattr: it cannot answer an inode');
  const r = m.sb.getattr(ino, zi, zt.context);
  if (r !== undefined) {
    scratchFor(zt, v).replyEnd = end;
    return zt.later(m, r, ziCopied);
  }
  replyTo(v, end);
  return 0;
}

const ziCopied: Then = (zt, _m, v) => {
  replyTo(v, scratchFor(zt, v).replyEnd);
  return 0;
};

/** An operation whose plugin call answers nothing: done once it returned (or its Promise settled). */
const nothing: Then = () => 0;

/** The plugin's void answer: done now, or once its Promise settles. */
function voidOp(zt: Zt, m: Mounted, r: unknown): number {
  return r === undefined ? 0 : zt.later(m, r, nothing);
}

export function handleFsOp(zt: Zt, op: number, v: DataView): number {
  switch (op) {
    case ZUFS_OP_STATFS:
      return statfs(zt, v);
    case ZUFS_OP_IOCTL:
      return ioctl(zt, v);
    case ZUFS_OP_SHOW_OPTIONS:
      return showOptions(zt, v);
    case ZUFS_OP_NEW_INODE:
      return newInode(zt, v);
    case ZUFS_OP_FREE_INODE:
    case ZUFS_OP_EVICT_INODE: {
      const m = mountOf(zt, v, IocEvictInode.zus_ii);
      if (!m) return EINVAL;
      const ino = inoAt(v, IocEvictInode.zus_ii);
      return voidOp(
        zt,
        m,
        op === ZUFS_OP_FREE_INODE
          ? m.sb.freeInode?.(ino, zt.context)
          : m.sb.evictInode?.(ino, getU64(v, IocEvictInode.flags), zt.context),
      );
    }
    case ZUFS_OP_LOOKUP:
      return lookup(zt, v);
    case ZUFS_OP_LOOKUP_PATH:
      return lookupPath(zt, v);
    case ZUFS_OP_ADD_DENTRY:
    case ZUFS_OP_REMOVE_DENTRY:
      return dentry(zt, op, v);
    case ZUFS_OP_RENAME:
      return rename(zt, v);
    case ZUFS_OP_READDIR:
      return readdir(zt, v);
    case ZUFS_OP_CLONE:
    case ZUFS_OP_COPY: {
      const m = mountOf(zt, v, IocClone.src_zus_ii);
      if (!m || iiSb(getU64(v, IocClone.dst_zus_ii)) !== m.sbId) return -Errno.EXDEV;
      if (!m.sb.clone) return ENOTSUP;
      return voidOp(
        zt,
        m,
        m.sb.clone(
          inoAt(v, IocClone.src_zus_ii),
          inoAt(v, IocClone.dst_zus_ii),
          getU64(v, IocClone.pos_in),
          getU64(v, IocClone.pos_out),
          getU64(v, IocClone.len),
          op === ZUFS_OP_COPY,
          zt.context,
        ),
      );
    }
    case ZUFS_OP_READ:
    case ZUFS_OP_WRITE:
      return io(zt, op, v);
    case ZUFS_OP_PRE_READ: {
      const m = mountOf(zt, v, IocIO.zus_ii);
      if (!m) return EINVAL;
      return voidOp(
        zt,
        m,
        m.sb.preRead?.(
          inoAt(v, IocIO.zus_ii),
          getU64(v, IocIO.filepos),
          v.getUint32(IocHdr.len, true),
          zt.context,
        ),
      );
    }
    case ZUFS_OP_GET_MULTY: {
      const m = mountOf(zt, v, IocIO.zus_ii);
      if (!m) return EINVAL;
      if (!m.sb.getMulty) return ENOTSUP;
      // The io-map runs on past the struct, into the rest of the operation buffer: no further.
      const max = v.getUint32(IocIO.ziom + ZufsIomap.iom_max, true);
      if (IocIO.iom_e + max * 8 > zt.capacity) return EINVAL;
      v.setUint32(IocIO.ziom + ZufsIomap.iom_n, 0, true);
      const r = m.sb.getMulty(inoAt(v, IocIO.zus_ii), v, 0, zt.context);
      return r === undefined ? getMultyDone(zt, m, v, r) : zt.later(m, r, getMultyDone);
    }
    case ZUFS_OP_PUT_MULTY: {
      const m = mountOf(zt, v, IocIO.zus_ii);
      if (!m) return EINVAL;
      return voidOp(zt, m, m.sb.putMulty?.(inoAt(v, IocIO.zus_ii), v, 0, zt.context));
    }
    case ZUFS_OP_MMAP_CLOSE: {
      const m = mountOf(zt, v, IocMmapClose.zus_ii);
      if (!m) return EINVAL;
      return voidOp(
        zt,
        m,
        m.sb.mmapClose?.(inoAt(v, IocMmapClose.zus_ii), getU64(v, IocMmapClose.rw), zt.context),
      );
    }
    case ZUFS_OP_SETATTR:
      return setattr(zt, v);
    case ZUFS_OP_SYNC: {
      const m = mountOf(zt, v, IocSync.zus_ii);
      if (!m) return EINVAL;
      setU64(v, IocSync.write_unmapped, 0);
      return voidOp(
        zt,
        m,
        m.sb.sync?.(
          inoAt(v, IocSync.zus_ii),
          getU64(v, IocSync.offset),
          getU64(v, IocSync.length),
          getU64(v, IocSync.flags),
          zt.context,
        ),
      );
    }
    case ZUFS_OP_FALLOCATE: {
      const m = mountOf(zt, v, IocIO.zus_ii);
      if (!m) return EINVAL;
      if (!m.sb.fallocate) return m.readOnly ? -Errno.EROFS : ENOTSUP;
      // The mode is the low word of rw (ZUFS_FL_TRUNCATE is its top bit).
      return voidOp(
        zt,
        m,
        m.sb.fallocate(
          inoAt(v, IocIO.zus_ii),
          v.getUint32(IocIO.rw, true),
          getU64(v, IocIO.filepos),
          v.getUint32(IocIO.last_pos + 4, true) === 0xffffffff
            ? Number.MAX_SAFE_INTEGER
            : getU64(v, IocIO.last_pos),
          zt.context,
        ),
      );
    }
    case ZUFS_OP_LLSEEK: {
      const m = mountOf(zt, v, IocSeek.zus_ii);
      if (!m) return EINVAL;
      if (!m.sb.seek) return ENOTSUP;
      const off = m.sb.seek(
        inoAt(v, IocSeek.zus_ii),
        getU64(v, IocSeek.offset_in),
        v.getUint32(IocSeek.whence, true),
        zt.context,
      );
      return typeof off === 'number' ? seekDone(zt, m, v, off) : zt.later(m, off, seekDone);
    }
    case ZUFS_OP_XATTR_GET:
    case ZUFS_OP_XATTR_SET:
    case ZUFS_OP_XATTR_LIST:
      return xattr(zt, op, v);
    case ZUFS_OP_FIEMAP:
      return fiemap(zt, v);
    default:
      return ENOTSUP;
  }
}

const getMultyDone: Then = (_zt, _m, v) =>
  v.getUint32(IocIO.ziom + ZufsIomap.iom_n, true) > v.getUint32(IocIO.ziom + ZufsIomap.iom_max, true)
    ? -Errno.EIO
    : 0;

const seekDone: Then = (_zt, _m, v, off) => {
  setU64(v, IocSeek.offset_out, off as number);
  replyTo(v, IocSeek.SIZE);
  return 0;
};

function statfs(zt: Zt, v: DataView): number {
  const m = zt.mounted(getU64(v, IocStatfs.zus_sbi));
  if (!m) return EINVAL;
  if (!m.sb.statfs) return -Errno.ENOSYS; // as statfs(2) on a filesystem without ->statfs
  const o = scratchFor(zt, v).statfs;
  o.type = m.type.magic;
  o.bsize = o.frsize = 4096;
  o.blocks = o.bfree = o.bavail = o.files = o.ffree = o.flags = 0;
  o.namelen = 255;
  const r = m.sb.statfs(o, zt.context);
  return r === undefined ? statfsDone(zt, m, v, r) : zt.later(m, r, statfsDone);
}

const statfsDone: Then = (zt, _m, v) => {
  const o = scratchFor(zt, v).statfs;
  const at = IocStatfs.statfs_out;
  new Uint8Array(v.buffer, v.byteOffset + at, Statfs64.SIZE).fill(0);
  setU64(v, at + Statfs64.f_type, o.type);
  setU64(v, at + Statfs64.f_bsize, o.bsize);
  setU64(v, at + Statfs64.f_blocks, o.blocks);
  setU64(v, at + Statfs64.f_bfree, o.bfree);
  setU64(v, at + Statfs64.f_bavail, o.bavail);
  setU64(v, at + Statfs64.f_files, o.files);
  setU64(v, at + Statfs64.f_ffree, o.ffree);
  setU64(v, at + Statfs64.f_namelen, o.namelen);
  setU64(v, at + Statfs64.f_frsize, o.frsize);
  setU64(v, at + Statfs64.f_flags, o.flags);
  v.setUint16(IocHdr.out_len, Statfs64.SIZE, true);
  return 0;
};

function ioctl(zt: Zt, v: DataView): number {
  const ii = getU64(v, IocIoctl.zus_ii);
  const m = zt.mounted(iiSb(ii));
  if (!m) return EINVAL;
  if (!m.sb.ioctl) return -Errno.ENOTTY;
  const n = m.sb.ioctl(iiIno(ii), v.getUint32(IocIoctl.cmd, true), zt.ioctlArg, zt.context);
  return typeof n === 'number' ? ioctlDone(zt, m, v, n) : zt.later(m, n, ioctlDone);
}

const ioctlDone: Then = (_zt, _m, v, n) => {
  if (!((n as number) >= 0)) return EINVAL;
  v.setUint16(IocHdr.out_len, n as number, true);
  return 0;
};

function showOptions(zt: Zt, v: DataView): number {
  const m = zt.mounted(getU64(v, IocMountOptions.zus_sbi));
  if (!m) return EINVAL;
  const s = m.sb.showOptions?.(zt.context) ?? '';
  return typeof s === 'string' ? showOptionsDone(zt, m, v, s) : zt.later(m, s, showOptionsDone);
}

const showOptionsDone: Then = (_zt, _m, v, s) => {
  const bytes = new Uint8Array(v.buffer, v.byteOffset + IocMountOptions.buf, ZUFS_MO_MAX);
  const r = encoder.encodeInto(String(s ?? ''), bytes);
  replyTo(v, IocMountOptions.buf + r.written);
  return 0;
};

function newInode(zt: Zt, v: DataView): number {
  const m = mountOf(zt, v, IocNewInode.dir_ii);
  if (!m) return EINVAL;
  const s = scratchFor(zt, v);
  const flags = getU64(v, IocNewInode.flags);
  const tmp = (flags & ZI_TMPFILE) !== 0;
  if (!m.sb.newInode) {
    const type = s.reqZi.getUint16(ZusInode.i_mode, true) & S_IFMT;
    return noChange(m, tmp ? Errno.EOPNOTSUPP : type === S_IFREG ? Errno.EACCES : Errno.EPERM);
  }
  if (!tmp && !s.name1.set(IocNewInode.str)) return -Errno.ENOENT;
  let symlink: Uint8Array | null = null;
  if (isLnk(s.reqZi.getUint16(ZusInode.i_mode, true))) {
    const buf = dataOf(zt, v, 0);
    if (!buf) return EINVAL;
    const off = v.getUint32(IocHdr.offset, true);
    symlink = buf.subarray(off, off + v.getUint32(IocHdr.len, true));
  }
  const ino = m.sb.newInode(
    inoAt(v, IocNewInode.dir_ii),
    tmp ? null : s.name1,
    s.reqZi,
    flags,
    symlink,
    zt.context,
  );
  return typeof ino === 'number' ? newInodeDone(zt, m, v, ino) : zt.later(m, ino, newInodeDone);
}

const newInodeDone: Then = (zt, m, v, ino) => {
  setU64(v, IocNewInode.zus_ii, iiCookie(m.sbId, ino as number));
  setU64(v, IocNewInode._zi, m.sb.ziDpp?.(ino as number) ?? 0);
  return ziCopy(zt, m, v, ino as number, scratchFor(zt, v).zi.newInode, ZI_COPY.NEW_INODE + ZUFS_INODE_SIZE);
};

function lookup(zt: Zt, v: DataView): number {
  const m = mountOf(zt, v, IocLookup.dir_ii);
  if (!m) return EINVAL;
  if (!m.sb.lookup) return -Errno.ENOTDIR; // no ->lookup: not a directory
  const s = scratchFor(zt, v);
  if (!s.name1.set(IocLookup.str)) return -Errno.ENOENT;
  const ino = m.sb.lookup(inoAt(v, IocLookup.dir_ii), s.name1, zt.context);
  return typeof ino === 'number' ? lookupDone(zt, m, v, ino) : zt.later(m, ino, lookupDone);
}

const lookupDone: Then = (zt, m, v, ino) => {
  if (ino === 0) return -Errno.ENOENT; // a miss is common: no exception needed for it
  setU64(v, IocLookup.zus_ii, iiCookie(m.sbId, ino as number));
  setU64(v, IocLookup._zi, m.sb.ziDpp?.(ino as number) ?? 0);
  return ziCopy(zt, m, v, ino as number, scratchFor(zt, v).zi.lookup, ZI_COPY.LOOKUP + ZUFS_INODE_SIZE);
};

function lookupPath(zt: Zt, v: DataView): number {
  const m = mountOf(zt, v, IocLookupPath.dir_ii);
  if (!m) return EINVAL;
  if (!m.sb.lookupPath) return ENOTSUP;
  const p = scratchFor(zt, v).path;
  const end = Math.min(v.getUint16(IocHdr.in_len, true), zt.capacity);
  if (!p.set(v.getUint16(IocLookupPath.names, true), end)) return EINVAL;
  const n = m.sb.lookupPath(inoAt(v, IocLookupPath.dir_ii), p, zt.context);
  return typeof n === 'number' ? lookupPathDone(zt, m, v, n) : zt.later(m, n, lookupPathDone);
}

/** The plugin's answer; with ZUFS_LP_START, the start directory's attributes then (its getattr). */
const lookupPathDone: Then = (zt, m, v, k) => {
  const p = scratchFor(zt, v).path;
  if (!(Number.isInteger(k) && (k as number) >= 0 && (k as number) <= p.n))
    throw new Error(`lookupPath returned ${k} for ${p.n} names`);
  p.k = k as number;
  if (!(v.getUint32(IocLookupPath.flags, true) & ZUFS_LP_START)) return lookupPathCut(zt, m, v, undefined);
  if (!m.sb.getattr) throw new Error('the filesystem has no getattr: it cannot answer an inode');
  const r = m.sb.getattr(inoAt(v, IocLookupPath.dir_ii), p.start, zt.context);
  return r === undefined ? lookupPathCut(zt, m, v, r) : zt.later(m, r, lookupPathCut);
};

/** May the caller of the request search the directory whose zus_inode is `zi`? */
function searches(v: DataView, zi: DataView): boolean {
  const mode = zi.getUint16(ZusInode.i_mode, true);
  const owner = zi.getUint32(ZusInode.i_uid, true);
  const group = zi.getUint32(ZusInode.i_gid, true);
  const uid = v.getUint32(IocLookupPath.uid, true);
  return isDir(mode) && modePermits(mode, owner, group, uid, v.getUint32(IocLookupPath.gid, true), 1);
}

/**
 * The steps the plugin gave, cut where the app's walk could not go on by what they say: at once
 * when the start (ZUFS_LP_START) is no directory the caller may search, else after a symlink (the
 * app follows it), a non-directory (ENOTDIR) or a directory the caller may not search (EACCES).
 * The app checks each step again as its own walk does: the same errors, from the copies.
 */
const lookupPathCut: Then = (zt, m, v) => {
  const p = scratchFor(zt, v).path;
  const n = p.n;
  let done = p.k;
  let cut = false;
  if (v.getUint32(IocLookupPath.flags, true) & ZUFS_LP_START && !searches(v, p.start)) {
    done = 0;
    cut = true;
  }
  for (let i = 0; i < done; i++) {
    const ino = p.inos[i];
    if (ino === 0) throw new Error(`lookupPath gave no step ${i} of the ${done} it counted`);
    const at = IocLookupPath.steps + i * LookupPathStep.SIZE;
    setU64(v, at + LookupPathStep.zus_ii, iiCookie(m.sbId, ino));
    setU64(v, at + LookupPathStep._zi, m.sb.ziDpp?.(ino) ?? 0);
    if (i + 1 < n && !searches(v, p.zi(i))) {
      done = i + 1;
      cut = true;
    }
  }
  v.setUint16(IocLookupPath.done, done, true);
  // Not cut short of n: the walk stands in a directory the caller may search, without name `done`.
  v.setUint32(IocLookupPath.flags, !cut && done < n ? ZUFS_LP_MISSING : 0, true);
  replyTo(v, IocLookupPath.steps + done * LookupPathStep.SIZE);
  return 0;
};

function dentry(zt: Zt, op: number, v: DataView): number {
  const m = mountOf(zt, v, IocDentry.zus_dir_ii);
  if (!m) return EINVAL;
  if (iiSb(getU64(v, IocDentry.zus_ii)) !== m.sbId) return -Errno.EXDEV;
  const s = scratchFor(zt, v);
  if (!s.name1.set(IocDentry.str)) return -Errno.ENOENT;
  const dir = inoAt(v, IocDentry.zus_dir_ii);
  const ino = inoAt(v, IocDentry.zus_ii);
  let r: unknown;
  if (op === ZUFS_OP_ADD_DENTRY) {
    if (!m.sb.addDentry) return noChange(m, Errno.EPERM);
    r = m.sb.addDentry(dir, ino, s.name1, zt.context);
  } else {
    if (!m.sb.removeDentry) return noChange(m, Errno.EPERM);
    r = m.sb.removeDentry(dir, ino, s.name1, zt.context);
  }
  return r === undefined ? dentryDone(zt, m, v, r) : zt.later(m, r, dentryDone);
}

const dentryDone: Then = (zt, m, v) => {
  const ino = inoAt(v, IocDentry.zus_ii);
  setU64(v, IocDentry.ino, ino);
  return ziCopy(zt, m, v, ino, scratchFor(zt, v).zi.dentry, ZI_COPY.DENTRY + ZUFS_INODE_SIZE);
};

function rename(zt: Zt, v: DataView): number {
  const m = mountOf(zt, v, IocRename.old_dir_ii);
  if (!m) return EINVAL;
  if (iiSb(getU64(v, IocRename.new_dir_ii)) !== m.sbId) return -Errno.EXDEV;
  if (!m.sb.rename) return noChange(m, Errno.EPERM);
  const s = scratchFor(zt, v);
  if (!s.name1.set(IocRename.old_d_str) || !s.name2.set(IocRename.new_d_str)) return -Errno.ENOENT;
  const replaced = m.sb.rename(
    inoAt(v, IocRename.old_dir_ii),
    s.name1,
    inoAt(v, IocRename.new_dir_ii),
    s.name2,
    getU64(v, IocRename.flags),
    getTimeNs(v, IocRename.time),
    zt.context,
  );
  return replaced === undefined || typeof replaced === 'number'
    ? renameDone(zt, m, v, replaced)
    : zt.later(m, replaced, renameDone);
}

const renameDone: Then = (_zt, m, v, replaced) => {
  // The inode replaced, as the filesystem saw it, when the app asked for it (out_max covers it).
  if (
    typeof replaced === 'number' &&
    v.getUint16(IocHdr.out_start, true) === IocRename.new_zus_ii &&
    v.getUint16(IocHdr.out_max, true) >= 8
  ) {
    setU64(v, IocRename.new_zus_ii, replaced > 0 ? iiCookie(m.sbId, replaced) : 0);
    replyTo(v, IocRename.new_zus_ii + 8);
  }
  return 0;
};

function readdir(zt: Zt, v: DataView): number {
  const m = mountOf(zt, v, IocReaddir.dir_ii);
  if (!m) return EINVAL;
  if (!m.sb.readdir) return -Errno.ENOTDIR; // no ->iterate: not a directory
  const s = scratchFor(zt, v);
  if (!dataOf(zt, v, 0)) return EINVAL;
  const it = zdeEmitInit(
    s.windowView,
    v.getUint32(IocHdr.offset, true),
    v.getUint32(IocHdr.len, true),
    s.iter,
  );
  const r = m.sb.readdir(inoAt(v, IocReaddir.dir_ii), getU64(v, IocReaddir.pos), it, zt.context);
  return r === undefined ? readdirDone(zt, m, v, r) : zt.later(m, r, readdirDone);
}

const readdirDone: Then = (zt, _m, v) => {
  v.setUint8(IocReaddir.more, scratchFor(zt, v).iter.more ? 1 : 0);
  replyTo(v, IocReaddir.SIZE);
  return 0;
};

function io(zt: Zt, op: number, v: DataView): number {
  const m = mountOf(zt, v, IocIO.zus_ii);
  if (!m) return EINVAL;
  const rw = v.getUint32(IocIO.rw, true);
  if (rw & ZUFS_RW_APP_COPY) return appCopyWrite(zt, m, v, rw);
  const pool = v.getUint32(IocIO.pool, true);
  const buf = dataOf(zt, v, pool);
  if (!buf) return EINVAL;
  const ino = inoAt(v, IocIO.zus_ii);
  const pos = getU64(v, IocIO.filepos);
  const len = v.getUint32(IocHdr.len, true);
  const at = v.getUint32(IocHdr.offset, true);
  if (op === ZUFS_OP_READ) {
    if (!m.sb.read) return EINVAL; // read(2) of a file without ->read
    const n = m.sb.read(ino, pos, len, buf, at, zt.context);
    return typeof n === 'number' ? readDone(zt, m, v, n) : zt.later(m, n, readDone);
  }
  if (!m.sb.write) return noChange(m, Errno.EINVAL);
  const end = m.sb.write(ino, pos, len, buf, at, rw, zt.context);
  return typeof end === 'number' ? writeDone(zt, m, v, end) : zt.later(m, end, writeDone);
}

const readDone: Then = (_zt, _m, v, n) => {
  const len = v.getUint32(IocHdr.len, true);
  if (!((n as number) >= 0 && (n as number) <= len)) badCount('read', n, len);
  setU64(v, IocIO.last_pos, getU64(v, IocIO.filepos) + (n as number));
  replyTo(v, IocIO.ziom);
  return 0;
};

const writeDone: Then = (_zt, _m, v, end) => {
  if (!isU53(end as number)) badCount('write', end, v.getUint32(IocHdr.len, true));
  setU64(v, IocIO.last_pos, end as number);
  replyTo(v, IocIO.ziom);
  return 0;
};

const NO_DATA = new Uint8Array(0);

/**
 * WRITE whose data the app copies (ZUFS_RW_APP_COPY): no data in the request; the plugin calls
 * context.copyFromApp. A state word left set means a stale post (an app that resumed a write its
 * ZT had given up on), not a request.
 */
function appCopyWrite(zt: Zt, m: Mounted, v: DataView, rw: number): number {
  if (!m.sb.write || !m.sb.appCopy || zt.index < 0) return -Errno.EOPNOTSUPP;
  if (v.getUint32(IocIO.cookie, true) !== 0 || rw & ZUFS_RW_APPEND) return EINVAL;
  const pos = getU64(v, IocIO.filepos);
  const len = v.getUint32(IocHdr.len, true);
  const end = m.sb.write(inoAt(v, IocIO.zus_ii), pos, len, NO_DATA, 0, rw, zt.context);
  return typeof end === 'number' ? writeDone(zt, m, v, end) : zt.later(m, end, writeDone);
}

/** A plugin's impossible count, out of line (a template in io() would cost every read and write). */
function badCount(op: string, n: unknown, len: number): never {
  throw new Error(op === 'read' ? `read returned ${n} for ${len} bytes` : `write returned ${n}`);
}

function setattr(zt: Zt, v: DataView): number {
  const m = mountOf(zt, v, IocAttr.zus_ii);
  if (!m) return EINVAL;
  const s = scratchFor(zt, v);
  const mask = v.getUint32(IocAttr.zuf_attr, true);
  if (mask === 0) return setattrDone(zt, m, v, undefined);
  if (!m.sb.setattr) return noChange(m, Errno.EPERM);
  const r = m.sb.setattr(inoAt(v, IocAttr.zus_ii), mask, s.zi.setattr, zt.context);
  return r === undefined ? setattrDone(zt, m, v, r) : zt.later(m, r, setattrDone);
}

const setattrDone: Then = (zt, m, v) => {
  const ino = inoAt(v, IocAttr.zus_ii);
  // The zus_inode's place lets the app thread answer the next getattr from pmem (a thread that did
  // not look the inode up, e.g. another FUSE reader, learns it here).
  let end = ZI_COPY.SETATTR + ZUFS_INODE_SIZE;
  if (v.getUint16(IocHdr.out_start, true) + v.getUint16(IocHdr.out_max, true) >= ZI_COPY.SETATTR_END) {
    setU64(v, ZI_COPY.SETATTR_ZI, m.sb.ziDpp?.(ino) ?? 0);
    end = ZI_COPY.SETATTR_END;
  }
  return ziCopy(zt, m, v, ino, scratchFor(zt, v).zi.setattr, end);
};

/** The end of the usable operation buffer (past it: the piggy-back tail). */
function xattrCap(zt: Zt, v: DataView): number {
  return zt.ioctlArg.byteOffset - v.byteOffset + zt.ioctlArg.byteLength;
}

function xattr(zt: Zt, op: number, v: DataView): number {
  const m = mountOf(zt, v, IocXattr.zus_ii);
  if (!m) return EINVAL;
  const s = scratchFor(zt, v);
  const ino = inoAt(v, IocXattr.zus_ii);
  const bytes = s.name1.bytes;
  const cap = xattrCap(zt, v);
  const size = v.getUint32(IocXattr.user_buf_size, true);
  const buf = IocXattr.buf;
  if (op === ZUFS_OP_XATTR_LIST) {
    if (!m.sb.listxattr) return ENOTSUP;
    const n = m.sb.listxattr(
      ino,
      bytes,
      buf,
      Math.min(size, cap - buf),
      (v.getUint16(IocXattr.ioc_flags, true) & ZUFS_XATTR_TRUSTED) !== 0,
      zt.context,
    );
    return typeof n === 'number' ? listxattrDone(zt, m, v, n) : zt.later(m, n, listxattrDone);
  }
  const nameLen = v.getUint16(IocXattr.name_len, true);
  if (nameLen < 2 || buf + nameLen > cap) return EINVAL;
  s.name1.setRaw(buf, nameLen - 1); // without the NUL
  const type = v.getUint32(IocXattr.type, true);
  const at = buf + nameLen;
  if (op === ZUFS_OP_XATTR_GET) {
    if (!m.sb.getxattr) return ENOTSUP;
    // The plugin writes the value after the name (which it may still be reading), then it moves to buf.
    const n = m.sb.getxattr(ino, type, s.name1, bytes, at, Math.min(size, cap - at), zt.context);
    return typeof n === 'number' ? getxattrDone(zt, m, v, n) : zt.later(m, n, getxattrDone);
  }
  if (!m.sb.setxattr) return m.readOnly ? -Errno.EROFS : ENOTSUP;
  if (at + size > cap) return -Errno.E2BIG;
  const remove = size === 0 && (v.getUint16(IocXattr.ioc_flags, true) & ZUFS_XATTR_SET_EMPTY) === 0;
  return voidOp(
    zt,
    m,
    m.sb.setxattr(
      ino,
      type,
      s.name1,
      remove ? null : bytes,
      at,
      size,
      v.getUint32(IocXattr.flags, true),
      zt.context,
    ),
  );
}

const listxattrDone: Then = (zt, _m, v, n) => {
  const max = Math.min(v.getUint32(IocXattr.user_buf_size, true), xattrCap(zt, v) - IocXattr.buf);
  v.setUint32(IocXattr.user_buf_size, n as number, true);
  replyTo(v, IocXattr.buf + (max === 0 ? 0 : (n as number)));
  return 0;
};

const getxattrDone: Then = (zt, _m, v, n) => {
  const buf = IocXattr.buf;
  const at = buf + v.getUint16(IocXattr.name_len, true);
  const max = Math.min(v.getUint32(IocXattr.user_buf_size, true), xattrCap(zt, v) - at);
  if (max > 0) scratchFor(zt, v).name1.bytes.copyWithin(buf, at, at + (n as number));
  v.setUint32(IocXattr.user_buf_size, n as number, true);
  replyTo(v, buf + (max === 0 ? 0 : (n as number)));
  return 0;
};

function fiemap(zt: Zt, v: DataView): number {
  const m = mountOf(zt, v, IocFiemap.zus_ii);
  if (!m) return EINVAL;
  if (!m.sb.fiemap) return ENOTSUP;
  const s = scratchFor(zt, v);
  const max = v.getUint32(IocFiemap.extents_max, true);
  const at = v.getUint32(IocHdr.offset, true);
  if (max > 0 && at + max * 56 > zt.slot.window.byteLength) return EINVAL;
  const f = s.fill;
  f.at = at;
  f.extentsMax = max;
  f.extentsMapped = 0;
  const r = m.sb.fiemap(
    inoAt(v, IocFiemap.zus_ii),
    f,
    getU64(v, IocFiemap.start),
    getU64(v, IocFiemap.length),
    v.getUint32(IocFiemap.flags, true),
    zt.context,
  );
  return r === undefined ? fiemapDone(zt, m, v, r) : zt.later(m, r, fiemapDone);
}

const fiemapDone: Then = (zt, _m, v) => {
  v.setUint32(IocFiemap.extents_mapped, scratchFor(zt, v).fill.extentsMapped, true);
  replyTo(v, IocFiemap.SIZE);
  return 0;
};
