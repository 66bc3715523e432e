// Persistence: an image file survives close, reopen and the exit of the process that wrote it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIR_POS_END, mkfs, PmemDevice, PmemFs, ROOT_INO } from '@zufs/example-pmemfs';
import { isDir, isLnk, isReg, S_IFLNK } from '@zufs/zuf-core/api';
import { afterEach, describe, expect, it } from 'vitest';
import { DIR, dec, enc, expectClean, REG, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir> | null = null;
afterEach(() => {
  tmp?.cleanup();
  tmp = null;
});

/** Everything observable about the tree under `dir`, as path -> description. */
function dump(fs: PmemFs, dir = ROOT_INO, prefix = '', out = new Map<string, string>()): Map<string, string> {
  const entries: [string, number][] = [];
  let pos = 0;
  while (pos !== DIR_POS_END) {
    pos = fs.readdir(dir, pos, (ino, _t, _n, name) => {
      entries.push([dec(name), ino]);
      return true;
    });
  }
  for (const [name, ino] of entries) {
    if (name === '.' || name === '..') continue;
    const a = fs.getattr(ino);
    let what = `ino=${ino} mode=${a.mode.toString(8)} nlink=${a.nlink} size=${a.size} blocks=${a.blocks} uid=${a.uid} gid=${a.gid} mtime=${a.mtimeNs} ctime=${a.ctimeNs} gen=${a.generation}`;
    if (isReg(a.mode)) {
      const data = new Uint8Array(a.size);
      fs.read(ino, 0, data);
      what += ` sha=${createHash('sha256').update(data).digest('hex').slice(0, 16)}`;
    }
    if (isLnk(a.mode)) what += ` -> ${dec(fs.readlink(ino))}`;
    const list = new Uint8Array(fs.listxattr(ino, null));
    fs.listxattr(ino, list);
    for (const x of dec(list).split('\0').filter(Boolean).sort()) {
      const v = new Uint8Array(fs.getxattr(ino, x, null));
      fs.getxattr(ino, x, v);
      what += ` ${x}=${dec(v)}`;
    }
    out.set(prefix + name, what);
    if (isDir(a.mode)) dump(fs, ino, `${prefix + name}/`, out);
  }
  return out;
}

function buildTree(fs: PmemFs): void {
  const R = ROOT_INO;
  const docs = fs.newInode(R, 'docs', { mode: DIR, uid: 1000, gid: 100 });
  const deep = fs.newInode(fs.newInode(docs, 'a', { mode: DIR }), 'b', { mode: DIR });
  const readme = fs.newInode(docs, 'README', { mode: REG });
  fs.write(readme, 0, enc('# hello\n'.repeat(1000)));
  fs.setxattr(readme, 'user.tag', enc('important'));
  const sparse = fs.newInode(deep, 'sparse', { mode: REG });
  fs.write(sparse, 3 << 20, enc('far away'));
  fs.write(sparse, 0, new Uint8Array(70000).fill(0x5a));
  fs.addDentry(R, readme, 'README.link');
  fs.newInode(R, 'short', { mode: S_IFLNK | 0o777, symlinkTarget: 'docs/README' });
  fs.newInode(R, 'long', { mode: S_IFLNK | 0o777, symlinkTarget: `docs/${'x'.repeat(100)}` });
  for (let i = 0; i < 300; i++) fs.newInode(docs, `many-${i}`, { mode: REG });
  fs.evict(fs.removeDentry(docs, 'many-7'));
  fs.rename(docs, 'many-8', deep, 'moved');
}

describe('persistence', () => {
  it('reopens an image with everything in place', () => {
    tmp = tempDir();
    const path = join(tmp.dir, 'fs.img');
    const dev = PmemDevice.createFile(path, 16 << 20);
    mkfs(dev, { label: 'persist' });
    const fs = PmemFs.mount(dev);
    buildTree(fs);
    const before = dump(fs);
    expect(before.size).toBeGreaterThan(300);
    expect(fs.sync()).toBeGreaterThan(0);
    dev.close();

    const dev2 = PmemDevice.openFile(path);
    const fs2 = PmemFs.mount(dev2);
    expect(fs2.geometry.label).toBe('persist');
    expect(dump(fs2)).toEqual(before);
    expectClean(fs2);
    expect(fs2.statfs()).toEqual(fs.statfs());

    // Change it again; close() flushes what changed.
    fs2.evict(fs2.removeDentry(ROOT_INO, 'long'));
    fs2.write(fs2.lookup(ROOT_INO, 'README.link'), 0, enc('# changed'));
    const after = dump(fs2);
    dev2.close();
    const fs3 = PmemFs.mount(PmemDevice.openFile(path));
    expect(dump(fs3)).toEqual(after);
    expectClean(fs3);
    fs3.device.close();
  });

  it('only what was flushed reaches the file', () => {
    tmp = tempDir();
    const path = join(tmp.dir, 'partial.img');
    const dev = PmemDevice.createFile(path, 4 << 20);
    mkfs(dev);
    const fs = PmemFs.mount(dev);
    fs.newInode(ROOT_INO, 'kept', { mode: REG });
    fs.sync();
    expect(dev.dirtyRanges()).toEqual([]);
    fs.newInode(ROOT_INO, 'lost', { mode: REG });
    expect(dev.dirtyRanges().length).toBeGreaterThan(0);
    // Read the file as another process would see it now.
    const copy = PmemDevice.memory(4 << 20);
    copy.u8.set(readFileSync(path));
    const seen = PmemFs.mount(copy);
    expect(seen.lookup(ROOT_INO, 'kept')).toBeGreaterThan(0);
    expect(seen.lookup(ROOT_INO, 'lost')).toBe(0);
    expectClean(seen);
    dev.close();
  });

  it('survives the exit of the process that wrote it', () => {
    tmp = tempDir();
    const path = join(tmp.dir, 'child.img');
    const script = fileURLToPath(new URL('./fixtures/write-image.mjs', import.meta.url));
    execFileSync(process.execPath, [script, path], { stdio: 'pipe' });
    const fs = PmemFs.mount(PmemDevice.openFile(path));
    expect(fs.geometry.label).toBe('from-child');
    const d = fs.lookup(ROOT_INO, 'child-dir');
    const f = fs.lookup(d, 'hello.txt');
    const buf = new Uint8Array(fs.getattr(f).size);
    fs.read(f, 0, buf);
    expect(dec(buf)).toBe('written by a process that is gone');
    expect(fs.getattr(d).mode).toBe(0o40700);
    expectClean(fs);
    fs.device.close();
  });
});
