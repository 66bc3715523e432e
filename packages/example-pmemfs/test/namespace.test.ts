// Names: newInode, lookup, addDentry, removeDentry, evict, rename, readdir.
import { DIR_POS_END, type PmemFs, REMOVE_DIR, ROOT_INO } from '@zufs/example-pmemfs';
import {
  DT_CHR,
  DT_DIR,
  DT_FIFO,
  DT_LNK,
  DT_REG,
  DT_SOCK,
  encodeDev,
  RENAME_EXCHANGE,
  RENAME_NOREPLACE,
  S_IFCHR,
  S_IFIFO,
  S_IFLNK,
  S_IFSOCK,
  ZUFS_LINK_MAX,
  ZusInode,
} from '@zufs/zuf-core/api';
import { beforeEach, describe, expect, it } from 'vitest';
import { DIR, dec, enc, expectClean, expectErrno, listDir, memFs, names, REG } from './helpers.js';

const R = ROOT_INO;
let fs: PmemFs;
beforeEach(() => {
  fs = memFs();
});

/** Sets an inode's nlink behind the filesystem's back (to reach the 32000 limit quickly). */
function pokeNlink(ino: number, n: number): void {
  fs.device.dv.setUint32(fs.iget(ino) + ZusInode.i_nlink, n, true);
}

