/**
 * Extended attributes: all of an inode's attributes share one 4 KiB block, whose number is in
 * i_xattr (0: none). The block is allocated with the first attribute and freed with the last.
 *
 * Block: header 8 bytes: +0 u16 magic 0x5841 | +2 u16 count | +4 u16 end of entries
 * then packed entries, 4-byte aligned: +0 u8 name length | +2 u16 value length | +4 name | value
 * Names are stored whole ("user.foo"); the namespace rules are the VFS's business.
 */

import { Errno, getU64, setU64, XATTR_CREATE, XATTR_REPLACE, ZusInode } from '@zufs/zuf-core/api';
import { ZusError as ZufsError } from '@zufs/zus-server';
import { allocBlock, freeBlock, needBlocks } from './alloc.js';
import { stamp } from './inode.js';
import { BLOCK_SIZE, type Super } from './super.js';

const X_MAGIC = 0;
const X_COUNT = 2;
const X_END = 4;
const X_HDR = 8;
const XATTR_MAGIC = 0x5841;
const XE_NAME_LEN = 0;
const XE_VALUE_LEN = 2;
const XE_NAME = 4;

/** Longest name and value (Linux's XATTR_NAME_MAX and XATTR_SIZE_MAX). */
export const XATTR_NAME_MAX = 255;
export const XATTR_SIZE_MAX = 65536;

const entrySize = (nameLen: number, valueLen: number) => (XE_NAME + nameLen + valueLen + 3) & ~3;

/** The inode's xattr block, or 0. */
export function xattrBlock(sb: Super, zi: number): number {
  return sb.ptr(getU64(sb.dv, zi + ZusInode.i_xattr));
}

function setXattrBlock(sb: Super, zi: number, bn: number): void {
  setU64(sb.dv, zi + ZusInode.i_xattr, bn);
  sb.touch(zi + ZusInode.i_xattr, 8);
}

function xEnd(sb: Super, at: number): number {
  const end = sb.dv.getUint16(at + X_END, true);
  if (end < X_HDR || end > BLOCK_SIZE) throw new ZufsError(Errno.EIO, `corrupt xattr block: end ${end}`);
  return end;
}
const eNameLen = (sb: Super, e: number) => sb.u8[e + XE_NAME_LEN];
const eValueLen = (sb: Super, e: number) => sb.dv.getUint16(e + XE_VALUE_LEN, true);
const eSize = (sb: Super, e: number) => entrySize(eNameLen(sb, e), eValueLen(sb, e));

function setHeader(sb: Super, at: number, count: number, end: number): void {
  sb.dv.setUint16(at + X_MAGIC, XATTR_MAGIC, true);
  sb.dv.setUint16(at + X_COUNT, count, true);
  sb.dv.setUint16(at + X_END, end, true);
  sb.touch(at, X_HDR);
}

export function checkXattrName(name: Uint8Array): void {
  if (name.length === 0 || name.length > XATTR_NAME_MAX)
    throw new ZufsError(Errno.ERANGE, 'bad xattr name length');
}

/** Byte offset of the entry `name` in the block at `at`, or -1. */
function find(sb: Super, at: number, name: Uint8Array): number {
  const end = at + xEnd(sb, at);
  for (let e = at + X_HDR; e < end; e += eSize(sb, e)) {
    if (eNameLen(sb, e) !== name.length) continue;
    let i = 0;
    while (i < name.length && sb.u8[e + XE_NAME + i] === name[i]) i++;
    if (i === name.length) return e;
  }
  return -1;
}

/** Copies the value into `buf` and returns its length; with `buf` null, only the length. */
export function xattrGet(sb: Super, zi: number, name: Uint8Array, buf: Uint8Array | null): number {
  checkXattrName(name);
  const bn = xattrBlock(sb, zi);
  const e = bn === 0 ? -1 : find(sb, bn * BLOCK_SIZE, name);
  if (e < 0) throw new ZufsError(Errno.ENODATA, 'no such attribute');
  const len = eValueLen(sb, e);
  if (buf === null) return len;
  if (buf.length < len) throw new ZufsError(Errno.ERANGE, `value is ${len} bytes`);
  const v = e + XE_NAME + name.length;
  buf.set(sb.u8.subarray(v, v + len));
  return len;
}

/** Removes the entry at `e` of the block at `at`; frees the block when it was the last. */
function removeEntry(sb: Super, zi: number, at: number, e: number): void {
  const size = eSize(sb, e);
  const end = at + xEnd(sb, at);
  const count = sb.dv.getUint16(at + X_COUNT, true) - 1;
  if (count === 0) {
    freeBlock(sb, zi, at / BLOCK_SIZE);
    setXattrBlock(sb, zi, 0);
    return;
  }
  sb.u8.copyWithin(e, e + size, end);
  sb.u8.fill(0, end - size, end);
  sb.touch(e, end - e);
  setHeader(sb, at, count, end - size - at);
}

