import type { Case } from '../case.js';
import { expect } from '../expect.js';
import { expectPairUv, expectSyncUv, PAST_S, sorted, tick } from '../helpers.js';

/** Symbolic and hard links: symlink, readlink, link, lstat, lutimes, realpath, loops. */
export const linkCases: Case[] = [
  {
    id: 'links/symlink-relative',
    title: 'a relative symlink resolves against its own directory; readlink gives the text back',
    run({ fs, p }) {
      fs.mkdirSync(p('d'));
      fs.writeFileSync(p('f'), 'top');
      expect(fs.symlinkSync('../f', p('d', 'l'))).toBeUndefined();
      expect(fs.readlinkSync(p('d', 'l'))).toBe('../f');
      expect(fs.readFileSync(p('d', 'l'), 'utf8')).toBe('top');
    },
  },
  {
    id: 'links/symlink-absolute',
    title: 'an absolute symlink resolves from the root',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'abs');
      fs.symlinkSync(p('f'), p('l'));
      expect(fs.readlinkSync(p('l'))).toBe(p('f'));
      expect(fs.readFileSync(p('l'), 'utf8')).toBe('abs');
    },
  },
  {
    id: 'links/symlink-dangling',
    title: 'a dangling symlink: lstat sees the link, stat throws ENOENT naming the link',
    run({ fs, p }) {
      fs.symlinkSync('nowhere', p('l'));
      expect(fs.lstatSync(p('l')).isSymbolicLink()).toBe(true);
      expect(fs.readlinkSync(p('l'))).toBe('nowhere');
      expectSyncUv(() => fs.statSync(p('l')), { code: 'ENOENT', syscall: 'stat', path: p('l') });
    },
  },
  {
    id: 'links/symlink-dangling-create',
    title: 'writing through a dangling symlink creates its target',
    run({ fs, p }) {
      fs.symlinkSync('target', p('l'));
      fs.writeFileSync(p('l'), 'made');
      expect(fs.lstatSync(p('target')).isFile()).toBe(true);
      expect(fs.readFileSync(p('target'), 'utf8')).toBe('made');
      expect(fs.lstatSync(p('l')).isSymbolicLink()).toBe(true);
    },
  },
  {
    id: 'links/symlink-eexist',
    title: 'symlinkSync onto an existing path throws EEXIST naming target and path',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      expectSyncUv(() => fs.symlinkSync('anything', p('f')), {
        code: 'EEXIST',
        syscall: 'symlink',
        path: 'anything',
        dest: p('f'),
      });
    },
  },
  {
    id: 'links/symlink-enoent-parent',
    title: 'symlinkSync into a missing directory throws ENOENT naming target and path',
    run({ fs, p }) {
      expectSyncUv(() => fs.symlinkSync('t', p('no', 'l')), {
        code: 'ENOENT',
        syscall: 'symlink',
        path: 't',
        dest: p('no', 'l'),
      });
    },
  },
  {
    id: 'links/symlink-to-dir',
    title: 'a symlink to a directory is traversed in paths and listed by readdir through it',
    run({ fs, p }) {
      fs.mkdirSync(p('d'));
      fs.writeFileSync(p('d', 'f'), 'in d');
      fs.symlinkSync('d', p('l'));
      expect(fs.readFileSync(p('l', 'f'), 'utf8')).toBe('in d');
      expect(fs.readdirSync(p('l'))).toEqual(['f']);
      expect(fs.statSync(`${p('l')}/`).isDirectory()).toBe(true);
      expect(fs.lstatSync(p('l')).isSymbolicLink()).toBe(true);
    },
  },
  {
    id: 'links/symlink-dotdot-physical',
    title: "'..' after a symlinked dir goes to the link target's parent, not back lexically",
    run({ fs, p }) {
      fs.mkdirSync(p('x', 'y'), { recursive: true });
      fs.writeFileSync(p('x', 'marker'), '');
      fs.symlinkSync('x/y', p('l'));
      expect(fs.readdirSync(`${p('l')}/..`).sort()).toEqual(['marker', 'y']);
    },
  },
  {
    id: 'links/readlink-errors',
    title: 'readlinkSync throws EINVAL on a non-link and ENOENT on a missing path',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      expectSyncUv(() => fs.readlinkSync(p('f')), { code: 'EINVAL', syscall: 'readlink', path: p('f') });
      expectSyncUv(() => fs.readlinkSync(p('missing')), {
        code: 'ENOENT',
        syscall: 'readlink',
        path: p('missing'),
      });
    },
  },
  {
    id: 'links/readlink-buffer',
    title: "readlinkSync with encoding 'buffer' gives a Buffer",
    run({ fs, p }) {
      fs.symlinkSync('tärget', p('l'));
      const got = fs.readlinkSync(p('l'), { encoding: 'buffer' });
      expect(Buffer.isBuffer(got)).toBe(true);
      expect(got.toString('utf8')).toBe('tärget');
    },
  },
  {
    id: 'links/lstat-symlink',
    title: "lstat of a symlink: S_IFLNK, size is the target's byte length, mode 0777",
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'much longer content than the target text');
      fs.symlinkSync('fé', p('l'));
      const st = fs.lstatSync(p('l'));
      expect(st.isSymbolicLink()).toBe(true);
      expect(st.isFile()).toBe(false);
      expect(st.mode & fs.constants.S_IFMT).toBe(fs.constants.S_IFLNK);
      expect(st.mode & 0o777).toBe(0o777);
      expect(st.size).toBe(Buffer.byteLength('fé'));
    },
  },
  {
    id: 'links/link',
    title: 'linkSync makes a second name for the same inode: same ino, nlink 2, shared content',
    run({ fs, p }) {
      fs.writeFileSync(p('a'), 'one');
      expect(fs.linkSync(p('a'), p('b'))).toBeUndefined();
      const a = fs.statSync(p('a'));
      const b = fs.statSync(p('b'));
      expect(b.ino).toBe(a.ino);
      expect([a.nlink, b.nlink]).toEqual([2, 2]);
      fs.appendFileSync(p('b'), '+two');
      expect(fs.readFileSync(p('a'), 'utf8')).toBe('one+two');
      fs.unlinkSync(p('a'));
      expect(fs.statSync(p('b')).nlink).toBe(1);
      expect(fs.readFileSync(p('b'), 'utf8')).toBe('one+two');
    },
  },
  {
    id: 'links/link-errors',
    title: 'linkSync throws EEXIST and ENOENT naming both paths',
    run({ fs, p }) {
      fs.writeFileSync(p('a'), '');
      fs.writeFileSync(p('b'), '');
      expectSyncUv(() => fs.linkSync(p('a'), p('b')), {
        code: 'EEXIST',
        syscall: 'link',
        path: p('a'),
        dest: p('b'),
      });
      expectSyncUv(() => fs.linkSync(p('missing'), p('c')), {
        code: 'ENOENT',
        syscall: 'link',
        path: p('missing'),
        dest: p('c'),
      });
    },
  },
  {
    id: 'links/link-dir-eperm',
    title: 'linkSync of a directory throws EPERM',
    run({ fs, p }) {
      fs.mkdirSync(p('d'));
      expectSyncUv(() => fs.linkSync(p('d'), p('e')), {
        code: 'EPERM',
        syscall: 'link',
        path: p('d'),
        dest: p('e'),
      });
    },
  },
  {
    id: 'links/link-to-symlink',
    title: 'linkSync of a symlink links the symlink itself, not its target (Linux)',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      fs.symlinkSync('f', p('s'));
      fs.linkSync(p('s'), p('h'));
      expect(fs.lstatSync(p('h')).isSymbolicLink()).toBe(true);
      expect(fs.lstatSync(p('h')).ino).toBe(fs.lstatSync(p('s')).ino);
      expect(fs.statSync(p('f')).nlink).toBe(1);
    },
  },
  {
    id: 'links/ctime-on-link',
    title: "linkSync moves the inode's ctime, not its mtime",
    async run({ fs, p }) {
      fs.writeFileSync(p('a'), '');
      fs.utimesSync(p('a'), PAST_S, PAST_S);
      const before = fs.statSync(p('a')).ctimeMs;
      await tick();
      fs.linkSync(p('a'), p('b'));
      const st = fs.statSync(p('a'));
      expect(st.ctimeMs).toBeGreaterThan(before);
      expect(st.mtimeMs).toBe(PAST_S * 1000);
    },
  },
  {
    id: 'links/realpath',
    title: "realpathSync resolves symlinks (nested, relative), '.' and '..' to the canonical path",
    run({ fs, p }) {
      fs.mkdirSync(p('real', 'sub'), { recursive: true });
      fs.writeFileSync(p('real', 'sub', 'f'), '');
      fs.symlinkSync('real', p('l1'));
      fs.symlinkSync('l1/sub', p('l2'));
      expect(fs.realpathSync(p('l2', 'f'))).toBe(p('real', 'sub', 'f'));
      expect(fs.realpathSync(`${p('real')}/./sub/../sub/f`)).toBe(p('real', 'sub', 'f'));
      expect(fs.realpathSync(p())).toBe(p());
    },
  },
  {
    id: 'links/realpath-native',
    title: 'realpathSync.native agrees with realpathSync',
    run({ fs, p }) {
      fs.mkdirSync(p('real'));
      fs.symlinkSync(p('real'), p('l'));
      expect(fs.realpathSync.native(p('l'))).toBe(p('real'));
    },
  },
  {
    id: 'links/realpath-enoent',
    title: 'realpathSync of a missing path throws ENOENT from lstat',
    run({ fs, p }) {
      expectSyncUv(() => fs.realpathSync(p('missing')), {
        code: 'ENOENT',
        syscall: 'lstat',
        path: p('missing'),
      });
    },
  },
  {
    id: 'links/realpath-native-enoent',
    title: 'realpathSync.native of a missing path throws ENOENT from realpath',
    run({ fs, p }) {
      expectSyncUv(() => fs.realpathSync.native(p('missing')), {
        code: 'ENOENT',
        syscall: 'realpath',
        path: p('missing'),
      });
    },
  },
  {
    id: 'links/eloop',
    title: 'a symlink loop throws ELOOP from stat and open; lstat still works',
    run({ fs, p }) {
      fs.symlinkSync('b', p('a'));
      fs.symlinkSync('a', p('b'));
      fs.symlinkSync('self', p('self'));
      expect(fs.lstatSync(p('a')).isSymbolicLink()).toBe(true);
      expectSyncUv(() => fs.statSync(p('a')), { code: 'ELOOP', syscall: 'stat', path: p('a') });
      expectSyncUv(() => fs.openSync(p('self'), 'r'), { code: 'ELOOP', syscall: 'open', path: p('self') });
    },
  },
  {
    id: 'links/realpath-loop',
    title:
      "realpathSync of a symlink loop throws ELOOP from stat (Node stats each link); native from 'realpath'",
    run({ fs, p }) {
      fs.symlinkSync('b', p('a'));
      fs.symlinkSync('a', p('b'));
      expectSyncUv(() => fs.realpathSync(p('a')), { code: 'ELOOP', syscall: 'stat', path: p('a') });
      expectSyncUv(() => fs.realpathSync.native(p('a')), {
        code: 'ELOOP',
        syscall: 'realpath',
        path: p('a'),
      });
    },
  },
  {
    id: 'links/eloop-in-path',
    title: 'a symlink loop used as a directory in a path throws ELOOP',
    run({ fs, p }) {
      fs.symlinkSync('loop', p('loop'));
      expectSyncUv(() => fs.readFileSync(p('loop', 'x')), {
        code: 'ELOOP',
        syscall: 'open',
        path: p('loop', 'x'),
      });
      expectSyncUv(() => fs.mkdirSync(p('loop', 'x')), {
        code: 'ELOOP',
        syscall: 'mkdir',
        path: p('loop', 'x'),
      });
    },
  },
  {
    id: 'links/chain-40-ok-41-eloop',
    title: 'a chain of 40 symlinks resolves; 41 throw ELOOP (Linux MAXSYMLINKS)',
    run({ fs, p }) {
      fs.writeFileSync(p('end'), 'reached');
      fs.symlinkSync('end', p('l0'));
      for (let i = 1; i <= 40; i++) fs.symlinkSync(`l${i - 1}`, p(`l${i}`));
      expect(fs.readFileSync(p('l39'), 'utf8')).toBe('reached');
      expectSyncUv(() => fs.readFileSync(p('l40')), { code: 'ELOOP', syscall: 'open', path: p('l40') });
    },
  },
  {
    id: 'links/lutimes',
    title: "lutimesSync sets the link's own times and leaves the target's alone",
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      fs.utimesSync(p('f'), PAST_S, PAST_S);
      fs.symlinkSync('f', p('l'));
      fs.lutimesSync(p('l'), PAST_S + 10, PAST_S + 20);
      const link = fs.lstatSync(p('l'));
      expect([link.atimeMs, link.mtimeMs]).toEqual([(PAST_S + 10) * 1000, (PAST_S + 20) * 1000]);
      const target = fs.statSync(p('l'));
      expect([target.atimeMs, target.mtimeMs]).toEqual([PAST_S * 1000, PAST_S * 1000]);
    },
  },
  {
    id: 'links/utimes-follows',
    title: 'utimesSync and chmodSync through a symlink change the target',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      fs.symlinkSync('f', p('l'));
      fs.utimesSync(p('l'), PAST_S, PAST_S);
      fs.chmodSync(p('l'), 0o604);
      const st = fs.statSync(p('f'));
      expect(st.mtimeMs).toBe(PAST_S * 1000);
      expect(st.mode & 0o777).toBe(0o604);
      expect(fs.lstatSync(p('l')).mode & 0o777).toBe(0o777);
    },
  },
  {
    id: 'links/unlink-symlink',
    title: 'unlinkSync of a symlink removes the link and keeps the target',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'kept');
      fs.symlinkSync('f', p('l'));
      fs.unlinkSync(p('l'));
      expect(fs.readdirSync(p())).toEqual(['f']);
    },
  },
  {
    id: 'links/new-name-trailing-slash',
    title:
      'linkSync and symlinkSync to a missing name with a trailing slash fail ENOENT; an existing one EEXIST',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'x');
      fs.mkdirSync(p('d'));
      expectPairUv((a, b) => fs.linkSync(a, b), 'ENOENT', 'link', p('f'), `${p('q')}/`);
      expectPairUv((a, b) => fs.linkSync(a, b), 'EEXIST', 'link', p('f'), `${p('d')}/`);
      expectPairUv((a, b) => fs.symlinkSync(a, b), 'ENOENT', 'symlink', 'f', `${p('s')}/`);
      expectPairUv((a, b) => fs.symlinkSync(a, b), 'EEXIST', 'symlink', 'f', `${p('f')}/`);
      expect(sorted(fs.readdirSync(p()))).toEqual(['d', 'f']);
    },
  },
  {
    id: 'links/link-order',
    title:
      'linkSync as a non-root user: protected_hardlinks (EPERM), then the directory (EACCES), then a directory source (EPERM)',
    root: true,
    run({ fs, p, asUser }) {
      fs.chmodSync(p(), 0o755);
      fs.mkdirSync(p('ro'));
      fs.mkdirSync(p('w'));
      fs.chmodSync(p('w'), 0o777);
      fs.writeFileSync(p('theirs'), 'x');
      fs.chmodSync(p('theirs'), 0o600);
      asUser({ uid: 65534, gid: 65534 }, (u) => {
        u.mkdirSync(p('w', 'myd'));
        u.writeFileSync(p('w', 'myf'), 'm');
        const link = (a: string, b: string) => u.linkSync(a, b);
        expectPairUv(link, 'EACCES', 'link', p('w', 'myd'), p('ro', 'x')); // own directory, closed dir
        expectPairUv(link, 'EPERM', 'link', p('w', 'myd'), p('w', 'y'));
        expectPairUv(link, 'EPERM', 'link', p('theirs'), p('ro', 'x')); // protected_hardlinks first
        expectPairUv(link, 'EACCES', 'link', p('w', 'myf'), p('ro', 'x'));
      });
      expect(fs.readdirSync(p('ro'))).toEqual([]);
    },
  },
];
