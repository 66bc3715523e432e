import type { Case } from '../case.js';
import { expect } from '../expect.js';
import { expectPairUv, NOBODY, sorted, thrown, type UvShape } from '../helpers.js';
import type { FsLike } from '../target.js';

/** copyFileSync(src, dest, mode) must fail with `code`, naming both paths. */
function copyFails(fs: FsLike, code: UvShape['code'], src: string, dest: string, mode?: number): void {
  expectPairUv((a, b) => fs.copyFileSync(a, b, mode), code, 'copyfile', src, dest);
}

/**
 * copyFile as node:fs does it on Linux (libuv's copyfile): the source is opened, then the
 * destination (so the destination's path errors come before a directory source's EISDIR), then
 * truncated and given the source's exact mode, then filled; a failure after the destination's open
 * unlinks the destination's name.
 */
export const copyCases: Case[] = [
  {
    id: 'copy/dir-source-dest-errors-first',
    title: 'copyFileSync of a directory reports the destination’s ENOENT, ENOTDIR, ELOOP before EISDIR',
    run({ fs, p }) {
      fs.mkdirSync(p('d'));
      fs.writeFileSync(p('f'), 'x');
      fs.symlinkSync('loop', p('loop'));
      const uv = (code: UvShape['code'], src: string, dest: string) => copyFails(fs, code, p(src), p(dest));
      uv('ENOENT', 'd', 'missing/x');
      uv('ENOTDIR', 'd', 'f/x');
      uv('ELOOP', 'd', 'loop');
      uv('EISDIR', 'd', 'new');
      uv('ENOENT', 'nope', 'missing/x'); // the source is opened first
      expect(sorted(fs.readdirSync(p()))).toEqual(['d', 'f', 'loop']); // the failed copy left no 'new'
    },
  },
  {
    id: 'copy/mode-exact',
    title: 'copyFileSync gives the destination the source’s exact mode, umask ignored, also when it exists',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'hello');
      fs.chmodSync(p('f'), 0o777);
      fs.copyFileSync(p('f'), p('new'));
      expect(fs.statSync(p('new')).mode & 0o7777).toBe(0o777);
      fs.writeFileSync(p('old'), 'old and longer', { mode: 0o600 });
      fs.chmodSync(p('old'), 0o600);
      fs.copyFileSync(p('f'), p('old'));
      expect(fs.statSync(p('old')).mode & 0o7777).toBe(0o777);
      expect(fs.readFileSync(p('old'), 'utf8')).toBe('hello');
    },
  },
  {
    id: 'copy/failure-unlinks-dest',
    title: 'a copyFileSync that fails after opening the destination unlinks it, even one that existed',
    run({ fs, p }) {
      fs.mkdirSync(p('d'));
      fs.writeFileSync(p('e'), 'old');
      copyFails(fs, 'EISDIR', p('d'), p('e'));
      expect(fs.existsSync(p('e'))).toBe(false);
    },
  },
  {
    id: 'copy/failure-through-symlink',
    title: 'a failed copyFileSync onto a symlink truncates and re-modes its target and unlinks the link',
    run({ fs, p }) {
      fs.mkdirSync(p('d'));
      fs.chmodSync(p('d'), 0o751);
      fs.writeFileSync(p('f'), 'content');
      fs.symlinkSync('f', p('lf'));
      copyFails(fs, 'EISDIR', p('d'), p('lf'));
      expect(fs.existsSync(p('lf'))).toBe(false);
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('');
      expect(fs.statSync(p('f')).mode & 0o7777).toBe(0o751);
    },
  },
  {
    id: 'copy/dangling-symlink-dest',
    title: 'copyFileSync onto a dangling symlink creates its target; with COPYFILE_EXCL it is EEXIST',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'content');
      fs.symlinkSync('t', p('dl'));
      fs.copyFileSync(p('f'), p('dl'));
      expect(fs.lstatSync(p('dl')).isSymbolicLink()).toBe(true);
      expect(fs.readFileSync(p('t'), 'utf8')).toBe('content');
      fs.symlinkSync('t2', p('dl2'));
      copyFails(fs, 'EEXIST', p('f'), p('dl2'), fs.constants.COPYFILE_EXCL);
      expect(fs.existsSync(p('t2'))).toBe(false);
      // A directory source: the target is made, then the link (not the target) is unlinked.
      fs.mkdirSync(p('d'));
      fs.symlinkSync('t3', p('dl3'));
      copyFails(fs, 'EISDIR', p('d'), p('dl3'));
      expect(sorted(fs.readdirSync(p()))).toEqual(['d', 'dl', 'dl2', 'f', 't', 't3']);
      expect(fs.readFileSync(p('t3'), 'utf8')).toBe('');
    },
  },
  {
    id: 'copy/same-file',
    title: 'copyFileSync onto itself, a symlink to it or a hard link of it changes nothing',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'content');
      fs.symlinkSync('f', p('lf'));
      fs.linkSync(p('f'), p('hl'));
      fs.copyFileSync(p('f'), p('f'));
      fs.copyFileSync(p('f'), p('lf'));
      fs.copyFileSync(p('f'), p('hl'));
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('content');
      expect(fs.lstatSync(p('lf')).isSymbolicLink()).toBe(true);
    },
  },
  {
    id: 'copy/ficlone',
    title:
      'COPYFILE_FICLONE falls back to a copy; COPYFILE_FICLONE_FORCE fails ENOTSUP and unlinks the destination',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'content');
      fs.writeFileSync(p('e'), 'keep');
      fs.copyFileSync(p('f'), p('b'), fs.constants.COPYFILE_FICLONE);
      expect(fs.readFileSync(p('b'), 'utf8')).toBe('content');
      for (const dest of ['a', 'e']) {
        // The message's wording is left out: libuv's says "on socket", and a zufs face may say it plainly.
        const e = thrown(() => fs.copyFileSync(p('f'), p(dest), fs.constants.COPYFILE_FICLONE_FORCE));
        const { code, errno, syscall, path, dest: to } = e as NodeJS.ErrnoException & { dest?: string };
        expect({ code, errno, syscall, path, dest: to }).toEqual({
          code: 'ENOTSUP',
          errno: -95,
          syscall: 'copyfile',
          path: p('f'),
          dest: p(dest),
        });
      }
      expect(sorted(fs.readdirSync(p()))).toEqual(['b', 'f']);
    },
  },
  {
    id: 'copy/trailing-slashes',
    title: 'copyFileSync with a trailing slash: EISDIR on the destination, ENOTDIR on a file source',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'x');
      const uv = (code: UvShape['code'], src: string, dest: string) => copyFails(fs, code, p(src), p(dest));
      uv('EISDIR', 'f', 'new/');
      uv('EISDIR', 'f', 'f/');
      uv('ENOTDIR', 'f/', 'q');
      expect(fs.readdirSync(p())).toEqual(['f']);
    },
  },
  {
    id: 'copy/permissions',
    title:
      'copyFileSync as a non-root user: EACCES on either side, EPERM (and the destination unlinked) for another’s file',
    root: true,
    run({ fs, p, asUser }) {
      fs.chmodSync(p(), 0o777);
      fs.mkdirSync(p('dir'));
      fs.writeFileSync(p('secret'), 's');
      fs.chmodSync(p('secret'), 0o600);
      fs.writeFileSync(p('theirs'), 'theirs');
      fs.chmodSync(p('theirs'), 0o666);
      fs.writeFileSync(p('ro'), 'ro');
      fs.chmodSync(p('ro'), 0o644);
      fs.mkdirSync(p('closed'));
      fs.chmodSync(p('closed'), 0o755);
      fs.mkdirSync(p('sticky'));
      fs.chmodSync(p('sticky'), 0o1777);
      fs.writeFileSync(p('sticky', 'theirs'), 'theirs');
      fs.chmodSync(p('sticky', 'theirs'), 0o666);
      asUser(NOBODY, (u) => {
        u.writeFileSync(p('mine'), 'mine');
        u.chmodSync(p('mine'), 0o604);
        const uv = (code: UvShape['code'], src: string, dest: string) => copyFails(u, code, p(src), p(dest));
        uv('EACCES', 'secret', 'closed/x');
        uv('EACCES', 'mine', 'closed/x');
        uv('EACCES', 'dir', 'closed/x');
        uv('EACCES', 'mine', 'ro');
        uv('EPERM', 'mine', 'theirs');
        uv('EPERM', 'mine', 'sticky/theirs');
        u.copyFileSync(p('mine'), p('copy'));
      });
      expect(fs.existsSync(p('theirs'))).toBe(false); // truncated, fchmod refused, unlinked
      expect(fs.readFileSync(p('sticky', 'theirs'), 'utf8')).toBe(''); // the sticky dir kept it
      expect(fs.statSync(p('copy')).mode & 0o7777).toBe(0o604);
      expect(fs.statSync(p('copy')).uid).toBe(NOBODY.uid);
    },
  },
  {
    id: 'copy/cp-mode-exact',
    title: 'cpSync of a file onto an existing one gives it the source’s exact mode',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'x');
      fs.chmodSync(p('f'), 0o741);
      fs.writeFileSync(p('e'), 'abc', { mode: 0o640 });
      fs.cpSync(p('f'), p('e'));
      expect(fs.statSync(p('e')).mode & 0o7777).toBe(0o741);
      expect(fs.readFileSync(p('e'), 'utf8')).toBe('x');
    },
  },
];
