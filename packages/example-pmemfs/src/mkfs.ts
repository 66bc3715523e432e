/**
 * mkfs: lays a new, empty pmemfs on a device.
 *
 * Regions, in blocks of 4 KiB, in this order:
 *   0      superblock, copy 0
 *   1      superblock, copy 1
 *   2      journal (commit block, then descriptor and copy blocks: journal.ts)
 *   ...    block bitmap (one bit per data block)
 *   ...    inode bitmap (one bit per inode slot; slot 0 is never used)
 *   ...    inode table (128-byte zus_inodes, ino = slot)
 *   ...    data blocks (to the end of the device)
 * The root directory is inode ROOT_INO (1).
 */
import { createRequire } from 'node:module';
import { Errno, S_IFDIR } from '@zufs/zuf-core/api';
import { ZusError as ZufsError } from '@zufs/zus-server';
import { MAX_DEVICE_SIZE, type PmemDevice } from './device.js';
import { initInode, setDirCount, setDirParent } from './inode.js';
import {
  BLOCK_SIZE,
  FORMAT_VERSION,
  type Geometry,
  INODES_PER_BLOCK,
  LABEL_MAX,
  LOW_BYTES,
  ROOT_INO,
  Super,
  writeSuperblocks,
} from './super.js';

// node:crypto is loaded on the first mkfs, not with the module: every server thread loads pmemfs,
// and loading node:crypto costs a thread ~6 ms of CPU.
let crypto: typeof import('node:crypto') | undefined;
function randomBytes(n: number): Buffer {
  crypto ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return crypto.randomBytes(n);
}

export interface MkfsOptions {
  /** Inode slots (rounded up to a multiple of 32). Default: one per 16 KiB of device, at least 64. */
  inodes?: number;
  /** Up to 63 bytes of UTF-8. */
  label?: string;
  /** Journal blocks. Default: 1/64 of the device, between 16 and 8192 blocks (64 KiB .. 32 MiB). */
  journalBlocks?: number;
  /** Mode bits of the root directory (default 0o755). */
  rootMode?: number;
  rootUid?: number;
  rootGid?: number;
}

/** Smallest device mkfs accepts. */
export const MIN_DEVICE_SIZE = 1 << 20;
/** Most inode slots (the table's slot numbers are u32; dentries keep inode numbers as u32). */
export const MAX_INODES = 2 ** 31;
const MIN_INODES = 32;
const MIN_DATA_BLOCKS = 16;
const BITS_PER_BLOCK = BLOCK_SIZE * 8;

const bad = (why: string) => new ZufsError(Errno.EINVAL, `mkfs: ${why}`);

/** Where the regions go for a device of `size` bytes. Throws EINVAL for what cannot be made. */
export function planLayout(
  size: number,
  opts: MkfsOptions = {},
): Omit<Geometry, 'hashSeed' | 'uuid' | 'mkfsTimeNs'> {
  if (!Number.isSafeInteger(size) || size % BLOCK_SIZE !== 0)
    throw bad(`size ${size} is not a multiple of ${BLOCK_SIZE}`);
  if (size < MIN_DEVICE_SIZE) throw bad(`device too small: ${size} bytes (at least ${MIN_DEVICE_SIZE})`);
  if (size > MAX_DEVICE_SIZE) throw bad(`device too large: ${size} bytes (at most ${MAX_DEVICE_SIZE})`);
  const total = size / BLOCK_SIZE;
  const journal = opts.journalBlocks ?? Math.min(8192, Math.max(16, Math.floor(total / 64)));
  if (!Number.isSafeInteger(journal) || journal < 1 || journal > total / 2)
    throw bad(`bad journal size ${journal}`);
  const wanted = opts.inodes ?? Math.max(64, Math.floor(size / 16384));
  if (!Number.isSafeInteger(wanted) || wanted < MIN_INODES || wanted > MAX_INODES) {
    throw bad(`inode count must be an integer in ${MIN_INODES}..${MAX_INODES}, got ${opts.inodes}`);
  }
  const itableBlocks = Math.ceil(wanted / INODES_PER_BLOCK);
  const inodeCount = itableBlocks * INODES_PER_BLOCK;
  const ibmBlocks = Math.ceil(inodeCount / BITS_PER_BLOCK);
  const rest = total - 2 - journal - ibmBlocks - itableBlocks;
  const bbmBlocks = Math.ceil(rest / (BITS_PER_BLOCK + 1));
  const dataBlocks = rest - bbmBlocks;
  if (dataBlocks < MIN_DATA_BLOCKS) {
    throw bad(`device too small for ${inodeCount} inodes and a ${journal}-block journal`);
  }
  // pmemfs reads its regions byte by byte through a view of the device's first 4 GiB (device.ts).
  if ((total - dataBlocks + MIN_DATA_BLOCKS) * BLOCK_SIZE > LOW_BYTES) {
    throw bad(`${inodeCount} inodes make a table that ends past the first 4 GiB of the device`);
  }
  const label = opts.label ?? '';
  if (new TextEncoder().encode(label).length > LABEL_MAX) throw bad(`label longer than ${LABEL_MAX} bytes`);
  const journalStart = 2;
  const bbmStart = journalStart + journal;
  const ibmStart = bbmStart + bbmBlocks;
  const itableStart = ibmStart + ibmBlocks;
  return {
    version: FORMAT_VERSION,
    devSize: size,
    totalBlocks: total,
    inodeCount,
    rootIno: ROOT_INO,
    journalStart,
    journalBlocks: journal,
    bbmStart,
    bbmBlocks,
    ibmStart,
    ibmBlocks,
    itableStart,
    itableBlocks,
    dataStart: itableStart + itableBlocks,
    dataBlocks,
    label,
  };
}

/**
 * Formats `dev`: zeroes every metadata region, makes the root directory, writes both superblocks.
 * The data region is left as it is (blocks are zeroed when allocated). Returns the geometry.
 * The device must not be mounted.
 */
export function mkfs(dev: PmemDevice, opts: MkfsOptions = {}): Geometry {
  const seed = randomBytes(20);
  const g: Geometry = {
    ...planLayout(dev.size, opts),
    hashSeed: seed.readUInt32LE(16),
    uuid: seed.subarray(0, 16).toString('hex'),
    mkfsTimeNs: Date.now() * 1e6,
  };
  const metaEnd = g.dataStart * BLOCK_SIZE;
  dev.u8.fill(0, 0, metaEnd);
  dev.persist(0, metaEnd);
  dev.runtime.fill(0); // any counts of a previous filesystem on this device are void
  dev.setJournalMode(false); // mkfs writes in place; the first mount turns the journal on
  const sb = new Super(dev, g);
  sb.u32[sb.ibmOff >>> 2] = (1 << 0) | (1 << ROOT_INO); // slot 0 is never used
  const zi = initInode(
    sb,
    ROOT_INO,
    S_IFDIR | ((opts.rootMode ?? 0o755) & 0o7777),
    opts.rootUid ?? 0,
    opts.rootGid ?? 0,
    2,
  );
  setDirCount(sb, zi, 0);
  setDirParent(sb, zi, ROOT_INO);
  writeSuperblocks(dev, g);
  // A made filesystem is on the file when mkfs returns (and a crash before that leaves no image).
  dev.flush();
  return g;
}
