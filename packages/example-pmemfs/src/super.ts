/**
 * The superblock: the format's constants, the on-pmem superblock (two checksummed copies, in blocks
 * 0 and 1) and `Super`, the mounted filesystem's context every other module works on.
 *
 * The superblock is pmemfs's own format (not part of zus_api), so its offsets are written here.
 * All integers are little-endian.
 */

import { Errno, getTimeNs, setTimeNs } from '@zufs/zuf-core/api';
import { type SharedBytes, ZusError as ZufsError } from '@zufs/zus-server';
import { crc32c } from './crc32c.js';
import type { PmemDevice } from './device.js';
import { FORMAT_VERSION, MAGIC_OFFSET, PMEMFS_MAGIC, VERSION_OFFSET } from './format.js';

export const BLOCK_SHIFT = 12;
/**
 * The part of the device a PmemDevice's `u8` covers: everything pmemfs addresses byte by byte lies
 * here (alloc.ts). Declared here, not in device.ts: device.ts imports the journal, which imports
 * this module (scripts/bundle.mjs refuses import cycles).
 */
export const LOW_BYTES = 2 ** 32;
export { FORMAT_VERSION, PMEMFS_MAGIC };
export const BLOCK_SIZE = 1 << BLOCK_SHIFT;
/** The root directory's inode number (FUSE's root nodeid is 1 too, so the bridge maps it as is). */
export const ROOT_INO = 1;
export const INODE_SIZE = 128;
export const INODES_PER_BLOCK = BLOCK_SIZE / INODE_SIZE;
/** Bytes of the superblock struct covered by its checksum (the rest of the block is zero). */
export const SB_BYTES = 256;
export const LABEL_MAX = 63;

/** Superblock field offsets. */
const SB = Object.freeze({
  magic: MAGIC_OFFSET, // u32 PMEMFS_MAGIC
  version: VERSION_OFFSET, // u32 FORMAT_VERSION
  csum: 8, // u32 crc32c of the SB_BYTES with this field zero
  bytes: 12, // u32 SB_BYTES
  devSize: 16, // u64 bytes of the image
  blockSize: 24, // u32
  inodeSize: 28, // u32
  totalBlocks: 32, // u32
  inodeCount: 36, // u32 inode slots, slot 0 unused
  rootIno: 40, // u32
  hashSeed: 44, // u32 seed of the directory name hash
  journalStart: 48, // u32 block; the regions below are [start, start + blocks)
  journalBlocks: 52,
  bbmStart: 56, // block bitmap: one bit per data block
  bbmBlocks: 60,
  ibmStart: 64, // inode bitmap: one bit per inode slot
  ibmBlocks: 68,
  itableStart: 72,
  itableBlocks: 76,
  dataStart: 80,
  dataBlocks: 84,
  mkfsTime: 88, // u64 ns since the epoch
  uuid: 96, // 16 bytes
  label: 112, // LABEL_MAX + 1 bytes, UTF-8, NUL padded
  // 176..255 reserved, zero
});

export interface Geometry {
  readonly version: number;
  readonly devSize: number;
  readonly totalBlocks: number;
  /** Inode slots, including the unused slot 0: inode numbers run 1 .. inodeCount - 1. */
  readonly inodeCount: number;
  readonly rootIno: number;
  readonly hashSeed: number;
  readonly journalStart: number;
  readonly journalBlocks: number;
  readonly bbmStart: number;
  readonly bbmBlocks: number;
  readonly ibmStart: number;
  readonly ibmBlocks: number;
  readonly itableStart: number;
  readonly itableBlocks: number;
  readonly dataStart: number;
  readonly dataBlocks: number;
  readonly mkfsTimeNs: number;
  /** 32 hex digits. */
  readonly uuid: string;
  readonly label: string;
}

