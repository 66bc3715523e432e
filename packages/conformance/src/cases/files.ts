import type { Case } from '../case.js';
import { expect } from '../expect.js';
import { cb, expectSyncUv, rejected, thrown, tick } from '../helpers.js';

/** Whole-file calls: readFile, writeFile, appendFile, copyFile, truncate, unlink, exists, access. */
export const fileCases: Case[] = [
  {
    id: 'files/writefile-readfile-buffer',
    title: 'writeFileSync a Buffer, readFileSync gives the same bytes as a Buffer',
    run({ fs, p }) {
      const data = Buffer.from([0, 1, 2, 253, 254, 255]);
      expect(fs.writeFileSync(p('f'), data)).toBeUndefined();
      const got = fs.readFileSync(p('f'));
      expect(Buffer.isBuffer(got)).toBe(true);
      expect(got.equals(data)).toBe(true);
    },
  },
  {
    id: 'files/writefile-typed-arrays',
    title: 'writeFileSync accepts a Uint8Array and a DataView',
    run({ fs, p }) {
      fs.writeFileSync(p('u8'), new Uint8Array([104, 105]));
      fs.writeFileSync(p('dv'), new DataView(new Uint8Array([111, 107]).buffer));
      expect(fs.readFileSync(p('u8'), 'latin1')).toBe('hi');
      expect(fs.readFileSync(p('dv'), 'latin1')).toBe('ok');
    },
  },
  {
    id: 'files/readfile-encodings',
    title: 'readFileSync decodes with an encoding given as a string or as an option',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'héllo');
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('héllo');
      expect(fs.readFileSync(p('f'), { encoding: 'hex' })).toBe('68c3a96c6c6f');
      expect(fs.readFileSync(p('f'), { encoding: 'base64' })).toBe('aMOpbGxv');
      expect(fs.readFileSync(p('f'), 'latin1')).toBe('hÃ©llo');
    },
  },
  {
    id: 'files/writefile-encodings',
    title: 'writeFileSync encodes a string with the encoding given',
    run({ fs, p }) {
      fs.writeFileSync(p('a'), 'aGVsbG8=', 'base64');
      fs.writeFileSync(p('b'), '776f726c64', { encoding: 'hex' });
      fs.writeFileSync(p('c'), 'é', 'latin1');
      expect(fs.readFileSync(p('a'), 'utf8')).toBe('hello');
      expect(fs.readFileSync(p('b'), 'utf8')).toBe('world');
      expect([...fs.readFileSync(p('c'))]).toEqual([0xe9]);
    },
  },
  {
    id: 'files/writefile-truncates',
    title: 'writeFileSync over a longer file leaves only the new content',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'a long first version');
      fs.writeFileSync(p('f'), 'short');
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('short');
      expect(fs.statSync(p('f')).size).toBe(5);
    },
  },
  {
    id: 'files/writefile-flag-wx',
    title: "writeFileSync with flag 'wx' creates a new file and fails with EEXIST on an existing one",
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'one', { flag: 'wx' });
      expectSyncUv(() => fs.writeFileSync(p('f'), 'two', { flag: 'wx' }), {
        code: 'EEXIST',
        syscall: 'open',
        path: p('f'),
      });
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('one');
    },
  },
  {
    id: 'files/writefile-flag-a',
    title: "writeFileSync with flag 'a' appends",
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'ab');
      fs.writeFileSync(p('f'), 'cd', { flag: 'a' });
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('abcd');
    },
  },
  {
    id: 'files/writefile-flag-r-plus',
    title: "writeFileSync with flag 'r+' overwrites in place without truncating, and needs the file",
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'abcdef');
      fs.writeFileSync(p('f'), 'XY', { flag: 'r+' });
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('XYcdef');
      expectSyncUv(() => fs.writeFileSync(p('g'), 'x', { flag: 'r+' }), {
        code: 'ENOENT',
        syscall: 'open',
        path: p('g'),
      });
    },
  },
  {
    id: 'files/writefile-mode',
    title: 'writeFileSync applies mode (less the umask) when it creates the file, not when it exists',
    run({ fs, p }) {
      const umask = process.umask();
      fs.writeFileSync(p('f'), 'x', { mode: 0o640 });
      expect(fs.statSync(p('f')).mode & 0o777).toBe(0o640 & ~umask);
      fs.writeFileSync(p('f'), 'y', { mode: 0o600 });
      expect(fs.statSync(p('f')).mode & 0o777).toBe(0o640 & ~umask);
      fs.writeFileSync(p('g'), 'x');
      expect(fs.statSync(p('g')).mode & 0o777).toBe(0o666 & ~umask);
    },
  },
  {
    id: 'files/readfile-enoent',
    title: 'readFileSync of a missing file throws ENOENT from open',
    run({ fs, p }) {
      expectSyncUv(() => fs.readFileSync(p('missing')), {
        code: 'ENOENT',
        syscall: 'open',
        path: p('missing'),
      });
    },
  },
  {
    id: 'files/readfile-dir-eisdir',
    title: 'readFileSync of a directory throws EISDIR from read, without a path',
    run({ fs, p }) {
      fs.mkdirSync(p('d'));
      expectSyncUv(() => fs.readFileSync(p('d')), { code: 'EISDIR', syscall: 'read' });
    },
  },
  {
    id: 'files/readfile-empty',
    title: 'readFileSync of an empty file gives an empty Buffer, or an empty string with an encoding',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      expect(fs.readFileSync(p('f')).length).toBe(0);
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('');
    },
  },
  {
    id: 'files/appendfile',
    title: 'appendFileSync creates the file, then appends; an encoding applies to the data',
    run({ fs, p }) {
      fs.appendFileSync(p('f'), 'ab');
      fs.appendFileSync(p('f'), Buffer.from('cd'));
      fs.appendFileSync(p('f'), '6566', 'hex');
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('abcdef');
    },
  },
  {
    id: 'files/appendfile-callback',
    title: 'appendFile (callback) appends',
    async run({ fs, p }) {
      fs.writeFileSync(p('f'), '1');
      await cb((done) => fs.appendFile(p('f'), '2', done));
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('12');
    },
  },
  {
    id: 'files/copyfile',
    title: 'copyFileSync copies content and permission bits into a new file',
    run({ fs, p }) {
      fs.writeFileSync(p('src'), 'payload');
      fs.chmodSync(p('src'), 0o751);
      expect(fs.copyFileSync(p('src'), p('dst'))).toBeUndefined();
      expect(fs.readFileSync(p('dst'), 'utf8')).toBe('payload');
      expect(fs.statSync(p('dst')).mode & 0o7777).toBe(0o751);
      expect(fs.statSync(p('dst')).ino).not.toBe(fs.statSync(p('src')).ino);
    },
  },
  {
    id: 'files/copyfile-overwrites',
    title: 'copyFileSync replaces the content of an existing destination',
    run({ fs, p }) {
      fs.writeFileSync(p('src'), 'new');
      fs.writeFileSync(p('dst'), 'old and longer');
      fs.copyFileSync(p('src'), p('dst'));
      expect(fs.readFileSync(p('dst'), 'utf8')).toBe('new');
    },
  },
  {
    id: 'files/copyfile-excl',
    title: 'copyFileSync with COPYFILE_EXCL fails with EEXIST naming src and dest',
    run({ fs, p }) {
      fs.writeFileSync(p('src'), 'new');
      fs.writeFileSync(p('dst'), 'old');
      expectSyncUv(() => fs.copyFileSync(p('src'), p('dst'), fs.constants.COPYFILE_EXCL), {
        code: 'EEXIST',
        syscall: 'copyfile',
        path: p('src'),
        dest: p('dst'),
      });
      expect(fs.readFileSync(p('dst'), 'utf8')).toBe('old');
      fs.copyFileSync(p('src'), p('new'), fs.constants.COPYFILE_EXCL);
      expect(fs.readFileSync(p('new'), 'utf8')).toBe('new');
    },
  },
  {
    id: 'files/copyfile-enoent',
    title: 'copyFileSync from a missing source throws ENOENT naming src and dest',
    run({ fs, p }) {
      expectSyncUv(() => fs.copyFileSync(p('missing'), p('dst')), {
        code: 'ENOENT',
        syscall: 'copyfile',
        path: p('missing'),
        dest: p('dst'),
      });
      expect(fs.existsSync(p('dst'))).toBe(false);
    },
  },
  {
    id: 'files/copyfile-follows-symlink',
    title: 'copyFileSync through a symlink copies the target file',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'data');
      fs.symlinkSync('f', p('l'));
      fs.copyFileSync(p('l'), p('copy'));
      expect(fs.lstatSync(p('copy')).isFile()).toBe(true);
      expect(fs.readFileSync(p('copy'), 'utf8')).toBe('data');
    },
  },
  {
    id: 'files/truncate',
    title: 'truncateSync shrinks, then extends with zeros; no length means 0',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'abcdef');
      fs.truncateSync(p('f'), 3);
      expect(fs.readFileSync(p('f'), 'latin1')).toBe('abc');
      fs.truncateSync(p('f'), 6);
      expect([...fs.readFileSync(p('f'))]).toEqual([97, 98, 99, 0, 0, 0]);
      fs.truncateSync(p('f'));
      expect(fs.statSync(p('f')).size).toBe(0);
    },
  },
  {
    id: 'files/truncate-enoent',
    title: 'truncateSync of a missing file throws ENOENT from open',
    run({ fs, p }) {
      expectSyncUv(() => fs.truncateSync(p('missing'), 1), {
        code: 'ENOENT',
        syscall: 'open',
        path: p('missing'),
      });
    },
  },
  {
    id: 'files/unlink',
    title: 'unlinkSync removes a file; a second unlink throws ENOENT',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'x');
      expect(fs.unlinkSync(p('f'))).toBeUndefined();
      expect(fs.existsSync(p('f'))).toBe(false);
      expectSyncUv(() => fs.unlinkSync(p('f')), { code: 'ENOENT', syscall: 'unlink', path: p('f') });
    },
  },
  {
    id: 'files/unlink-dir-eisdir',
    title: 'unlinkSync of a directory throws EISDIR (Linux; POSIX allows EPERM)',
    run({ fs, p }) {
      fs.mkdirSync(p('d'));
      expectSyncUv(() => fs.unlinkSync(p('d')), { code: 'EISDIR', syscall: 'unlink', path: p('d') });
      expect(fs.statSync(p('d')).isDirectory()).toBe(true);
    },
  },
  {
    id: 'files/exists-sync',
    title: 'existsSync is true for files and dirs, false for missing paths, dangling links and bad input',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      fs.mkdirSync(p('d'));
      fs.symlinkSync('nowhere', p('dangling'));
      expect(fs.existsSync(p('f'))).toBe(true);
      expect(fs.existsSync(p('d'))).toBe(true);
      expect(fs.existsSync(p('missing'))).toBe(false);
      expect(fs.existsSync(p('dangling'))).toBe(false);
      expect(fs.existsSync(p('f', 'below'))).toBe(false);
      expect(fs.existsSync('')).toBe(false);
      expect(fs.existsSync(undefined as unknown as string)).toBe(false);
    },
  },
  {
    id: 'files/exists-callback',
    title: 'exists (callback) calls back with a single boolean, never an error',
    async run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      const ask = (q: string) =>
        new Promise<unknown[]>((resolve) => fs.exists(q, (...args: unknown[]) => resolve(args)));
      expect(await ask(p('f'))).toEqual([true]);
      expect(await ask(p('missing'))).toEqual([false]);
    },
  },
  {
    id: 'files/access',
    title: 'accessSync passes for F_OK, R_OK and W_OK on an existing file, throws ENOENT for a missing one',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      const { F_OK, R_OK, W_OK } = fs.constants;
      expect(fs.accessSync(p('f'))).toBeUndefined();
      fs.accessSync(p('f'), F_OK);
      fs.accessSync(p('f'), R_OK | W_OK);
      expectSyncUv(() => fs.accessSync(p('missing'), F_OK), {
        code: 'ENOENT',
        syscall: 'access',
        path: p('missing'),
      });
    },
  },
  {
    id: 'files/access-root-rw',
    title: 'as root, a mode 000 file still passes R_OK|W_OK and can be read and written',
    root: true,
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'secret');
      fs.chmodSync(p('f'), 0);
      fs.accessSync(p('f'), fs.constants.R_OK | fs.constants.W_OK);
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('secret');
      fs.writeFileSync(p('f'), 'changed');
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('changed');
    },
  },
  {
    id: 'files/access-root-exec',
    title:
      'as root, X_OK fails with EACCES on a file with no execute bit, passes with any one, and on any dir',
    root: true,
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '', { mode: 0o644 });
      expectSyncUv(() => fs.accessSync(p('f'), fs.constants.X_OK), {
        code: 'EACCES',
        syscall: 'access',
        path: p('f'),
      });
      fs.chmodSync(p('f'), 0o601);
      fs.accessSync(p('f'), fs.constants.X_OK);
      // Directories differ: root may search any directory, execute bits or not.
      fs.mkdirSync(p('d'));
      fs.chmodSync(p('d'), 0o600);
      fs.accessSync(p('d'), fs.constants.X_OK);
    },
  },
  {
    id: 'files/watch-file',
    title:
      'watchFile polls: a change, a removal (zeroed stats) and a re-creation reach the listener; unwatchFile stops it',
    async run({ fs, p }) {
      type Seen = { size: number; mtimeMs: number; prevSize: number; prevMtimeMs: number };
      const seen: Seen[] = [];
      const listener = (cur: { size: number; mtimeMs: number }, prev: { size: number; mtimeMs: number }) =>
        seen.push({ size: cur.size, mtimeMs: cur.mtimeMs, prevSize: prev.size, prevMtimeMs: prev.mtimeMs });
      /** Waits until the listener has seen `n` changes (polls every 10 ms; gives up after 5 s). */
      const until = async (n: number) => {
        for (let waited = 0; seen.length < n && waited < 5000; waited += 10) await tick(10);
        expect(seen.length).toBe(n);
      };
      fs.writeFileSync(p('f'), 'abc');
      const w = fs.watchFile(p('f'), { interval: 10 }, listener);
      // A watcher left behind keeps the process alive: gone whatever the case's end.
      try {
        expect(typeof w.ref).toBe('function');
        await tick(40);
        expect(seen).toEqual([]);
        fs.appendFileSync(p('f'), 'defg');
        await until(1);
        expect([seen[0].size, seen[0].prevSize]).toEqual([7, 3]);
        fs.unlinkSync(p('f'));
        await until(2);
        expect([seen[1].size, seen[1].mtimeMs, seen[1].prevSize]).toEqual([0, 0, 7]);
        fs.writeFileSync(p('f'), 'back');
        // One change, or two where a poll can land between writeFileSync's create and its write
        // (node:fs polls from libuv's thread pool, beside this thread: a kernel mount): the file
        // seen empty, then whole.
        for (let waited = 0; seen[seen.length - 1].size !== 4 && waited < 5000; waited += 10) await tick(10);
        expect([3, 4]).toContain(seen.length);
        expect(seen[seen.length - 1].size).toBe(4);
        // The previous stats are the last ones a stat gave (libuv's), not the zeroed ones.
        expect([seen[2].prevSize, seen[2].prevMtimeMs]).toEqual([7, seen[0].mtimeMs]);
        if (seen.length === 4) expect([seen[2].size, seen[3].prevSize]).toEqual([0, 0]);
      } finally {
        fs.unwatchFile(p('f'), listener);
      }
      const changes = seen.length;
      fs.writeFileSync(p('f'), 'after the unwatch');
      await tick(60);
      expect(seen.length).toBe(changes);
      // A path missing from the start is reported once, with zeroed stats on both sides.
      const missing: number[] = [];
      fs.watchFile(p('nope'), { interval: 10 }, (cur: { size: number }, prev: { size: number }) =>
        missing.push(cur.size, prev.size),
      );
      await tick(80);
      fs.unwatchFile(p('nope'));
      expect(missing).toEqual([0, 0]);
    },
  },
  {
    id: 'files/watch',
    title:
      'watch reports renames and changes in a directory (not below it unless recursive) and on a file; close and abort stop it',
    async run({ fs, p }) {
      fs.mkdirSync(p('w'));
      fs.writeFileSync(p('w', 'a'), 'x');
      const events = new Set<string>();
      const w = fs.watch(p('w'), (type, name) => events.add(`${type}:${name}`));
      /** Runs `step`, waits for the events (inotify may add more of them: a subset is asked). */
      const expectEvents = async (step: () => void, want: string[]) => {
        events.clear();
        step();
        for (let waited = 0; waited < 5000 && !want.every((e) => events.has(e)); waited += 10) await tick(10);
        expect(want.filter((e) => !events.has(e))).toEqual([]);
      };
      await expectEvents(() => fs.writeFileSync(p('w', 'b'), 'y'), ['rename:b']);
      await expectEvents(() => fs.appendFileSync(p('w', 'a'), 'z'), ['change:a']);
      await expectEvents(() => fs.renameSync(p('w', 'a'), p('w', 'c')), ['rename:a', 'rename:c']);
      await expectEvents(() => fs.unlinkSync(p('w', 'b')), ['rename:b']);
      await expectEvents(() => fs.mkdirSync(p('w', 'd')), ['rename:d']);
      await expectEvents(() => fs.chmodSync(p('w', 'c'), 0o600), ['change:c']);
      events.clear();
      fs.writeFileSync(p('w', 'd', 'inner'), 'below');
      await tick(100);
      expect([...events]).toEqual([]);
      let closed = false;
      w.on('close', () => {
        closed = true;
      });
      w.close();
      expect(closed).toBe(false); // 'close' comes on a later tick
      await tick(1);
      expect(closed).toBe(true);
      // A file: its changes and its removal, names as Buffers when asked.
      fs.writeFileSync(p('w', 'f'), '1');
      const seen = new Set<string>();
      const wf = fs.watch(p('w', 'f'), { encoding: 'buffer' }, (type, name) =>
        seen.add(`${type}:${Buffer.isBuffer(name) ? 'buffer ' : ''}${String(name)}`),
      );
      fs.appendFileSync(p('w', 'f'), '2');
      for (let waited = 0; waited < 5000 && !seen.has('change:buffer f'); waited += 10) await tick(10);
      fs.unlinkSync(p('w', 'f'));
      for (let waited = 0; waited < 5000 && !seen.has('rename:buffer f'); waited += 10) await tick(10);
      expect([seen.has('change:buffer f'), seen.has('rename:buffer f')]).toEqual([true, true]);
      wf.close();
      // recursive: a name deeper down, by its path below the watched directory.
      const deep = new Set<string>();
      const wr = fs.watch(p('w'), { recursive: true }, (type, name) => deep.add(`${type}:${name}`));
      fs.writeFileSync(p('w', 'd', 'deep'), 'x');
      for (let waited = 0; waited < 5000 && !deep.has('rename:d/deep'); waited += 10) await tick(10);
      expect(deep.has('rename:d/deep')).toBe(true);
      wr.close();
      const ac = new AbortController();
      const wa = fs.watch(p('w'), { signal: ac.signal });
      const aborted = new Promise((resolve) => wa.on('close', resolve));
      ac.abort();
      await aborted;
      const err = thrown(() => fs.watch(p('nope'))) as NodeJS.ErrnoException & { filename?: string };
      expect([err.code, err.syscall, err.path, err.filename]).toEqual([
        'ENOENT',
        'watch',
        p('nope'),
        p('nope'),
      ]);
    },
  },
  {
    id: 'files/watch-promises',
    title:
      'promises.watch yields { eventType, filename } until its signal aborts (AbortError); a missing path rejects',
    async run({ fs, p }) {
      fs.mkdirSync(p('w'));
      const ac = new AbortController();
      const got: string[] = [];
      const iterate = (async () => {
        try {
          for await (const e of fs.promises.watch(p('w'), { signal: ac.signal })) {
            got.push(`${e.eventType}:${e.filename}`);
            if (got.includes('rename:x')) ac.abort();
          }
          return 'ended';
        } catch (e) {
          return (e as Error).name;
        }
      })();
      await tick(30);
      fs.writeFileSync(p('w', 'x'), '1');
      expect(await iterate).toBe('AbortError');
      expect(got).toContain('rename:x');
      const missing = fs.promises.watch(p('nope'))[Symbol.asyncIterator]().next();
      const err = (await rejected(missing)) as NodeJS.ErrnoException;
      expect([err.code, err.syscall]).toEqual(['ENOENT', 'watch']);
    },
  },
];
