/**
 * fsck: check an unmounted image (check.ts lists the broken invariants) and, with `repair`, fix
 * what can be fixed, saying what it did. Repair order (each step relies on the ones before):
 *   1. inode slots: a used slot that is not an inode is freed; a slot marked free that holds a
 *      valid inode is marked used (a flipped bitmap bit); stray bytes in a free slot are cleared;
 *   2. ownership: every inode's block map, buckets, symlink and xattr blocks are claimed; a file
 *      whose map is damaged (pointer out of range, block owned twice) is truncated to empty, a
 *      damaged xattr block dropped, a damaged directory rebuilt from the entries still readable;
 *   3. the block bitmap is rewritten from what is owned, i_blocks from what each inode owns, the
 *      free counts recounted; rebuilt directories get their entries back;
 *   4. the namespace from the root: entries to free inodes go, wrong types are corrected, a second
 *      name of a directory goes, '..' is set to the directory that holds the entry;
 *   5. inodes no entry reaches: with no link left (orphans) they are freed, others are linked into
 *      /lost+found as '#<ino>'; link counts are then set to the names counted.
 * Without `repair` nothing is written: the journal is replayed in memory only.
 */
import {
  DT_DIR,
  Errno,
  getU64,
  isDir,
  isLnk,
  isReg,
  modeToDtype,
  S_IFDIR,
  setU64,
  ZusInode,
} from '@zufs/zuf-core/api';
import { ZusError as ZufsError } from '@zufs/zus-server';
import { allocIno, initRuntime, isInodeUsed } from './alloc.js';
import { fsCheck } from './check.js';
import type { PmemDevice } from './device.js';
import {
  dirCheck,
  dirFind,
  dirInsert,
  dirReaddir,
  dirRemove,
  dirRetarget,
  eIno,
  eName,
  eType,
  hashOf,
} from './dir.js';
import { MAX_HEIGHT, mapFree, mapScan, OD_F_PREALLOC, odFlags } from './file.js';
import {
  clearInode,
  dirParent,
  hasValidType,
  initInode,
  mode,
  nlink,
  OD_DEPTH,
  OD_HEIGHT,
  OD_ROOT,
  setDirCount,
  setDirParent,
  setNlink,
  setSize,
  size,
} from './inode.js';
import { initCommittedMap, journalRecover, type RecoveryResult } from './journal.js';
import { loadSuperblocks, loadUsed } from './load.js';
import {
  BLOCK_SIZE,
  decodeSuperblock,
  loadSuperblock,
  RT_STATE,
  SB_BYTES,
  Super,
  writeSuperblocks,
} from './super.js';
import { symlinkBlock } from './symlink.js';
import { xattrBlock, xattrProblems } from './xattr.js';

export interface FsckOptions {
  /** Fix what can be fixed, then commit (through the journal on a file device). */
  repair?: boolean;
  /** Most problems listed (default 1000). */
  limit?: number;
}

export interface FsckReport {
  /** Broken invariants found (before any repair). */
  problems: string[];
  /** Inodes with no link left that were not freed yet: not damage (mount frees them), counted apart. */
  orphans: number;
  /** What repair did. */
  repairs: string[];
  /** With repair: what is still broken afterwards (could not be fixed). */
  remaining: string[];
  /** Journal recovery: the last commit, and whether it was replayed or discarded. */
  recovery: RecoveryResult;
  /** Nothing found, or (with repair) nothing left. */
  clean: boolean;
  ms: number;
}

/**
 * Checks (and with `repair`, fixes) the filesystem on `dev`, which must not be mounted. Throws
 * EINVAL, as mount does, when the image has no valid superblock or a newer format.
 */
