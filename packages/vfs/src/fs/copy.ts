/**
 * Copies: copyFile (one file's bytes and mode) and cp (trees, as Node's cpSync), on the face's own
 * methods, so every check and error is the one that method gives.
 */
import { constants } from 'node:fs';
import { posix } from 'node:path';
import { fail, systemError, uvError } from './errors.js';
import { isDirMode, isLinkMode, type Node, toPath } from './paths.js';
import type { Stats } from './stats.js';
import type { ZufsSync } from './sync.js';
import { accessMode } from './validate.js';

type Opts = Record<string, unknown>;

/** A chunk of copyFile's copy loop. */
const COPY_CHUNK = 256 * 1024;

/**
 * copyFileSync, step for step as libuv's (what node:fs runs on Linux): open the source, open the
 * destination (O_CREAT, and O_EXCL for COPYFILE_EXCL) with the source's mode, stop if both are the
 * same file, truncate it, give it the source's exact mode (fchmod: no umask; EPERM when the caller
 * does not own an existing destination), clone or copy the bytes (a directory source fails here,
 * EISDIR, after the destination was opened). When a step after the destination's open fails, the
 * destination's name is unlinked, whatever it held before (a symlink there goes, not its target).
 */
export function copyFile(z: ZufsSync, src: unknown, dest: unknown, mode?: unknown): void {
  const s = toPath(src, 'src');
  const d = toPath(dest, 'dest');
  const how = accessMode(mode);
  const excl = (how & constants.COPYFILE_EXCL) !== 0;
  let sfd = -1;
  let dfd = -1;
  try {
    sfd = z.openSync(s, constants.O_RDONLY);
    const from = z.fstatSync(sfd) as Stats;
    dfd = z.openSync(
      d,
      constants.O_WRONLY | constants.O_CREAT | (excl ? constants.O_EXCL : 0),
      from.mode & 0o7777,
    );
    if (!excl) {
      if ((z.fstatSync(dfd) as Stats).ino === from.ino) return;
      z.ftruncateSync(dfd, 0);
    }
    z.fchmodSync(dfd, from.mode & 0o7777);
    // No filesystem of zufs shares blocks between files: a clone that must happen cannot.
    if (how & constants.COPYFILE_FICLONE_FORCE) fail('ENOTSUP', 'copyfile');
    if (from.isDirectory()) fail('EISDIR', 'copyfile');
    const buf = Buffer.allocUnsafe(Math.min(Math.max(from.size, 1), COPY_CHUNK));
    for (let pos = 0; ; ) {
      const n = z.readSync(sfd, buf, 0, buf.length, pos);
      if (n === 0) break;
      for (let off = 0; off < n; ) off += z.writeSync(dfd, buf, off, n - off, pos + off);
      pos += n;
    }
  } catch (e) {
    if (dfd >= 0) {
      z.closeSync(dfd);
      dfd = -1;
      try {
        z.unlinkSync(d);
      } catch {
        // as libuv: the copy's own error is the answer
      }
    }
    const n = (e as { errno?: unknown }).errno;
    if (typeof n !== 'number') throw e;
    throw uvError(n, 'copyfile', s, d);
  } finally {
    if (dfd >= 0) z.closeSync(dfd);
    if (sfd >= 0) z.closeSync(sfd);
  }
}

