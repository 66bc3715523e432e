/**
 * Encoders of the reply structs and readers of request fields, on DataViews the caller owns (one
 * request and one reply buffer per reader thread: nothing here allocates but decoded names).
 * u64 fields go through two u32 halves (getU64 / setU64 of @zufs/zuf-core/api): no BigInt.
 */
import { getU64, type Statfs, type ZusInodeAttr } from '@zufs/zuf-core/api';
import {
  Attr,
  AttrOut,
  Dirent,
  DirentPlus,
  direntSize,
  EntryOut,
  InitOut,
  Kstatfs,
  OutHeader,
} from './protocol.js';

export { getU64 };

const TWO32 = 2 ** 32;

/** Writes a u64 from a non-negative Number; values past 2^64 - 1 saturate (they never reach here). */
export function putU64(dv: DataView, at: number, n: number): void {
  if (n >>> 0 === n) {
    dv.setUint32(at, n, true);
    dv.setUint32(at + 4, 0, true);
    return;
  }
  if (!(n > 0)) {
    dv.setUint32(at, 0, true);
    dv.setUint32(at + 4, 0, true);
    return;
  }
  const hi = Math.min(Math.floor(n / TWO32), 0xffffffff);
  dv.setUint32(at, Math.max(0, Math.min(n - hi * TWO32, 0xffffffff)), true);
  dv.setUint32(at + 4, hi, true);
}

/** Reads an s64 (times in setattr_in are signed on the kernel side). */
export function getS64(dv: DataView, at: number): number {
  return dv.getInt32(at + 4, true) * TWO32 + dv.getUint32(at, true);
}

/** A timeout in seconds as the (u64 seconds, u32 nanoseconds) pair the kernel reads. */
export function putTimeout(dv: DataView, secAt: number, nsecAt: number, seconds: number): void {
  const s = Math.max(0, Math.floor(seconds));
  putU64(dv, secAt, s);
  dv.setUint32(nsecAt, Math.min(999_999_999, Math.round((seconds - s) * 1e9)) >>> 0, true);
}

/** Splits nanoseconds since the epoch into the (sec, nsec) pair of fuse_attr. */
function putTime(dv: DataView, secAt: number, nsecAt: number, ns: number): void {
  const s = Math.floor(ns / 1e9);
  let rem = ns - s * 1e9;
  // ns values past 2^53 are not exact: keep the remainder a valid nanosecond count.
  if (rem < 0) rem = 0;
  else if (rem > 999_999_999) rem = 999_999_999;
  putU64(dv, secAt, s);
  dv.setUint32(nsecAt, rem, true);
}

/** struct fuse_attr at `at`, from a decoded zus_inode; `ino` is what stat shows. */
export function writeAttr(dv: DataView, at: number, a: ZusInodeAttr, blksize: number): void {
  putU64(dv, at + Attr.ino, a.ino);
  putU64(dv, at + Attr.size, a.size);
  putU64(dv, at + Attr.blocks, a.blocks);
  putTime(dv, at + Attr.atime, at + Attr.atimensec, a.atimeNs);
  putTime(dv, at + Attr.mtime, at + Attr.mtimensec, a.mtimeNs);
  putTime(dv, at + Attr.ctime, at + Attr.ctimensec, a.ctimeNs);
  dv.setUint32(at + Attr.mode, a.mode, true);
  dv.setUint32(at + Attr.nlink, a.nlink, true);
  dv.setUint32(at + Attr.uid, a.uid, true);
  dv.setUint32(at + Attr.gid, a.gid, true);
  dv.setUint32(at + Attr.rdev, a.rdev, true);
  dv.setUint32(at + Attr.blksize, blksize, true);
  dv.setUint32(at + Attr.flags, 0, true);
}

export interface Timeouts {
  /** Seconds the kernel may keep a name (dentry). */
  entry: number;
  /** Seconds the kernel may keep attributes; 0: every stat reaches the server. */
  attr: number;
}

/** struct fuse_entry_out at `at`. nodeid 0 is a negative entry (the name is known absent). */
export function writeEntry(
  dv: DataView,
  at: number,
  nodeid: number,
  a: ZusInodeAttr,
  t: Timeouts,
  blksize: number,
): void {
  putU64(dv, at + EntryOut.nodeid, nodeid);
  putU64(dv, at + EntryOut.generation, a.generation);
  putTimeout(dv, at + EntryOut.entry_valid, at + EntryOut.entry_valid_nsec, t.entry);
  putTimeout(dv, at + EntryOut.attr_valid, at + EntryOut.attr_valid_nsec, t.attr);
  writeAttr(dv, at + EntryOut.attr, a, blksize);
}

