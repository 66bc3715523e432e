/** The *Sync methods of node:fs on a zufs mount, for one user (uid/gid). */
import { constants } from 'node:fs';
import { posix } from 'node:path';
import { changeTicket } from '@zufs/zuf-core';
import {
  Errno,
  S_ISGID,
  STATX_ATIME,
  STATX_CTIME,
  STATX_GID,
  STATX_MODE,
  STATX_MTIME,
  STATX_UID,
} from '@zufs/zuf-core/api';
import { type InodeAttr, type InodeClient, type LookupResult, newAttr } from '../inode/client.js';
import { copyFile, cp } from './copy.js';
import {
  abortError,
  errnoFrom,
  fail,
  invalidArgType,
  invalidArgValue,
  systemError,
  untilAborted,
  uvError,
  wrap,
} from './errors.js';
import { checkFd, type FdTable, type OpenFile, parseFlags } from './fds.js';
import {
  type Cred,
  isDirMode,
  isLinkMode,
  type Node,
  type Parent,
  permits,
  R_OK,
  Resolver,
  toPath,
  W_OK,
  X_OK,
} from './paths.js';
import { chmodBits, isOwner, mayChown, mayHardlink, mayModify, modeAfterKillPriv } from './permissions.js';
import { type BigIntStats, Dirent, dtToMode, makeStats, type Stats } from './stats.js';
import {
  accessMode,
  parseFileMode,
  timeNs,
  validateBoolean,
  validateBufferArray,
  validateEncoding,
  validateId,
  validateInteger,
  validatePosition,
  validateReadRange,
  validateRmOptions,
  validateSymlinkType,
  validateWriteRange,
  writePosition,
} from './validate.js';
import { xattrGet, xattrList, xattrRemove, xattrSet } from './xattrs.js';

const {
  O_ACCMODE = 3,
  O_RDONLY,
  O_WRONLY,
  O_RDWR,
  O_CREAT,
  O_EXCL,
  O_TRUNC,
  O_APPEND,
  O_DIRECTORY,
  O_NOFOLLOW,
} = constants as typeof constants & { O_ACCMODE?: number };
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

/** What every face of one mount shares. */
export interface Volume {
  c: InodeClient;
  fds: FdTable;
  /** The face's file mode creation mask (mount's `umask` option; ZufsMount.umask() changes it). */
  umask: number;
}

type Encoding = BufferEncoding | 'buffer' | null | undefined;
type Opts = Record<string, unknown>;

function opts(o: unknown, dflt: Opts = {}): Opts {
  if (o === undefined || o === null) return dflt;
  if (typeof o === 'string') {
    validateEncoding(o);
    return { ...dflt, encoding: o };
  }
  if (typeof o === 'object') {
    validateEncoding((o as Opts).encoding);
    return { ...dflt, ...(o as Opts) };
  }
  if (typeof o === 'function') return dflt;
  throw invalidArgType('options', 'of type object', o);
}

function toBytes(data: unknown, encoding?: unknown, name = 'data'): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, (encoding as BufferEncoding) || 'utf8');
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw invalidArgType(name, 'of type string or an instance of Buffer, TypedArray, or DataView', data);
}

export class ZufsSync {
  readonly r: Resolver;
  readonly c: InodeClient;
  readonly fds: FdTable;
  /** Scratch attributes for stat (makeStats copies them out). */
  private readonly scratch = newAttr();
  /** Scratch attributes for killPriv (a write must not allocate). */
  private readonly privScratch = newAttr();

  constructor(
    readonly vol: Volume,
    readonly cred: Cred,
  ) {
    this.c = vol.c;
    this.fds = vol.fds;
    this.r = new Resolver(vol.c, cred);
  }

  // ~~~ helpers ~~~

  private umask(): number {
    return this.cred.umask ?? this.vol.umask;
  }

  /**
   * Before a write or truncate, as Linux's file_remove_privs: a caller without CAP_FSETID (not
   * root) takes the setuid bit off, and the setgid bit as modeAfterKillPriv says. Root's writes
   * skip even the getattr. Throws the client's ZufsError (the caller's wrap names the syscall).
   */
  private killPriv(ii: number): void {
    if (this.cred.uid === 0) return;
    const a = this.c.getattr(ii, this.privScratch);
    if (!(a.mode & 0o6000)) return;
    const mode = modeAfterKillPriv(a.mode, false, this.cred.gid === a.gid, false);
    if (mode !== a.mode)
      this.c.setattr(ii, STATX_MODE | STATX_CTIME, { mode, ctimeNs: Date.now() * 1e6 }, this.privScratch);
  }

  /** The last close of `f`'s inode (in this thread, or in all with shared counts): free it if it is unlinked. */
  private release(f: OpenFile): void {
    try {
      if (this.fds.sharedCounts) this.c.release(f.ii, 0);
      else if (this.c.getattr(f.ii).nlink === 0) this.c.release(f.ii, 0);
    } catch {
      // already gone
    }
  }

  // ~~~ attributes ~~~

  existsSync(path: unknown): boolean {
    try {
      this.r.statPath(toPath(path), true, 'stat', this.scratch);
      return true;
    } catch {
      return false;
    }
  }

  /** The attributes `path` names into a fresh InodeAttr, or undefined when it cannot be stat'ed. */
  statAttr(path: string, follow = true): InodeAttr | undefined {
    try {
      return this.r.statPath(path, follow, follow ? 'stat' : 'lstat', newAttr());
    } catch {
      return undefined;
    }
  }

  /**
   * The server's change count (every operation that may change a filesystem moves it), or -1 while
   * a change is under way: a watcher that sees it unmoved knows nothing changed anywhere.
   */
  changeStamp(): number {
    return changeTicket(this.c.root.ctl);
  }

