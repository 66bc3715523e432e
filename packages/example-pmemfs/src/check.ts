/**
 * The invariant check: walks the whole filesystem and lists every broken invariant (an empty list:
 * clean). Read-only; it never throws for damage (a damaged object is reported and skipped).
 * fsck (repair.ts) runs it before and after repairing. Checked:
 * - both superblock copies valid and identical;
 * - inode bitmap vs inode slots (a used slot has a type and its own number, a free slot is zero);
 * - every block owned once, inside the data region; the block bitmap marks exactly the owned ones;
 *   i_blocks counts what each inode owns; the shared free counts match the bitmaps;
 * - block maps: no block past the size unless preallocated (fallocate KEEP_SIZE);
 * - directories: hash table and buckets (dir.ts), entries point at live inodes of the stated
 *   type, '..' (i_dir.parent) is the directory that holds the entry, no directory has two names;
 * - link counts: a file's nlink is its number of names, a directory's is 2 + its subdirectories;
 * - everything reachable from the root; an nlink-0 inode not yet evicted is an orphan (a problem
 *   unless `allowOrphans`: an unlinked file may still be open);
 * - symlinks and xattr blocks well formed.
 */
import {
  DT_DIR,
  getU64,
  isDir,
  isLnk,
  isReg,
  modeToDtype,
  ZUFS_SYMLINK_INLINE_MAX,
  ZusInode,
} from '@zufs/zuf-core/api';
import { countUsedBits, freeBlockCount, freeInodeCount, isBlockUsed, isInodeUsed } from './alloc.js';
import { dirCheck, eIno, eType } from './dir.js';
import { MAX_HEIGHT, mapScan, OD_F_PREALLOC, odFlags } from './file.js';
import { dirParent, hasValidType, mode, nlink, OD_HEIGHT, size } from './inode.js';
import { BLOCK_SIZE, decodeSuperblock, type Super } from './super.js';
import { SYMLINK_MAX, symlinkBlock } from './symlink.js';
import { xattrBlock, xattrProblems } from './xattr.js';

export interface CheckOptions {
  /** Inodes with nlink 0 that were not evicted yet (open, unlinked files) are not a problem. */
  allowOrphans?: boolean;
  /** Stop listing after this many problems (default 100). */
  limit?: number;
}

