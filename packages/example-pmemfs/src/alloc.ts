/**
 * Block and inode allocation: two bitmaps on pmem (a set bit is in use), free counts and search
 * hints in the device's shared runtime words. Callers hold the metadata lock.
 *
 * Operations check the free count *before* they change anything (`needBlocks`), so that a full
 * device fails with ENOSPC and leaves no half-made change behind.
 */

import { Errno, getU64, S_IFMT, S_IFREG, setU64, ZusInode } from '@zufs/zuf-core/api';
import { ZusError as ZufsError } from '@zufs/zus-server';
import {
  BLOCK_SIZE,
  RT_BLOCK_HINT,
  RT_FREE_BLOCKS,
  RT_FREE_INODES,
  RT_FREE_LOW,
  RT_INODE_HINT,
  RT_LOW_HINT,
  RT_STATE,
  type Super,
} from './super.js';

const COUNT_WAIT_MS = 10_000;

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

function countUsed(sb: Super, byteOff: number, bits: number): number {
  let used = 0;
  const w0 = byteOff >>> 2;
  const words = Math.ceil(bits / 32);
  for (let i = 0; i < words; i++) {
    let x = sb.u32[w0 + i];
    if (i === words - 1 && bits % 32 !== 0) x &= (1 << (bits % 32)) - 1;
    used += popcount(x);
  }
  return used;
}

/**
 * Counts the free blocks and inodes once per device (the first thread to mount does it, the others
 * wait for it), so the counts live in shared memory and are never persisted.
 */
export function initRuntime(sb: Super): void {
  const rt = sb.rt;
  if (Atomics.compareExchange(rt, RT_STATE, 0, 1) === 0) {
    const lowBits = sb.lowEnd - sb.dataStart;
    rt[RT_FREE_BLOCKS] = sb.g.dataBlocks - countUsed(sb, sb.bbmOff, sb.g.dataBlocks);
    rt[RT_FREE_LOW] = lowBits - countUsed(sb, sb.bbmOff, lowBits);
    rt[RT_FREE_INODES] = sb.g.inodeCount - countUsed(sb, sb.ibmOff, sb.g.inodeCount);
    // File data starts above the low blocks, which it leaves to metadata while it can.
    rt[RT_BLOCK_HINT] = sb.lowEnd < sb.dataEnd ? Math.ceil(lowBits / 32) : 0;
    rt[RT_LOW_HINT] = 0;
    rt[RT_INODE_HINT] = 0;
    Atomics.store(rt, RT_STATE, 2);
    Atomics.notify(rt, RT_STATE);
    return;
  }
  const deadline = performance.now() + COUNT_WAIT_MS;
  while (Atomics.load(rt, RT_STATE) !== 2) {
    const left = deadline - performance.now();
    if (left <= 0) throw new ZufsError(Errno.EIO, 'another thread did not finish counting free space');
    Atomics.wait(rt, RT_STATE, 1, left);
  }
}

export function freeBlockCount(sb: Super): number {
  return sb.rt[RT_FREE_BLOCKS];
}

export function freeInodeCount(sb: Super): number {
  return sb.rt[RT_FREE_INODES];
}

/**
 * Throws ENOSPC unless `n` blocks are free; `low`: for a directory, symlink or xattrs, whose blocks
 * lie in the device's first 4 GiB (super.ts lowEnd).
 */
export function needBlocks(sb: Super, n: number, low = false): void {
  if (n > sb.rt[RT_FREE_BLOCKS] || (low && sb.lowEnd < sb.dataEnd && n > sb.rt[RT_FREE_LOW]))
    throw new ZufsError(Errno.ENOSPC, 'no free blocks');
}

/**
 * Finds a clear bit in the bitmap at `byteOff` of `bits` bits, starting at word `hint`, sets it and
 * returns its index (-1 when none is clear).
 */
function takeBit(sb: Super, byteOff: number, bits: number, hint: number): number {
  const u32 = sb.u32;
  const w0 = byteOff >>> 2;
  const words = Math.ceil(bits / 32);
  let w = hint < words ? hint : 0;
  for (let n = 0; n < words; n++, w = w + 1 === words ? 0 : w + 1) {
    const x = u32[w0 + w];
    if (x === 0xffffffff) continue;
    const free = ~x & (x + 1); // lowest clear bit
    const b = 31 - Math.clz32(free);
    const idx = w * 32 + b;
    if (idx >= bits) continue;
    u32[w0 + w] = (x | free) >>> 0;
    sb.touch(byteOff + w * 4, 4);
    return idx;
  }
  return -1;
}

function clearBit(sb: Super, byteOff: number, idx: number): void {
  const at = (byteOff >>> 2) + (idx >>> 5);
  sb.u32[at] = (sb.u32[at] & ~(1 << (idx & 31))) >>> 0;
  sb.touch(at * 4, 4);
}

function testBit(sb: Super, byteOff: number, idx: number): boolean {
  return (sb.u32[(byteOff >>> 2) + (idx >>> 5)] & (1 << (idx & 31))) !== 0;
}