  statSync(path: unknown, o?: unknown): Stats | BigIntStats | undefined {
    if (o === undefined && typeof path === 'string' && path !== '' && !path.includes('\0'))
      return makeStats(this.r.statPath(path, true, 'stat', this.scratch), false);
    const op = opts(o);
    const p = toPath(path);
    try {
      return makeStats(this.r.statPath(p, true, 'stat', this.scratch), op.bigint as boolean);
    } catch (e) {
      if (op.throwIfNoEntry === false && (e as { code?: string }).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  lstatSync(path: unknown, o?: unknown): Stats | BigIntStats | undefined {
    const op = opts(o);
    const p = toPath(path);
    try {
      return makeStats(this.r.statPath(p, false, 'lstat', this.scratch), op.bigint as boolean);
    } catch (e) {
      if (op.throwIfNoEntry === false && (e as { code?: string }).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  fstatSync(fd: unknown, o?: unknown): Stats | BigIntStats {
    const f = this.fds.get(fd, 'fstat');
    return makeStats(
      wrap(() => this.c.getattr(f.ii), 'fstat'),
      opts(o).bigint as boolean,
    );
  }

  accessSync(path: unknown, mode?: unknown): void {
    const p = toPath(path);
    const m = accessMode(mode);
    const n = this.r.resolve(p, true, 'access');
    if (m && !permits(n.attr, this.cred, m)) fail('EACCES', 'access', p);
  }

  /** chmod of `n`; `m` as parseFileMode gave it. */
  private chmodNode(n: Node, m: number, syscall: string, path?: string): void {
    if (!isOwner(this.cred, n.attr)) fail('EPERM', syscall, path);
    const bits = chmodBits(this.cred, n.attr, m);
    wrap(
      () =>
        this.c.setattr(n.ii, STATX_MODE | STATX_CTIME, {
          mode: (n.attr.mode & S_IFMT) | bits,
          ctimeNs: Date.now() * 1e6,
        }),
      syscall,
      path,
    );
  }

  chmodSync(path: unknown, mode: unknown): void {
    const p = toPath(path);
    const m = parseFileMode(mode, 'mode');
    this.chmodNode(this.r.resolve(p, true, 'chmod'), m, 'chmod', p);
  }

  fchmodSync(fd: unknown, mode: unknown): void {
    checkFd(fd);
    const m = parseFileMode(mode, 'mode');
    const f = this.fds.get(fd, 'fchmod');
    this.chmodNode({ ii: f.ii, attr: this.c.getattr(f.ii) }, m, 'fchmod');
  }

  lchmodSync(path: unknown, mode: unknown): void {
    const p = toPath(path);
    const m = parseFileMode(mode, 'mode');
    this.chmodNode(this.r.resolve(p, false, 'lchmod'), m, 'lchmod', p);
  }

  /** chown of `n`; `uid` and `gid` checked by validateId (-1: leave it). */
  private chownNode(n: Node, uid: number, gid: number, syscall: string, path?: string): void {
    const a = n.attr;
    const u = uid === -1 ? a.uid : uid;
    const g = gid === -1 ? a.gid : gid;
    mayChown(this.cred, a, uid, gid, syscall, path);
    // Linux drops privileges on every chown of a non-directory, even chown(-1, -1) by root.
    const mode = modeAfterKillPriv(a.mode, this.cred.uid === 0, this.cred.gid === a.gid, true);
    wrap(
      () =>
        this.c.setattr(n.ii, STATX_UID | STATX_GID | STATX_MODE | STATX_CTIME, {
          uid: u,
          gid: g,
          mode,
          ctimeNs: Date.now() * 1e6,
        }),
      syscall,
      path,
    );
  }

  chownSync(path: unknown, uid: unknown, gid: unknown): void {
    const p = toPath(path);
    validateId(uid, 'uid');
    validateId(gid, 'gid');
    this.chownNode(this.r.resolve(p, true, 'chown'), uid, gid, 'chown', p);
  }

  lchownSync(path: unknown, uid: unknown, gid: unknown): void {
    const p = toPath(path);
    validateId(uid, 'uid');
    validateId(gid, 'gid');
    this.chownNode(this.r.resolve(p, false, 'lchown'), uid, gid, 'lchown', p);
  }

  fchownSync(fd: unknown, uid: unknown, gid: unknown): void {
    checkFd(fd);
    validateId(uid, 'uid');
    validateId(gid, 'gid');
    const f = this.fds.get(fd, 'fchown');
    this.chownNode({ ii: f.ii, attr: this.c.getattr(f.ii) }, uid, gid, 'fchown');
  }

  /** utimes of `n`, times in ns (timeNs). */
  private utimesNode(n: Node, a: number, m: number, syscall: string, path?: string): void {
    if (!isOwner(this.cred, n.attr)) fail('EPERM', syscall, path);
    wrap(
      () =>
        this.c.setattr(n.ii, STATX_ATIME | STATX_MTIME | STATX_CTIME, {
          atimeNs: a,
          mtimeNs: m,
          ctimeNs: Date.now() * 1e6,
        }),
      syscall,
      path,
    );
  }

  utimesSync(path: unknown, atime: unknown, mtime: unknown): void {
    const p = toPath(path);
    const [a, m] = [timeNs(atime), timeNs(mtime)];
    this.utimesNode(this.r.resolve(p, true, 'utime'), a, m, 'utime', p);
  }

  lutimesSync(path: unknown, atime: unknown, mtime: unknown): void {
    const p = toPath(path);
    const [a, m] = [timeNs(atime), timeNs(mtime)];
    this.utimesNode(this.r.resolve(p, false, 'lutime'), a, m, 'lutime', p);
  }

  futimesSync(fd: unknown, atime: unknown, mtime: unknown): void {
    checkFd(fd);
    const [a, m] = [timeNs(atime, 'atime'), timeNs(mtime, 'mtime')];
    const f = this.fds.get(fd, 'futime');
    this.utimesNode({ ii: f.ii, attr: this.c.getattr(f.ii) }, a, m, 'futime');
  }

  statfsSync(path: unknown, o?: unknown): Record<string, number | bigint> {
    const p = toPath(path);
    this.r.resolve(p, true, 'statfs');
    const s = wrap(() => this.c.statfs(), 'statfs', p);
    const out = {
      type: s.type,
      bsize: s.bsize,
      blocks: s.blocks,
      bfree: s.bfree,
      bavail: s.bavail,
      files: s.files,
      ffree: s.ffree,
    };
    if (opts(o).bigint) return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, BigInt(v)]));
    return out;
  }

  // ~~~ extended attributes (a zufs extension: node:fs has none; xattrs.ts) ~~~

  getxattrSync(path: unknown, name: unknown, o?: unknown): Buffer | string {
    return xattrGet(this, 'path', path, name, o);
  }
  lgetxattrSync(path: unknown, name: unknown, o?: unknown): Buffer | string {
    return xattrGet(this, 'link', path, name, o);
  }
  fgetxattrSync(fd: unknown, name: unknown, o?: unknown): Buffer | string {
    return xattrGet(this, 'fd', fd, name, o);
  }
  setxattrSync(path: unknown, name: unknown, value: unknown, o?: unknown): void {
    xattrSet(this, 'path', path, name, value, o);
  }
  lsetxattrSync(path: unknown, name: unknown, value: unknown, o?: unknown): void {
    xattrSet(this, 'link', path, name, value, o);
  }
  fsetxattrSync(fd: unknown, name: unknown, value: unknown, o?: unknown): void {
    xattrSet(this, 'fd', fd, name, value, o);
  }
  listxattrSync(path: unknown): string[] {
    return xattrList(this, 'path', path);
  }
  llistxattrSync(path: unknown): string[] {
    return xattrList(this, 'link', path);
  }
  flistxattrSync(fd: unknown): string[] {
    return xattrList(this, 'fd', fd);
  }
  removexattrSync(path: unknown, name: unknown): void {
    xattrRemove(this, 'path', path, name);
  }
  lremovexattrSync(path: unknown, name: unknown): void {
    xattrRemove(this, 'link', path, name);
  }
  fremovexattrSync(fd: unknown, name: unknown): void {
    xattrRemove(this, 'fd', fd, name);
  }

  // ~~~ file descriptors ~~~

  openSync(path: unknown, flags?: unknown, mode?: unknown): number {
    const p = toPath(path);
    const fl = parseFlags(flags);
    return this.openAt(p, fl, parseFileMode(mode, 'mode', 0o666), 0);
  }

  /** open(2) of `p`; `depth` counts the dangling symlinks O_CREAT went through. */
  private openAt(p: string, fl: number, m: number, depth: number): number {
    const acc = fl & O_ACCMODE;
    // An unlink in another thread between our lookup and our open count could free the inode: the
    // namespace word tells whether one may have happened (then the inode is checked once more).
    const gen = this.c.nsGen;
    const g0 = gen ? Atomics.load(gen, 0) : 0;
    let node: Node;
    let created = false;
    if (fl & O_CREAT) {
      // O_EXCL: no LOOKUP first, as mkdir (createNew); '.', '..' and a trailing slash look first.
      const par = this.r.parent(p, 'open', false);
      // Linux: O_CREAT on a name with a trailing slash is EISDIR, whatever the name holds.
      if (par.trailingSlash && !par.dots) fail('EISDIR', 'open', p);
      const fresh = (fl & O_EXCL) !== 0 && !par.dots;
      let e = fresh ? null : this.r.known(par, p);
      let made: LookupResult | null = null;
      if (e === undefined) {
        // A name the cache does not know: made first, as most such opens make a file (NEW_INODE
        // answers EEXIST when it is there: then the LOOKUP). See createFirst().
        if (this.createFirst()) made = this.tryCreate(par, p, 'open', this.fileMaker(par, m));
        e = made === null ? this.r.entryOf(par, p, 'open') : null;
      }
      if (e && fl & O_EXCL) fail('EEXIST', 'open', p);
      if (e && isLinkMode(e.attr.mode) && !(fl & O_NOFOLLOW)) {
        let n: Node | null = null;
        try {
          n = this.r.resolve(p, true, 'open');
        } catch (err) {
          if ((err as { code?: string }).code !== 'ENOENT' || depth >= 40) throw err;
        }
        if (!n) {
          // A dangling link: O_CREAT makes its target.
          const t = this.c.readlink(e.ii);
          // Not posix.join: it would fold 'b/.' to 'b' (and '..' lexically), which open(2) does not.
          const at = t.startsWith('/') ? t : `${posix.dirname(p.startsWith('/') ? p : `/${p}`)}/${t}`;
          try {
            return this.openAt(at, fl, m, depth + 1);
          } catch (err) {
            const n2 = (err as { errno?: unknown }).errno;
            if (typeof n2 !== 'number') throw err;
            throw uvError(n2, 'open', p);
          }
        }
        node = n;
        e = { ii: n.ii, ino: n.attr.ino, attr: n.attr };
      }
      if (e) node = { ii: e.ii, attr: e.attr };
      else {
        made ??= this.createNew(par, p, 'open', this.fileMaker(par, m));
        node = { ii: made.ii, attr: made.attr };
        created = true;
      }
    } else node = this.r.resolve(p, !(fl & O_NOFOLLOW), 'open');
    const a = node.attr;
    if (isLinkMode(a.mode)) fail('ELOOP', 'open', p);
    const isDir = isDirMode(a.mode);
    if (fl & O_DIRECTORY && !isDir) fail('ENOTDIR', 'open', p);
    if (isDir && (acc !== O_RDONLY || fl & O_CREAT)) fail('EISDIR', 'open', p);
    let truncate = false;
    if (!created) {
      const want =
        (acc === O_RDONLY ? R_OK : acc === O_WRONLY ? W_OK : R_OK | W_OK) | (fl & O_TRUNC ? W_OK : 0);
      if (!permits(a, this.cred, want)) fail('EACCES', 'open', p);
      truncate = (fl & O_TRUNC) !== 0 && acc !== O_RDONLY && (a.mode & S_IFMT) === S_IFREG;
    }
    this.c.settle(); // an fd is a change: a call in soon mode cannot run again past here
    const fd = this.fds.add({
      ii: node.ii,
      flags: fl,
      pos: 0,
      path: p,
      readable: acc === O_RDONLY || acc === O_RDWR,
      writable: acc === O_WRONLY || acc === O_RDWR,
      append: (fl & O_APPEND) !== 0,
      isDir,
      gen: a.generation,
      epoch: this.fds.epochNow(),
    });
    try {
      // ESTALE: the path methods run once more (forms.ts retryStale), so the open ends as the walk
      // finds the name now: ENOENT, another file, or (O_CREAT) a new one.
      if (gen && Atomics.load(gen, 0) !== g0 && !this.sameInode(node)) throw uvError(Errno.ESTALE, 'open', p);
      if (truncate) {
        // An O_TRUNC open truncates (and drops privileges) even a file that is empty already.
        if (a.size > 0) wrap(() => this.c.truncate(node.ii, 0), 'open', p);
        if (a.mode & 0o6000) wrap(() => this.killPriv(node.ii), 'open', p);
      }
    } catch (e) {
      this.closeSync(fd);
      throw e;
    }
    return fd;
  }

  /**
   * True when `n` is still a linked inode (not freed, its slot not reused: same generation; not
   * unlinked). An inode that lost its last link between our walk and our open count may be freed
   * by the thread that unlinked it, if that thread looked at the counts before ours arrived: an fd
   * to it would then go stale under its user, so the open does not keep it.
   */
  private sameInode(n: Node): boolean {
    try {
      const a = this.c.getattr(n.ii);
      return a.mode !== 0 && a.nlink > 0 && a.generation === n.attr.generation;
    } catch {
      return false;
    }
  }

  closeSync(fd: unknown): void {
    const [f, last] = this.fds.remove(fd, 'close');
    if (last) this.release(f);
  }

  readSync(
    fd: unknown,
    buffer: unknown,
    offsetOrOptions?: unknown,
    length?: unknown,
    position?: unknown,
  ): number {
    // Node's readSync, check for check: an options object with three arguments or fewer.
    checkFd(fd);
    if (!ArrayBuffer.isView(buffer))
      throw invalidArgType('buffer', 'an instance of Buffer, TypedArray, or DataView', buffer);
    const size = buffer.byteLength;
    let offset = offsetOrOptions;
    // biome-ignore lint/complexity/noArguments: Node tells an options call by its argument count
    if (arguments.length <= 3 || typeof offsetOrOptions === 'object') {
      const o = offsetOrOptions;
      if (o !== undefined && o !== null && (typeof o !== 'object' || Array.isArray(o)))
        throw invalidArgType('options', 'of type object', o);
      const opt = (o ?? {}) as Opts;
      offset = opt.offset === undefined ? 0 : opt.offset;
      length = opt.length === undefined ? size - (offset as number) : opt.length;
      position = opt.position === undefined ? null : opt.position;
    }
    let off = 0;
    if (offset !== undefined) {
      validateInteger(offset, 'offset', 0);
      off = offset;
    }
    const len = (length as number) | 0;
    if (len === 0) return 0;
    if (size === 0) throw invalidArgValue('buffer', buffer, 'is empty and cannot be written');
    validateReadRange(off, len, size);
    if (position === null || position === undefined) position = -1;
    validatePosition(position, 'position');
    const f = this.fds.at(fd, 'read'); // checkFd above
    if (!f.readable) fail('EBADF', 'read');
    if (f.isDir) fail('EISDIR', 'read');
    const pos = typeof position === 'bigint' ? Number(position) : position;
    const at = pos >= 0 ? pos : f.pos;
    const bytes =
      buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer.buffer, buffer.byteOffset, size);
    let n: number;
    try {
      n = this.c.read(f.ii, at, off === 0 && len === size ? bytes : bytes.subarray(off, off + len));
    } catch (e) {
      throw uvError(errnoFrom(e), 'read');
    }
    if (pos < 0) f.pos += n;
    return n;
  }

  private writeBytes(f: OpenFile, src: Uint8Array, position: unknown): number {
    if (!f.writable) fail('EBADF', 'write');
    const usePos = writePosition(position);
    try {
      if (src.length > 0) this.killPriv(f.ii);
      // An append's start is the server's to pick: its count is the whole buffer unless it fails.
      if (f.append) f.pos = this.c.write(f.ii, 0, src, true);
      else {
        const start = usePos >= 0 ? usePos : f.pos;
        const end = this.c.write(f.ii, start, src);
        if (usePos < 0) f.pos = end;
        return end - start; // short when the device filled up
      }
    } catch (e) {
      throw uvError(errnoFrom(e), 'write');
    }
    return src.length;
  }

  writeSync(
    fd: unknown,
    buffer: unknown,
    offsetOrOptions?: unknown,
    length?: unknown,
    position?: unknown,
  ): number {
    // Node's writeSync, check for check; a string takes (position, encoding).
    checkFd(fd);
    if (typeof buffer === 'string') {
      const f = this.fds.at(fd, 'write');
      // An encoding Buffer does not know is UTF-8, as in Node's binding.
      const enc = typeof length === 'string' && Buffer.isEncoding(length) ? length : 'utf8';
      return this.writeBytes(f, Buffer.from(buffer, enc as BufferEncoding), offsetOrOptions);
    }
    if (!ArrayBuffer.isView(buffer))
      throw invalidArgType(
        'buffer',
        'of type string or an instance of Buffer, TypedArray, or DataView',
        buffer,
      );
    const size = buffer.byteLength;
    let offset = offsetOrOptions;
    if (typeof offset === 'object') {
      const opt = (offset ?? {}) as Opts;
      offset = opt.offset === undefined ? 0 : opt.offset;
      length = opt.length === undefined ? size - (offset as number) : opt.length;
      position = opt.position === undefined ? null : opt.position;
    }
    let off = 0;
    if (offset !== null && offset !== undefined) {
      validateInteger(offset, 'offset', 0);
      off = offset;
    }
    const len = typeof length === 'number' ? length : size - off;
    validateWriteRange(off, len, size);
    const f = this.fds.at(fd, 'write'); // checkFd above
    const bytes =
      buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer.buffer, buffer.byteOffset, size);
    return this.writeBytes(f, off === 0 && len === size ? bytes : bytes.subarray(off, off + len), position);
  }

  readvSync(fd: unknown, buffers: readonly ArrayBufferView[], position?: unknown): number {
    checkFd(fd);
    validateBufferArray(buffers);
    let total = 0;
    let pos = typeof position === 'number' ? position : null;
    for (const b of buffers) {
      const n = this.readSync(fd, b, 0, b.byteLength, pos);
      total += n;
      if (pos !== null) pos += n;
      if (n < b.byteLength) break;
    }
    return total;
  }

  writevSync(fd: unknown, buffers: readonly ArrayBufferView[], position?: unknown): number {
    checkFd(fd);
    validateBufferArray(buffers);
    let total = 0;
    let pos = typeof position === 'number' ? position : null;
    for (const b of buffers) {
      const n = this.writeSync(fd, b, 0, b.byteLength, pos);
      total += n;
      if (pos !== null) pos += n;
    }
    return total;
  }

  ftruncateSync(fd: unknown, len: unknown = 0): void {
    checkFd(fd);
    validateInteger(len, 'len');
    const f = this.fds.get(fd, 'ftruncate');
    if (!f.writable) fail('EINVAL', 'ftruncate');
    wrap(() => {
      this.killPriv(f.ii);
      this.c.truncate(f.ii, Math.max(0, len));
    }, 'ftruncate');
  }

  truncateSync(path: unknown, len?: unknown): void {
    if (typeof path === 'number') {
      this.ftruncateSync(path, len);
      return;
    }
    const fd = this.openSync(path, 'r+');
    try {
      this.ftruncateSync(fd, len);
    } finally {
      this.closeSync(fd);
    }
  }

  fsyncSync(fd: unknown): void {
    const f = this.fds.get(fd, 'fsync');
    wrap(() => this.c.fsync(f.ii), 'fsync');
  }

  fdatasyncSync(fd: unknown): void {
    const f = this.fds.get(fd, 'fdatasync');
    wrap(() => this.c.fsync(f.ii, true), 'fdatasync');
  }

  // ~~~ whole files ~~~

  readFileSync(path: unknown, o?: unknown): string | Buffer {
    const op = opts(o, { flag: 'r' });
    const isFd = typeof path === 'number';
    const fd = isFd ? (path as number) : this.openSync(toPath(path), op.flag);
    try {
      const f = this.fds.get(fd, 'read');
      if (f.isDir) fail('EISDIR', 'read');
      const chunks: Buffer[] = [];
      let total = 0;
      const size = this.c.getattr(f.ii).size;
      let buf = Buffer.allocUnsafe(Math.max(size - (isFd ? f.pos : 0), 0) + 1);
      for (;;) {
        if (total === buf.length) {
          chunks.push(buf);
          buf = Buffer.allocUnsafe(64 * 1024);
          total = 0;
        }
        const n = this.readSync(fd, buf, total, buf.length - total, null);
        if (n === 0) break;
        total += n;
      }
      return joined(chunks, buf.subarray(0, total), op.encoding as Encoding);
    } finally {
      if (!isFd) this.closeSync(fd);
    }
  }

  /**
   * readFile's promise and callback forms: readFileSync, but `open` may wait without holding the
   * event loop (forms.ts runs it in soon mode) and each read whose reply outlives the spin is
   * awaited (InodeClient.readSoon). `signal` rejects the wait with AbortError at once and raises
   * the channel's abort flag, so the server's operation may stop early.
   */
  readFileSoon(
    path: unknown,
    o: unknown,
    open: (path: unknown, flag: unknown) => number | Promise<number>,
  ): Promise<string | Buffer> {
    // Bad arguments throw now, as Node's do (the open checks the path).
    const op = opts(o, { flag: 'r' });
    const isFd = typeof path === 'number';
    if (isFd) checkFd(path);
    return this.readFileFrom(isFd ? (path as number) : open(path, op.flag), isFd, op);
  }

  private async readFileFrom(
    opening: number | Promise<number>,
    isFd: boolean,
    op: Opts,
  ): Promise<string | Buffer> {
    const signal = op.signal as AbortSignal | undefined;
    const fd = await this.opened(opening, signal);
    const wait = signal ? { signal } : undefined;
    try {
      const f = this.fds.get(fd, 'read');
      if (f.isDir) fail('EISDIR', 'read');
      const chunks: Buffer[] = [];
      let buf = Buffer.allocUnsafe(64 * 1024);
      let total = 0;
      let pos = isFd ? f.pos : 0;
      for (;;) {
        if (total === buf.length) {
          chunks.push(buf);
          buf = Buffer.allocUnsafe(Math.min(buf.length * 2, 4 * 1024 * 1024));
          total = 0;
        }
        // At most a window a READ: a longer one would wait on this thread (readSoon).
        const want = Math.min(buf.length - total, this.c.ioChunk);
        let n: number | Promise<number>;
        try {
          n = this.c.readSoon(f.ii, pos, buf.subarray(total, total + want), wait);
          if (typeof n !== 'number') n = await untilAborted(n, signal);
        } catch (e) {
          if ((e as { name?: unknown }).name === 'AbortError') throw e;
          throw uvError(errnoFrom(e), 'read');
        }
        total += n;
        pos += n;
        if (isFd) f.pos = pos;
        // A short read is the end of the file (as the client's READ takes it): on a remote
        // filesystem one more READ would be one more round trip.
        if (n < want) break;
      }
      return joined(chunks, buf.subarray(0, total), op.encoding as Encoding);
    } finally {
      if (!isFd) this.closeSync(fd);
    }
  }

  /** The fd `opening` gives; AbortError once `signal` aborts (an fd that comes later is closed). */
  private async opened(opening: number | Promise<number>, signal: AbortSignal | undefined): Promise<number> {
    if (typeof opening === 'number') return opening;
    try {
      return await untilAborted(opening, signal);
    } catch (e) {
      if ((e as { name?: unknown }).name === 'AbortError')
        opening.then(
          (n) => this.closeSync(n),
          () => {},
        );
      throw e;
    }
  }

  /**
   * writeFile's (and appendFile's, `flag` 'a') promise and callback forms: writeFileSync, but `open`
   * may wait without holding the event loop (forms.ts runs it in soon mode) and each WRITE whose
   * reply outlives the spin is awaited (InodeClient.writeSoon). `signal` raises the channel's abort
   * flag, and the call ends with AbortError before its next WRITE.
   */
  writeFileSoon(
    path: unknown,
    data: unknown,
    o: unknown,
    open: (path: string, flag: unknown, mode: unknown) => number | Promise<number>,
    flag = 'w',
  ): Promise<void> {
    // Bad arguments throw now, as Node's do.
    const op = opts(o, { flag, mode: 0o666, encoding: 'utf8' });
    const bytes = toBytes(data, op.encoding);
    const isFd = typeof path === 'number';
    if (isFd) checkFd(path);
    const opening = isFd ? (path as number) : open(toPath(path, 'file'), op.flag, op.mode);
    return this.writeFileTo(opening, isFd, bytes, op.signal as AbortSignal | undefined);
  }

  private async writeFileTo(
    opening: number | Promise<number>,
    isFd: boolean,
    bytes: Uint8Array,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const fd = await this.opened(opening, signal);
    const wait = signal ? { signal } : undefined;
    try {
      const f = this.fds.at(fd, 'write');
      if (!f.writable) fail('EBADF', 'write');
      // As writeFileSync: until all of it is written, a window a WRITE.
      for (let off = 0; off < bytes.length; ) {
        if (signal?.aborted) throw abortError(signal.reason);
        const chunk = bytes.subarray(off, off + this.c.ioChunk);
        const start = f.pos;
        let end: number | Promise<number>;
        try {
          end = this.c.writeSoon(f.ii, start, chunk, f.append, wait);
          if (typeof end !== 'number') end = await end;
        } catch (e) {
          if (signal?.aborted) throw abortError(signal.reason);
          throw uvError(errnoFrom(e), 'write');
        }
        // An append's start is the server's to pick: its count is the whole chunk.
        const n = f.append ? chunk.length : end - start;
        f.pos = end;
        if (n <= 0) fail('ENOSPC', 'write');
        off += n;
      }
    } finally {
      if (!isFd) this.closeSync(fd);
    }
  }

  writeFileSync(path: unknown, data: unknown, o?: unknown): void {
    const op = opts(o, { flag: 'w', mode: 0o666, encoding: 'utf8' });
    const bytes = toBytes(data, op.encoding);
    const isFd = typeof path === 'number';
    const fd = isFd ? (path as number) : this.openSync(toPath(path, 'file'), op.flag, op.mode);
    try {
      // As Node's: write until all of it is written (a short write is followed by one that fails).
      for (let off = 0; off < bytes.length; ) {
        const n = this.writeSync(fd, bytes, off, bytes.length - off, null);
        if (n <= 0) fail('ENOSPC', 'write');
        off += n;
      }
    } finally {
      if (!isFd) this.closeSync(fd);
    }
  }

  appendFileSync(path: unknown, data: unknown, o?: unknown): void {
    const op = opts(o, { flag: 'a', mode: 0o666, encoding: 'utf8' });
    this.writeFileSync(path, data, op);
  }

  copyFileSync(src: unknown, dest: unknown, mode?: unknown): void {
    copyFile(this, src, dest, mode);
  }

  // ~~~ names ~~~

  mkdirSync(path: unknown, o?: unknown): string | undefined {
    const op = typeof o === 'number' || typeof o === 'string' ? { mode: o } : opts(o);
    const p = toPath(path);
    if (op.recursive !== undefined) validateBoolean(op.recursive, 'options.recursive');
    const mode = parseFileMode(op.mode, 'mode', 0o777) & ~this.umask() & 0o7777;
    if (!op.recursive) {
      this.mkdirOne(p, mode);
      return undefined;
    }
    const abs = p.startsWith('/') ? p : `/${p}`;
    const parts = abs.split('/').filter((x) => x !== '');
    let first: string | undefined;
    // As Node's MKDirpSync: a name that is there must stat as a directory (through symlinks, and
    // with the path's own trailing slash for the last one); its stat's error is the answer if not.
    const existing = (at: string, last: boolean): boolean => {
      let n: Node;
      try {
        n = this.r.resolve(at, true, 'mkdir');
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === 'ENOENT') return false;
        throw uvError(-(e as { errno: number }).errno, 'mkdir', p);
      }
      if (!isDirMode(n.attr.mode)) fail(last ? 'EEXIST' : 'ENOTDIR', 'mkdir', p);
      return true;
    };
    for (let i = 1; i <= parts.length; i++) {
      const sub = `/${parts.slice(0, i).join('/')}`;
      const last = i === parts.length;
      if (existing(last ? abs : sub, last)) continue;
      try {
        this.mkdirOne(sub, mode);
      } catch (e) {
        const code = (e as { code?: string }).code;
        // There after all (a dangling symlink, or another thread's): what a stat says decides.
        if (code === 'EEXIST' && existing(last ? abs : sub, last)) continue;
        if (code === 'EEXIST') fail('ENOENT', 'mkdir', p);
        throw uvError(-(e as { errno: number }).errno, 'mkdir', p);
      }
      // Node's answer: the first directory made, as the path given spells it (the whole path, with
      // its trailing slash, when only the last was missing).
      first ??= last ? p : p.startsWith('/') ? sub : sub.slice(1);
    }
    return first;
  }

