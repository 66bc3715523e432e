/**
 * ZUFS_OP_READDIR: the server fills the app's buffer (hdr.offset / hdr.len in the map window, or a
 * pool dpp) with zufs_dir_entry records and says whether more remain.
 *
 * A record: ino (u64), type (u8, DT_*) and pos (56 bits: the cookie to resume after this entry),
 * then a zufs_str cut to its length, the whole padded to 8 bytes. A record must end strictly before
 * the buffer's end, and a zero name length ends the list. The emitter here writes that zero itself
 * (zdeEmitInit, then after each record) when there is room, so a buffer needs no clearing first.
 */
import { IocHdrLayout } from './hdr.js';
import {
  defineStruct,
  field,
  getU56,
  getU64,
  readUtf8,
  setU56,
  setU64,
  utf8Length,
  writeUtf8,
} from './layout.js';

export const IocReaddirLayout = defineStruct('zufs_ioc_readdir', [
  /*  0 */ field.struct('hdr', IocHdrLayout),
  /* 24 */ field.cookie('dir_ii'), // IN
  /* 32 */ field.u64('pos'), //      IN: where to start (0, or a pos of an emitted entry)
  /* 40 */ field.u8('more'), //      OUT: 1 when entries remain that did not fit
]); /* 48 */
export const IocReaddir = IocReaddirLayout.off;

/** struct zufs_dir_entry at its largest (a 255-byte name); records are shorter, see zufsDirEntryLen. */
export const ZufsDirEntryLayout = defineStruct('zufs_dir_entry', [
  /*  0 */ field.u64('ino'),
  /*  8 */ field.u8('type'), //  bits 0-7 of the second u64
  /*  9 */ field.u56('pos'), //  bits 8-63 of the second u64
  /* 16 */ field.zstr('zstr'),
]); /* 272 */
export const ZufsDirEntry = ZufsDirEntryLayout.off;

/** Bytes of a record before the name: offsetof(zstr) + offsetof(zufs_str, name). */
export const E_ZDE_HDR_SIZE = 17;

/** Bytes of a record whose name takes `nameLen` bytes. */
export function zufsDirEntryLen(nameLen: number): number {
  return (E_ZDE_HDR_SIZE + nameLen + 7) & ~7;
}

/** A cursor over a readdir buffer, for emitting (server) or iterating (app). */
export interface ZdeIter {
  dv: DataView;
  /** Byte offset of the next record. */
  cur: number;
  /** Byte offset just past the buffer. */
  last: number;
  /** Set by zdeEmit when an entry did not fit. */
  more: boolean;
}

/**
 * A cursor to fill `len` bytes at `at` of `dv` with records (server side): it also marks the buffer
 * empty, so an empty directory reads back as empty whatever the buffer held. Reuses `it` when given.
 */
export function zdeEmitInit(dv: DataView, at: number, len: number, it?: ZdeIter): ZdeIter {
  const c = zdeIterInit(dv, at, len, it);
  if (at + E_ZDE_HDR_SIZE < c.last) dv.setUint8(at + 16, 0);
  return c;
}

/** A cursor to read the records in `len` bytes at `at` of `dv` (app side). Reuses `it` when given. */
export function zdeIterInit(dv: DataView, at: number, len: number, it?: ZdeIter): ZdeIter {
  if (!it) return { dv, cur: at, last: at + len, more: false };
  it.dv = dv;
  it.cur = at;
  it.last = at + len;
  it.more = false;
  return it;
}

/**
 * Appends an entry. Returns false (and sets `it.more`) when it does not fit: the caller stops and
 * answers with more = 1. `name` is a string (UTF-8) or bytes, 1 to 255 bytes.
 */
export function zdeEmit(
  it: ZdeIter,
  ino: number,
  type: number,
  pos: number,
  name: string | Uint8Array,
): boolean {
  if (typeof name !== 'string') return zdeEmitBytes(it, ino, type, pos, name, 0, name.length);
  const nameLen = utf8Length(name);
  const at = zdeRecord(it, ino, type, pos, nameLen);
  if (at < 0) return false;
  writeUtf8(it.dv, at + E_ZDE_HDR_SIZE, name, nameLen);
  return true;
}

/**
 * zdeEmit of the name `src[srcAt .. srcAt + nameLen)`: a filesystem hands the name where it keeps
 * it (its own pmem), with no view made per entry.
 */
export function zdeEmitBytes(
  it: ZdeIter,
  ino: number,
  type: number,
  pos: number,
  src: Uint8Array,
  srcAt: number,
  nameLen: number,
): boolean {
  const at = zdeRecord(it, ino, type, pos, nameLen) + E_ZDE_HDR_SIZE;
  if (at < E_ZDE_HDR_SIZE) return false;
  const dv = it.dv;
  for (let i = 0; i < nameLen; i++) dv.setUint8(at + i, src[srcAt + i]);
  return true;
}

function badNameLen(nameLen: number): never {
  throw new RangeError(`directory entry name of ${nameLen} bytes (1..255)`);
}

/**
 * Writes a record's header and padding for a name of `nameLen` bytes; returns its offset, or -1
 * (and sets `it.more`) when it does not fit.
 */
function zdeRecord(it: ZdeIter, ino: number, type: number, pos: number, nameLen: number): number {
  if (nameLen < 1 || nameLen > 255) badNameLen(nameLen);
  const len = zufsDirEntryLen(nameLen);
  const at = it.cur;
  if (it.last <= at + len) {
    it.more = true;
    return -1;
  }
  it.more = false;
  const dv = it.dv;
  setU64(dv, at, ino);
  dv.setUint8(at + 8, type);
  setU56(dv, at + 9, pos);
  dv.setUint8(at + 16, nameLen);
  for (let i = E_ZDE_HDR_SIZE + nameLen; i < len; i++) dv.setUint8(at + i, 0);
  it.cur = at + len;
  // End the list here unless another record follows (it would overwrite this byte).
  if (it.cur + E_ZDE_HDR_SIZE < it.last) dv.setUint8(it.cur + 16, 0);
  return at;
}

/** One record read back by zdeNext. */
export interface ZdeEntry {
  ino: number;
  type: number;
  pos: number;
  name: string;
  /** Byte offset and length of the name bytes in the buffer (to read them without a string). */
  nameAt: number;
  nameLen: number;
}

/** Reads the next record into `out` (or a new object); null at the end of the list. */
export function zdeNext(it: ZdeIter, out?: ZdeEntry): ZdeEntry | null {
  const at = it.cur;
  const dv = it.dv;
  if (it.last <= at + E_ZDE_HDR_SIZE) return null;
  const nameLen = dv.getUint8(at + 16);
  if (nameLen === 0) return null;
  const len = zufsDirEntryLen(nameLen);
  if (it.last <= at + len) return null;
  const e = out ?? { ino: 0, type: 0, pos: 0, name: '', nameAt: 0, nameLen: 0 };
  e.ino = getU64(dv, at);
  e.type = dv.getUint8(at + 8);
  e.pos = getU56(dv, at + 9);
  e.nameAt = at + E_ZDE_HDR_SIZE;
  e.nameLen = nameLen;
  e.name = readUtf8(dv, e.nameAt, nameLen);
  it.cur = at + len;
  return e;
}