export function fsck(dev: PmemDevice, opts: FsckOptions = {}): FsckReport {
  const t0 = performance.now();
  const limit = opts.limit ?? 1000;
  const repair = opts.repair === true;
  loadSuperblocks(dev);
  const loaded = loadSuperblock(dev);
  let g = loaded.g;
  const recovery = journalRecover(dev, g, repair && dev.path !== null);
  if (recovery.replayed > 0) g = loadSuperblock(dev).g;
  loadUsed(dev, g);
  if (repair && dev.path !== null) {
    // Repairs go through the journal: a crash during repair leaves the old image or the new one.
    initCommittedMap(dev, g);
    dev.setJournalMode(true, recovery.seq, g.dataStart, recovery.slot);
  }
  const sb = new Super(dev, g);
  Atomics.store(dev.runtime, RT_STATE, 0);
  initRuntime(sb);
  const problems = fsCheck(sb, { allowOrphans: true, limit });
  if (loaded.copy === 1) problems.unshift('superblock copy 0: damaged (copy 1 is valid)');
  const orphans = countOrphans(sb);
  const report: FsckReport = { problems, orphans, repairs: [], remaining: [], recovery, clean: false, ms: 0 };
  if (repair && (problems.length > 0 || orphans > 0)) {
    dev.mutex.lock(60_000);
    try {
      const copy1 = decodeSuperblock(dev.u8, BLOCK_SIZE);
      if (
        loaded.copy === 1 ||
        !copy1.ok ||
        dev.u8.subarray(0, SB_BYTES).some((x, i) => x !== dev.u8[BLOCK_SIZE + i])
      ) {
        writeSuperblocks(dev, g);
        report.repairs.push(`superblock copy ${loaded.copy === 1 ? 0 : 1} rewritten from the valid one`);
      }
      report.repairs.push(...repairImage(sb));
      report.remaining = fsCheck(sb, { limit });
    } finally {
      dev.mutex.unlock();
    }
    dev.flush();
    report.clean = report.remaining.length === 0;
  } else {
    report.clean = problems.length === 0;
  }
  report.ms = performance.now() - t0;
  return report;
}

function countOrphans(sb: Super): number {
  let n = 0;
  for (let ino = 1; ino < sb.g.inodeCount; ino++) {
    if (ino === sb.g.rootIno || !isInodeUsed(sb, ino)) continue;
    const zi = sb.zi(ino);
    if (hasValidType(mode(sb, zi)) && nlink(sb, zi) === 0) n++;
  }
  return n;
}

interface Entry {
  ino: number;
  type: number;
  name: Uint8Array;
}

function setBit(sb: Super, byteOff: number, idx: number, on: boolean): boolean {
  const w = (byteOff >>> 2) + (idx >>> 5);
  const was = sb.u32[w];
  const now = (on ? was | (1 << (idx & 31)) : was & ~(1 << (idx & 31))) >>> 0;
  if (now === was) return false;
  sb.u32[w] = now;
  sb.touch(w * 4, 4);
  return true;
}

const validName = (n: Uint8Array) => n.length > 0 && !n.includes(0x2f) && !n.includes(0);

/** Empties a directory's table (its blocks are left to the bitmap rebuild). */
function resetDir(sb: Super, zi: number): void {
  sb.u32[(zi + OD_ROOT) >>> 2] = 0;
  sb.u8[zi + OD_HEIGHT] = 0;
  sb.u8[zi + OD_DEPTH] = 0;
  sb.touch(zi + OD_ROOT, 8);
  setDirCount(sb, zi, 0);
}