/** struct fuse_attr_out at `at`. */
export function writeAttrOut(dv: DataView, at: number, a: ZusInodeAttr, t: Timeouts, blksize: number): void {
  putTimeout(dv, at + AttrOut.attr_valid, at + AttrOut.attr_valid_nsec, t.attr);
  dv.setUint32(at + AttrOut.dummy, 0, true);
  writeAttr(dv, at + AttrOut.attr, a, blksize);
}

/** fuse_kstatfs from `s`; a filesystem that leaves namelen or frsize 0 gets 255 and its bsize. */
export function writeKstatfs(dv: DataView, at: number, s: Statfs): void {
  putU64(dv, at + Kstatfs.blocks, s.blocks);
  putU64(dv, at + Kstatfs.bfree, s.bfree);
  putU64(dv, at + Kstatfs.bavail, s.bavail);
  putU64(dv, at + Kstatfs.files, s.files);
  putU64(dv, at + Kstatfs.ffree, s.ffree);
  dv.setUint32(at + Kstatfs.bsize, s.bsize, true);
  dv.setUint32(at + Kstatfs.namelen, s.namelen || 255, true);
  dv.setUint32(at + Kstatfs.frsize, s.frsize || s.bsize, true);
  for (let i = Kstatfs.padding; i < Kstatfs.SIZE; i += 4) dv.setUint32(at + i, 0, true);
}

export interface InitOutValues {
  major: number;
  minor: number;
  maxReadahead: number;
  flags: number;
  maxBackground: number;
  congestionThreshold: number;
  maxWrite: number;
  timeGran: number;
  maxPages: number;
}

export function writeInitOut(dv: DataView, at: number, v: InitOutValues): void {
  for (let i = 0; i < InitOut.SIZE; i += 4) dv.setUint32(at + i, 0, true);
  dv.setUint32(at + InitOut.major, v.major, true);
  dv.setUint32(at + InitOut.minor, v.minor, true);
  dv.setUint32(at + InitOut.max_readahead, v.maxReadahead, true);
  dv.setUint32(at + InitOut.flags, v.flags >>> 0, true);
  dv.setUint16(at + InitOut.max_background, v.maxBackground, true);
  dv.setUint16(at + InitOut.congestion_threshold, v.congestionThreshold, true);
  dv.setUint32(at + InitOut.max_write, v.maxWrite, true);
  dv.setUint32(at + InitOut.time_gran, v.timeGran, true);
  dv.setUint16(at + InitOut.max_pages, v.maxPages, true);
}

/** struct fuse_out_header at 0. */
export function writeOutHeader(dv: DataView, len: number, error: number, unique: number): void {
  dv.setUint32(OutHeader.len, len, true);
  dv.setInt32(OutHeader.error, error, true);
  putU64(dv, OutHeader.unique, unique);
}

/**
 * A READDIR record at `at` for a name already encoded at `at + Dirent.name` (`nameLen` bytes); zeroes
 * the padding. Returns the record's size.
 */
export function finishDirent(
  dv: DataView,
  bytes: Uint8Array,
  at: number,
  ino: number,
  off: number,
  type: number,
  nameLen: number,
): number {
  putU64(dv, at + Dirent.ino, ino);
  putU64(dv, at + Dirent.off, off);
  dv.setUint32(at + Dirent.namelen, nameLen, true);
  dv.setUint32(at + Dirent.type, type, true);
  const size = direntSize(nameLen);
  bytes.fill(0, at + Dirent.name + nameLen, at + size);
  return size;
}

/**
 * The dirent half of a READDIRPLUS record (its entry_out, a multiple of 8 bytes, is written by the
 * caller). Returns the whole record's size.
 */
export function finishDirentPlus(
  dv: DataView,
  bytes: Uint8Array,
  at: number,
  ino: number,
  off: number,
  type: number,
  nameLen: number,
): number {
  return DirentPlus.dirent + finishDirent(dv, bytes, at + DirentPlus.dirent, ino, off, type, nameLen);
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Reads NUL-terminated names out of a request body. `end` is where the body stops; a name with no NUL
 * before it is malformed (returns null). After a successful read, `next` is the byte after the NUL.
 */
export class NameReader {
  next = 0;

  read(bytes: Uint8Array, at: number, end: number): string | null {
    const nul = bytes.indexOf(0, at);
    if (nul < 0 || nul >= end) return null;
    this.next = nul + 1;
    return decoder.decode(bytes.subarray(at, nul));
  }
}

const encoder = new TextEncoder();

/** Encodes `s` into `bytes` at `at` when it fits before `end`; returns its length, or -1. */
export function encodeName(bytes: Uint8Array, at: number, end: number, s: string): number {
  if (at > end) return -1;
  const r = encoder.encodeInto(s, bytes.subarray(at, end));
  if (r.read !== s.length) return -1;
  return r.written;
}