describe('newInode and lookup', () => {
  it('creates every type and finds it by name', () => {
    const f = fs.newInode(R, 'file', { mode: REG, uid: 7, gid: 8 });
    const d = fs.newInode(R, 'dir', { mode: DIR });
    const l = fs.newInode(R, 'link', { mode: S_IFLNK | 0o777, symlinkTarget: 'file' });
    const c = fs.newInode(R, 'chr', { mode: S_IFCHR | 0o600, rdev: encodeDev(1, 3) });
    const p = fs.newInode(R, 'fifo', { mode: S_IFIFO | 0o600 });
    const s = fs.newInode(R, 'sock', { mode: S_IFSOCK | 0o600 });
    const plain = fs.newInode(R, enc('no-type'), { mode: 0o600 });
    expect(fs.lookup(R, 'file')).toBe(f);
    expect(fs.lookup(R, enc('dir'))).toBe(d);
    expect(fs.lookup(R, 'nothing')).toBe(0);
    expect(fs.getattr(f)).toMatchObject({ ino: f, mode: REG, nlink: 1, size: 0, uid: 7, gid: 8, blocks: 0 });
    expect(fs.getattr(d)).toMatchObject({ mode: DIR, nlink: 2 });
    expect(fs.getattr(c).rdev).toBe(encodeDev(1, 3));
    expect(fs.getattr(plain).mode).toBe(0o100600);
    expect(fs.getattr(l)).toMatchObject({ mode: 0o120777, size: 4 });
    expect(fs.getattr(p).mode).toBe(0o10600);
    expect(fs.getattr(s).mode).toBe(0o140600);
    expect(fs.getattr(R).nlink).toBe(3); // '.', the root's own name, 'dir/..'
    expect(fs.lookup(d, '..')).toBe(R);
    expect(fs.lookup(d, '.')).toBe(d);
    const types = Object.fromEntries(listDir(fs, R).map((e) => [e.name, e.type]));
    expect(types).toEqual({
      '.': DT_DIR,
      '..': DT_DIR,
      file: DT_REG,
      dir: DT_DIR,
      link: DT_LNK,
      chr: DT_CHR,
      fifo: DT_FIFO,
      sock: DT_SOCK,
      'no-type': DT_REG,
    });
    expect(fs.iget(f)).toBe(fs.geometry.itableStart * 4096 + f * 128);
    expect(fs.device.dv.getUint32(fs.iget(f) + ZusInode.i_ino, true)).toBe(f);
    expectClean(fs);
  });

  it('updates the parent times and generation numbers', async () => {
    const before = fs.getattr(R);
    await new Promise((r) => setTimeout(r, 2));
    const f = fs.newInode(R, 'a', { mode: REG });
    const after = fs.getattr(R);
    expect(after.mtimeNs).toBeGreaterThan(before.mtimeNs);
    expect(after.ctimeNs).toBe(after.mtimeNs);
    const gen = fs.getattr(f).generation;
    fs.removeDentry(R, 'a');
    expect(fs.evict(f)).toBe(true);
    const again = fs.newInode(R, 'b', { mode: REG });
    expect(again).toBe(f); // the slot is reused...
    expect(fs.getattr(again).generation).toBe(gen + 1); // ...under a new generation
  });

  it('fails with the right errno', () => {
    const f = fs.newInode(R, 'f', { mode: REG });
    expectErrno(() => fs.newInode(R, 'f', { mode: REG }), 'EEXIST');
    expectErrno(() => fs.newInode(R, '.', { mode: REG }), 'EEXIST');
    expectErrno(() => fs.newInode(R, '..', { mode: DIR }), 'EEXIST');
    expectErrno(() => fs.newInode(f, 'x', { mode: REG }), 'ENOTDIR');
    expectErrno(() => fs.lookup(f, 'x'), 'ENOTDIR');
    expectErrno(() => fs.newInode(R, 'x'.repeat(256), { mode: REG }), 'ENAMETOOLONG');
    expectErrno(() => fs.lookup(R, 'x'.repeat(256)), 'ENAMETOOLONG');
    expect(fs.newInode(R, 'é'.repeat(127), { mode: REG })).toBeGreaterThan(0); // 254 bytes
    expectErrno(() => fs.newInode(R, 'é'.repeat(128), { mode: REG }), 'ENAMETOOLONG');
    expectErrno(() => fs.newInode(R, '', { mode: REG }), 'ENOENT');
    expectErrno(() => fs.newInode(R, 'a/b', { mode: REG }), 'EINVAL');
    expectErrno(() => fs.newInode(R, 'a\0b', { mode: REG }), 'EINVAL');
    expectErrno(() => fs.newInode(R, 'x', { mode: 0o070000 }), 'EINVAL');
    expectErrno(() => fs.newInode(R, 'x', { mode: S_IFLNK | 0o777 }), 'EINVAL');
    expectErrno(() => fs.newInode(R, 'x', { mode: REG, symlinkTarget: 'y' }), 'EINVAL');
    expectErrno(() => fs.newInode(R, 'x', { mode: DIR, tmpfile: true }), 'EINVAL');
    expectErrno(() => fs.lookup(999999, 'x'), 'ESTALE');
    expectErrno(() => fs.lookup(0, 'x'), 'ESTALE');
    expectErrno(() => fs.getattr(500), 'ESTALE');
    const d = fs.newInode(R, 'd', { mode: DIR });
    fs.removeDentry(R, 'd', REMOVE_DIR);
    expectErrno(() => fs.newInode(d, 'x', { mode: REG }), 'ENOENT');
    pokeNlink(R, ZUFS_LINK_MAX);
    expectErrno(() => fs.newInode(R, 'sub', { mode: DIR }), 'EMLINK');
    fs.newInode(R, 'file-ok', { mode: REG }); // files do not raise the parent's nlink
    pokeNlink(R, 2);
    fs.evict(d);
    expectClean(fs);
  });
});

