/**
 * Extended attributes, a zufs extension (node:fs has none). Named after the syscalls: getxattr
 * follows a final symlink, lgetxattr does not, fgetxattr takes an fd. Permissions as Linux for
 * user.*: read to get or list, write to set or remove (permissions.ts's mayWriteXattr).
 */
import { fail, invalidArgType, invalidArgValue, wrap } from './errors.js';
import { type Node, permits, R_OK, toPath } from './paths.js';
import { mayWriteXattr } from './permissions.js';
import type { ZufsSync } from './sync.js';

/** How an xattr call names its inode: a path followed, a path not followed, an fd. */
export type XattrOn = 'path' | 'link' | 'fd';
const XATTR_SYSCALLS: Record<XattrOn, { get: string; set: string; list: string; remove: string }> = {
  path: { get: 'getxattr', set: 'setxattr', list: 'listxattr', remove: 'removexattr' },
  link: { get: 'lgetxattr', set: 'lsetxattr', list: 'llistxattr', remove: 'lremovexattr' },
  fd: { get: 'fgetxattr', set: 'fsetxattr', list: 'flistxattr', remove: 'fremovexattr' },
};
const XATTR_CREATE = 1;
const XATTR_REPLACE = 2;

function xattrName(name: unknown): string {
  if (typeof name !== 'string') throw invalidArgType('name', 'of type string', name);
  return name;
}

function xattrTarget(
  s: ZufsSync,
  how: XattrOn,
  target: unknown,
  syscall: string,
): { n: Node; path?: string } {
  if (how === 'fd') {
    const f = s.fds.get(target, syscall);
    return { n: { ii: f.ii, attr: wrap(() => s.c.getattr(f.ii), syscall) } };
  }
  const path = toPath(target);
  return { n: s.r.resolve(path, how === 'path', syscall), path };
}

export function xattrGet(
  s: ZufsSync,
  how: XattrOn,
  target: unknown,
  name: unknown,
  o?: unknown,
): Buffer | string {
  const sys = XATTR_SYSCALLS[how].get;
  const nm = xattrName(name);
  const { n, path } = xattrTarget(s, how, target, sys);
  if (!permits(n.attr, s.cred, R_OK)) fail('EACCES', sys, path);
  const v = Buffer.from(wrap(() => s.c.getxattr(n.ii, nm), sys, path));
  const enc = typeof o === 'string' ? o : (o as { encoding?: BufferEncoding } | undefined)?.encoding;
  return enc && enc !== 'buffer' ? v.toString(enc as BufferEncoding) : v;
}

export function xattrSet(
  s: ZufsSync,
  how: XattrOn,
  target: unknown,
  name: unknown,
  value: unknown,
  o?: unknown,
): void {
  const sys = XATTR_SYSCALLS[how].set;
  const nm = xattrName(name);
  const data = typeof value === 'string' ? Buffer.from(value) : value;
  if (!(data instanceof Uint8Array))
    throw invalidArgType('value', 'of type string or an instance of Buffer', value);
  const flag = (o as { flag?: unknown } | undefined)?.flag;
  if (flag !== undefined && flag !== 'create' && flag !== 'replace')
    throw invalidArgValue('options.flag', flag, "must be 'create' or 'replace'");
  const { n, path } = xattrTarget(s, how, target, sys);
  mayWriteXattr(s.cred, n, nm, sys, path);
  const flags = flag === 'create' ? XATTR_CREATE : flag === 'replace' ? XATTR_REPLACE : 0;
  wrap(() => s.c.setxattr(n.ii, nm, data, flags), sys, path);
}

export function xattrList(s: ZufsSync, how: XattrOn, target: unknown): string[] {
  const sys = XATTR_SYSCALLS[how].list;
  const { n, path } = xattrTarget(s, how, target, sys);
  const names = wrap(() => s.c.listxattr(n.ii), sys, path);
  // trusted.* is listed to root only, as Linux.
  return s.cred.uid === 0 ? names : names.filter((x) => !x.startsWith('trusted.'));
}

export function xattrRemove(s: ZufsSync, how: XattrOn, target: unknown, name: unknown): void {
  const sys = XATTR_SYSCALLS[how].remove;
  const nm = xattrName(name);
  const { n, path } = xattrTarget(s, how, target, sys);
  mayWriteXattr(s.cred, n, nm, sys, path);
  wrap(() => s.c.removexattr(n.ii, nm), sys, path);
}
