/**
 * Mounting reads only what the image uses. On a device opened `sparse` (PmemDevice.openFile) the
 * first mount (and fsck) reads the superblocks and the journal's commit block, lets recovery read
 * what it replays (journal.ts), then reads the bitmaps, the inode table's blocks that hold a used
 * inode, and the data blocks the block bitmap marks used. Every other page of the device stays an
 * untouched zero page of the SharedArrayBuffer, which costs no memory: mount time and memory
 * follow the used space, not the image size. On a device loaded whole this is all a no-op.
 *
 * A mount (not fsck) leaves regular files' data blocks on the file (PmemDevice.leaveLazy): each is
 * read when an operation first needs it (file.ts calls loadLazy), so mounting costs what the
 * metadata costs. Reading is cheap; touching a fresh page of memory is not (a page fault each,
 * ~3.5 ms per MiB on a virtual machine: 100 MiB of files cost a mount 350 ms).
 */
import { S_IFMT, S_IFREG, ZusInode } from '@zufs/zuf-core/api';
import type { PmemDevice } from './device.js';
import { mapScan } from './file.js';
import { OD_ROOT } from './inode.js';
import { BLOCK_SIZE, type Geometry, INODES_PER_BLOCK, Super } from './super.js';

/** Reads what loadSuperblock() and journalRecover() need first: both superblock copies. */
export function loadSuperblocks(dev: PmemDevice): void {
  dev.loadPages(0, 2);
}

/**
 * After recovery: reads the pages the image uses (see above) and ends loading (PmemDevice.loadDone).
 * Pages recovery already read or replayed are not read again. `lazyData`: leave regular files'
 * data blocks to be read when first needed (a mount; fsck reads everything it may check).
 */
export function loadUsed(dev: PmemDevice, g: Geometry, lazyData = false): void {
  if (!dev.loading) return;
  dev.loadPages(0, g.journalStart + 1);
  dev.loadPages(g.bbmStart, g.bbmBlocks);
  dev.loadPages(g.ibmStart, g.ibmBlocks);
  const ibm = (g.ibmStart * BLOCK_SIZE) / 4;
  const perBlock = INODES_PER_BLOCK / 32; // bitmap words per inode table block
  for (let b = 0; b < g.itableBlocks; b++) {
    let used = 0;
    for (let w = 0; w < perBlock; w++) used |= dev.u32[ibm + b * perBlock + w];
    if (used !== 0) dev.loadPages(g.itableStart + b, 1);
  }
  if (lazyData) leaveFileData(dev, g);
  // Data blocks, a run of used ones per read.
  const bbm = (g.bbmStart * BLOCK_SIZE) / 4;
  let run = -1;
  for (let i = 0; i <= g.dataBlocks; i++) {
    // A word with nothing to change the run (all free outside one, all used inside): 32 at once.
    const word = dev.u32[bbm + (i >>> 5)];
    if ((i & 31) === 0 && i + 32 <= g.dataBlocks && word === (run < 0 ? 0 : 0xffffffff)) {
      i += 31;
      continue;
    }
    const used = i < g.dataBlocks && (word & (1 << (i & 31))) !== 0;
    if (used && run < 0) run = i;
    else if (!used && run >= 0) {
      dev.loadPages(g.dataStart + run, i - run);
      run = -1;
    }
  }
  dev.loadDone();
}

/**
 * Leaves the data blocks of every regular file lazy, reading the pointer blocks of their maps on
 * the way. A map found damaged (fsck's to report) is left as far as it was walked: the blocks past
 * that point are read with the other used blocks.
 */
function leaveFileData(dev: PmemDevice, g: Geometry): void {
  const sb = new Super(dev, g);
  const ibm = (g.ibmStart * BLOCK_SIZE) / 4;
  // Blocks one after another (as the allocator places a file's) are left as one run.
  let first = 0;
  let count = 0;
  const leave = () => {
    if (count > 0) dev.leaveLazy(first, count);
    count = 0;
  };
  const onPtr = (bn: number) => dev.loadPages(bn, 1);
  const onData = (_idx: number, bn: number) => {
    if (bn !== first + count) {
      leave();
      first = bn;
    }
    count++;
    return true;
  };
  for (let ino = 1; ino < g.inodeCount; ino++) {
    if (dev.u32[ibm + (ino >>> 5)] === 0) {
      ino |= 31;
      continue;
    }
    if (((dev.u32[ibm + (ino >>> 5)] >>> (ino & 31)) & 1) === 0) continue;
    const zi = sb.zi(ino);
    if ((dev.dv.getUint16(zi + ZusInode.i_mode, true) & S_IFMT) !== S_IFREG) continue;
    if (dev.u32[(zi + OD_ROOT) >>> 2] === 0) continue;
    try {
      mapScan(sb, zi, 0, Number.POSITIVE_INFINITY, onData, onPtr);
    } catch {
      // A damaged map: what it reaches past here is read eagerly.
    }
  }
  leave();
}
