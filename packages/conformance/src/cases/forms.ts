import type { BigIntStats, Dirent, Stats } from 'node:fs';
import type { Case } from '../case.js';
import { expect } from '../expect.js';
import { cb, cbAll, expectAsyncUv, expectUvError, rejected, sorted } from '../helpers.js';

/** The promises API (fs.promises, FileHandle) and the callback forms not covered elsewhere. */
export const formCases: Case[] = [
  {
    id: 'forms/promises-readfile-writefile',
    title: 'promises.writeFile and readFile round-trip, with encoding and flag options',
    async run({ fs, p }) {
      const fsp = fs.promises;
      expect(await fsp.writeFile(p('f'), 'aGk=', 'base64')).toBeUndefined();
      expect(await fsp.readFile(p('f'), 'utf8')).toBe('hi');
      await fsp.writeFile(p('f'), '!', { flag: 'a' });
      expect((await fsp.readFile(p('f'))).toString()).toBe('hi!');
      await expectAsyncUv(fsp.writeFile(p('f'), 'x', { flag: 'wx' }), {
        code: 'EEXIST',
        syscall: 'open',
        path: p('f'),
      });
    },
  },
  {
    id: 'forms/promises-appendfile',
    title: 'promises.appendFile creates, then appends',
    async run({ fs, p }) {
      await fs.promises.appendFile(p('f'), 'a');
      await fs.promises.appendFile(p('f'), 'b');
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('ab');
    },
  },
  {
    id: 'forms/filehandle-read-write',
    title: 'a FileHandle writes, reads, stats, truncates and closes; its fd is a number',
    async run({ fs, p }) {
      const fh = await fs.promises.open(p('f'), 'w+');
      expect(typeof fh.fd).toBe('number');
      const w = await fh.write('hello world', 0);
      expect(w.bytesWritten).toBe(11);
      const buf = Buffer.alloc(5);
      const r = await fh.read(buf, 0, 5, 6);
      expect(r.bytesRead).toBe(5);
      expect(r.buffer).toBe(buf);
      expect(buf.toString()).toBe('world');
      expect((await fh.stat()).size).toBe(11);
      await fh.truncate(5);
      expect((await fh.stat()).size).toBe(5);
      await fh.close();
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('hello');
    },
  },
  {
    id: 'forms/filehandle-forms-and-close',
    title:
      'FileHandle.read takes options or nothing; a closed handle has fd -1, closes again quietly, reads EBADF',
    async run({ fs, p }) {
      fs.writeFileSync(p('f'), 'hello world');
      const fh = await fs.promises.open(p('f'), 'r+');
      const all = await fh.read();
      expect([all.bytesRead, all.buffer.length]).toEqual([11, 16384]);
      const some = await fh.read({ buffer: Buffer.alloc(5), position: 6 });
      expect([some.bytesRead, some.buffer.toString()]).toEqual([5, 'world']);
      const head = await fh.read(Buffer.alloc(8), { position: 0, length: 4 });
      expect([head.bytesRead, head.buffer.subarray(0, 4).toString()]).toEqual([4, 'hell']);
      expect((await fh.write(Buffer.alloc(0), 5)).bytesWritten).toBe(0);
      await fh.close();
      expect(fh.fd).toBe(-1);
      await fh.close();
      const err = (await rejected(fh.read(Buffer.alloc(2), 0, 2, 0))) as NodeJS.ErrnoException;
      expect([err.code, err.message]).toEqual(['EBADF', 'file closed']);
    },
  },
  {
    id: 'forms/abort-signal',
    title: 'readFile and writeFile with an aborted signal fail with AbortError and change nothing',
    async run({ fs, p }) {
      fs.writeFileSync(p('f'), 'kept');
      const signal = AbortSignal.abort();
      for (const call of [
        fs.promises.readFile(p('f'), { signal }),
        fs.promises.writeFile(p('f'), 'lost', { signal }),
        fs.promises.writeFile(p('new'), 'lost', { signal }),
      ]) {
        const err = (await rejected(call)) as NodeJS.ErrnoException;
        expect([err.name, err.code, err.message]).toEqual([
          'AbortError',
          'ABORT_ERR',
          'The operation was aborted',
        ]);
      }
      const viaCallback = await new Promise<NodeJS.ErrnoException | null>((done) =>
        fs.readFile(p('f'), { signal }, (e) => done(e)),
      );
      expect(viaCallback?.name).toBe('AbortError');
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('kept');
      expect(fs.existsSync(p('new'))).toBe(false);
      // The sync forms take no signal (as Node's).
      expect(fs.readFileSync(p('f'), { encoding: 'utf8', signal } as never)).toBe('kept');
    },
  },
  {
    id: 'forms/filehandle-readfile-writefile',
    title: 'FileHandle.writeFile and readFile work on the open file',
    async run({ fs, p }) {
      const fh = await fs.promises.open(p('f'), 'w+');
      await fh.writeFile('via handle');
      await fh.close();
      const rh = await fs.promises.open(p('f'), 'r');
      expect(await rh.readFile('utf8')).toBe('via handle');
      await rh.close();
    },
  },
  {
    id: 'forms/filehandle-vectors-sync',
    title: 'FileHandle writev, readv, sync, datasync, chmod and utimes',
    async run({ fs, p }) {
      const fh = await fs.promises.open(p('f'), 'w+');
      expect((await fh.writev([Buffer.from('ab'), Buffer.from('cd')], 0)).bytesWritten).toBe(4);
      const out = [Buffer.alloc(1), Buffer.alloc(3)];
      expect((await fh.readv(out, 0)).bytesRead).toBe(4);
      expect(Buffer.concat(out).toString()).toBe('abcd');
      await fh.sync();
      await fh.datasync();
      await fh.chmod(0o600);
      await fh.utimes(1, 2);
      const st = await fh.stat();
      expect([st.mode & 0o777, st.atimeMs, st.mtimeMs]).toEqual([0o600, 1000, 2000]);
      await fh.close();
    },
  },
  {
    id: 'forms/promises-mkdir-readdir',
    title: 'promises.mkdir recursive returns the first created dir; readdir withFileTypes gives Dirents',
    async run({ fs, p }) {
      expect(await fs.promises.mkdir(p('a', 'b'), { recursive: true })).toBe(p('a'));
      await fs.promises.writeFile(p('a', 'f'), '');
      const ents = await fs.promises.readdir(p('a'), { withFileTypes: true });
      expect(sorted(ents.map((e) => `${e.name}:${e.isDirectory()}`))).toEqual(['b:true', 'f:false']);
      expect(sorted(await fs.promises.readdir(p(), { recursive: true }))).toEqual(['a', 'a/b', 'a/f']);
    },
  },
  {
    id: 'forms/promises-stat',
    title: 'promises.stat, lstat (bigint too) and access',
    async run({ fs, p }) {
      await fs.promises.writeFile(p('f'), 'abc');
      await fs.promises.symlink('f', p('l'));
      expect((await fs.promises.stat(p('l'))).size).toBe(3);
      expect((await fs.promises.lstat(p('l'))).isSymbolicLink()).toBe(true);
      const big = await fs.promises.stat(p('f'), { bigint: true });
      expect(big.size).toBe(3n);
      expect(await fs.promises.access(p('f'), fs.constants.R_OK)).toBeUndefined();
      await expectAsyncUv(fs.promises.access(p('missing')), {
        code: 'ENOENT',
        syscall: 'access',
        path: p('missing'),
      });
    },
  },
  {
    id: 'forms/promises-links',
    title: 'promises.symlink, readlink, realpath, link and unlink',
    async run({ fs, p }) {
      const fsp = fs.promises;
      await fsp.writeFile(p('f'), '');
      await fsp.symlink('f', p('l'));
      expect(await fsp.readlink(p('l'))).toBe('f');
      expect(await fsp.realpath(p('l'))).toBe(p('f'));
      await fsp.link(p('f'), p('h'));
      expect((await fsp.stat(p('f'))).nlink).toBe(2);
      await fsp.unlink(p('h'));
      expect((await fsp.stat(p('f'))).nlink).toBe(1);
      await expectAsyncUv(fsp.symlink('x', p('f')), {
        code: 'EEXIST',
        syscall: 'symlink',
        path: 'x',
        dest: p('f'),
      });
    },
  },
  {
    id: 'forms/promises-rename-rm',
    title: 'promises.rename, rmdir and rm recursive',
    async run({ fs, p }) {
      const fsp = fs.promises;
      await fsp.mkdir(p('a', 'b'), { recursive: true });
      await fsp.rename(p('a'), p('c'));
      expect(fs.existsSync(p('c', 'b'))).toBe(true);
      await fsp.rmdir(p('c', 'b'));
      await fsp.writeFile(p('c', 'f'), '');
      await fsp.rm(p('c'), { recursive: true });
      expect(await fsp.readdir(p())).toEqual([]);
      await fsp.rm(p('c'), { force: true });
    },
  },
  {
    id: 'forms/promises-copy',
    title: 'promises.copyFile (COPYFILE_EXCL) and cp recursive',
    async run({ fs, p }) {
      const fsp = fs.promises;
      await fsp.mkdir(p('src'));
      await fsp.writeFile(p('src', 'f'), 'x');
      await fsp.copyFile(p('src', 'f'), p('g'));
      await expectAsyncUv(fsp.copyFile(p('src', 'f'), p('g'), fs.constants.COPYFILE_EXCL), {
        code: 'EEXIST',
        syscall: 'copyfile',
        path: p('src', 'f'),
        dest: p('g'),
      });
      await fsp.cp(p('src'), p('dst'), { recursive: true });
      expect(fs.readFileSync(p('dst', 'f'), 'utf8')).toBe('x');
    },
  },
  {
    id: 'forms/promises-attrs',
    title: 'promises.chmod, chown, utimes, lutimes and truncate',
    async run({ fs, p }) {
      const fsp = fs.promises;
      await fsp.writeFile(p('f'), 'abcdef');
      await fsp.chmod(p('f'), 0o640);
      await fsp.chown(p('f'), process.getuid!(), process.getgid!());
      await fsp.truncate(p('f'), 2);
      await fsp.utimes(p('f'), 10, 20);
      await fsp.symlink('f', p('l'));
      await fsp.lutimes(p('l'), 30, 40);
      const st = fs.statSync(p('f'));
      expect([st.mode & 0o777, st.atimeMs, st.mtimeMs, st.size]).toEqual([0o640, 10_000, 20_000, 2]);
      expect(fs.lstatSync(p('l')).mtimeMs).toBe(40_000);
    },
  },
  {
    id: 'forms/promises-mkdtemp-opendir',
    title: 'promises.mkdtemp and opendir',
    async run({ fs, p }) {
      const d = await fs.promises.mkdtemp(p('t-'));
      expect(d.startsWith(p('t-'))).toBe(true);
      await fs.promises.writeFile(`${d}/x`, '');
      const names: string[] = [];
      for await (const e of await fs.promises.opendir(d)) names.push(e.name);
      expect(names).toEqual(['x']);
    },
  },
  {
    id: 'forms/promises-statfs',
    title: 'promises.statfs gives block counts',
    async run({ fs, p }) {
      const s = await fs.promises.statfs(p());
      expect(s.bsize).toBeGreaterThan(0);
      expect(s.blocks).toBeGreaterThanOrEqual(s.bavail);
    },
  },
  {
    id: 'forms/promises-constants',
    title: 'fs.promises.constants is fs.constants',
    run({ fs }) {
      expect(fs.promises.constants).toEqual(fs.constants);
    },
  },
  {
    id: 'forms/callback-readfile-writefile',
    title: 'writeFile and readFile (callback) round-trip, with an encoding',
    async run({ fs, p }) {
      await cb((done) => fs.writeFile(p('f'), 'cb data', done));
      expect(await cb<string>((done) => fs.readFile(p('f'), 'utf8', done))).toBe('cb data');
      const buf = await cb<Buffer>((done) => fs.readFile(p('f'), done));
      expect(Buffer.isBuffer(buf)).toBe(true);
    },
  },
  {
    id: 'forms/callback-stat',
    title: 'stat, lstat and fstat (callback) give Stats; bigint option respected',
    async run({ fs, p }) {
      fs.writeFileSync(p('f'), 'xy');
      expect((await cb<Stats>((done) => fs.stat(p('f'), done))).size).toBe(2);
      expect((await cb<Stats>((done) => fs.lstat(p('f'), done))).isFile()).toBe(true);
      expect((await cb<BigIntStats>((done) => fs.stat(p('f'), { bigint: true }, done))).size).toBe(2n);
      const fd = fs.openSync(p('f'), 'r');
      expect((await cb<Stats>((done) => fs.fstat(fd, done))).size).toBe(2);
      fs.closeSync(fd);
      expectUvError(await rejected(cb((done) => fs.stat(p('missing'), done))), {
        code: 'ENOENT',
        syscall: 'stat',
        path: p('missing'),
      });
    },
  },
  {
    id: 'forms/callback-dirs',
    title: 'mkdir, mkdtemp, readdir, rmdir (callback)',
    async run({ fs, p }) {
      await cb((done) => fs.mkdir(p('d'), done));
      const t = await cb<string>((done) => fs.mkdtemp(p('t-'), done));
      expect(sorted(await cb<string[]>((done) => fs.readdir(p(), done)))).toEqual(sorted(['d', t.slice(-8)]));
      await cb((done) => fs.rmdir(p('d'), done));
      expectUvError(await rejected(cb((done) => fs.rmdir(p('d'), done))), {
        code: 'ENOENT',
        syscall: 'rmdir',
        path: p('d'),
      });
    },
  },
  {
    id: 'forms/callback-files',
    title: 'rename, copyFile, truncate, unlink (callback)',
    async run({ fs, p }) {
      fs.writeFileSync(p('a'), 'abcdef');
      await cb((done) => fs.rename(p('a'), p('b'), done));
      await cb((done) => fs.copyFile(p('b'), p('c'), done));
      await cb((done) => fs.truncate(p('c'), 3, done));
      await cb((done) => fs.unlink(p('b'), done));
      expect(fs.readdirSync(p())).toEqual(['c']);
      expect(fs.readFileSync(p('c'), 'utf8')).toBe('abc');
      const err = await rejected(cb((done) => fs.copyFile(p('c'), p('c'), fs.constants.COPYFILE_EXCL, done)));
      expectUvError(err, { code: 'EEXIST', syscall: 'copyfile', path: p('c'), dest: p('c') });
    },
  },
  {
    id: 'forms/callback-links',
    title: 'symlink, readlink, realpath, link (callback)',
    async run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      await cb((done) => fs.symlink('f', p('l'), done));
      expect(await cb<string>((done) => fs.readlink(p('l'), done))).toBe('f');
      expect(await cb<string>((done) => fs.realpath(p('l'), done))).toBe(p('f'));
      expect(await cb<string>((done) => fs.realpath.native(p('l'), done))).toBe(p('f'));
      await cb((done) => fs.link(p('f'), p('h'), done));
      expect(fs.statSync(p('h')).nlink).toBe(2);
    },
  },
  {
    id: 'forms/callback-attrs',
    title: 'chmod, chown, utimes, lutimes, access (callback)',
    async run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      fs.symlinkSync('f', p('l'));
      await cb((done) => fs.chmod(p('f'), 0o600, done));
      await cb((done) => fs.chown(p('f'), process.getuid!(), process.getgid!(), done));
      await cb((done) => fs.utimes(p('f'), 5, 6, done));
      await cb((done) => fs.lutimes(p('l'), 7, 8, done));
      await cb((done) => fs.access(p('f'), fs.constants.W_OK, done));
      const st = fs.statSync(p('f'));
      expect([st.mode & 0o777, st.mtimeMs, fs.lstatSync(p('l')).mtimeMs]).toEqual([0o600, 6000, 8000]);
    },
  },
  {
    id: 'forms/callback-fd-calls',
    title: 'fchmod, fchown, ftruncate, futimes (callback)',
    async run({ fs, p }) {
      fs.writeFileSync(p('f'), 'abcdef');
      const fd = fs.openSync(p('f'), 'r+');
      await cb((done) => fs.fchmod(fd, 0o604, done));
      await cb((done) => fs.fchown(fd, process.getuid!(), process.getgid!(), done));
      await cb((done) => fs.ftruncate(fd, 1, done));
      await cb((done) => fs.futimes(fd, 1, 2, done));
      fs.closeSync(fd);
      const st = fs.statSync(p('f'));
      expect([st.mode & 0o777, st.size, st.mtimeMs]).toEqual([0o604, 1, 2000]);
    },
  },
  {
    id: 'forms/callback-statfs-cp',
    title: 'statfs and cp (callback)',
    async run({ fs, p }) {
      const s = await cb<import('node:fs').StatsFs>((done) => fs.statfs(p(), done));
      expect(s.bsize).toBeGreaterThan(0);
      fs.mkdirSync(p('src'));
      fs.writeFileSync(p('src', 'f'), 'x');
      await cb((done) => fs.cp(p('src'), p('dst'), { recursive: true }, done));
      expect(fs.readFileSync(p('dst', 'f'), 'utf8')).toBe('x');
    },
  },
  {
    id: 'forms/callback-errors-async',
    title: 'a failing callback call calls back later with the error, never throws or calls back at once',
    async run({ fs, p }) {
      const calls: [string, (done: (err: NodeJS.ErrnoException | null) => void) => void][] = [
        ['open', (done) => fs.open(p('missing'), 'r', done)],
        ['readFile', (done) => fs.readFile(p('missing'), done)],
        ['mkdir', (done) => fs.mkdir(p('missing', 'x'), done)],
        ['unlink', (done) => fs.unlink(p('missing'), done)],
      ];
      for (const [, start] of calls) {
        const err = (await rejected(cb(start))) as NodeJS.ErrnoException;
        expect(err.code).toBe('ENOENT');
      }
      const dirents = await cbAll((done) => fs.readdir(p(), { withFileTypes: true }, done));
      expect(dirents).toEqual([[] as Dirent[]]);
    },
  },
];