describe('addDentry (hard links)', () => {
  it('adds names and counts links', () => {
    const f = fs.newInode(R, 'f', { mode: REG });
    const d = fs.newInode(R, 'd', { mode: DIR });
    fs.addDentry(d, f, 'g');
    fs.addDentry(R, f, 'h');
    expect(fs.getattr(f).nlink).toBe(3);
    expect(fs.lookup(d, 'g')).toBe(f);
    fs.removeDentry(R, 'f');
    expect(fs.evict(f)).toBe(false); // still linked
    expect(fs.getattr(f).nlink).toBe(2);
    expectClean(fs);
  });

  it('refuses directories, too many links, existing names, unlinked inodes', () => {
    const f = fs.newInode(R, 'f', { mode: REG });
    const d = fs.newInode(R, 'd', { mode: DIR });
    expectErrno(() => fs.addDentry(R, d, 'd2'), 'EPERM');
    expectErrno(() => fs.addDentry(R, f, 'd'), 'EEXIST');
    expectErrno(() => fs.addDentry(R, f, '.'), 'EEXIST');
    expectErrno(() => fs.addDentry(f, f, 'x'), 'ENOTDIR');
    pokeNlink(f, ZUFS_LINK_MAX);
    expectErrno(() => fs.addDentry(R, f, 'more'), 'EMLINK');
    pokeNlink(f, 1);
    fs.removeDentry(R, 'f');
    expectErrno(() => fs.addDentry(R, f, 'back'), 'ENOENT');
    fs.evict(f);
    expectErrno(() => fs.addDentry(R, f, 'back'), 'ESTALE');
    expectClean(fs);
  });

  it('links a tmpfile once', () => {
    const t = fs.newInode(R, 'ignored', { mode: REG, tmpfile: true });
    expect(fs.getattr(t).nlink).toBe(0);
    expect(fs.lookup(R, 'ignored')).toBe(0);
    expect(fs.check()).toEqual([`inode ${t}: orphan (nlink 0, not evicted)`]);
    expectClean(fs, true);
    fs.write(t, 0, enc('data'));
    fs.addDentry(R, t, 'named');
    expect(fs.getattr(t).nlink).toBe(1);
    fs.removeDentry(R, 'named');
    expectErrno(() => fs.addDentry(R, t, 'again'), 'ENOENT');
    expect(fs.evict(t)).toBe(true);
    expectClean(fs);
  });
});

describe('removeDentry and evict', () => {
  it('removes a name only while it holds the inode the caller names (ENOENT otherwise, untouched)', () => {
    const f = fs.newInode(R, 'f', { mode: REG });
    const g = fs.newInode(R, 'g', { mode: REG });
    expectErrno(() => fs.removeDentry(R, 'f', 0, g), 'ENOENT');
    expect(fs.lookup(R, 'f')).toBe(f);
    expect(fs.getattr(f).nlink).toBe(1);
    expect(fs.getattr(g).nlink).toBe(1);
    expect(fs.removeDentry(R, 'f', 0, f)).toBe(f);
    expect(fs.evict(f)).toBe(true);
    expectClean(fs);
  });

  it('unlinks files and removes empty directories', () => {
    const free0 = fs.statfs();
    const f = fs.newInode(R, 'f', { mode: REG });
    fs.write(f, 0, new Uint8Array(10000));
    const d = fs.newInode(R, 'd', { mode: DIR });
    fs.newInode(d, 'x', { mode: REG });
    fs.setxattr(f, 'user.a', enc('1'));
    expect(fs.removeDentry(R, 'f')).toBe(f);
    expect(fs.getattr(f).nlink).toBe(0);
    expect(fs.lookup(R, 'f')).toBe(0);
    expectErrno(() => fs.removeDentry(R, 'd', REMOVE_DIR), 'ENOTEMPTY');
    const x = fs.removeDentry(d, 'x');
    fs.evict(x);
    expect(fs.getattr(R).nlink).toBe(3);
    expect(fs.removeDentry(R, 'd', REMOVE_DIR)).toBe(d);
    expect(fs.getattr(d).nlink).toBe(0);
    expect(fs.getattr(R).nlink).toBe(2);
    expect(fs.evict(f)).toBe(true);
    expect(fs.evict(d)).toBe(true);
    expectErrno(() => fs.iget(f), 'ESTALE');
    expect(fs.statfs()).toEqual(free0); // an emptied directory gives its blocks back too
    expect(fs.getattr(R).blocks).toBe(0);
    expectClean(fs);
  });

  it('fails with the right errno', () => {
    const f = fs.newInode(R, 'f', { mode: REG });
    fs.newInode(R, 'd', { mode: DIR });
    expectErrno(() => fs.removeDentry(R, 'd'), 'EISDIR');
    expectErrno(() => fs.removeDentry(R, 'f', REMOVE_DIR), 'ENOTDIR');
    expectErrno(() => fs.removeDentry(R, 'nope'), 'ENOENT');
    expectErrno(() => fs.removeDentry(R, '.', REMOVE_DIR), 'EINVAL');
    expectErrno(() => fs.removeDentry(R, '..', REMOVE_DIR), 'ENOTEMPTY');
    expectErrno(() => fs.removeDentry(R, '.'), 'EISDIR');
    expectErrno(() => fs.removeDentry(f, 'x'), 'ENOTDIR');
    expect(fs.evict(R)).toBe(false);
    expectClean(fs);
  });

  it('keeps an open inode until the inUse hook lets it go', async () => {
    const { PmemFs } = await import('@zufs/example-pmemfs');
    const open = new Set<number>();
    const fs2 = PmemFs.mount(fs.device, { inUse: (ino) => open.has(ino) });
    const f = fs2.newInode(R, 'f', { mode: REG });
    open.add(f);
    fs2.removeDentry(R, 'f');
    expect(fs2.evict(f)).toBe(false);
    expect(fs2.check({ allowOrphans: true })).toEqual([]);
    open.delete(f);
    expect(fs2.evict(f)).toBe(true);
    expectClean(fs2);
  });
});