/** cpSync of `s` to `d` (options `op`); `top`: the call's own paths, not an entry below them. */
export function cp(z: ZufsSync, s: string, d: string, op: Opts, top = true): void {
  // Node's checkPathsSync, for the top and for every entry below: the filter, then the two stats.
  if (typeof op.filter === 'function') {
    const keep = op.filter(s, d);
    if (keep instanceof Promise) {
      const e = new TypeError(
        'Expected boolean to be returned from the "filter" function but got an instance of Promise.',
      );
      throw Object.assign(e, { code: 'ERR_INVALID_RETURN_VALUE' });
    }
    if (!keep) return;
  }
  const follow = !op.verbatimSymlinks && op.dereference === true;
  const st = z.r.resolve(s, follow, 'lstat');
  let dst: Node | null = null;
  try {
    dst = z.r.resolve(d, follow, 'lstat');
  } catch (e) {
    if ((e as { code?: string }).code !== 'ENOENT') throw e;
  }
  if (dst) {
    if (dst.ii === st.ii) throw cpError('ERR_FS_CP_EINVAL', 'src and dest cannot be the same', d);
    if (isDirMode(st.attr.mode) && !isDirMode(dst.attr.mode))
      throw cpError('ERR_FS_CP_DIR_TO_NON_DIR', `cannot overwrite non-directory ${d} with directory ${s}`, d);
    if (!isDirMode(st.attr.mode) && isDirMode(dst.attr.mode))
      throw cpError('ERR_FS_CP_NON_DIR_TO_DIR', `cannot overwrite directory ${d} with non-directory ${s}`, d);
  }
  if (isDirMode(st.attr.mode)) {
    const rs = z.r.realpath(s, 'lstat');
    let rd = d.startsWith('/') ? d : `/${d}`;
    try {
      rd = z.r.realpath(d, 'lstat');
    } catch {
      // not there yet
    }
    if (rd === rs || rd.startsWith(`${rs}/`))
      throw cpError('ERR_FS_CP_EINVAL', `cannot copy ${s} to a subdirectory of self ${d}`, d);
  }
  // Node's checkParentDir: the destination's missing parents are made (before anything else fails).
  if (top) {
    const parent = posix.dirname(d);
    if (!z.existsSync(parent)) z.mkdirSync(parent, { recursive: true });
  }
  if (isDirMode(st.attr.mode)) {
    if (!op.recursive) throw cpError('ERR_FS_EISDIR', `${s} is a directory (not copied)`, s);
    if (!dst) z.mkdirSync(d, { mode: st.attr.mode & 0o7777 });
    for (const [name] of z.entries(st)) cp(z, `${s}/${name}`, `${d}/${name}`, op, false);
    return;
  }
  if (isLinkMode(st.attr.mode)) {
    let t = z.c.readlink(st.ii);
    if (!op.verbatimSymlinks && !t.startsWith('/')) t = posix.resolve('/', posix.dirname(s), t);
    // As Node's onLink: a link replaces only a link (anything else there: symlink's EEXIST), and
    // not when one would end up inside the other.
    const old = dst && isLinkMode(dst.attr.mode) ? z.c.readlink(dst.ii) : null;
    if (old !== null) {
      const to = old.startsWith('/') ? old : posix.resolve('/', posix.dirname(d), old);
      const within = (a: string, b: string) =>
        `${posix.resolve('/', b)}/`.startsWith(`${posix.resolve('/', a)}/`);
      if (within(t, to))
        throw cpError('ERR_FS_CP_EINVAL', `cannot copy ${t} to a subdirectory of self ${to}`, d);
      // The destination link's target, as Node's statSync(dest): a dangling one fails (ENOENT).
      const target = z.r.resolve(d, true, 'stat').attr;
      if (isDirMode(target.mode) && within(to, t))
        throw cpError('ERR_FS_CP_SYMLINK_TO_SUBDIRECTORY', `cannot overwrite ${to} with ${t}`, d);
      z.unlinkSync(d);
    }
    z.symlinkSync(t, d);
    return;
  }
  if (dst) {
    if (!op.force) {
      if (op.errorOnExist) throw cpError('ERR_FS_CP_EEXIST', `${d} already exists`, d);
      return;
    }
    // As Node's mayCopyFile: the old name goes first (a symlink there is replaced, not followed).
    z.unlinkSync(d);
  }
  z.copyFileSync(s, d);
  if (op.preserveTimestamps) z.utimesSync(d, st.attr.atimeNs / 1e9, st.attr.mtimeNs / 1e9);
}

/** cp's SystemErrors, by code: title, libuv code and errno (cp's EISDIR says EINVAL's 22, as Node's). */
const CP_ERRORS: Record<string, [string, string, number]> = {
  ERR_FS_CP_EINVAL: ['Invalid src or dest', 'EINVAL', 22],
  ERR_FS_CP_DIR_TO_NON_DIR: ['Cannot overwrite non-directory with directory', 'EISDIR', 21],
  ERR_FS_CP_NON_DIR_TO_DIR: ['Cannot overwrite directory with non-directory', 'ENOTDIR', 20],
  ERR_FS_CP_SYMLINK_TO_SUBDIRECTORY: ['Cannot overwrite symlink in subdirectory of self', 'EINVAL', 22],
  ERR_FS_CP_EEXIST: ['Target already exists', 'EEXIST', 17],
  ERR_FS_EISDIR: ['Path is a directory', 'EISDIR', 22],
};

/** Node's SystemError `code` of cp, on `path`. */
function cpError(code: string, detail: string, path: string): Error {
  const [title, uv, errno] = CP_ERRORS[code];
  return systemError(code, title, uv, detail, 'cp', path, errno);
}