const u32Fields = [
  'totalBlocks',
  'inodeCount',
  'rootIno',
  'hashSeed',
  'journalStart',
  'journalBlocks',
  'bbmStart',
  'bbmBlocks',
  'ibmStart',
  'ibmBlocks',
  'itableStart',
  'itableBlocks',
  'dataStart',
  'dataBlocks',
] as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The superblock struct of `g`, checksummed. */
export function encodeSuperblock(g: Geometry): Uint8Array {
  const b = new Uint8Array(SB_BYTES);
  const dv = new DataView(b.buffer);
  dv.setUint32(SB.magic, PMEMFS_MAGIC, true);
  dv.setUint32(SB.version, g.version, true);
  dv.setUint32(SB.bytes, SB_BYTES, true);
  dv.setUint32(SB.devSize, g.devSize % 2 ** 32, true);
  dv.setUint32(SB.devSize + 4, Math.floor(g.devSize / 2 ** 32), true);
  dv.setUint32(SB.blockSize, BLOCK_SIZE, true);
  dv.setUint32(SB.inodeSize, INODE_SIZE, true);
  for (const k of u32Fields) dv.setUint32(SB[k], g[k], true);
  setTimeNs(dv, SB.mkfsTime, g.mkfsTimeNs);
  for (let i = 0; i < 16; i++) b[SB.uuid + i] = Number.parseInt(g.uuid.slice(2 * i, 2 * i + 2), 16);
  const label = encoder.encode(g.label);
  if (label.length > LABEL_MAX) throw new ZufsError(Errno.EINVAL, `label longer than ${LABEL_MAX} bytes`);
  b.set(label, SB.label);
  dv.setUint32(SB.csum, crc32c(b), true);
  return b;
}

/** Writes both superblock copies (blocks 0 and 1) and records them for the next flush. */
export function writeSuperblocks(dev: PmemDevice, g: Geometry): void {
  const sb = encodeSuperblock(g);
  for (const at of [0, BLOCK_SIZE]) {
    dev.u8.fill(0, at, at + BLOCK_SIZE);
    dev.u8.set(sb, at);
    dev.persist(at, BLOCK_SIZE);
  }
}

type Decoded = { ok: true; g: Geometry } | { ok: false; why: string; newer?: number };

/** Reads and checks the superblock copy at byte `at` of the image. */
export function decodeSuperblock(u8: Uint8Array, at: number): Decoded {
  const dv = new DataView(u8.buffer, u8.byteOffset + at, SB_BYTES);
  if (dv.getUint32(SB.magic, true) !== PMEMFS_MAGIC)
    return { ok: false, why: 'bad magic (not a pmemfs image)' };
  const version = dv.getUint32(SB.version, true);
  const copy = u8.slice(at, at + SB_BYTES);
  new DataView(copy.buffer).setUint32(SB.csum, 0, true);
  if (crc32c(copy) !== dv.getUint32(SB.csum, true)) {
    return { ok: false, why: 'checksum mismatch', newer: version > FORMAT_VERSION ? version : undefined };
  }
  if (version > FORMAT_VERSION) return { ok: false, why: 'newer format', newer: version };
  if (version < 1) return { ok: false, why: `bad format version ${version}` };
  if (dv.getUint32(SB.blockSize, true) !== BLOCK_SIZE || dv.getUint32(SB.inodeSize, true) !== INODE_SIZE) {
    return { ok: false, why: 'unsupported block or inode size' };
  }
  const raw: Record<string, number> = {};
  for (const k of u32Fields) raw[k] = dv.getUint32(SB[k], true);
  let uuid = '';
  for (let i = 0; i < 16; i++)
    uuid += dv
      .getUint8(SB.uuid + i)
      .toString(16)
      .padStart(2, '0');
  let labelLen = 0;
  while (labelLen < LABEL_MAX && dv.getUint8(SB.label + labelLen) !== 0) labelLen++;
  const g: Geometry = {
    ...(raw as Record<(typeof u32Fields)[number], number>),
    version,
    devSize: dv.getUint32(SB.devSize + 4, true) * 2 ** 32 + dv.getUint32(SB.devSize, true),
    mkfsTimeNs: getTimeNs(dv, SB.mkfsTime),
    uuid,
    label: decoder.decode(u8.slice(at + SB.label, at + SB.label + labelLen)),
  };
  const bad = geometryProblem(g);
  return bad ? { ok: false, why: bad } : { ok: true, g };
}