  /** mkdir(2) of one directory: no LOOKUP first (createNew). */
  private mkdirOne(p: string, mode: number): void {
    const par = this.r.parent(p, 'mkdir', false);
    if (par.dots) fail('EEXIST', 'mkdir', p);
    // A setgid directory passes its group down, and its setgid bit to subdirectories (as Linux).
    const sgid = par.dir.attr.mode & S_ISGID;
    this.createNew(par, p, 'mkdir', () =>
      this.c.mkdir(par.dir.ii, par.name, mode | sgid, this.cred.uid, this.newGid(par.dir)),
    );
  }

  /**
   * Makes the name `par.name` with `make` (a NEW_INODE) and caches it. It need not be looked up
   * first: NEW_INODE answers EEXIST itself (one dispatch, not two). Any other failure looks the
   * name up, since an existing name wins over every other error (EACCES, ENOSPC...), as in Linux.
   */
  private createNew(par: Parent, p: string, syscall: string, make: () => LookupResult): LookupResult {
    const r = this.tryCreate(par, p, syscall, make);
    if (r === null) fail('EEXIST', syscall, p);
    return r;
  }

  /** createNew(), or null when the name is there (the caller decides what that means). */
  private tryCreate(par: Parent, p: string, syscall: string, make: () => LookupResult): LookupResult | null {
    let r: LookupResult;
    try {
      mayModify(this.cred, par.dir, null, syscall, p);
      r = make();
    } catch (e) {
      const n = (e as { errno?: number }).errno;
      if (n !== undefined && Math.abs(n) === Errno.EEXIST && (e as { name?: string }).name === 'ZufsError')
        return null;
      // EIO: the create was in flight when the server failed (it may have happened): say so.
      if (n !== undefined && Math.abs(n) !== Errno.EIO && this.r.entryOf(par, p, syscall)) return null;
      throw (e as { name?: string }).name === 'ZufsError' ? uvError(errnoFrom(e), syscall, p) : e;
    }
    this.r.created(p, r.ii);
    return r;
  }