describe('rename', () => {
  it('moves a file within and across directories', () => {
    const f = fs.newInode(R, 'a', { mode: REG });
    const d = fs.newInode(R, 'd', { mode: DIR });
    expect(fs.rename(R, 'a', R, 'b')).toBe(0);
    expect(fs.lookup(R, 'a')).toBe(0);
    expect(fs.lookup(R, 'b')).toBe(f);
    fs.rename(R, 'b', d, 'c');
    expect(fs.lookup(d, 'c')).toBe(f);
    expect(names(fs, R)).toEqual(['.', '..', 'd']);
    expectClean(fs);
  });

  it("moves a directory, fixing '..' and the link counts", () => {
    const a = fs.newInode(R, 'a', { mode: DIR });
    const b = fs.newInode(R, 'b', { mode: DIR });
    const s = fs.newInode(a, 's', { mode: DIR });
    expect(fs.getattr(a).nlink).toBe(3);
    fs.rename(a, 's', b, 't');
    expect(fs.getattr(a).nlink).toBe(2);
    expect(fs.getattr(b).nlink).toBe(3);
    expect(fs.lookup(s, '..')).toBe(b);
    expect(listDir(fs, s).find((e) => e.name === '..')?.ino).toBe(b);
    expectClean(fs);
  });

  it('replaces a file, and an empty directory by a directory', () => {
    const a = fs.newInode(R, 'a', { mode: REG });
    const b = fs.newInode(R, 'b', { mode: REG });
    expect(fs.rename(R, 'a', R, 'b')).toBe(b);
    expect(fs.lookup(R, 'b')).toBe(a);
    expect(fs.getattr(b).nlink).toBe(0);
    expect(fs.evict(b)).toBe(true);
    const d1 = fs.newInode(R, 'd1', { mode: DIR });
    const d2 = fs.newInode(R, 'd2', { mode: DIR });
    const p = fs.newInode(R, 'p', { mode: DIR });
    fs.rename(R, 'd1', p, 'x');
    const e = fs.newInode(R, 'e', { mode: DIR });
    expect(fs.getattr(R).nlink).toBe(5); // d2, p, e
    expect(fs.rename(R, 'd2', p, 'x')).toBe(d1);
    expect(fs.getattr(d1).nlink).toBe(0);
    expect(fs.getattr(p).nlink).toBe(3);
    expect(fs.getattr(R).nlink).toBe(4); // p, e
    fs.evict(d1);
    expect(fs.lookup(d2, '..')).toBe(p);
    expect(e).toBeGreaterThan(0);
    expectClean(fs);
  });

  it('renaming a name onto another name of the same inode does nothing', () => {
    const a = fs.newInode(R, 'a', { mode: REG });
    fs.addDentry(R, a, 'b');
    expect(fs.rename(R, 'a', R, 'b')).toBe(0);
    expect(names(fs, R)).toEqual(['.', '..', 'a', 'b']);
    expect(fs.getattr(a).nlink).toBe(2);
    expectClean(fs);
  });

  it('fails with the right errno', () => {
    fs.newInode(R, 'f', { mode: REG });
    const d = fs.newInode(R, 'd', { mode: DIR });
    const full = fs.newInode(R, 'full', { mode: DIR });
    fs.newInode(full, 'x', { mode: REG });
    const sub = fs.newInode(d, 'sub', { mode: DIR });
    expectErrno(() => fs.rename(R, 'none', R, 'x'), 'ENOENT');
    expectErrno(() => fs.rename(R, 'f', R, 'd'), 'EISDIR');
    expectErrno(() => fs.rename(R, 'd', R, 'f'), 'ENOTDIR');
    expectErrno(() => fs.rename(R, 'd', R, 'full'), 'ENOTEMPTY');
    expectErrno(() => fs.rename(R, 'd', d, 'inside'), 'EINVAL');
    expectErrno(() => fs.rename(R, 'd', sub, 'inside'), 'EINVAL');
    expectErrno(() => fs.rename(R, 'f', R, 'd', RENAME_NOREPLACE), 'EEXIST');
    expectErrno(() => fs.rename(R, 'f', R, 'g', RENAME_NOREPLACE | RENAME_EXCHANGE), 'EINVAL');
    expectErrno(() => fs.rename(R, 'f', R, 'g', 4), 'EINVAL');
    expectErrno(() => fs.rename(R, 'f', R, 'g', RENAME_EXCHANGE), 'ENOENT');
    expectErrno(() => fs.rename(R, '.', R, 'g'), 'EBUSY');
    expectErrno(() => fs.rename(R, 'f', R, '..'), 'EBUSY');
    expectErrno(() => fs.rename(R, 'f', R, 'x'.repeat(256)), 'ENAMETOOLONG');
    expectErrno(() => fs.rename(R, 'f', fs.lookup(R, 'f'), 'x'), 'ENOTDIR');
    const rootLinks = fs.getattr(R).nlink;
    pokeNlink(R, ZUFS_LINK_MAX);
    const other = fs.newInode(d, 'other', { mode: DIR });
    expectErrno(() => fs.rename(d, 'other', R, 'moved'), 'EMLINK');
    pokeNlink(R, rootLinks);
    expect(other).toBeGreaterThan(0);
    fs.rename(R, 'f', R, 'g', RENAME_NOREPLACE);
    expectClean(fs);
  });

  it('exchanges a file and a directory across directories', () => {
    const a = fs.newInode(R, 'a', { mode: DIR });
    const b = fs.newInode(R, 'b', { mode: DIR });
    const f = fs.newInode(a, 'f', { mode: REG });
    const s = fs.newInode(b, 's', { mode: DIR });
    expect(fs.getattr(a).nlink).toBe(2);
    expect(fs.getattr(b).nlink).toBe(3);
    expect(fs.rename(a, 'f', b, 's', RENAME_EXCHANGE)).toBe(0);
    expect(fs.lookup(a, 'f')).toBe(s);
    expect(fs.lookup(b, 's')).toBe(f);
    expect(fs.lookup(s, '..')).toBe(a);
    expect(fs.getattr(a).nlink).toBe(3);
    expect(fs.getattr(b).nlink).toBe(2);
    expect(listDir(fs, a).find((e) => e.name === 'f')?.type).toBe(DT_DIR);
    // A directory cannot be exchanged into its own subtree.
    const inner = fs.newInode(s, 'inner', { mode: REG });
    expectErrno(() => fs.rename(R, 'a', s, 'inner', RENAME_EXCHANGE), 'EINVAL');
    expect(inner).toBeGreaterThan(0);
    // Exchanging two names in one directory.
    fs.newInode(R, 'x', { mode: REG });
    fs.rename(R, 'a', R, 'x', RENAME_EXCHANGE);
    expect(fs.lookup(R, 'x')).toBe(a);
    expectClean(fs);
  });
});