export function fsCheck(sb: Super, opts: CheckOptions = {}): string[] {
  const problems: string[] = [];
  const limit = opts.limit ?? 100;
  let dropped = 0;
  const report = (p: string) => {
    if (problems.length < limit) problems.push(p);
    else dropped++;
  };

  const a = decodeSuperblock(sb.u8, 0);
  const b = decodeSuperblock(sb.u8, BLOCK_SIZE);
  if (!a.ok) report(`superblock copy 0: ${a.why}`);
  if (!b.ok) report(`superblock copy 1: ${b.why}`);
  if (a.ok && b.ok && sb.u8.subarray(0, 256).some((x, i) => x !== sb.u8[BLOCK_SIZE + i])) {
    report('superblock copies differ');
  }

  const g = sb.g;
  const owner = new Uint32Array(g.dataBlocks);
  const entries = new Map<number, number[]>(); // dir ino -> [ino, type, ino, type, ...]

  for (let ino = 1; ino < g.inodeCount; ino++) {
    const zi = sb.zi(ino);
    const m = mode(sb, zi);
    if (!isInodeUsed(sb, ino)) {
      if (m !== 0) report(`inode ${ino}: has mode ${m.toString(8)} but is free in the bitmap`);
      continue;
    }
    if (!hasValidType(m)) {
      report(`inode ${ino}: used but has no valid type (mode ${m.toString(8)})`);
      continue;
    }
    if (getU64(sb.dv, zi + ZusInode.i_ino) !== ino)
      report(`inode ${ino}: i_ino says ${getU64(sb.dv, zi + ZusInode.i_ino)}`);
    let blocks = 0;
    const claim = (bn: number, what: string) => {
      blocks++;
      if (!sb.isDataBlock(bn)) return report(`inode ${ino}: ${what} block ${bn} outside the data region`);
      const i = bn - sb.dataStart;
      if (owner[i] !== 0) return report(`block ${bn}: owned by inode ${owner[i]} and inode ${ino}`);
      owner[i] = ino;
    };
    try {
      if (sb.u8[zi + OD_HEIGHT] > MAX_HEIGHT) {
        report(`inode ${ino}: block map height ${sb.u8[zi + OD_HEIGHT]}`);
        continue;
      }
      const sz = size(sb, zi);
      const eofIdx = Math.ceil(sz / BLOCK_SIZE);
      const prealloc = (odFlags(sb, zi) & OD_F_PREALLOC) !== 0;
      mapScan(
        sb,
        zi,
        0,
        Infinity,
        (idx, bn) => {
          claim(bn, 'data');
          if (idx >= eofIdx && isReg(m) && !prealloc)
            report(`inode ${ino}: block at index ${idx} past the size ${sz}`);
          return true;
        },
        (bn) => claim(bn, 'pointer'),
      );
      if (isDir(m)) {
        const list: number[] = [];
        entries.set(ino, list);
        for (const p of dirCheck(
          sb,
          zi,
          (bn) => claim(bn, 'bucket'),
          (e) => list.push(eIno(sb, e), eType(sb, e)),
        )) {
          report(`directory ${ino}: ${p}`);
        }
      } else if (isLnk(m)) {
        if (sz === 0 || sz > SYMLINK_MAX) report(`symlink ${ino}: target length ${sz}`);
        else if (sz >= ZUFS_SYMLINK_INLINE_MAX) claim(symlinkBlock(sb, zi), 'symlink');
      }
      for (const p of xattrProblems(sb, zi)) report(`inode ${ino}: ${p}`);
      if (xattrBlock(sb, zi) !== 0) claim(xattrBlock(sb, zi), 'xattr');
    } catch (e) {
      // A damaged block map, directory or xattr block: report it, check the rest.
      report(`inode ${ino}: ${(e as Error).message}`);
      continue;
    }
    const iBlocks = getU64(sb.dv, zi + ZusInode.i_blocks);
    if (iBlocks !== blocks * (BLOCK_SIZE / 512))
      report(`inode ${ino}: i_blocks ${iBlocks}, owns ${blocks} blocks`);
  }

  // Names, links and reachability, from the root down.
  const links = new Map<number, number>();
  const subdirs = new Map<number, number>();
  const reached = new Set<number>([g.rootIno]);
  const queue = [g.rootIno];
  if (!entries.has(g.rootIno)) report('the root is not a directory');
  else if (dirParent(sb, sb.zi(g.rootIno)) !== g.rootIno) report("the root's parent is not itself");
  while (queue.length > 0) {
    const dir = queue.pop() as number;
    const list = entries.get(dir) ?? [];
    for (let i = 0; i < list.length; i += 2) {
      const child = list[i];
      const type = list[i + 1];
      if (!isInodeUsed(sb, child)) {
        report(`directory ${dir}: entry points at free inode ${child}`);
        continue;
      }
      const cm = mode(sb, sb.zi(child));
      if (type !== modeToDtype(cm)) report(`directory ${dir}: entry for inode ${child} has type ${type}`);
      links.set(child, (links.get(child) ?? 0) + 1);
      if (!isDir(cm)) {
        reached.add(child);
        continue;
      }
      subdirs.set(dir, (subdirs.get(dir) ?? 0) + 1);
      if (type !== DT_DIR) continue;
      if (dirParent(sb, sb.zi(child)) !== dir)
        report(`directory ${child}: '..' is ${dirParent(sb, sb.zi(child))}, not ${dir}`);
      if (reached.has(child)) report(`directory ${child}: has more than one name (or a loop)`);
      else {
        reached.add(child);
        queue.push(child);
      }
    }
  }
  for (let ino = 1; ino < g.inodeCount; ino++) {
    if (!isInodeUsed(sb, ino) || !hasValidType(mode(sb, sb.zi(ino)))) continue;
    const n = nlink(sb, sb.zi(ino));
    const isD = isDir(mode(sb, sb.zi(ino)));
    if (!reached.has(ino)) {
      if (n !== 0) report(`inode ${ino}: nlink ${n} but not reachable from the root`);
      else if (!opts.allowOrphans) report(`inode ${ino}: orphan (nlink 0, not evicted)`);
      continue;
    }
    const want = isD ? 2 + (subdirs.get(ino) ?? 0) : (links.get(ino) ?? 0);
    if (n !== want) report(`inode ${ino}: nlink ${n}, expected ${want}`);
  }

  // Block bitmap vs owners, and the shared counts.
  let leaked = 0;
  let unmarked = 0;
  for (let i = 0; i < g.dataBlocks; i++) {
    const used = isBlockUsed(sb, sb.dataStart + i);
    if (used && owner[i] === 0) leaked++;
    else if (!used && owner[i] !== 0) unmarked++;
  }
  if (leaked) report(`${leaked} blocks marked used but owned by nobody`);
  if (unmarked) report(`${unmarked} blocks owned but marked free`);
  const bits = countUsedBits(sb);
  if (freeBlockCount(sb) !== g.dataBlocks - bits.blocks) {
    report(`free block count ${freeBlockCount(sb)}, bitmap says ${g.dataBlocks - bits.blocks}`);
  }
  if (freeInodeCount(sb) !== g.inodeCount - bits.inodes) {
    report(`free inode count ${freeInodeCount(sb)}, bitmap says ${g.inodeCount - bits.inodes}`);
  }
  if (!isInodeUsed(sb, g.rootIno)) report('the root inode is free');
  if (dropped) problems.push(`... and ${dropped} more`);
  return problems;
}
