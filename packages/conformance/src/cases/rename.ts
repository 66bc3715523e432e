import type { Case } from '../case.js';
import { expect } from '../expect.js';
import { expectPairUv, expectSyncUv, nowFloorMs, PAST_S, sorted, tick, type UvShape } from '../helpers.js';
import type { FsLike } from '../target.js';

const NOBODY = { uid: 65534, gid: 65534 };

/** renameSync(from, to) must fail with `code`, naming both paths. */
function renameFails(fs: FsLike, code: UvShape['code'], from: string, to: string): void {
  expectPairUv((a, b) => fs.renameSync(a, b), code, 'rename', from, to);
}

/** rename, with Linux's rules for what may replace what. */
export const renameCases: Case[] = [
  {
    id: 'rename/file',
    title: 'renameSync moves a file to a new name, keeping its inode',
    run({ fs, p }) {
      fs.writeFileSync(p('a'), 'x');
      const ino = fs.statSync(p('a')).ino;
      expect(fs.renameSync(p('a'), p('b'))).toBeUndefined();
      expect(fs.existsSync(p('a'))).toBe(false);
      expect(fs.statSync(p('b')).ino).toBe(ino);
      expect(fs.readFileSync(p('b'), 'utf8')).toBe('x');
    },
  },
  {
    id: 'rename/file-over-file',
    title: 'renameSync over an existing file replaces it',
    run({ fs, p }) {
      fs.writeFileSync(p('a'), 'new');
      fs.writeFileSync(p('b'), 'old');
      const ino = fs.statSync(p('a')).ino;
      fs.renameSync(p('a'), p('b'));
      expect(fs.readdirSync(p())).toEqual(['b']);
      expect(fs.statSync(p('b')).ino).toBe(ino);
      expect(fs.readFileSync(p('b'), 'utf8')).toBe('new');
    },
  },
  {
    id: 'rename/into-other-dir',
    title: 'renameSync moves a file between directories',
    run({ fs, p }) {
      fs.mkdirSync(p('d1'));
      fs.mkdirSync(p('d2'));
      fs.writeFileSync(p('d1', 'f'), 'x');
      fs.renameSync(p('d1', 'f'), p('d2', 'g'));
      expect(fs.readdirSync(p('d1'))).toEqual([]);
      expect(fs.readFileSync(p('d2', 'g'), 'utf8')).toBe('x');
    },
  },
  {
    id: 'rename/dir-with-subtree',
    title: 'renameSync of a directory moves its whole subtree and fixes the parents’ nlink',
    run({ fs, p }) {
      fs.mkdirSync(p('a', 'sub'), { recursive: true });
      fs.writeFileSync(p('a', 'sub', 'f'), 'deep');
      fs.mkdirSync(p('other'));
      fs.renameSync(p('a'), p('other', 'b'));
      expect(fs.readFileSync(p('other', 'b', 'sub', 'f'), 'utf8')).toBe('deep');
      expect(fs.statSync(p()).nlink).toBe(3);
      expect(fs.statSync(p('other')).nlink).toBe(3);
    },
  },
  {
    id: 'rename/dir-over-empty-dir',
    title: 'renameSync of a directory over an empty directory replaces it',
    run({ fs, p }) {
      fs.mkdirSync(p('a'));
      fs.writeFileSync(p('a', 'f'), '');
      fs.mkdirSync(p('b'));
      fs.renameSync(p('a'), p('b'));
      expect(fs.readdirSync(p())).toEqual(['b']);
      expect(fs.readdirSync(p('b'))).toEqual(['f']);
    },
  },
  {
    id: 'rename/dir-over-nonempty-dir',
    title: 'renameSync of a directory over a non-empty directory throws ENOTEMPTY',
    run({ fs, p }) {
      fs.mkdirSync(p('a'));
      fs.mkdirSync(p('b'));
      fs.writeFileSync(p('b', 'f'), '');
      expectSyncUv(() => fs.renameSync(p('a'), p('b')), {
        code: 'ENOTEMPTY',
        syscall: 'rename',
        path: p('a'),
        dest: p('b'),
      });
    },
  },
  {
    id: 'rename/dir-over-file',
    title: 'renameSync of a directory over a file throws ENOTDIR',
    run({ fs, p }) {
      fs.mkdirSync(p('d'));
      fs.writeFileSync(p('f'), '');
      expectSyncUv(() => fs.renameSync(p('d'), p('f')), {
        code: 'ENOTDIR',
        syscall: 'rename',
        path: p('d'),
        dest: p('f'),
      });
    },
  },
  {
    id: 'rename/file-over-dir',
    title: 'renameSync of a file over a directory throws EISDIR',
    run({ fs, p }) {
      fs.mkdirSync(p('d'));
      fs.writeFileSync(p('f'), '');
      expectSyncUv(() => fs.renameSync(p('f'), p('d')), {
        code: 'EISDIR',
        syscall: 'rename',
        path: p('f'),
        dest: p('d'),
      });
      expect(fs.statSync(p('d')).isDirectory()).toBe(true);
    },
  },
  {
    id: 'rename/into-own-subtree',
    title: 'renameSync of a directory into its own subtree throws EINVAL',
    run({ fs, p }) {
      fs.mkdirSync(p('a', 'b'), { recursive: true });
      expectSyncUv(() => fs.renameSync(p('a'), p('a', 'b', 'c')), {
        code: 'EINVAL',
        syscall: 'rename',
        path: p('a'),
        dest: p('a', 'b', 'c'),
      });
      expect(fs.statSync(p('a', 'b')).isDirectory()).toBe(true);
    },
  },
  {
    id: 'rename/enoent',
    title: 'renameSync of a missing source, or into a missing dir, throws ENOENT naming both paths',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      expectSyncUv(() => fs.renameSync(p('missing'), p('x')), {
        code: 'ENOENT',
        syscall: 'rename',
        path: p('missing'),
        dest: p('x'),
      });
      expectSyncUv(() => fs.renameSync(p('f'), p('no', 'x')), {
        code: 'ENOENT',
        syscall: 'rename',
        path: p('f'),
        dest: p('no', 'x'),
      });
      expect(fs.existsSync(p('f'))).toBe(true);
    },
  },
  {
    id: 'rename/enotdir-in-dest',
    title: 'renameSync to a path that goes through a file throws ENOTDIR',
    run({ fs, p }) {
      fs.writeFileSync(p('a'), '');
      fs.writeFileSync(p('f'), '');
      expectSyncUv(() => fs.renameSync(p('a'), p('f', 'x')), {
        code: 'ENOTDIR',
        syscall: 'rename',
        path: p('a'),
        dest: p('f', 'x'),
      });
    },
  },
  {
    id: 'rename/same-path',
    title: 'renameSync of a path onto itself does nothing',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'x');
      fs.mkdirSync(p('d'));
      fs.renameSync(p('f'), p('f'));
      fs.renameSync(p('d'), p('d'));
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('x');
      expect(fs.statSync(p('d')).isDirectory()).toBe(true);
    },
  },
  {
    id: 'rename/hardlinks-same-inode',
    title: 'renameSync between two hard links of one inode does nothing: both names stay',
    run({ fs, p }) {
      fs.writeFileSync(p('a'), 'x');
      fs.linkSync(p('a'), p('b'));
      fs.renameSync(p('a'), p('b'));
      expect(fs.readdirSync(p()).sort()).toEqual(['a', 'b']);
      expect(fs.statSync(p('a')).nlink).toBe(2);
    },
  },
  {
    id: 'rename/symlink',
    title: 'renameSync of a symlink moves the link, not its target',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'x');
      fs.symlinkSync('f', p('l'));
      fs.renameSync(p('l'), p('m'));
      expect(fs.lstatSync(p('m')).isSymbolicLink()).toBe(true);
      expect(fs.readlinkSync(p('m'))).toBe('f');
      expect(fs.lstatSync(p('f')).isFile()).toBe(true);
    },
  },
  {
    id: 'rename/times',
    title: 'renameSync moves the ctime of the renamed inode (not its mtime) and both parents’ mtime',
    async run({ fs, p }) {
      fs.mkdirSync(p('d1'));
      fs.mkdirSync(p('d2'));
      fs.writeFileSync(p('d1', 'f'), '');
      for (const q of [p('d1', 'f'), p('d1'), p('d2')]) fs.utimesSync(q, PAST_S, PAST_S);
      const ctime = fs.statSync(p('d1', 'f')).ctimeMs;
      await tick();
      const floor = nowFloorMs();
      fs.renameSync(p('d1', 'f'), p('d2', 'f'));
      const st = fs.statSync(p('d2', 'f'));
      expect(st.ctimeMs).toBeGreaterThan(ctime);
      expect(st.mtimeMs).toBe(PAST_S * 1000);
      expect(fs.statSync(p('d1')).mtimeMs).toBeGreaterThan(floor);
      expect(fs.statSync(p('d2')).mtimeMs).toBeGreaterThan(floor);
    },
  },
  {
    id: 'rename/subtree-order',
    title: 'renameSync checks the subtree rules (EINVAL, ENOTEMPTY) before ENOTDIR and EISDIR, as Linux',
    run({ fs, p }) {
      fs.mkdirSync(p('a', 'b', 'c'), { recursive: true });
      fs.writeFileSync(p('a', 'b', 'f'), 'f');
      fs.writeFileSync(p('g'), 'g');
      fs.mkdirSync(p('ne'));
      fs.writeFileSync(p('ne', 'x'), 'x');
      fs.symlinkSync('a/b', p('lb'));
      const uv = (code: UvShape['code'], from: string, to: string) => renameFails(fs, code, p(from), p(to));
      // The source an ancestor of the target's directory: EINVAL, even where the target is a file.
      uv('EINVAL', 'a', 'a/b/c/d');
      uv('EINVAL', 'a', 'a/b/f');
      uv('EINVAL', 'a', 'a/b');
      uv('EINVAL', 'a', 'lb/c/n'); // through a symlink: the physical tree counts
      uv('ENOTDIR', 'a', 'a/b/f/x'); // the target's directory cannot be found
      // The target an ancestor of the source: ENOTEMPTY, even where the source is a file.
      uv('ENOTEMPTY', 'a/b', 'a');
      uv('ENOTEMPTY', 'a/b/f', 'a');
      uv('ENOTEMPTY', 'lb/c', 'a');
      uv('ENOTDIR', 'a/b/f', 'a/'); // a file with a trailing slash: first of all
      uv('EISDIR', 'g', 'a');
      uv('ENOTDIR', 'a', 'g');
      uv('ENOTEMPTY', 'a/b', 'ne');
      // '.' and '..' are refused before either name is looked up.
      for (const [from, to] of [
        [p('missing'), `${p()}/.`],
        [p('a'), `${p('a', 'b')}/..`],
      ])
        renameFails(fs, 'EBUSY', from, to);
      expect(fs.readFileSync(p('a', 'b', 'f'), 'utf8')).toBe('f');
    },
  },
  {
    id: 'rename/dir-needs-write-on-itself',
    title:
      'a non-root user moving a directory to another parent needs write permission on it (its .. changes)',
    root: true,
    run({ fs, p, asUser }) {
      fs.chmodSync(p(), 0o755);
      for (const d of ['p1', 'p2']) {
        fs.mkdirSync(p(d));
        fs.chmodSync(p(d), 0o777);
      }
      fs.mkdirSync(p('p1', 'theirs'));
      fs.chmodSync(p('p1', 'theirs'), 0o755);
      asUser(NOBODY, (u) => {
        const uv = (from: string, to: string) => renameFails(u, 'EACCES', p(from), p(to));
        uv('p1/theirs', 'p2/theirs');
        u.renameSync(p('p1', 'theirs'), p('p1', 'renamed')); // the same parent: '..' stays
        u.mkdirSync(p('p1', 'mine'));
        u.chmodSync(p('p1', 'mine'), 0o555);
        uv('p1/mine', 'p2/mine'); // one's own directory too, while it is not writable
        u.chmodSync(p('p1', 'mine'), 0o755);
        u.renameSync(p('p1', 'mine'), p('p2', 'mine'));
      });
      expect(sorted(fs.readdirSync(p('p1')))).toEqual(['renamed']);
      expect(fs.readdirSync(p('p2'))).toEqual(['mine']);
    },
  },
  {
    id: 'rename/sticky-order',
    title:
      'renameSync in sticky directories: EPERM for another’s source or target, before ENOTDIR and EISDIR',
    root: true,
    run({ fs, p, asUser }) {
      fs.chmodSync(p(), 0o755);
      fs.mkdirSync(p('st'));
      fs.chmodSync(p('st'), 0o1777);
      fs.mkdirSync(p('st', 'rootd'));
      fs.writeFileSync(p('st', 'rootf'), 'r');
      fs.mkdirSync(p('w'));
      fs.chmodSync(p('w'), 0o777);
      asUser(NOBODY, (u) => {
        u.writeFileSync(p('w', 'myf'), 'm');
        u.mkdirSync(p('w', 'myd'));
        const uv = (from: string, to: string) => renameFails(u, 'EPERM', p(from), p(to));
        uv('st/rootd', 'st/x');
        uv('st/rootf', 'st/y');
        uv('w/myf', 'st/rootf');
        uv('w/myf', 'st/rootd'); // EPERM, not EISDIR
        uv('w/myd', 'st/rootf'); // EPERM, not ENOTDIR
      });
      expect(sorted(fs.readdirSync(p('st')))).toEqual(['rootd', 'rootf']);
    },
  },
];