/** Why `g` cannot describe a filesystem, or null when its regions are sane. */
export function geometryProblem(g: Geometry): string | null {
  if (g.totalBlocks * BLOCK_SIZE !== g.devSize) return 'device size and block count disagree';
  const regions: [string, number, number][] = [
    ['journal', g.journalStart, g.journalBlocks],
    ['block bitmap', g.bbmStart, g.bbmBlocks],
    ['inode bitmap', g.ibmStart, g.ibmBlocks],
    ['inode table', g.itableStart, g.itableBlocks],
    ['data', g.dataStart, g.dataBlocks],
  ];
  let next = 2;
  for (const [name, start, blocks] of regions) {
    if (start !== next || blocks < 1) return `${name} region misplaced`;
    next = start + blocks;
  }
  if (next !== g.totalBlocks) return 'regions do not cover the device';
  if (g.bbmBlocks * BLOCK_SIZE * 8 < g.dataBlocks) return 'block bitmap too small';
  if (g.ibmBlocks * BLOCK_SIZE * 8 < g.inodeCount) return 'inode bitmap too small';
  if (g.itableBlocks * INODES_PER_BLOCK < g.inodeCount) return 'inode table too small';
  if (g.rootIno < 1 || g.rootIno >= g.inodeCount) return 'bad root inode';
  return null;
}

/**
 * Finds a valid superblock: copy 0, else copy 1 (then copy 0 is rewritten from it). Throws EINVAL
 * with the reason when neither is valid, or when the image has a newer format version.
 */
export function loadSuperblock(dev: PmemDevice): { g: Geometry; copy: 0 | 1 } {
  if (dev.size < 2 * BLOCK_SIZE)
    throw new ZufsError(Errno.EINVAL, 'device too small for a pmemfs superblock');
  const a = decodeSuperblock(dev.u8, 0);
  const b = a.ok ? a : decodeSuperblock(dev.u8, BLOCK_SIZE);
  const newer = (!a.ok && a.newer) || (!b.ok && b.newer);
  if (newer) {
    throw new ZufsError(
      Errno.EINVAL,
      `pmemfs format version ${newer} is newer than this code understands (${FORMAT_VERSION}): upgrade @zufs/example-pmemfs`,
    );
  }
  if (!b.ok) {
    throw new ZufsError(
      Errno.EINVAL,
      `no valid pmemfs superblock (copy 0: ${a.ok ? 'ok' : a.why}; copy 1: ${b.why})`,
    );
  }
  if (b.g.devSize > dev.size) throw new ZufsError(Errno.EINVAL, 'the image is larger than the device');
  if (!a.ok) writeSuperblocks(dev, b.g);
  return { g: b.g, copy: a.ok ? 0 : 1 };
}

// Runtime words (device.runtime), shared by every thread, never persisted.
export const RT_STATE = 0; // 0 not counted yet, 1 counting, 2 ready
export const RT_FREE_BLOCKS = 1;
export const RT_FREE_INODES = 2;
export const RT_BLOCK_HINT = 3; // word of the block bitmap to search first
export const RT_INODE_HINT = 4; // word of the inode bitmap to search first
// Devices past 4 GiB (device.ts LOW_BYTES): the low data blocks' own free count and search hint.
export const RT_FREE_LOW = 5;
export const RT_LOW_HINT = 6;
/**
 * New inodes' generations are at least this times 2^32: a mount made again after a restart that
 * rolled back to the last commit sets it to the restart's epoch, so that an inode lost with the
 * rollback is never taken for a new one in the same slot (open files name inodes by (ino, generation)).
 */
