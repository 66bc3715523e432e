/**
 * The permission policy of the face beyond plain mode bits (those are paths.ts's `permits`): who
 * may change an inode's attributes, add or remove a directory entry (sticky directories), make a
 * hard link and write extended attributes. Each throws the errno Linux gives when it says no.
 */
import type { InodeAttr, LookupResult } from '../inode/client.js';
import { fail } from './errors.js';
import { type Cred, type Node, permits, R_OK, W_OK, X_OK } from './paths.js';

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

/**
 * The mode left after Linux drops privileges for a write, truncate or chown of an inode of mode
 * `mode` (its setattr_should_drop_suidgid, 6.x). A write or truncate by `privileged` (root:
 * CAP_FSETID) keeps everything; otherwise, and on any chown, setuid goes, and setgid goes when the
 * group may execute, or when the caller is neither in the file's group (`inGroup`) nor privileged
 * (setgid without group execute marks mandatory locking, which the group may keep). A directory
 * keeps both.
 */
export function modeAfterKillPriv(
  mode: number,
  privileged: boolean,
  inGroup: boolean,
  chown: boolean,
): number {
  if ((mode & S_IFMT) === S_IFDIR || (privileged && !chown) || !(mode & 0o6000)) return mode;
  let m = mode & ~0o4000;
  if (m & 0o2000 && (m & 0o010 || (!inGroup && !privileged))) m &= ~0o2000;
  return m;
}

/** Root, or the inode's owner: who may chmod, utimes and (as Linux's inode_owner_or_capable) more. */
export function isOwner(cred: Cred, a: InodeAttr): boolean {
  return cred.uid === 0 || cred.uid === a.uid;
}

/**
 * Linux's protected_hardlinks (on in Debian and most distributions): one who does not own a file
 * may link to it only if it is a regular file they can read and write, neither setuid nor
 * setgid-executable.
 */
export function mayHardlink(cred: Cred, a: InodeAttr): boolean {
  if (isOwner(cred, a)) return true;
  if ((a.mode & S_IFMT) !== S_IFREG || a.mode & 0o4000) return false;
  if ((a.mode & 0o2010) === 0o2010) return false;
  return permits(a, cred, R_OK | W_OK);
}

/** Write and search on `dir` to add or remove `entry` (and the sticky-dir rule for removing). */
export function mayModify(
  cred: Cred,
  dir: Node,
  entry: LookupResult | null,
  syscall: string,
  path: string,
  dest?: string,
): void {
  if (!permits(dir.attr, cred, W_OK | X_OK)) fail('EACCES', syscall, path, dest);
  if (
    entry &&
    dir.attr.mode & 0o1000 &&
    cred.uid !== 0 &&
    cred.uid !== dir.attr.uid &&
    cred.uid !== entry.attr.uid
  )
    fail('EPERM', syscall, path, dest);
}

/** The mode bits chmod keeps of `m`: a non-root caller outside the file's group loses setgid. */
export function chmodBits(cred: Cred, a: InodeAttr, m: number): number {
  const bits = m & 0o7777;
  return cred.uid !== 0 && a.gid !== cred.gid ? bits & ~0o2000 : bits;
}

/**
 * Linux's chown_ok/chgrp_ok: only what is asked for (not -1) is checked. The owner may give the
 * uid it has and a group it is in; anyone may chown(-1, -1) (it only stamps ctime).
 */
export function mayChown(
  cred: Cred,
  a: InodeAttr,
  uid: number,
  gid: number,
  syscall: string,
  path?: string,
): void {
  if (cred.uid === 0) return;
  const owner = cred.uid === a.uid;
  if (uid !== -1 && !(owner && uid === a.uid)) fail('EPERM', syscall, path);
  if (gid !== -1 && !(owner && (gid === a.gid || gid === cred.gid))) fail('EPERM', syscall, path);
}

/**
 * Writing an xattr, as Linux for user.*: write permission, and only on regular files and
 * directories; trusted.* and security.* writes need root.
 */
export function mayWriteXattr(cred: Cred, n: Node, name: string, sys: string, path?: string): void {
  if (name.startsWith('user.')) {
    const t = n.attr.mode & S_IFMT;
    if (t !== S_IFREG && t !== S_IFDIR) fail('EPERM', sys, path);
    if (!permits(n.attr, cred, W_OK)) fail('EACCES', sys, path);
  } else if (cred.uid !== 0) fail('EPERM', sys, path);
}