describe('readdir', () => {
  it("returns '.', '..' and every entry once, resumable one at a time", () => {
    const d = fs.newInode(R, 'd', { mode: DIR });
    const want = new Set<string>();
    for (let i = 0; i < 500; i++) {
      fs.newInode(d, `entry-${i}`, { mode: REG });
      want.add(`entry-${i}`);
    }
    const all = listDir(fs, d, 1);
    expect(all.slice(0, 2).map((e) => [e.name, e.ino])).toEqual([
      ['.', d],
      ['..', R],
    ]);
    expect(new Set(all.slice(2).map((e) => e.name))).toEqual(want);
    expect(all.length).toBe(502);
    // Positions increase, and resuming at any entry's next position continues after it.
    for (let i = 1; i < all.length; i++) expect(all[i].next).toBeGreaterThan(all[i - 1].next);
    const tail: string[] = [];
    fs.readdir(d, all[250].next, (_ino, _type, _next, name) => {
      tail.push(dec(name));
      return true;
    });
    expect(tail).toEqual(all.slice(251).map((e) => e.name));
    expect(fs.readdir(d, DIR_POS_END, () => true)).toBe(DIR_POS_END);
  });

  it('keeps positions valid while entries come and go', () => {
    const d = fs.newInode(R, 'd', { mode: DIR });
    for (let i = 0; i < 300; i++) fs.newInode(d, `keep-${i}`, { mode: REG });
    for (let i = 0; i < 300; i++) fs.newInode(d, `drop-${i}`, { mode: REG });
    const seen: string[] = [];
    let pos = 0;
    let round = 0;
    while (pos !== DIR_POS_END) {
      let n = 0;
      pos = fs.readdir(d, pos, (_ino, _t, _next, name) => {
        if (n++ === 7) return false;
        seen.push(dec(name));
        return true;
      });
      // Between calls: remove some names, add others (which splits buckets).
      if (round < 40) {
        for (let k = 0; k < 7; k++) {
          const i = round * 7 + k;
          if (i < 300) fs.evict(fs.removeDentry(d, `drop-${i}`));
          fs.newInode(d, `new-${round}-${k}`, { mode: REG });
        }
      }
      round++;
    }
    const keeps = seen.filter((s) => s.startsWith('keep-'));
    expect(keeps.length).toBe(300); // every entry that stayed, exactly once
    expect(new Set(keeps).size).toBe(300);
    expect(new Set(seen).size).toBe(seen.length); // nothing twice
    expectClean(fs);
  });

  it('reads a bucket whose entries are out of key order (as images written before they were kept sorted)', () => {
    const d = fs.newInode(R, 'd', { mode: DIR });
    for (let i = 0; i < 50; i++) fs.newInode(d, `entry-${i}`, { mode: REG });
    const before = listDir(fs, d);
    // The directory's only bucket (magic 0x4244, 50 entries): its packed entries, reversed.
    const { u8, dv } = fs.device;
    let at = -1;
    for (let b = 0; b < u8.length; b += 4096) {
      if (dv.getUint16(b, true) === 0x4244 && dv.getUint16(b + 4, true) === 50) at = b;
    }
    expect(at).toBeGreaterThan(0);
    const end = at + dv.getUint16(at + 6, true);
    const ents: Uint8Array[] = [];
    for (let e = at + 16; e < end; e += (12 + u8[e + 10] + 3) & ~3)
      ents.push(u8.slice(e, e + ((12 + u8[e + 10] + 3) & ~3)));
    ents.reverse();
    let w = at + 16;
    for (const e of ents) {
      u8.set(e, w);
      w += e.length;
    }
    expect(listDir(fs, d)).toEqual(before);
    expect(listDir(fs, d, 7)).toEqual(before);
    // New names go in at their place; what was out of order stays readable in order.
    fs.newInode(d, 'late', { mode: REG });
    const after = listDir(fs, d);
    expect(after.length).toBe(53);
    for (let i = 3; i < after.length; i++) expect(after[i].next).toBeGreaterThan(after[i - 1].next);
    expectClean(fs);
  });
});
