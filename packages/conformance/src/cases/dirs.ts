import type { Case } from '../case.js';
import { expect } from '../expect.js';
import {
  cb,
  expectSyncUv,
  expectSystemError,
  expectUvError,
  nowFloorMs,
  PAST_S,
  sorted,
  thrown,
  tick,
} from '../helpers.js';

/** Directories: mkdir, mkdtemp, readdir, opendir, rmdir, rm, cp. */
export const dirCases: Case[] = [
  {
    id: 'dirs/mkdir',
    title: 'mkdirSync creates a directory with mode 0777 less the umask and returns undefined',
    run({ fs, p }) {
      expect(fs.mkdirSync(p('d'))).toBeUndefined();
      const st = fs.statSync(p('d'));
      expect(st.isDirectory()).toBe(true);
      expect(st.mode & 0o777).toBe(0o777 & ~process.umask());
    },
  },
  {
    id: 'dirs/mkdir-mode',
    title: 'mkdirSync applies mode (number, octal string, or option) less the umask',
    run({ fs, p }) {
      const umask = process.umask();
      fs.mkdirSync(p('a'), 0o750);
      fs.mkdirSync(p('b'), { mode: 0o700 });
      fs.mkdirSync(p('c'), '711');
      expect(fs.statSync(p('a')).mode & 0o777).toBe(0o750 & ~umask);
      expect(fs.statSync(p('b')).mode & 0o777).toBe(0o700 & ~umask);
      expect(fs.statSync(p('c')).mode & 0o777).toBe(0o711 & ~umask);
    },
  },
  {
    id: 'dirs/mkdir-eexist',
    title: 'mkdirSync over an existing dir or file throws EEXIST',
    run({ fs, p }) {
      fs.mkdirSync(p('d'));
      fs.writeFileSync(p('f'), '');
      expectSyncUv(() => fs.mkdirSync(p('d')), { code: 'EEXIST', syscall: 'mkdir', path: p('d') });
      expectSyncUv(() => fs.mkdirSync(p('f')), { code: 'EEXIST', syscall: 'mkdir', path: p('f') });
    },
  },
  {
    id: 'dirs/mkdir-enoent',
    title: 'mkdirSync under a missing parent throws ENOENT',
    run({ fs, p }) {
      expectSyncUv(() => fs.mkdirSync(p('no', 'd')), {
        code: 'ENOENT',
        syscall: 'mkdir',
        path: p('no', 'd'),
      });
    },
  },
  {
    id: 'dirs/mkdir-recursive-returns-first',
    title: 'mkdirSync recursive returns the first directory it created, undefined when none',
    run({ fs, p }) {
      expect(fs.mkdirSync(p('a', 'b', 'c'), { recursive: true })).toBe(p('a'));
      expect(fs.statSync(p('a', 'b', 'c')).isDirectory()).toBe(true);
      expect(fs.mkdirSync(p('a', 'b', 'c'), { recursive: true })).toBeUndefined();
      expect(fs.mkdirSync(p('a', 'x', 'y'), { recursive: true })).toBe(p('a', 'x'));
    },
  },
  {
    id: 'dirs/mkdir-recursive-over-file',
    title: 'mkdirSync recursive through a file throws ENOTDIR; onto a file throws EEXIST',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      expectSyncUv(() => fs.mkdirSync(p('f', 'x'), { recursive: true }), {
        code: 'ENOTDIR',
        syscall: 'mkdir',
        path: p('f', 'x'),
      });
      expectSyncUv(() => fs.mkdirSync(p('f'), { recursive: true }), {
        code: 'EEXIST',
        syscall: 'mkdir',
        path: p('f'),
      });
    },
  },
  {
    id: 'dirs/mkdir-recursive-callback',
    title: 'mkdir recursive (callback) passes the first created path',
    async run({ fs, p }) {
      expect(await cb<string | undefined>((done) => fs.mkdir(p('a', 'b'), { recursive: true }, done))).toBe(
        p('a'),
      );
      expect(
        await cb<string | undefined>((done) => fs.mkdir(p('a', 'b'), { recursive: true }, done)),
      ).toBeUndefined();
    },
  },
  {
    id: 'dirs/mkdtemp',
    title: 'mkdtempSync creates prefix + 6 characters as a mode 0700 directory, a new one each call',
    run({ fs, p }) {
      const a = fs.mkdtempSync(p('tmp-'));
      const b = fs.mkdtempSync(p('tmp-'));
      for (const d of [a, b]) {
        expect(d.startsWith(p('tmp-'))).toBe(true);
        expect(d.length).toBe(p('tmp-').length + 6);
        expect(d.slice(-6)).toMatch(/^[A-Za-z0-9]{6}$/);
        const st = fs.statSync(d);
        expect(st.isDirectory()).toBe(true);
        expect(st.mode & 0o777).toBe(0o700);
      }
      expect(a).not.toBe(b);
    },
  },
  {
    id: 'dirs/mkdtemp-enoent',
    title: "mkdtempSync under a missing dir throws ENOENT naming the template 'prefixXXXXXX'",
    run({ fs, p }) {
      expectSyncUv(() => fs.mkdtempSync(p('no', 'tmp-')), {
        code: 'ENOENT',
        syscall: 'mkdtemp',
        path: `${p('no', 'tmp-')}XXXXXX`,
      });
    },
  },
  {
    id: 'dirs/readdir',
    title: "readdirSync lists names (no '.' or '..') of files, dirs and links",
    run({ fs, p }) {
      expect(fs.readdirSync(p())).toEqual([]);
      fs.writeFileSync(p('f'), '');
      fs.mkdirSync(p('d'));
      fs.symlinkSync('f', p('l'));
      fs.writeFileSync(p('d', 'inner'), '');
      expect(sorted(fs.readdirSync(p()))).toEqual(['d', 'f', 'l']);
    },
  },
  {
    id: 'dirs/readdir-buffer',
    title: "readdirSync with encoding 'buffer' gives Buffers",
    run({ fs, p }) {
      fs.writeFileSync(p('é'), '');
      const names = fs.readdirSync(p(), { encoding: 'buffer' });
      expect(names.length).toBe(1);
      expect(Buffer.isBuffer(names[0])).toBe(true);
      expect(names[0].toString('utf8')).toBe('é');
    },
  },
  {
    id: 'dirs/readdir-withfiletypes',
    title: 'readdirSync withFileTypes gives Dirents with name, parentPath and the right kind',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      fs.mkdirSync(p('d'));
      fs.symlinkSync('d', p('l'));
      const ents = fs.readdirSync(p(), { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : 1));
      expect(ents.map((e) => e.name)).toEqual(['d', 'f', 'l']);
      expect(ents.map((e) => e.parentPath)).toEqual([p(), p(), p()]);
      expect(ents.map((e) => [e.isDirectory(), e.isFile(), e.isSymbolicLink()])).toEqual([
        [true, false, false],
        [false, true, false],
        [false, false, true],
      ]);
      expect(ents.some((e) => e.isFIFO() || e.isSocket() || e.isBlockDevice() || e.isCharacterDevice())).toBe(
        false,
      );
    },
  },
  {
    id: 'dirs/readdir-recursive',
    title: 'readdirSync recursive lists every entry below, as paths relative to the dir',
    run({ fs, p }) {
      fs.mkdirSync(p('a', 'b'), { recursive: true });
      fs.writeFileSync(p('a', 'b', 'f'), '');
      fs.writeFileSync(p('top'), '');
      expect(sorted(fs.readdirSync(p(), { recursive: true, encoding: 'utf8' }))).toEqual([
        'a',
        'a/b',
        'a/b/f',
        'top',
      ]);
    },
  },
  {
    id: 'dirs/readdir-recursive-withfiletypes',
    title: 'readdirSync recursive withFileTypes gives each Dirent its own parentPath',
    run({ fs, p }) {
      fs.mkdirSync(p('a', 'b'), { recursive: true });
      fs.writeFileSync(p('a', 'b', 'f'), '');
      const ents = fs.readdirSync(p(), { recursive: true, withFileTypes: true });
      const seen = sorted(ents.map((e) => `${e.parentPath}|${e.name}|${e.isDirectory() ? 'd' : 'f'}`));
      expect(seen).toEqual(sorted([`${p()}|a|d`, `${p('a')}|b|d`, `${p('a', 'b')}|f|f`]));
    },
  },
  {
    id: 'dirs/readdir-errors',
    title: 'readdirSync throws ENOENT for a missing dir and ENOTDIR for a file, from scandir',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      expectSyncUv(() => fs.readdirSync(p('missing')), {
        code: 'ENOENT',
        syscall: 'scandir',
        path: p('missing'),
      });
      expectSyncUv(() => fs.readdirSync(p('f')), { code: 'ENOTDIR', syscall: 'scandir', path: p('f') });
    },
  },
  {
    id: 'dirs/readdir-callback',
    title: 'readdir (callback) lists names; withFileTypes gives Dirents',
    async run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      fs.mkdirSync(p('d'));
      expect(sorted(await cb<string[]>((done) => fs.readdir(p(), done)))).toEqual(['d', 'f']);
      const ents = await cb<import('node:fs').Dirent[]>((done) =>
        fs.readdir(p(), { withFileTypes: true }, done),
      );
      expect(sorted(ents.map((e) => `${e.name}:${e.isDirectory()}`))).toEqual(['d:true', 'f:false']);
    },
  },
  {
    id: 'dirs/opendir-readsync',
    title: 'opendirSync reads Dirents one by one until null, has a path, and closes',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      fs.mkdirSync(p('d'));
      const dir = fs.opendirSync(p());
      expect(dir.path).toBe(p());
      const names: string[] = [];
      for (let e = dir.readSync(); e !== null; e = dir.readSync()) {
        expect(e.isDirectory()).toBe(e.name === 'd');
        names.push(e.name);
      }
      expect(sorted(names)).toEqual(['d', 'f']);
      expect(dir.readSync()).toBeNull();
      dir.closeSync();
    },
  },
  {
    id: 'dirs/opendir-async-iteration',
    title: 'for await over opendirSync gives every entry, then closes the Dir',
    async run({ fs, p }) {
      for (const n of ['a', 'b', 'c']) fs.writeFileSync(p(n), '');
      const dir = fs.opendirSync(p());
      const names: string[] = [];
      for await (const e of dir) names.push(e.name);
      expect(sorted(names)).toEqual(['a', 'b', 'c']);
      // The iterator closed the Dir: closing again throws ERR_DIR_CLOSED.
      expect((thrown(() => dir.closeSync()) as NodeJS.ErrnoException).code).toBe('ERR_DIR_CLOSED');
    },
  },
  {
    id: 'dirs/opendir-read-promise',
    title: 'opendir (callback) gives a Dir whose read() and close() return promises',
    async run({ fs, p }) {
      fs.writeFileSync(p('only'), '');
      const dir = await cb<import('node:fs').Dir>((done) => fs.opendir(p(), done));
      const e = await dir.read();
      expect(e?.name).toBe('only');
      expect(e?.isFile()).toBe(true);
      expect(await dir.read()).toBeNull();
      await dir.close();
    },
  },
  {
    id: 'dirs/opendir-errors',
    title: 'opendirSync throws ENOENT for a missing dir and ENOTDIR for a file, from opendir, without a path',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      // Node leaves the path out of opendir's errors (its message ends at the syscall).
      expectSyncUv(() => fs.opendirSync(p('missing')), { code: 'ENOENT', syscall: 'opendir' });
      expectSyncUv(() => fs.opendirSync(p('f')), { code: 'ENOTDIR', syscall: 'opendir' });
    },
  },
  {
    id: 'dirs/rmdir',
    title: 'rmdirSync removes an empty directory',
    run({ fs, p }) {
      fs.mkdirSync(p('d'));
      expect(fs.rmdirSync(p('d'))).toBeUndefined();
      expect(fs.existsSync(p('d'))).toBe(false);
    },
  },
  {
    id: 'dirs/rmdir-errors',
    title: 'rmdirSync throws ENOTEMPTY, ENOTDIR and ENOENT as Linux does',
    run({ fs, p }) {
      fs.mkdirSync(p('d'));
      fs.writeFileSync(p('d', 'f'), '');
      expectSyncUv(() => fs.rmdirSync(p('d')), { code: 'ENOTEMPTY', syscall: 'rmdir', path: p('d') });
      expectSyncUv(() => fs.rmdirSync(p('d', 'f')), { code: 'ENOTDIR', syscall: 'rmdir', path: p('d', 'f') });
      expectSyncUv(() => fs.rmdirSync(p('missing')), {
        code: 'ENOENT',
        syscall: 'rmdir',
        path: p('missing'),
      });
    },
  },
  {
    id: 'dirs/rmdir-symlink-to-dir',
    title: 'rmdirSync of a symlink to a directory throws ENOTDIR and removes nothing',
    run({ fs, p }) {
      fs.mkdirSync(p('d'));
      fs.symlinkSync('d', p('l'));
      expectSyncUv(() => fs.rmdirSync(p('l')), { code: 'ENOTDIR', syscall: 'rmdir', path: p('l') });
      expect(fs.lstatSync(p('l')).isSymbolicLink()).toBe(true);
    },
  },
  {
    id: 'dirs/rmdir-dot-einval',
    title: "rmdirSync of 'dir/.' throws EINVAL",
    run({ fs, p }) {
      fs.mkdirSync(p('d'));
      const dot = `${p('d')}/.`;
      expectSyncUv(() => fs.rmdirSync(dot), { code: 'EINVAL', syscall: 'rmdir', path: dot });
    },
  },
  {
    id: 'dirs/rm-file',
    title: 'rmSync removes a file, and a symlink without touching its target',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      fs.mkdirSync(p('d'));
      fs.writeFileSync(p('d', 'kept'), '');
      fs.symlinkSync('d', p('l'));
      fs.rmSync(p('f'));
      fs.rmSync(p('l'));
      expect(sorted(fs.readdirSync(p()))).toEqual(['d']);
      expect(fs.readdirSync(p('d'))).toEqual(['kept']);
    },
  },
  {
    id: 'dirs/rm-dir-needs-recursive',
    title: 'rmSync of a directory without recursive throws ERR_FS_EISDIR',
    run({ fs, p }) {
      fs.mkdirSync(p('d'));
      expectSystemError(
        thrown(() => fs.rmSync(p('d'))),
        {
          code: 'ERR_FS_EISDIR',
          errno: 21,
          syscall: 'rm',
          path: p('d'),
          message: `Path is a directory: rm returned EISDIR (is a directory) ${p('d')}`,
          info: { code: 'EISDIR', message: 'is a directory' },
        },
      );
      expect(fs.existsSync(p('d'))).toBe(true);
    },
  },
  {
    id: 'dirs/rm-recursive',
    title: 'rmSync recursive removes a whole tree, without following symlinks out of it',
    run({ fs, p }) {
      fs.mkdirSync(p('outside'));
      fs.writeFileSync(p('outside', 'kept'), '');
      fs.mkdirSync(p('t', 'a', 'b'), { recursive: true });
      fs.writeFileSync(p('t', 'a', 'b', 'f'), 'x');
      fs.writeFileSync(p('t', 'g'), 'y');
      fs.symlinkSync(p('outside'), p('t', 'a', 'link'));
      fs.rmSync(p('t'), { recursive: true });
      expect(fs.existsSync(p('t'))).toBe(false);
      expect(fs.readdirSync(p('outside'))).toEqual(['kept']);
    },
  },
  {
    id: 'dirs/rm-force',
    title: 'rmSync of a missing path throws ENOENT (from lstat) unless force',
    run({ fs, p }) {
      expectSyncUv(() => fs.rmSync(p('missing')), { code: 'ENOENT', syscall: 'lstat', path: p('missing') });
      expect(fs.rmSync(p('missing'), { force: true })).toBeUndefined();
      expect(fs.rmSync(p('missing'), { force: true, recursive: true })).toBeUndefined();
    },
  },
  {
    id: 'dirs/rm-callback',
    title: 'rm (callback) recursive removes a tree',
    async run({ fs, p }) {
      fs.mkdirSync(p('t', 'a'), { recursive: true });
      fs.writeFileSync(p('t', 'a', 'f'), '');
      await cb((done) => fs.rm(p('t'), { recursive: true }, done));
      expect(fs.existsSync(p('t'))).toBe(false);
    },
  },
  {
    id: 'dirs/cp-recursive',
    title: 'cpSync recursive copies a tree of dirs and files',
    run({ fs, p }) {
      fs.mkdirSync(p('src', 'a', 'b'), { recursive: true });
      fs.writeFileSync(p('src', 'top'), 'T');
      fs.writeFileSync(p('src', 'a', 'b', 'deep'), 'D');
      fs.cpSync(p('src'), p('dst'), { recursive: true });
      expect(sorted(fs.readdirSync(p('dst'), { recursive: true, encoding: 'utf8' }))).toEqual([
        'a',
        'a/b',
        'a/b/deep',
        'top',
      ]);
      expect(fs.readFileSync(p('dst', 'a', 'b', 'deep'), 'utf8')).toBe('D');
      expect(fs.readFileSync(p('src', 'top'), 'utf8')).toBe('T');
    },
  },
  {
    id: 'dirs/cp-file',
    title: 'cpSync copies a single file, overwriting by default, and keeps the old one with force: false',
    run({ fs, p }) {
      fs.writeFileSync(p('a'), 'A');
      fs.cpSync(p('a'), p('b'));
      expect(fs.readFileSync(p('b'), 'utf8')).toBe('A');
      fs.writeFileSync(p('a'), 'A2');
      fs.cpSync(p('a'), p('b'), { force: false });
      expect(fs.readFileSync(p('b'), 'utf8')).toBe('A');
      fs.cpSync(p('a'), p('b'));
      expect(fs.readFileSync(p('b'), 'utf8')).toBe('A2');
    },
  },
  {
    id: 'dirs/cp-dir-needs-recursive',
    title: 'cpSync of a directory without recursive throws ERR_FS_EISDIR (with errno EINVAL, as Node does)',
    run({ fs, p }) {
      fs.mkdirSync(p('src'));
      const detail = `${p('src')} is a directory (not copied)`;
      expectSystemError(
        thrown(() => fs.cpSync(p('src'), p('dst'))),
        {
          code: 'ERR_FS_EISDIR',
          errno: 22,
          syscall: 'cp',
          path: p('src'),
          message: `Path is a directory: cp returned EISDIR (${detail}) ${p('src')}`,
          info: { code: 'EISDIR', message: detail },
        },
      );
      expect(fs.existsSync(p('dst'))).toBe(false);
    },
  },
  {
    id: 'dirs/cp-error-on-exist',
    title: 'cpSync with force: false and errorOnExist throws ERR_FS_CP_EEXIST',
    run({ fs, p }) {
      fs.writeFileSync(p('a'), 'A');
      fs.writeFileSync(p('b'), 'B');
      const detail = `${p('b')} already exists`;
      expectSystemError(
        thrown(() => fs.cpSync(p('a'), p('b'), { force: false, errorOnExist: true })),
        {
          code: 'ERR_FS_CP_EEXIST',
          errno: 17,
          syscall: 'cp',
          path: p('b'),
          message: `Target already exists: cp returned EEXIST (${detail}) ${p('b')}`,
          info: { code: 'EEXIST', message: detail },
        },
      );
      expect(fs.readFileSync(p('b'), 'utf8')).toBe('B');
    },
  },
  {
    id: 'dirs/cp-link-onto-link',
    title: 'cpSync of a symlink onto a symlink replaces it, but fails ENOENT (stat) when the old one dangles',
    run({ fs, p }) {
      fs.writeFileSync(p('t'), 'T');
      fs.symlinkSync('t', p('live'));
      fs.symlinkSync('gone', p('dangling'));
      fs.symlinkSync('nowhere', p('src'));
      // As Node: the destination link's target is stat()ed before it is replaced.
      expectUvError(
        thrown(() => fs.cpSync(p('src'), p('dangling'))),
        {
          code: 'ENOENT',
          syscall: 'stat',
          path: p('dangling'),
        },
      );
      expect(fs.readlinkSync(p('dangling'))).toBe('gone');
      fs.cpSync(p('src'), p('live'));
      expect(fs.readlinkSync(p('live'))).toBe(p('nowhere'));
    },
  },
  {
    id: 'dirs/cp-into-itself',
    title: 'cpSync of a dir into its own subtree throws ERR_FS_CP_EINVAL',
    run({ fs, p }) {
      fs.mkdirSync(p('src'));
      fs.writeFileSync(p('src', 'f'), '');
      const detail = `cannot copy ${p('src')} to a subdirectory of self ${p('src', 'sub')}`;
      expectSystemError(
        thrown(() => fs.cpSync(p('src'), p('src', 'sub'), { recursive: true })),
        {
          code: 'ERR_FS_CP_EINVAL',
          errno: 22,
          syscall: 'cp',
          path: p('src', 'sub'),
          message: `Invalid src or dest: cp returned EINVAL (${detail}) ${p('src', 'sub')}`,
          info: { code: 'EINVAL', message: detail },
        },
      );
      expect(fs.existsSync(p('src', 'sub'))).toBe(false);
    },
  },
  {
    id: 'dirs/cp-symlinks',
    title: 'cpSync copies symlinks as symlinks, a relative target made absolute unless verbatimSymlinks',
    run({ fs, p }) {
      fs.mkdirSync(p('src'));
      fs.writeFileSync(p('src', 'f'), 'x');
      fs.symlinkSync('f', p('src', 'l'));
      fs.cpSync(p('src'), p('dst'), { recursive: true });
      expect(fs.lstatSync(p('dst', 'l')).isSymbolicLink()).toBe(true);
      expect(fs.readlinkSync(p('dst', 'l'))).toBe(p('src', 'f'));
      fs.cpSync(p('src'), p('verbatim'), { recursive: true, verbatimSymlinks: true });
      expect(fs.readlinkSync(p('verbatim', 'l'))).toBe('f');
    },
  },
  {
    id: 'dirs/nlink',
    title: 'a directory has nlink 2, plus one per subdirectory; files do not count',
    run({ fs, p }) {
      fs.mkdirSync(p('d'));
      expect(fs.statSync(p('d')).nlink).toBe(2);
      fs.mkdirSync(p('d', 'a'));
      fs.mkdirSync(p('d', 'b'));
      fs.writeFileSync(p('d', 'f'), '');
      expect(fs.statSync(p('d')).nlink).toBe(4);
      fs.rmdirSync(p('d', 'a'));
      expect(fs.statSync(p('d')).nlink).toBe(3);
    },
  },
  {
    id: 'dirs/mtime-on-entries',
    title: "adding or removing an entry moves the directory's mtime and ctime",
    run({ fs, p }) {
      fs.mkdirSync(p('d'));
      fs.utimesSync(p('d'), PAST_S, PAST_S);
      const floor = nowFloorMs();
      fs.writeFileSync(p('d', 'f'), '');
      let st = fs.statSync(p('d'));
      expect(st.mtimeMs).toBeGreaterThan(floor);
      expect(st.ctimeMs).toBeGreaterThan(floor);
      fs.utimesSync(p('d'), PAST_S, PAST_S);
      fs.unlinkSync(p('d', 'f'));
      st = fs.statSync(p('d'));
      expect(st.mtimeMs).toBeGreaterThan(floor);
      expect(st.atimeMs).toBe(PAST_S * 1000);
    },
  },
  {
    id: 'dirs/readdir-recursive-symlinks',
    title:
      'recursive readdir of names goes into symlinked directories (Node stats each name); Dirents do not',
    run({ fs, p }) {
      fs.mkdirSync(p('t', 'a', 'b'), { recursive: true });
      fs.writeFileSync(p('t', 'a', 'f'), '');
      fs.writeFileSync(p('t', 'a', 'b', 'g'), '');
      fs.symlinkSync('a', p('t', 'ld'));
      fs.symlinkSync('nowhere', p('t', 'dangling'));
      expect(sorted(fs.readdirSync(p('t'), { recursive: true }) as string[])).toEqual([
        'a',
        'a/b',
        'a/b/g',
        'a/f',
        'dangling',
        'ld',
        'ld/b',
        'ld/b/g',
        'ld/f',
      ]);
      const ents = fs.readdirSync(p('t'), { recursive: true, withFileTypes: true });
      expect(sorted(ents.map((d) => `${d.parentPath.slice(p().length)}/${d.name}`))).toEqual([
        '/t/a',
        '/t/a/b',
        '/t/a/b/g',
        '/t/a/f',
        '/t/dangling',
        '/t/ld',
      ]);
    },
  },
  {
    id: 'dirs/cp-filter-and-kinds',
    title:
      'cpSync asks the filter for every entry (src, dest); refuses same file, dir over file, file over dir',
    run({ fs, p }) {
      fs.mkdirSync(p('d', 'sub'), { recursive: true });
      fs.writeFileSync(p('d', 'sub', 'g'), 'g');
      fs.writeFileSync(p('d', 'h'), 'h');
      fs.writeFileSync(p('f'), 'f');
      const asked: string[] = [];
      fs.cpSync(p('d'), p('e'), {
        recursive: true,
        filter: (s: string, d: string) => {
          asked.push(`${s.slice(p().length)}>${d.slice(p().length)}`);
          return !s.endsWith('h');
        },
      });
      expect(sorted(asked)).toEqual(['/d/h>/e/h', '/d/sub/g>/e/sub/g', '/d/sub>/e/sub', '/d>/e']);
      expect(sorted(fs.readdirSync(p('e'), { recursive: true }) as string[])).toEqual(['sub', 'sub/g']);
      const cp = (s: string, d: string) => thrown(() => fs.cpSync(s, d, { recursive: true }));
      expectSystemError(cp(p('f'), p('f')), {
        code: 'ERR_FS_CP_EINVAL',
        errno: 22,
        syscall: 'cp',
        path: p('f'),
        message: `Invalid src or dest: cp returned EINVAL (src and dest cannot be the same) ${p('f')}`,
        info: { code: 'EINVAL', message: 'src and dest cannot be the same' },
      });
      const dirOverFile = `cannot overwrite non-directory ${p('f')} with directory ${p('d')}`;
      expectSystemError(cp(p('d'), p('f')), {
        code: 'ERR_FS_CP_DIR_TO_NON_DIR',
        errno: 21,
        syscall: 'cp',
        path: p('f'),
        message: `Cannot overwrite non-directory with directory: cp returned EISDIR (${dirOverFile}) ${p('f')}`,
        info: { code: 'EISDIR', message: dirOverFile },
      });
      const fileOverDir = `cannot overwrite directory ${p('d')} with non-directory ${p('f')}`;
      expectSystemError(cp(p('f'), p('d')), {
        code: 'ERR_FS_CP_NON_DIR_TO_DIR',
        errno: 20,
        syscall: 'cp',
        path: p('d'),
        message: `Cannot overwrite directory with non-directory: cp returned ENOTDIR (${fileOverDir}) ${p('d')}`,
        info: { code: 'ENOTDIR', message: fileOverDir },
      });
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('f');
    },
  },
  {
    id: 'dirs/cp-async-filter',
    title: 'promises.cp and cp (callback) take a filter that answers with a promise',
    async run({ fs, p }) {
      fs.mkdirSync(p('d', 'sub'), { recursive: true });
      fs.writeFileSync(p('d', 'keep'), 'k');
      fs.writeFileSync(p('d', 'skip'), 's');
      fs.writeFileSync(p('d', 'sub', 'inner'), 'i');
      const filter = async (src: string) => {
        await tick(1);
        return !src.endsWith('skip');
      };
      await fs.promises.cp(p('d'), p('e'), { recursive: true, filter });
      expect(sorted(fs.readdirSync(p('e'), { recursive: true }) as string[])).toEqual([
        'keep',
        'sub',
        'sub/inner',
      ]);
      await cb((done) => fs.cp(p('d'), p('f'), { recursive: true, filter }, done));
      expect(sorted(fs.readdirSync(p('f'), { recursive: true }) as string[])).toEqual([
        'keep',
        'sub',
        'sub/inner',
      ]);
    },
  },
];
