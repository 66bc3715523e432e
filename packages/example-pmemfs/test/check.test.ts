// fsck-lite finds what is broken (each case damages one thing behind the filesystem's back).
import { BLOCK_SIZE, type PmemFs, ROOT_INO } from '@zufs/example-pmemfs';
import { ZusInode } from '@zufs/zuf-core/api';
import { beforeEach, describe, expect, it } from 'vitest';
import { DIR, expectClean, memFs, REG } from './helpers.js';

const R = ROOT_INO;
let fs: PmemFs;
let file: number;
let dir: number;
beforeEach(() => {
  fs = memFs(8 << 20);
  dir = fs.newInode(R, 'd', { mode: DIR });
  file = fs.newInode(dir, 'f', { mode: REG });
  fs.write(file, 0, new Uint8Array(3 * BLOCK_SIZE).fill(1));
  expectClean(fs);
});

const dv = () => fs.device.dv;
const problems = () => fs.check().join('\n');

describe('check', () => {
  it('finds a wrong link count', () => {
    dv().setUint32(fs.iget(file) + ZusInode.i_nlink, 2, true);
    expect(problems()).toMatch(`inode ${file}: nlink 2, expected 1`);
    dv().setUint32(fs.iget(dir) + ZusInode.i_nlink, 3, true);
    expect(problems()).toMatch(`inode ${dir}: nlink 3, expected 2`);
  });

  it('finds a wrong i_blocks and a leaked block', () => {
    dv().setUint32(fs.iget(file) + ZusInode.i_blocks, 8, true);
    expect(problems()).toMatch(`inode ${file}: i_blocks 8, owns 4 blocks`);
  });

  it('finds blocks the bitmap does not mark, and marks nobody owns', () => {
    const g = fs.geometry;
    const word = (g.bbmStart * BLOCK_SIZE) / 4;
    const u32 = fs.device.u32;
    const saved = u32[word];
    u32[word] = 0;
    expect(problems()).toMatch(/blocks owned but marked free/);
    u32[word] = saved | 0x80000000;
    expect(problems()).toMatch(/1 blocks marked used but owned by nobody/);
  });

  it("finds a bad '..' and an entry pointing at a free inode", () => {
    const sub = fs.newInode(dir, 'sub', { mode: DIR });
    dv().setUint32(fs.iget(sub) + ZusInode['i_dir.parent'], R, true);
    expect(problems()).toMatch(`directory ${sub}: '..' is ${R}, not ${dir}`);
    dv().setUint32(fs.iget(sub) + ZusInode['i_dir.parent'], dir, true);
    expectClean(fs);
    // Free the file's inode slot under its name.
    const ibm = (fs.geometry.ibmStart * BLOCK_SIZE) / 4;
    fs.device.u32[ibm] &= ~(1 << file);
    expect(problems()).toMatch(`entry points at free inode ${file}`);
  });

  it('finds a damaged superblock copy and damaged directory buckets', () => {
    fs.device.u8[BLOCK_SIZE + 50] ^= 1;
    expect(problems()).toMatch('superblock copy 1: checksum mismatch');
    fs.device.u8[BLOCK_SIZE + 50] ^= 1;
    // The directory's only bucket: flip a byte of the first name (its hash no longer matches).
    let bucket = 0;
    const ptr = fs.device.dv.getUint32(fs.iget(dir) + ZusInode.i_on_disk, true); // table block
    bucket = fs.device.u32[ptr * 1024];
    fs.device.u8[bucket * BLOCK_SIZE + 16 + 12] ^= 0x20;
    expect(problems()).toMatch(`directory ${dir}: bucket ${bucket}: entry hash mismatch`);
  });

  it('reports orphans unless allowed', () => {
    fs.removeDentry(dir, 'f');
    expect(fs.check()).toEqual([`inode ${file}: orphan (nlink 0, not evicted)`]);
    expect(fs.check({ allowOrphans: true })).toEqual([]);
  });
});