export function isBlockUsed(sb: Super, bn: number): boolean {
  return testBit(sb, sb.bbmOff, bn - sb.dataStart);
}

export function isInodeUsed(sb: Super, ino: number): boolean {
  return ino > 0 && ino < sb.g.inodeCount && testBit(sb, sb.ibmOff, ino);
}

/**
 * Allocates a block for inode `zi` (counted in its i_blocks), near `goal` (a block number, or 0 for
 * the rotor), zeroed when `zero`; `low`: in the device's first 4 GiB (needBlocks). The caller made
 * sure one is free (needBlocks).
 */
export function allocBlock(sb: Super, zi: number, goal: number, zero: boolean, low = false): number {
  const rt = sb.rt;
  const big = sb.lowEnd < sb.dataEnd;
  let idx: number;
  // What pmemfs reads byte by byte (anything but a regular file's data) stays in the first 4 GiB.
  if (big && (low || (sb.dv.getUint16(zi + ZusInode.i_mode, true) & S_IFMT) !== S_IFREG)) {
    const hint = goal >= sb.dataStart && goal < sb.lowEnd ? (goal - sb.dataStart) >>> 5 : rt[RT_LOW_HINT];
    idx = takeBit(sb, sb.bbmOff, sb.lowEnd - sb.dataStart, hint);
    if (idx >= 0) rt[RT_LOW_HINT] = idx >>> 5;
  } else {
    const hint = goal >= sb.dataStart && goal < sb.dataEnd ? (goal - sb.dataStart) >>> 5 : rt[RT_BLOCK_HINT];
    idx = takeBit(sb, sb.bbmOff, sb.g.dataBlocks, hint);
    if (idx >= 0) rt[RT_BLOCK_HINT] = idx >>> 5;
  }
  if (idx < 0) throw new ZufsError(Errno.ENOSPC, 'no free blocks');
  rt[RT_FREE_BLOCKS]--;
  if (big && idx < sb.lowEnd - sb.dataStart) rt[RT_FREE_LOW]--;
  const bn = sb.dataStart + idx;
  sb.dev.dropLazy(bn); // freeBlock dropped it; a block freed otherwise (fsck's repair) may not have
  if (zero) sb.zeroBlock(bn);
  addBlocks(sb, zi, 1);
  return bn;
}

/** Frees block `bn` of inode `zi`. */
export function freeBlock(sb: Super, zi: number, bn: number): void {
  const idx = bn - sb.dataStart;
  sb.dev.dropLazy(bn); // its bytes on the image are nobody's now: never read
  clearBit(sb, sb.bbmOff, idx);
  sb.rt[RT_FREE_BLOCKS]++;
  if (sb.lowEnd < sb.dataEnd && idx < sb.lowEnd - sb.dataStart) {
    sb.rt[RT_FREE_LOW]++;
    addBlocks(sb, zi, -1);
    return; // the hint below is file data's, which starts above the low blocks
  }
  // The next allocation without a goal looks here first when the block is not in the last commit
  // (reusing it needs no journaling): a file rewritten in place then lands in memory still in the
  // CPU's cache, where the rotor alone would walk every write into cold pages of the device.
  if (((sb.committed[idx >>> 5] >>> (idx & 31)) & 1) === 0) sb.rt[RT_BLOCK_HINT] = idx >>> 5;
  addBlocks(sb, zi, -1);
}

/** i_blocks counts 512-byte sectors, as st_blocks does. */
export function addBlocks(sb: Super, zi: number, n: number): void {
  setU64(sb.dv, zi + ZusInode.i_blocks, getU64(sb.dv, zi + ZusInode.i_blocks) + n * (BLOCK_SIZE / 512));
  sb.touch(zi + ZusInode.i_blocks, 8);
}

/** Allocates an inode number; ENOSPC when none is left. */
export function allocIno(sb: Super): number {
  if (sb.rt[RT_FREE_INODES] <= 0) throw new ZufsError(Errno.ENOSPC, 'no free inodes');
  const ino = takeBit(sb, sb.ibmOff, sb.g.inodeCount, sb.rt[RT_INODE_HINT]);
  if (ino < 0) throw new ZufsError(Errno.ENOSPC, 'no free inodes');
  sb.rt[RT_FREE_INODES]--;
  sb.rt[RT_INODE_HINT] = ino >>> 5;
  return ino;
}

export function freeIno(sb: Super, ino: number): void {
  clearBit(sb, sb.ibmOff, ino);
  sb.rt[RT_FREE_INODES]++;
}

/** Used bits of each bitmap, counted from pmem (fsck compares them with the runtime counts). */
export function countUsedBits(sb: Super): { blocks: number; inodes: number } {
  return {
    blocks: countUsed(sb, sb.bbmOff, sb.g.dataBlocks),
    inodes: countUsed(sb, sb.ibmOff, sb.g.inodeCount),
  };
}
