/**
 * Inodes: the 128-byte zus_inode of zus_api (its layout is zuf-core's `ZusInode`), slot `ino` of the
 * inode table, so an inode's dpp (pool 0) is just its byte offset in the device.
 *
 * pmemfs's own use of the 16 opaque bytes `i_on_disk` (offsets from i_on_disk):
 *   +0 u32  block map root (a block number, 0: no blocks)
 *   +4 u8   block map height (see file.ts)
 *   +5 u8   directories: global depth of the name hash table (see dir.ts)
 *   +6 u16  pmemfs inode flags (OD_F_*)
 *   +8      reserved, zero
 */

import {
  Errno,
  getU64,
  isDir,
  isReg,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  S_IFSOCK,
  setTimeNs,
  setU64,
  ZusInode,
} from '@zufs/zuf-core/api';
import { ZusError as ZufsError } from '@zufs/zus-server';
import { INODE_SIZE, RT_GEN_FLOOR, type Super } from './super.js';

const Z = ZusInode;
export const OD_ROOT = Z.i_on_disk;
export const OD_HEIGHT = Z.i_on_disk + 4;
export const OD_DEPTH = Z.i_on_disk + 5;
export const OD_FLAGS = Z.i_on_disk + 6;
/** An O_TMPFILE inode: it may get its first link with addDentry although its nlink is 0. */
export const OD_F_TMPFILE = 1;

/** Nominal bytes per entry of a directory's i_size (as tmpfs does): size = 32 * (entries + 2). */
export const DIR_ENTRY_NOMINAL = 32;

// performance.timeOrigin is a getter that costs half as much as performance.now() itself.
const ORIGIN_MS = performance.timeOrigin;

/** Now, in nanoseconds since the epoch (microsecond resolution; doubles round it to 256 ns). */
export function nowNs(): number {
  return Math.round((ORIGIN_MS + performance.now()) * 1e3) * 1e3;
}

export const mode = (sb: Super, zi: number) => sb.dv.getUint16(zi + Z.i_mode, true);
export const nlink = (sb: Super, zi: number) => sb.dv.getUint32(zi + Z.i_nlink, true);
export const size = (sb: Super, zi: number) => getU64(sb.dv, zi + Z.i_size);

export function setNlink(sb: Super, zi: number, n: number): void {
  sb.dv.setUint32(zi + Z.i_nlink, n, true);
  sb.touch(zi + Z.i_nlink, 4);
}

export function setSize(sb: Super, zi: number, n: number): void {
  setU64(sb.dv, zi + Z.i_size, n);
  sb.touch(zi + Z.i_size, 8);
}

/** Sets the times named by `which` ('m' mtime, 'c' ctime, 'a' atime) to now. */
export function stamp(sb: Super, zi: number, which: 'mc' | 'c' | 'mca'): void {
  const t = nowNs();
  setTimeNs(sb.dv, zi + Z.i_ctime, t);
  if (which !== 'c') setTimeNs(sb.dv, zi + Z.i_mtime, t);
  if (which === 'mca') setTimeNs(sb.dv, zi + Z.i_atime, t);
  sb.touch(zi + Z.i_mtime, 24);
}

/** Entries of a directory, '.' and '..' excluded. */
export function dirCount(sb: Super, zi: number): number {
  return size(sb, zi) / DIR_ENTRY_NOMINAL - 2;
}

export function setDirCount(sb: Super, zi: number, n: number): void {
  setSize(sb, zi, (n + 2) * DIR_ENTRY_NOMINAL);
}

export function dirParent(sb: Super, zi: number): number {
  return getU64(sb.dv, zi + Z['i_dir.parent']);
}

export function setDirParent(sb: Super, zi: number, parent: number): void {
  setU64(sb.dv, zi + Z['i_dir.parent'], parent);
  sb.touch(zi + Z['i_dir.parent'], 8);
}

/**
 * The zus_inode of a live inode `ino`, or ESTALE (a number that is out of range or not in use: the
 * caller holds a stale handle).
 */
export function liveZi(sb: Super, ino: number): number {
  // Messages are made in inodeError: a template in these every-operation functions costs (see
  // zuf-core isU53).
  if (!(ino > 0 && ino < sb.g.inodeCount && Math.floor(ino) === ino)) inodeError(Errno.ESTALE, ino);
  const zi = sb.zi(ino);
  if (mode(sb, zi) === 0 || getU64(sb.dv, zi + Z.i_ino) !== ino) inodeError(Errno.ESTALE, ino, zi);
  return zi;
}

/** liveZi, and ENOTDIR unless it is a directory. */
export function dirZi(sb: Super, ino: number): number {
  const zi = liveZi(sb, ino);
  if (!isDir(mode(sb, zi))) inodeError(Errno.ENOTDIR, ino);
  return zi;
}

/** liveZi, and EISDIR for a directory, EINVAL for anything else that is not a regular file. */
export function regZi(sb: Super, ino: number): number {
  const zi = liveZi(sb, ino);
  const m = mode(sb, zi);
  if (!isReg(m)) inodeError(isDir(m) ? Errno.EISDIR : Errno.EINVAL, ino);
  return zi;
}

function inodeError(errno: number, ino: number, zi = -1): never {
  const why =
    errno === Errno.ENOTDIR
      ? 'is not a directory'
      : errno !== Errno.ESTALE
        ? 'is not a regular file'
        : zi < 0
          ? 'out of range'
          : 'is not in use';
  throw new ZufsError(errno, `inode ${ino} ${why}`);
}

/**
 * Fills a free slot as a new inode: every field zero but the ones given, times now, the generation
 * one more than the slot's last one (so an (ino, generation) pair names one inode for ever).
 */
export function initInode(
  sb: Super,
  ino: number,
  m: number,
  uid: number,
  gid: number,
  links: number,
): number {
  const zi = sb.zi(ino);
  const dv = sb.dv;
  const generation = Math.max(getU64(dv, zi + Z.i_generation) + 1, sb.rt[RT_GEN_FLOOR] * 2 ** 32);
  sb.u8.fill(0, zi, zi + INODE_SIZE);
  dv.setUint16(zi + Z.i_mode, m, true);
  dv.setUint32(zi + Z.i_nlink, links, true);
  setU64(dv, zi + Z.i_ino, ino);
  dv.setUint32(zi + Z.i_uid, uid >>> 0, true);
  dv.setUint32(zi + Z.i_gid, gid >>> 0, true);
  setU64(dv, zi + Z.i_generation, generation);
  sb.touch(zi, INODE_SIZE);
  stamp(sb, zi, 'mca');
  return zi;
}

/** Clears a freed inode's slot, keeping its generation for the next user of the slot. */
export function clearInode(sb: Super, zi: number): void {
  const generation = getU64(sb.dv, zi + Z.i_generation);
  sb.u8.fill(0, zi, zi + INODE_SIZE);
  setU64(sb.dv, zi + Z.i_generation, generation);
  sb.touch(zi, INODE_SIZE);
}

const TYPES = new Set([S_IFIFO, S_IFCHR, S_IFDIR, S_IFBLK, S_IFREG, S_IFLNK, S_IFSOCK]);

/** Whether the type bits of `m` name a file type. */
export const hasValidType = (m: number) => TYPES.has(m & S_IFMT);
