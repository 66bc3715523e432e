/**
 * Symlinks. A target shorter than 32 bytes lives in the inode itself (i_symlink, inline); a longer
 * one in a block of its own, whose pmem offset is i_sym_dpp (a pool-0 dpp, so the app side could
 * read it in place). i_size is the target's length; targets are bytes, not NUL terminated.
 */

import { Errno, getU64, isLnk, setU64, ZUFS_SYMLINK_INLINE_MAX, ZusInode } from '@zufs/zuf-core/api';
import { ZusError as ZufsError } from '@zufs/zus-server';
import { allocBlock, freeBlock } from './alloc.js';
import { mode, setSize, size } from './inode.js';
import { BLOCK_SIZE, type Super } from './super.js';

/** Longest target (PATH_MAX less the NUL). */
export const SYMLINK_MAX = 4095;

/** Blocks a target of `len` bytes needs. */
export const symlinkCost = (len: number) => (len < ZUFS_SYMLINK_INLINE_MAX ? 0 : 1);

export function checkTarget(target: Uint8Array): void {
  if (target.length === 0) throw new ZufsError(Errno.ENOENT, 'empty symlink target');
  if (target.length > SYMLINK_MAX) throw new ZufsError(Errno.ENAMETOOLONG, 'symlink target too long');
}

/** Stores the target of a new symlink inode (the caller checked the space). */
export function symlinkInit(sb: Super, zi: number, target: Uint8Array): void {
  let at = zi + ZusInode.i_symlink;
  if (target.length >= ZUFS_SYMLINK_INLINE_MAX) {
    at = allocBlock(sb, zi, 0, true, true) * BLOCK_SIZE;
    setU64(sb.dv, zi + ZusInode.i_sym_dpp, at);
    sb.touch(zi + ZusInode.i_sym_dpp, 8);
  }
  sb.u8.set(target, at);
  sb.touch(at, target.length);
  setSize(sb, zi, target.length);
}

/** The block holding a long target, or 0. */
export function symlinkBlock(sb: Super, zi: number): number {
  const len = size(sb, zi);
  if (len < ZUFS_SYMLINK_INLINE_MAX || !isLnk(mode(sb, zi))) return 0;
  const dpp = getU64(sb.dv, zi + ZusInode.i_sym_dpp);
  if (len > SYMLINK_MAX || dpp % BLOCK_SIZE !== 0 || dpp === 0) {
    throw new ZufsError(Errno.EIO, `corrupt symlink: ${len} bytes at ${dpp}`);
  }
  return sb.ptr(dpp / BLOCK_SIZE);
}

/** A copy of the target. EINVAL when the inode is not a symlink. */
export function symlinkRead(sb: Super, zi: number): Uint8Array {
  if (!isLnk(mode(sb, zi))) throw new ZufsError(Errno.EINVAL, 'not a symlink');
  const bn = symlinkBlock(sb, zi);
  const at = bn === 0 ? zi + ZusInode.i_symlink : bn * BLOCK_SIZE;
  return sb.u8.slice(at, at + size(sb, zi));
}

export function symlinkFree(sb: Super, zi: number): void {
  const bn = symlinkBlock(sb, zi);
  if (bn !== 0) freeBlock(sb, zi, bn);
}