function repairImage(sb: Super): string[] {
  const did: string[] = [];
  const g = sb.g;
  const root = g.rootIno;

  // 1. Inode slots.
  for (let ino = 1; ino < g.inodeCount; ino++) {
    const zi = sb.zi(ino);
    const m = mode(sb, zi);
    const valid = hasValidType(m) && getU64(sb.dv, zi + ZusInode.i_ino) === ino;
    const used = isInodeUsed(sb, ino);
    if (used && !valid) {
      clearInode(sb, zi);
      setBit(sb, sb.ibmOff, ino, false);
      did.push(`inode ${ino}: not a valid inode (mode ${m.toString(8)}): freed`);
    } else if (!used && valid) {
      setBit(sb, sb.ibmOff, ino, true);
      did.push(`inode ${ino}: valid but marked free: marked in use`);
    } else if (!used && sb.u8.subarray(zi, zi + 64).some((x) => x !== 0)) {
      clearInode(sb, zi);
      did.push(`inode ${ino}: free slot with stray contents: cleared`);
    }
  }
  if (!isInodeUsed(sb, root) || !isDir(mode(sb, sb.zi(root)))) {
    const zi = initInode(sb, root, S_IFDIR | 0o755, 0, 0, 2);
    setDirCount(sb, zi, 0);
    setDirParent(sb, zi, root);
    setBit(sb, sb.ibmOff, root, true);
    did.push('the root was not a directory: made a new, empty root (everything goes to lost+found)');
  }

  // 2. Ownership.
  const owner = new Uint32Array(g.dataBlocks);
  const counted = new Uint32Array(g.inodeCount);
  const rebuild = new Map<number, Entry[]>();
  for (let ino = 1; ino < g.inodeCount; ino++) {
    if (!isInodeUsed(sb, ino)) continue;
    const zi = sb.zi(ino);
    const m = mode(sb, zi);
    const mine: number[] = [];
    const claim = (bn: number) => {
      if (!sb.isDataBlock(bn)) throw new ZufsError(Errno.EIO, `block ${bn} outside the data region`);
      const i = bn - sb.dataStart;
      if (owner[i] !== 0) throw new ZufsError(Errno.EIO, `block ${bn} also owned by inode ${owner[i]}`);
      owner[i] = ino;
      mine.push(i);
    };
    const release = () => {
      for (const i of mine) owner[i] = 0;
      mine.length = 0;
    };
    // The block map (and a directory's buckets).
    const entries: Entry[] = [];
    let broken: string | null = null;
    try {
      if (sb.u8[zi + OD_HEIGHT] > MAX_HEIGHT) throw new ZufsError(Errno.EIO, 'block map height');
      mapScan(
        sb,
        zi,
        0,
        Infinity,
        (_idx, bn) => {
          claim(bn);
          return true;
        },
        (bn) => claim(bn),
      );
      if (isDir(m)) {
        const p = dirCheck(sb, zi, claim, (e) => {
          entries.push({ ino: eIno(sb, e), type: eType(sb, e), name: eName(sb, e).slice() });
        });
        if (p.length > 0) broken = p[0];
      }
    } catch (e) {
      broken = (e as Error).message;
    }
    if (broken !== null) {
      release();
      if (isDir(m)) {
        const seen = new Set<string>();
        const keep = entries.filter((e) => {
          const k = Buffer.from(e.name).toString('latin1');
          if (!validName(e.name) || seen.has(k)) return false;
          seen.add(k);
          return true;
        });
        resetDir(sb, zi);
        rebuild.set(ino, keep);
        did.push(`directory ${ino}: ${broken}: rebuilt with the ${keep.length} entries still readable`);
      } else {
        sb.u32[(zi + OD_ROOT) >>> 2] = 0;
        sb.u8[zi + OD_HEIGHT] = 0;
        sb.touch(zi + OD_ROOT, 8);
        if (!isLnk(m)) setSize(sb, zi, 0);
        did.push(`inode ${ino}: block map damaged (${broken}): truncated to 0 bytes`);
      }
    }
    // A long symlink's block.
    if (isLnk(m)) {
      try {
        const bn = symlinkBlock(sb, zi);
        if (bn !== 0) claim(bn);
      } catch (e) {
        did.push(`symlink ${ino}: ${(e as Error).message}: target lost, freed`);
        setNlink(sb, zi, 0); // an orphan now: step 5 frees it
        setSize(sb, zi, 0);
      }
    }
    // The xattr block.
    let xbad: string | null = null;
    try {
      const xb = xattrBlock(sb, zi);
      const p = xattrProblems(sb, zi);
      if (p.length > 0) xbad = p[0];
      else if (xb !== 0) claim(xb);
    } catch (e) {
      xbad = (e as Error).message;
    }
    if (xbad !== null) {
      setU64(sb.dv, zi + ZusInode.i_xattr, 0);
      sb.touch(zi + ZusInode.i_xattr, 8);
      did.push(`inode ${ino}: xattr block damaged (${xbad}): xattrs dropped`);
    }
    counted[ino] = mine.length;
  }

  // 3. Bitmap, i_blocks, counts; rebuilt directories get their entries back.
  let freed = 0;
  let marked = 0;
  for (let i = 0; i < g.dataBlocks; i++) {
    if (setBit(sb, sb.bbmOff, i, owner[i] !== 0)) {
      if (owner[i] !== 0) marked++;
      else freed++;
    }
  }
  if (freed) did.push(`block bitmap: ${freed} blocks owned by nobody marked free`);
  if (marked) did.push(`block bitmap: ${marked} owned blocks marked used`);
  for (let ino = 1; ino < g.inodeCount; ino++) {
    if (!isInodeUsed(sb, ino)) continue;
    const zi = sb.zi(ino);
    const want = counted[ino] * (BLOCK_SIZE / 512);
    if (getU64(sb.dv, zi + ZusInode.i_blocks) !== want) {
      setU64(sb.dv, zi + ZusInode.i_blocks, want);
      sb.touch(zi + ZusInode.i_blocks, 8);
      did.push(`inode ${ino}: i_blocks set to ${want}`);
    }
  }
  Atomics.store(sb.rt, RT_STATE, 0);
  initRuntime(sb);
  // Blocks past the end of a file that is not preallocated: freed (the bitmap is right by now).
  for (let ino = 1; ino < g.inodeCount; ino++) {
    if (!isInodeUsed(sb, ino)) continue;
    const zi = sb.zi(ino);
    if (!isReg(mode(sb, zi)) || (odFlags(sb, zi) & OD_F_PREALLOC) !== 0) continue;
    const eof = Math.ceil(size(sb, zi) / BLOCK_SIZE);
    let past = false;
    mapScan(sb, zi, eof, Infinity, () => {
      past = true;
      return false;
    });
    if (past) {
      mapFree(sb, zi, eof, Infinity);
      did.push(`inode ${ino}: blocks past its size freed`);
    }
  }
  for (const [dir, list] of rebuild) {
    const dzi = sb.zi(dir);
    for (const e of list) {
      try {
        dirInsert(sb, dzi, e.name, hashOf(sb, e.name), e.ino, e.type);
      } catch (err) {
        did.push(`directory ${dir}: entry for inode ${e.ino} lost: ${(err as Error).message}`);
      }
    }
  }

  // 4 and 5. The namespace, then what it does not reach; again until everything is reached.
  let lostFound = 0;
  for (let pass = 0; pass < 4; pass++) {
    const { reached, links, subdirs, children } = walk(sb, did);
    const unreached: number[] = [];
    for (let ino = 1; ino < g.inodeCount; ino++) {
      if (isInodeUsed(sb, ino) && !reached.has(ino)) unreached.push(ino);
    }
    if (unreached.length === 0 || pass === 3) {
      // Link counts from the names counted.
      for (const ino of reached) {
        const zi = sb.zi(ino);
        const want = isDir(mode(sb, zi)) ? 2 + (subdirs.get(ino) ?? 0) : (links.get(ino) ?? 0);
        if (nlink(sb, zi) !== want) {
          setNlink(sb, zi, want);
          did.push(`inode ${ino}: link count set to ${want}`);
        }
      }
      break;
    }
    for (const ino of unreached) {
      const zi = sb.zi(ino);
      if (nlink(sb, zi) === 0 && !isDir(mode(sb, zi))) {
        discard(sb, zi, ino);
        did.push(`inode ${ino}: orphan (no link left): freed`);
        continue;
      }
      // A directory inside another unreached directory comes back with it.
      if (children.has(ino) && pass < 2) continue;
      if (lostFound === 0) lostFound = lostAndFound(sb, did);
      const name = new TextEncoder().encode(`#${ino}`);
      const lzi = sb.zi(lostFound);
      try {
        dirInsert(sb, lzi, name, hashOf(sb, name), ino, modeToDtype(mode(sb, zi)));
        if (isDir(mode(sb, zi))) setDirParent(sb, zi, lostFound);
        did.push(`inode ${ino}: not reachable: linked as /lost+found/#${ino}`);
      } catch (err) {
        did.push(`inode ${ino}: not reachable, could not link it: ${(err as Error).message}`);
      }
    }
  }
  return did;
}