  /**
   * A name the cache does not know is made before it is looked up (one dispatch for a new name, two
   * for one that is there) where this face caches names (not on a filesystem whose names change
   * elsewhere, which answers LOOKUPs from its own cache), and not in soon mode: there the LOOKUP
   * may wait off the thread, and a create, a change, would make it wait on it.
   */
  private createFirst(): boolean {
    return this.r.caches && !this.c.inSoonMode;
  }

  /** The create of open(O_CREAT) with mode `m`, for tryCreate(): made only when a create is sent. */
  private fileMaker(par: Parent, m: number): () => LookupResult {
    const mode = m & ~this.umask() & 0o7777;
    return () => this.c.create(par.dir.ii, par.name, mode, this.cred.uid, this.newGid(par.dir));
  }

  /** The group of a new inode in `dir`: the directory's when it is setgid, else the caller's. */
  private newGid(dir: Node): number {
    return dir.attr.mode & S_ISGID ? dir.attr.gid : this.cred.gid;
  }

  mkdtempSync(prefix: unknown, o?: unknown): string {
    const pre = toPath(prefix, 'prefix');
    const enc = opts(o).encoding as Encoding;
    const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    for (let tries = 0; ; tries++) {
      let s = pre;
      for (let i = 0; i < 6; i++) s += chars[Math.floor(Math.random() * chars.length)];
      try {
        this.mkdirOne(s, 0o700 & ~this.umask());
        return enc === 'buffer' ? (Buffer.from(s) as unknown as string) : s;
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === 'EEXIST' && tries < 100) continue;
        throw uvError(-(e as { errno: number }).errno, 'mkdtemp', `${pre}XXXXXX`);
      }
    }
  }

  /** Every entry of directory `n` as [name, S_IFMT type]. */
  entries(n: Node): [string, number][] {
    const out: [string, number][] = [];
    this.c.readdir(n.ii, 0, (name, _ino, type) => {
      out.push([name, dtToMode(type)]);
    });
    return out;
  }

  readdirSync(path: unknown, o?: unknown): (string | Buffer | Dirent)[] {
    const op = opts(o);
    const p = toPath(path);
    const out: (string | Buffer | Dirent)[] = [];
    const open = (dirPath: string): Node => {
      const n = this.r.resolve(dirPath, true, 'scandir');
      if (!isDirMode(n.attr.mode)) fail('ENOTDIR', 'scandir', dirPath);
      if (!permits(n.attr, this.cred, R_OK)) fail('EACCES', 'scandir', dirPath);
      return n;
    };
    if (!op.recursive) {
      const n = open(p);
      if (!op.withFileTypes && op.encoding !== 'buffer') {
        // The common case: names only, straight from the client (no entry pairs in between).
        wrap(() => this.c.readdir(n.ii, 0, (name) => void out.push(name)), 'scandir', p);
        return out;
      }
      for (const [name, type] of wrap(() => this.entries(n), 'scandir', p)) {
        if (op.withFileTypes) out.push(new Dirent(name, type, p));
        else out.push(Buffer.from(name));
      }
      return out;
    }
    // Recursive, as Node 20's: breadth first; Dirents descend into directories, names also into
    // symlinks to directories (Node stats each name), except one that leads back to an ancestor
    // (Node would go round for ever).
    const queue: { dir: string; rel: string; up: number[] }[] = [{ dir: p, rel: '', up: [] }];
    for (let i = 0; i < queue.length; i++) {
      const { dir, rel, up } = queue[i];
      const n = open(dir);
      const chain = [...up, n.ii];
      for (const [name, type] of wrap(() => this.entries(n), 'scandir', dir)) {
        const relName = rel ? `${rel}/${name}` : name;
        const child = posix.join(dir, name); // as Node's queue spells it (a Dirent's parentPath)
        if (op.withFileTypes) {
          out.push(new Dirent(name, type, dir));
          if (isDirMode(type)) queue.push({ dir: child, rel: relName, up: chain });
          continue;
        }
        if (op.encoding === 'buffer') throw invalidArgType('path', 'of type string', Buffer.from(name));
        out.push(relName);
        if (isDirMode(type)) queue.push({ dir: child, rel: relName, up: chain });
        else if (isLinkMode(type)) {
          let t: Node | null = null;
          try {
            t = this.r.resolve(child, true, 'stat');
          } catch {
            // dangling, a loop, no permission: not a directory to Node either
          }
          if (t && isDirMode(t.attr.mode) && !chain.includes(t.ii))
            queue.push({ dir: child, rel: relName, up: chain });
        }
      }
    }
    return out;
  }

  unlinkSync(path: unknown): void {
    const p = toPath(path);
    const par = this.r.parent(p, 'unlink');
    const e = par.entry;
    if (par.dots) fail('EISDIR', 'unlink', p);
    if (!e) fail('ENOENT', 'unlink', p);
    if (isDirMode(e.attr.mode)) fail('EISDIR', 'unlink', p);
    if (par.trailingSlash) fail('ENOTDIR', 'unlink', p);
    mayModify(this.cred, par.dir, e, 'unlink', p);
    this.r.ownChangeStart();
    wrap(() => this.c.unlink(par.dir.ii, par.name, e), 'unlink', p);
    this.ownRemoval(p);
  }

  /** After this thread's unlink or rmdir of `p`: its name cache forgets only what led to the removed inode. */
  private ownRemoval(p: string): void {
    const gone = this.c.lastRemoved;
    if (gone && !isLinkMode(gone.attr.mode)) this.r.ownRemoval(gone.ii, isDirMode(gone.attr.mode), -1, p);
  }

  rmdirSync(path: unknown, o?: unknown): void {
    const p = toPath(path);
    if (opts(o).recursive) {
      this.rmSync(p, { recursive: true });
      return;
    }
    const par = this.r.parent(p, 'rmdir');
    if (par.dots) {
      if (par.name === '.') fail('EINVAL', 'rmdir', p);
      fail('ENOTEMPTY', 'rmdir', p);
    }
    const e = par.entry;
    if (!e) fail('ENOENT', 'rmdir', p);
    if (!isDirMode(e.attr.mode)) fail('ENOTDIR', 'rmdir', p);
    mayModify(this.cred, par.dir, e, 'rmdir', p);
    // ENOTEMPTY is the filesystem's (REMOVE_DENTRY of a directory with entries): no READDIR here.
    this.r.ownChangeStart();
    wrap(() => this.c.rmdir(par.dir.ii, par.name, e), 'rmdir', p);
    this.ownRemoval(p);
  }

  rmSync(path: unknown, o?: unknown): void {
    const p = toPath(path);
    const op = opts(o);
    validateRmOptions(op);
    let st: Node;
    try {
      st = this.r.resolve(p, false, 'lstat');
    } catch (e) {
      if (op.force && (e as { code?: string }).code === 'ENOENT') return;
      // Node checks with lstat first unless forced and recursive; rimraf then meets any other
      // lstat error (a loop behind a trailing slash) by unlinking, whose error is the answer.
      if (!(op.force && op.recursive)) throw e;
      try {
        this.unlinkSync(p);
      } catch (u) {
        if ((u as { code?: string }).code !== 'ENOENT') throw u;
      }
      return;
    }
    if (isDirMode(st.attr.mode)) {
      if (!op.recursive)
        throw systemError('ERR_FS_EISDIR', 'Path is a directory', 'EISDIR', 'is a directory', 'rm', p, 21);
      this.removeTree(p, st);
    } else this.unlinkSync(p);
  }

  /**
   * rm -r of a directory, as Node's rimraf: rmdir first, and only when that says ENOTEMPTY the
   * children (by `dir/name` as given, not normalized), then rmdir again. So `rm -r link/` of a
   * symlink to a directory fails ENOTDIR at the first rmdir and removes nothing of the target. A
   * name already gone (another remover, or a path through what was just removed) is no error.
   */
  private removeTree(p: string, st: Node): void {
    const code = (e: unknown) => (e as { code?: string }).code;
    try {
      this.rmdirSync(p);
      return;
    } catch (e) {
      if (code(e) === 'ENOENT') return;
      if (code(e) !== 'ENOTEMPTY') throw e;
    }
    for (const [name] of wrap(() => this.entries(st), 'scandir', p)) {
      const child = `${p}/${name}`;
      try {
        const c = this.r.resolve(child, false, 'lstat');
        if (isDirMode(c.attr.mode)) this.removeTree(child, c);
        else this.unlinkSync(child);
      } catch (e) {
        if (code(e) !== 'ENOENT') throw e;
      }
    }
    try {
      this.rmdirSync(p);
    } catch (e) {
      if (code(e) !== 'ENOENT') throw e;
    }
  }

  /** The physical path of the entry `par` names (`p` as given): its directory's realpath and its name. */
  private entryPath(p: string, par: Parent): string {
    const dir = p.replace(/\/+$/, '').replace(/[^/]*$/, '') || '/';
    return posix.join(this.r.realpath(dir, 'rename'), par.name);
  }

  renameSync(oldPath: unknown, newPath: unknown): void {
    const o = toPath(oldPath, 'oldPath');
    const n = toPath(newPath, 'newPath');
    const e = (err: unknown) => uvError(errnoFrom2(err), 'rename', o, n);
    let src: ReturnType<Resolver['parent']>;
    let dst: ReturnType<Resolver['parent']>;
    try {
      // As Linux's renameat2: both directories first, '.' and '..' refused, then both names.
      src = this.r.parent(o, 'rename', false);
      dst = this.r.parent(n, 'rename', false);
      if (src.dots || dst.dots) fail('EBUSY', 'rename', o, n);
      this.r.entryOf(src, o, 'rename');
      this.r.entryOf(dst, n, 'rename');
    } catch (err) {
      throw e(err);
    }
    const s = src.entry;
    if (!s) fail('ENOENT', 'rename', o, n);
    const sDir = isDirMode(s.attr.mode);
    if (!sDir && (src.trailingSlash || dst.trailingSlash)) fail('ENOTDIR', 'rename', o, n);
    const d = dst.entry;
    const dDir = d !== null && isDirMode(d.attr.mode);
    const moves = src.dir.ii !== dst.dir.ii;
    // Linux's lock_rename trap, before any permission or type check: the source may not be an
    // ancestor of the target's directory (EINVAL), nor the target an ancestor of the source's (ENOTEMPTY).
    if (moves && (sDir || dDir)) {
      const from = this.entryPath(o, src);
      const to = this.entryPath(n, dst);
      const within = (a: string, b: string) => b === a || b.startsWith(a === '/' ? a : `${a}/`);
      if (sDir && within(from, posix.dirname(to))) fail('EINVAL', 'rename', o, n);
      if (dDir && within(to, posix.dirname(from))) fail('ENOTEMPTY', 'rename', o, n);
    }
    if (d && d.ino === s.ino) return;
    mayModify(this.cred, src.dir, s, 'rename', o, n);
    mayModify(this.cred, dst.dir, d, 'rename', o, n);
    if (d) {
      if (sDir && !dDir) fail('ENOTDIR', 'rename', o, n);
      if (!sDir && dDir) fail('EISDIR', 'rename', o, n);
      // A non-empty directory target is the filesystem's ENOTEMPTY (plugin API): no READDIR here.
    }
    // A directory that changes parent changes its '..': it must be writable itself.
    if (moves && sDir && !permits(s.attr, this.cred, W_OK)) fail('EACCES', 'rename', o, n);
    // The filesystem stamps the moved inode's ctime (as Linux filesystems do in their rename).
    this.r.ownChangeStart();
    try {
      this.c.rename(src.dir.ii, src.name, dst.dir.ii, dst.name, 0, { src: s, dst: d });
    } catch (err) {
      throw e(err);
    }
    // A file moved (no path went through it): only paths to it and to what it replaced go stale,
    // if what it replaced is what we saw there (else another thread's change: drop everything).
    if (
      !sDir &&
      !isLinkMode(s.attr.mode) &&
      !(d && isLinkMode(d.attr.mode)) &&
      this.c.lastReplaced === (d ? d.ii : 0)
    ) {
      this.r.ownRemoval(s.ii, false, d ? d.ii : -1, o);
      this.r.created(n, s.ii); // the file's new name: the next call on it needs no LOOKUP
    }
  }

  symlinkSync(target: unknown, path: unknown, type?: unknown): void {
    validateSymlinkType(type);
    const t = toPath(target, 'target');
    const p = toPath(path);
    let par: ReturnType<Resolver['parent']>;
    try {
      par = this.r.parent(p, 'symlink', false);
      // A name the cache does not know is made first (createFirst; NEW_INODE answers EEXIST
      // itself), as open and mkdir do; a trailing slash looks first (ENOENT).
      if (!par.dots && !par.trailingSlash && this.createFirst() && this.r.known(par, p) === undefined) {
        if (
          this.tryCreate(par, p, 'symlink', () =>
            this.c.symlink(par.dir.ii, par.name, t, this.cred.uid, this.newGid(par.dir)),
          ) === null
        )
          fail('EEXIST', 'symlink', t, p);
        return;
      }
      this.r.entryOf(par, p, 'symlink');
    } catch (err) {
      throw uvError(errnoFrom2(err), 'symlink', t, p);
    }
    if (par.entry) fail('EEXIST', 'symlink', t, p);
    if (par.trailingSlash) fail('ENOENT', 'symlink', t, p); // a missing name asked for as a directory
    if (!permits(par.dir.attr, this.cred, W_OK | X_OK)) fail('EACCES', 'symlink', t, p);
    wrap(() => this.c.symlink(par.dir.ii, par.name, t, this.cred.uid, this.newGid(par.dir)), 'symlink', t, p);
  }

  readlinkSync(path: unknown, o?: unknown): string | Buffer {
    const p = toPath(path);
    const enc = opts(o).encoding;
    const n = this.r.resolve(p, false, 'readlink');
    if (!isLinkMode(n.attr.mode)) fail('EINVAL', 'readlink', p);
    const s = wrap(() => this.c.readlink(n.ii), 'readlink', p);
    return enc === 'buffer' ? Buffer.from(s) : s;
  }

  linkSync(existingPath: unknown, newPath: unknown): void {
    const o = toPath(existingPath, 'existingPath');
    const n = toPath(newPath, 'newPath');
    let src: Node;
    let par: ReturnType<Resolver['parent']>;
    try {
      src = this.r.resolve(o, false, 'link');
      par = this.r.parent(n, 'link');
    } catch (err) {
      throw uvError(errnoFrom2(err), 'link', o, n);
    }
    // As Linux's linkat: the new name (EEXIST; a missing one with a trailing slash is ENOENT), then
    // protected_hardlinks, then write on its directory, and only then a directory source's EPERM.
    if (par.entry) fail('EEXIST', 'link', o, n);
    if (par.trailingSlash) fail('ENOENT', 'link', o, n);
    if (!mayHardlink(this.cred, src.attr)) fail('EPERM', 'link', o, n);
    if (!permits(par.dir.attr, this.cred, W_OK | X_OK)) fail('EACCES', 'link', o, n);
    if (isDirMode(src.attr.mode)) fail('EPERM', 'link', o, n);
    wrap(() => this.c.link(src.ii, par.dir.ii, par.name), 'link', o, n);
  }

  realpathSync(path: unknown, o?: unknown): string | Buffer {
    const p = toPath(path);
    const enc = opts(o).encoding;
    const s = this.r.realpath(p, 'lstat');
    return enc === 'buffer' ? Buffer.from(s) : s;
  }

  /** realpathSync.native: realpath(3), failing from 'realpath'. */
  realpathNativeSync(path: unknown, o?: unknown): string | Buffer {
    const p = toPath(path);
    const enc = opts(o).encoding;
    const s = this.r.realpath(p, 'realpath');
    return enc === 'buffer' ? Buffer.from(s) : s;
  }

  // ~~~ trees ~~~

  cpSync(src: unknown, dest: unknown, o?: unknown): void {
    cp(this, toPath(src, 'src'), toPath(dest, 'dest'), opts(o, { force: true }));
  }
}

/** A file read in chunks, as readFile gives it: a Buffer, or a string in `enc`. */
function joined(chunks: Buffer[], last: Buffer, enc: Encoding): string | Buffer {
  chunks.push(last);
  const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  return enc && enc !== 'buffer' ? all.toString(enc) : all;
}

function errnoFrom2(err: unknown): number {
  const n = (err as { errno?: unknown })?.errno;
  if (typeof n !== 'number') throw err;
  return (err as { name?: string }).name === 'ZufsError' ? Math.abs(n) : -n;
}
