/**
 * Mounting reads only what the image uses. On a device opened `sparse` (PmemDevice.openFile) the
 * first mount (and fsck) reads the superblocks and the journal's commit block, lets recovery read
 * what it replays (journal.ts), then reads the bitmaps, the inode table's blocks that hold a used
 * inode, and the data blocks the block bitmap marks used. Every other page of the device stays an
 * untouched zero page of the SharedArrayBuffer, which costs no memory: mount time and memory
 * follow the used space, not the image size. On a device loaded whole this is all a no-op.
 */
import type { PmemDevice } from './device.js';
import { BLOCK_SIZE, type Geometry, INODES_PER_BLOCK } from './super.js';

/** Reads what loadSuperblock() and journalRecover() need first: both superblock copies. */
export function loadSuperblocks(dev: PmemDevice): void {
  dev.loadPages(0, 2);
}

/**
 * After recovery: reads the pages the image uses (see above) and ends loading (PmemDevice.loadDone).
 * Pages recovery already read or replayed are not read again.
 */
export function loadUsed(dev: PmemDevice, g: Geometry): void {
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
