import type { Case } from '../case.js';
import { expect } from '../expect.js';
import { expectSyncUv } from '../helpers.js';

/**
 * What a thread removed is gone for its very next call, whichever path led there: a name cache that
 * keeps the rest of what it knew across its own unlink and rmdir must forget every way to the
 * removed inode (hard links, symlinks, '..' through a removed directory, a reused inode number).
 */
export const removalCases: Case[] = [
  {
    id: 'removal/hard-link',
    title: 'after unlink of one hard link, its path is ENOENT and the other link still reads',
    run({ fs, p }) {
      fs.writeFileSync(p('a'), 'same');
      fs.linkSync(p('a'), p('b'));
      expect(fs.statSync(p('a')).nlink).toBe(2);
      expect(fs.readFileSync(p('b'), 'utf8')).toBe('same');
      fs.unlinkSync(p('a'));
      expectSyncUv(() => fs.statSync(p('a')), { code: 'ENOENT', syscall: 'stat', path: p('a') });
      expect(fs.statSync(p('b')).nlink).toBe(1);
      expect(fs.readFileSync(p('b'), 'utf8')).toBe('same');
    },
  },
  {
    id: 'removal/through-symlink',
    title: 'after unlink of a symlink to a directory, paths that went through it are ENOENT',
    run({ fs, p }) {
      fs.mkdirSync(p('d'));
      fs.writeFileSync(p('d', 'f'), 'in d');
      fs.symlinkSync(p('d'), p('l'));
      expect(fs.readFileSync(p('l', 'f'), 'utf8')).toBe('in d');
      expect(fs.statSync(p('l')).isDirectory()).toBe(true);
      fs.unlinkSync(p('l'));
      expectSyncUv(() => fs.statSync(p('l', 'f')), { code: 'ENOENT', syscall: 'stat', path: p('l', 'f') });
      expectSyncUv(() => fs.lstatSync(p('l')), { code: 'ENOENT', syscall: 'lstat', path: p('l') });
      expect(fs.readFileSync(p('d', 'f'), 'utf8')).toBe('in d');
    },
  },
  {
    id: 'removal/dotdot-through-removed-dir',
    title: "after rmdir of d, a path 'd/../f' is ENOENT although f is still there",
    run({ fs, p }) {
      fs.mkdirSync(p('d'));
      fs.writeFileSync(p('f'), 'top');
      const via = `${p('d')}/../f`;
      expect(fs.readFileSync(via, 'utf8')).toBe('top');
      expect(fs.statSync(via).isFile()).toBe(true);
      fs.rmdirSync(p('d'));
      expectSyncUv(() => fs.statSync(via), { code: 'ENOENT', syscall: 'stat', path: via });
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('top');
    },
  },
  {
    id: 'removal/reused-inode',
    title: 'removed names stay gone while new files and directories take their place elsewhere',
    run({ fs, p }) {
      for (let i = 0; i < 20; i++) {
        fs.writeFileSync(p(`f${i}`), `file ${i}`);
        fs.mkdirSync(p(`d${i}`));
        expect(fs.statSync(p(`f${i}`)).isFile()).toBe(true);
        expect(fs.statSync(p(`d${i}`)).isDirectory()).toBe(true);
        fs.unlinkSync(p(`f${i}`));
        fs.rmdirSync(p(`d${i}`));
        // New inodes, likely with the numbers just freed.
        fs.mkdirSync(p(`e${i}`));
        fs.writeFileSync(p(`g${i}`), `new ${i}`);
        expectSyncUv(() => fs.statSync(p(`f${i}`)), { code: 'ENOENT', syscall: 'stat', path: p(`f${i}`) });
        expectSyncUv(() => fs.statSync(p(`d${i}`)), { code: 'ENOENT', syscall: 'stat', path: p(`d${i}`) });
        expect(fs.readFileSync(p(`g${i}`), 'utf8')).toBe(`new ${i}`);
        expect(fs.statSync(p(`e${i}`)).isDirectory()).toBe(true);
      }
      expect(fs.readdirSync(p()).sort()).toEqual(
        Array.from({ length: 20 }, (_, i) => [`e${i}`, `g${i}`])
          .flat()
          .sort(),
      );
    },
  },
  {
    id: 'removal/reused-directory',
    title: 'paths through a removed directory stay gone when a new directory takes its place elsewhere',
    run({ fs, p }) {
      for (let i = 0; i < 10; i++) {
        fs.mkdirSync(p('d'));
        fs.writeFileSync(p('d', 'f'), `old ${i}`);
        expect(fs.readFileSync(p('d', 'f'), 'utf8')).toBe(`old ${i}`);
        fs.unlinkSync(p('d', 'f'));
        fs.rmdirSync(p('d'));
        // Likely the numbers just freed, the other way round.
        fs.writeFileSync(p('e'), `file ${i}`);
        fs.mkdirSync(p('e2'));
        expectSyncUv(() => fs.statSync(p('d', 'f')), { code: 'ENOENT', syscall: 'stat', path: p('d', 'f') });
        expectSyncUv(() => fs.statSync(p('d')), { code: 'ENOENT', syscall: 'stat', path: p('d') });
        expect(fs.readdirSync(p('e2'))).toEqual([]);
        expect(fs.readFileSync(p('e'), 'utf8')).toBe(`file ${i}`);
        fs.rmdirSync(p('e2'));
        fs.unlinkSync(p('e'));
      }
      expect(fs.readdirSync(p())).toEqual([]);
    },
  },
  {
    id: 'removal/recreate-same-name',
    title: 'a name removed and made again at once is the new file, with its own contents and type',
    run({ fs, p }) {
      fs.writeFileSync(p('x'), 'file');
      expect(fs.statSync(p('x')).isFile()).toBe(true);
      fs.unlinkSync(p('x'));
      fs.mkdirSync(p('x'));
      expect(fs.statSync(p('x')).isDirectory()).toBe(true);
      fs.writeFileSync(p('x', 'in'), 'inside');
      expect(fs.readFileSync(p('x', 'in'), 'utf8')).toBe('inside');
      fs.unlinkSync(p('x', 'in'));
      fs.rmdirSync(p('x'));
      fs.writeFileSync(p('x'), 'file again');
      expect(fs.readFileSync(p('x'), 'utf8')).toBe('file again');
      expectSyncUv(() => fs.statSync(p('x', 'in')), { code: 'ENOTDIR', syscall: 'stat', path: p('x', 'in') });
    },
  },
  {
    id: 'removal/rename-over',
    title: 'after a file is renamed over another, the old path is ENOENT and the new one is the moved file',
    run({ fs, p }) {
      fs.writeFileSync(p('a'), 'moved');
      fs.writeFileSync(p('b'), 'replaced');
      fs.linkSync(p('b'), p('b2'));
      expect(fs.readFileSync(p('a'), 'utf8')).toBe('moved');
      expect(fs.readFileSync(p('b'), 'utf8')).toBe('replaced');
      fs.renameSync(p('a'), p('b'));
      expectSyncUv(() => fs.statSync(p('a')), { code: 'ENOENT', syscall: 'stat', path: p('a') });
      expect(fs.readFileSync(p('b'), 'utf8')).toBe('moved');
      expect(fs.statSync(p('b2')).nlink).toBe(1);
      expect(fs.readFileSync(p('b2'), 'utf8')).toBe('replaced');
      for (let i = 0; i < 10; i++) {
        fs.renameSync(p('b'), p('c'));
        fs.renameSync(p('c'), p('b'));
      }
      expectSyncUv(() => fs.statSync(p('c')), { code: 'ENOENT', syscall: 'stat', path: p('c') });
      expect(fs.readFileSync(p('b'), 'utf8')).toBe('moved');
    },
  },
];