/** setxattr(2) with XATTR_CREATE / XATTR_REPLACE. */
export function xattrSet(sb: Super, zi: number, name: Uint8Array, value: Uint8Array, flags: number): void {
  checkXattrName(name);
  if (flags & ~(XATTR_CREATE | XATTR_REPLACE)) throw new ZufsError(Errno.EINVAL, `xattr flags ${flags}`);
  if (value.length > XATTR_SIZE_MAX) throw new ZufsError(Errno.E2BIG, 'xattr value too large');
  let bn = xattrBlock(sb, zi);
  const old = bn === 0 ? -1 : find(sb, bn * BLOCK_SIZE, name);
  if (old >= 0 && flags & XATTR_CREATE) throw new ZufsError(Errno.EEXIST, 'attribute exists');
  if (old < 0 && flags & XATTR_REPLACE) throw new ZufsError(Errno.ENODATA, 'no such attribute');
  const size = entrySize(name.length, value.length);
  const used = bn === 0 ? X_HDR : xEnd(sb, bn * BLOCK_SIZE) - (old >= 0 ? eSize(sb, old) : 0);
  if (used + size > BLOCK_SIZE)
    throw new ZufsError(Errno.ENOSPC, 'no room for the attribute in the xattr block');
  if (bn === 0) {
    needBlocks(sb, 1, true);
    bn = allocBlock(sb, zi, 0, true, true);
    setHeader(sb, bn * BLOCK_SIZE, 0, X_HDR);
    setXattrBlock(sb, zi, bn);
  } else if (old >= 0) {
    // Drop the old entry in place (not through removeEntry: the block must stay).
    const at = bn * BLOCK_SIZE;
    const oldSize = eSize(sb, old);
    const end = at + xEnd(sb, at);
    sb.u8.copyWithin(old, old + oldSize, end);
    sb.u8.fill(0, end - oldSize, end);
    sb.touch(old, end - old);
    setHeader(sb, at, sb.dv.getUint16(at + X_COUNT, true) - 1, end - oldSize - at);
  }
  const at = bn * BLOCK_SIZE;
  const e = at + xEnd(sb, at);
  sb.u8[e + XE_NAME_LEN] = name.length;
  sb.u8[e + 1] = 0;
  sb.dv.setUint16(e + XE_VALUE_LEN, value.length, true);
  sb.u8.set(name, e + XE_NAME);
  sb.u8.set(value, e + XE_NAME + name.length);
  sb.u8.fill(0, e + XE_NAME + name.length + value.length, e + size);
  sb.touch(e, size);
  setHeader(sb, at, sb.dv.getUint16(at + X_COUNT, true) + 1, e + size - at);
  stamp(sb, zi, 'c');
}

export function xattrRemove(sb: Super, zi: number, name: Uint8Array): void {
  checkXattrName(name);
  const bn = xattrBlock(sb, zi);
  const e = bn === 0 ? -1 : find(sb, bn * BLOCK_SIZE, name);
  if (e < 0) throw new ZufsError(Errno.ENODATA, 'no such attribute');
  removeEntry(sb, zi, bn * BLOCK_SIZE, e);
  stamp(sb, zi, 'c');
}

/** Writes the names, each followed by a NUL, into `buf`; returns their total length (buf null: only that). */
export function xattrList(sb: Super, zi: number, buf: Uint8Array | null): number {
  const bn = xattrBlock(sb, zi);
  if (bn === 0) return 0;
  const at = bn * BLOCK_SIZE;
  const end = at + xEnd(sb, at);
  let total = 0;
  for (let e = at + X_HDR; e < end; e += eSize(sb, e)) total += eNameLen(sb, e) + 1;
  if (buf === null) return total;
  if (buf.length < total) throw new ZufsError(Errno.ERANGE, `names take ${total} bytes`);
  let p = 0;
  for (let e = at + X_HDR; e < end; e += eSize(sb, e)) {
    const n = eNameLen(sb, e);
    buf.set(sb.u8.subarray(e + XE_NAME, e + XE_NAME + n), p);
    buf[p + n] = 0;
    p += n + 1;
  }
  return total;
}

export function xattrFreeAll(sb: Super, zi: number): void {
  const bn = xattrBlock(sb, zi);
  if (bn !== 0) {
    freeBlock(sb, zi, bn);
    setXattrBlock(sb, zi, 0);
  }
}

/** fsck: the block's structure. */
export function xattrProblems(sb: Super, zi: number): string[] {
  const bn = xattrBlock(sb, zi);
  if (bn === 0) return [];
  if (!sb.isDataBlock(bn)) return [`xattr block ${bn} outside the data region`];
  const at = bn * BLOCK_SIZE;
  if (sb.dv.getUint16(at + X_MAGIC, true) !== XATTR_MAGIC) return [`xattr block ${bn}: bad magic`];
  const end = at + xEnd(sb, at);
  if (end > at + BLOCK_SIZE || end <= at + X_HDR) return [`xattr block ${bn}: bad end`];
  let n = 0;
  for (let e = at + X_HDR; e < end; e += eSize(sb, e)) {
    if (eNameLen(sb, e) === 0) return [`xattr block ${bn}: empty name`];
    n++;
  }
  return n === sb.dv.getUint16(at + X_COUNT, true) ? [] : [`xattr block ${bn}: count mismatch`];
}
