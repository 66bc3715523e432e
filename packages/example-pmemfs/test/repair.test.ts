// fsck --repair: each damage is found without repair (and the image file is left as it was), then
// fixed, said, and the image mounts clean with the files still there.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BLOCK_SIZE, fsck, mkfs, PmemDevice, PmemFs, ROOT_INO } from '@zufs/example-pmemfs';
import { ZusInode } from '@zufs/zuf-core/api';
import { afterEach, describe, expect, it } from 'vitest';
import { DIR, dec, enc, REG, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir> | null = null;
afterEach(() => {
  tmp?.cleanup();
  tmp = null;
});

const R = ROOT_INO;
const sha = (path: string) => createHash('sha1').update(readFileSync(path)).digest('hex');

/** An image with a few files; `damage` then works on the raw device before it is written. */
function damaged(damage: (fs: PmemFs, ids: Record<string, number>) => void): string {
  tmp = tempDir();
  const path = join(tmp.dir, 'r.img');
  const dev = PmemDevice.createFile(path, 8 << 20);
  mkfs(dev);
  const fs = PmemFs.mount(dev, { commitIntervalMs: 0 });
  const dir = fs.newInode(R, 'd', { mode: DIR });
  const sub = fs.newInode(dir, 'sub', { mode: DIR });
  const file = fs.newInode(dir, 'f', { mode: REG });
  fs.write(file, 0, enc('precious data'.repeat(1000)));
  const other = fs.newInode(sub, 'g', { mode: REG });
  fs.write(other, 0, enc('more'));
  damage(fs, { dir, sub, file, other });
  fs.close();
  return path;
}

function fsckFile(path: string, repair: boolean) {
  const dev = PmemDevice.openFile(path);
  try {
    return fsck(dev, { repair });
  } finally {
    dev.close();
  }
}

function expectRepaired(path: string, what: RegExp): void {
  const before = sha(path);
  const check = fsckFile(path, false);
  expect(check.clean).toBe(false);
  expect(sha(path)).toBe(before); // without --repair nothing is written
  const fixed = fsckFile(path, true);
  expect(fixed.repairs.join('\n')).toMatch(what);
  expect(fixed.remaining).toEqual([]);
  expect(fsckFile(path, false)).toMatchObject({ clean: true, problems: [], orphans: 0 });
  const fs = PmemFs.mount(PmemDevice.openFile(path), { commitIntervalMs: 0 });
  expect(fs.check()).toEqual([]);
  fs.close();
}

describe('fsck --repair', () => {
  it('finds a clean image clean', () => {
    const path = damaged(() => {});
    expect(fsckFile(path, false)).toMatchObject({ clean: true, problems: [], orphans: 0 });
    expect(fsckFile(path, true).repairs).toEqual([]);
  });

  it('fixes link counts and i_blocks', () => {
    const path = damaged((fs, { file, dir }) => {
      fs.device.dv.setUint32(fs.iget(file) + ZusInode.i_nlink, 5, true);
      fs.device.dv.setUint32(fs.iget(dir) + ZusInode.i_nlink, 9, true);
      fs.device.dv.setUint32(fs.iget(file) + ZusInode.i_blocks, 800, true);
      fs.device.persist(fs.iget(file), 128);
      fs.device.persist(fs.iget(dir), 128);
    });
    expectRepaired(path, /link count set to 1[\s\S]*|i_blocks set/);
  });

  it('rebuilds the block bitmap: leaked and unmarked blocks', () => {
    const path = damaged((fs) => {
      const word = (fs.geometry.bbmStart * BLOCK_SIZE) / 4;
      fs.device.u32[word] ^= 0x80000001; // one owned block unmarked, one free block marked
      fs.device.persist(word * 4, 4);
    });
    expectRepaired(path, /block bitmap/);
  });

  it('links an unreachable file into lost+found and frees an orphan', () => {
    let lostIno = 0;
    const path = damaged((fs, { dir, file }) => {
      // Unlinked but never evicted: an orphan. And a file whose only entry vanished.
      fs.removeDentry(dir, 'f');
      void file;
      const lost = fs.newInode(R, 'lost', { mode: REG });
      fs.write(lost, 0, enc('find me'));
      lostIno = lost;
      const dev = fs.device;
      // Remove the entry behind the filesystem's back: rename it into a dir, then wipe that dir's table.
      const holder = fs.newInode(R, 'holder', { mode: DIR });
      fs.rename(R, 'lost', holder, 'lost');
      const zi = fs.iget(holder);
      dev.dv.setUint32(zi + ZusInode.i_on_disk, 0, true); // holder's table pointer: gone
      dev.dv.setUint32(zi + ZusInode.i_size, 64, true); // and its entry count
      dev.persist(zi, 128);
    });
    expectRepaired(path, /orphan[\s\S]*lost\+found/);
    const fs = PmemFs.mount(PmemDevice.openFile(path), { commitIntervalMs: 0 });
    const lf = fs.lookup(R, 'lost+found');
    const ino = fs.lookup(lf, `#${lostIno}`);
    const buf = new Uint8Array(7);
    fs.read(ino, 0, buf);
    expect(dec(buf)).toBe('find me');
    fs.close();
  });

  it("removes an entry to a free inode and fixes a wrong '..'", () => {
    const path = damaged((fs, { sub, other, dir }) => {
      const ibm = (fs.geometry.ibmStart * BLOCK_SIZE) / 4;
      fs.device.u32[ibm + (other >>> 5)] &= ~(1 << (other & 31));
      fs.device.u8.fill(0, fs.iget(other), fs.iget(other) + 128);
      fs.device.persist(ibm * 4, 64);
      fs.device.dv.setUint32(fs.iget(sub) + ZusInode['i_dir.parent'], R, true);
      fs.device.persist(fs.iget(sub), 128);
      void dir;
    });
    expectRepaired(path, /points at free inode[\s\S]*|'..' set/);
  });

  it('rebuilds a directory whose bucket is damaged, keeping the readable entries', () => {
    const path = damaged((fs, { dir }) => {
      const table = fs.device.dv.getUint32(fs.iget(dir) + ZusInode.i_on_disk, true);
      const bucket = fs.device.u32[table * 1024];
      fs.device.dv.setUint16(bucket * BLOCK_SIZE + 4, 77, true); // its entry count
      fs.device.persist(bucket * BLOCK_SIZE, 16);
    });
    expectRepaired(path, /rebuilt/);
    const fs = PmemFs.mount(PmemDevice.openFile(path), { commitIntervalMs: 0 });
    const f = fs.lookup(fs.lookup(R, 'd'), 'f');
    expect(fs.getattr(f).size).toBe(13_000);
    fs.close();
  });

  it('scripts/fsck.mjs says what it found and did, with e2fsck exit codes', () => {
    const path = damaged((fs, { file }) => {
      fs.device.dv.setUint32(fs.iget(file) + ZusInode.i_nlink, 3, true);
      fs.device.persist(fs.iget(file), 128);
    });
    const script = fileURLToPath(new URL('../scripts/fsck.mjs', import.meta.url));
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [script, path, ...args], { encoding: 'utf8' });
    const found = run();
    expect(found.status).toBe(4);
    expect(found.stdout).toMatch(/problem: inode \d+: nlink 3, expected 1/);
    const fixed = run('--repair');
    expect(fixed.status).toBe(1);
    expect(fixed.stdout).toMatch(/repaired: inode \d+: link count set to 1/);
    expect(run().status).toBe(0);
    const junk = spawnSync(process.execPath, [script, '/nonexistent.img'], { encoding: 'utf8' });
    expect(junk.status).toBe(8);
  });

  it('refuses what is not a pmemfs image with one clear error', () => {
    tmp = tempDir();
    const dev = PmemDevice.createFile(join(tmp.dir, 'zero.img'), 1 << 20);
    expect(() => fsck(dev)).toThrow(/no valid pmemfs superblock/);
    dev.close();
  });
});