/** Frees an inode's blocks and slot (the bitmap is consistent by now). */
function discard(sb: Super, zi: number, ino: number): void {
  try {
    if (!isLnk(mode(sb, zi))) mapFree(sb, zi, 0, Infinity);
  } catch {
    // Already cleaned up in step 2; nothing left to free.
  }
  clearInode(sb, zi);
  setBit(sb, sb.ibmOff, ino, false);
  Atomics.store(sb.rt, RT_STATE, 0);
  initRuntime(sb);
}

/** /lost+found, made when missing. */
function lostAndFound(sb: Super, did: string[]): number {
  const root = sb.g.rootIno;
  const rzi = sb.zi(root);
  const name = new TextEncoder().encode('lost+found');
  const e = dirFind(sb, rzi, name, hashOf(sb, name));
  if (e >= 0 && isInodeUsed(sb, eIno(sb, e)) && isDir(mode(sb, sb.zi(eIno(sb, e))))) return eIno(sb, e);
  const ino = allocIno(sb);
  const zi = initInode(sb, ino, S_IFDIR | 0o700, 0, 0, 2);
  setDirCount(sb, zi, 0);
  setDirParent(sb, zi, root);
  dirInsert(sb, rzi, name, hashOf(sb, name), ino, DT_DIR);
  setNlink(sb, rzi, nlink(sb, rzi) + 1);
  did.push(`made /lost+found (inode ${ino})`);
  return ino;
}