export const RT_GEN_FLOOR = 7;

/** The mounted filesystem as every module sees it: the image's views and where the regions are. */
export class Super {
  readonly dev: PmemDevice;
  readonly g: Geometry;
  /** The device's first 4 GiB (device.ts LOW_BYTES): metadata, addressed byte by byte. */
  readonly u8: Uint8Array;
  /** The whole device, for file data. */
  readonly bytes: SharedBytes;
  readonly dv: DataView;
  readonly u32: Uint32Array;
  readonly rt: Int32Array;
  /** One bit per data block: used by the last durable commit (journal.ts). */
  readonly committed: Int32Array;
  /** Byte offsets of the regions. */
  readonly bbmOff: number;
  readonly ibmOff: number;
  readonly itableOff: number;
  readonly dataStart: number;
  readonly dataEnd: number;
  /**
   * Data blocks below this lie in `u8` (the first 4 GiB): the blocks pmemfs reads byte by byte
   * (directories, symlinks, xattrs) are taken there. dataEnd on a device of up to 4 GiB.
   */
  readonly lowEnd: number;

  constructor(dev: PmemDevice, g: Geometry) {
    this.dev = dev;
    this.g = g;
    this.u8 = dev.u8;
    this.bytes = dev.bytes;
    this.dv = dev.dv;
    this.u32 = dev.u32;
    this.rt = dev.runtime;
    this.committed = dev.committedMap;
    this.bbmOff = g.bbmStart * BLOCK_SIZE;
    this.ibmOff = g.ibmStart * BLOCK_SIZE;
    this.itableOff = g.itableStart * BLOCK_SIZE;
    this.dataStart = g.dataStart;
    this.dataEnd = g.dataStart + g.dataBlocks;
    this.lowEnd = Math.min(this.dataEnd, Math.max(this.dataStart, LOW_BYTES / BLOCK_SIZE));
  }

  /** Byte offset of inode `ino`'s zus_inode. */
  zi(ino: number): number {
    return this.itableOff + ino * INODE_SIZE;
  }

  /** Records a changed byte range for the next flush (the caller holds the metadata mutex). */
  touch(off: number, len: number): void {
    this.dev.persistLocked(off, len);
  }

  /** Zeroes [at, at + len) of pmem (zuf-core zeroShared) without recording it: the caller touches it. */
  zero(at: number, len: number): void {
    this.bytes.zero(at, len);
  }

  /** Zeroes block `bn` and records it. */
  zeroBlock(bn: number): void {
    const at = bn * BLOCK_SIZE;
    this.zero(at, BLOCK_SIZE);
    this.dev.persistLocked(at, BLOCK_SIZE);
  }

  isDataBlock(bn: number): boolean {
    return bn >= this.dataStart && bn < this.dataEnd;
  }

  /**
   * A block pointer read from pmem: 0 (none) or a data block, else EIO. Damaged metadata must not
   * steer a write into the bitmaps or the inode table (or a read past the device).
   */
  ptr(bn: number): number {
    if (bn !== 0 && (bn < this.dataStart || bn >= this.dataEnd)) corruptPointer(bn);
    return bn;
  }
}

/** Out of line: a template in ptr(), which every block lookup calls, would cost (zuf-core isU53). */
function corruptPointer(bn: number): never {
  throw new ZufsError(Errno.EIO, `corrupt block pointer ${bn}`);
}

/**
 * Turns what a damaged image can make the code throw (RangeError, TypeError...) into EIO. A typed
 * errno (a LockTimeoutError's ETIMEDOUT among them) passes as it is.
 */
export function asIoError(e: unknown): unknown {
  if (e instanceof ZufsError || !(e instanceof Error)) return e;
  return new ZufsError(Errno.EIO, `corrupt metadata: ${e.message}`);
}