/** Walks the namespace from the root, fixing entries on the way; counts names and subdirectories. */
function walk(sb: Super, did: string[]) {
  const root = sb.g.rootIno;
  const reached = new Set<number>([root]);
  const links = new Map<number, number>();
  const subdirs = new Map<number, number>();
  const children = new Set<number>();
  const queue = [root];
  if (dirParent(sb, sb.zi(root)) !== root) setDirParent(sb, sb.zi(root), root);
  while (queue.length > 0) {
    const dir = queue.pop() as number;
    const dzi = sb.zi(dir);
    const list: Entry[] = [];
    try {
      dirReaddir(sb, dzi, dir, 2, (ino, type, _next, bytes, at, len) => {
        list.push({ ino, type, name: bytes.slice(at, at + len) });
        return true;
      });
    } catch (e) {
      did.push(`directory ${dir}: cannot be read (${(e as Error).message}): left as it is`);
    }
    for (const { ino, type, name } of list) {
      const drop = (why: string) => {
        const e = dirFind(sb, dzi, name, hashOf(sb, name));
        if (e >= 0) dirRemove(sb, dzi, e);
        did.push(`directory ${dir}: entry '${Buffer.from(name).toString()}' ${why}: removed`);
      };
      if (!isInodeUsed(sb, ino)) {
        drop(`points at free inode ${ino}`);
        continue;
      }
      const cm = mode(sb, sb.zi(ino));
      if (type !== modeToDtype(cm)) {
        const e = dirFind(sb, dzi, name, hashOf(sb, name));
        if (e >= 0) dirRetarget(sb, e, ino, modeToDtype(cm));
        did.push(`directory ${dir}: entry for inode ${ino}: type corrected`);
      }
      if (isDir(cm)) {
        if (reached.has(ino)) {
          drop(`is a second name of directory ${ino}`);
          continue;
        }
        reached.add(ino);
        subdirs.set(dir, (subdirs.get(dir) ?? 0) + 1);
        if (dirParent(sb, sb.zi(ino)) !== dir) {
          setDirParent(sb, sb.zi(ino), dir);
          did.push(`directory ${ino}: '..' set to ${dir}`);
        }
        queue.push(ino);
      } else {
        reached.add(ino);
      }
      links.set(ino, (links.get(ino) ?? 0) + 1);
    }
  }
  // Children of unreached directories (they come back with their parent).
  for (let ino = 1; ino < sb.g.inodeCount; ino++) {
    if (reached.has(ino) || !isInodeUsed(sb, ino) || !isDir(mode(sb, sb.zi(ino)))) continue;
    try {
      dirReaddir(sb, sb.zi(ino), ino, 2, (child) => {
        children.add(child);
        return true;
      });
    } catch {
      // Its entries are lost with it.
    }
  }
  return { reached, links, subdirs, children };
}
