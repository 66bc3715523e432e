import { pathToFileURL } from 'node:url';
import type { Case } from '../case.js';
import { expect } from '../expect.js';
import { cb, expectAsyncUv, expectSyncUv, expectUvError, NOBODY, rejected, thrown } from '../helpers.js';

/** Error shapes and Linux path semantics: ENOTDIR, trailing slashes, name limits, permissions. */
export const errorCases: Case[] = [
  {
    id: 'errors/shape-sync',
    title: 'a sync failure throws an Error with errno, code, syscall, path and the Node message',
    run({ fs, p }) {
      const err = thrown(() => fs.openSync(p('missing'), 'r'));
      expectUvError(err, { code: 'ENOENT', syscall: 'open', path: p('missing') });
      expect((err as Error).message).toBe(`ENOENT: no such file or directory, open '${p('missing')}'`);
      expect((err as NodeJS.ErrnoException).errno).toBe(-2);
    },
  },
  {
    id: 'errors/shape-callback',
    title: 'a callback failure passes the same error shape as the sync form throws',
    async run({ fs, p }) {
      const err = await rejected(cb<number>((done) => fs.open(p('missing'), 'r', done)));
      expectUvError(err, { code: 'ENOENT', syscall: 'open', path: p('missing') });
    },
  },
  {
    id: 'errors/shape-promise',
    title: 'a promises failure rejects with the same error shape as the sync form throws',
    async run({ fs, p }) {
      await expectAsyncUv(fs.promises.open(p('missing'), 'r'), {
        code: 'ENOENT',
        syscall: 'open',
        path: p('missing'),
      });
      await expectAsyncUv(fs.promises.readFile(p('missing')), {
        code: 'ENOENT',
        syscall: 'open',
        path: p('missing'),
      });
    },
  },
  {
    id: 'errors/shape-two-paths',
    title: "a two-path failure names both: 'src' -> 'dest', in all three forms",
    async run({ fs, p }) {
      const shape = { code: 'ENOENT', syscall: 'rename', path: p('a'), dest: p('b') } as const;
      expectSyncUv(() => fs.renameSync(p('a'), p('b')), shape);
      expectUvError(await rejected(cb((done) => fs.rename(p('a'), p('b'), done))), shape);
      await expectAsyncUv(fs.promises.rename(p('a'), p('b')), shape);
    },
  },
  {
    id: 'errors/enotdir-file-as-dir',
    title: 'a file used as a directory in a path gives ENOTDIR',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      expectSyncUv(() => fs.readFileSync(p('f', 'x')), {
        code: 'ENOTDIR',
        syscall: 'open',
        path: p('f', 'x'),
      });
      expectSyncUv(() => fs.writeFileSync(p('f', 'x'), ''), {
        code: 'ENOTDIR',
        syscall: 'open',
        path: p('f', 'x'),
      });
      expectSyncUv(() => fs.mkdirSync(p('f', 'x')), { code: 'ENOTDIR', syscall: 'mkdir', path: p('f', 'x') });
      expectSyncUv(() => fs.statSync(p('f', 'x', 'y')), {
        code: 'ENOTDIR',
        syscall: 'stat',
        path: p('f', 'x', 'y'),
      });
    },
  },
  {
    id: 'errors/dotdot-not-lexical',
    title: "'file/../x' is not shortened: the kernel walks through the file and gives ENOTDIR",
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      fs.writeFileSync(p('x'), '');
      const q = `${p('f')}/../x`;
      expectSyncUv(() => fs.statSync(q), { code: 'ENOTDIR', syscall: 'stat', path: q });
    },
  },
  {
    id: 'errors/trailing-slash-file',
    title: "a trailing slash on a file's name gives ENOTDIR (stat, lstat, open, unlink)",
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      const q = `${p('f')}/`;
      expectSyncUv(() => fs.statSync(q), { code: 'ENOTDIR', syscall: 'stat', path: q });
      expectSyncUv(() => fs.lstatSync(q), { code: 'ENOTDIR', syscall: 'lstat', path: q });
      expectSyncUv(() => fs.openSync(q, 'r'), { code: 'ENOTDIR', syscall: 'open', path: q });
      expectSyncUv(() => fs.unlinkSync(q), { code: 'ENOTDIR', syscall: 'unlink', path: q });
      expect(fs.existsSync(q)).toBe(false);
    },
  },
  {
    id: 'errors/trailing-slash-create',
    title: "creating a file at 'name/' gives EISDIR",
    run({ fs, p }) {
      const q = `${p('new')}/`;
      expectSyncUv(() => fs.writeFileSync(q, 'x'), { code: 'EISDIR', syscall: 'open', path: q });
      expect(fs.existsSync(p('new'))).toBe(false);
    },
  },
  {
    id: 'errors/trailing-slash-dir',
    title: "a trailing slash on a directory is fine, and mkdir 'name/' creates 'name'",
    run({ fs, p }) {
      fs.mkdirSync(`${p('d')}/`);
      expect(fs.statSync(`${p('d')}/`).isDirectory()).toBe(true);
      expect(fs.readdirSync(`${p()}/`)).toEqual(['d']);
      fs.rmdirSync(`${p('d')}/`);
      expect(fs.existsSync(p('d'))).toBe(false);
    },
  },
  {
    id: 'errors/trailing-slash-rename',
    title: 'renaming a file to or from a trailing-slash name gives ENOTDIR',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      expectSyncUv(() => fs.renameSync(p('f'), `${p('g')}/`), {
        code: 'ENOTDIR',
        syscall: 'rename',
        path: p('f'),
        dest: `${p('g')}/`,
      });
      expectSyncUv(() => fs.renameSync(`${p('f')}/`, p('g')), {
        code: 'ENOTDIR',
        syscall: 'rename',
        path: `${p('f')}/`,
        dest: p('g'),
      });
    },
  },
  {
    id: 'errors/name-255-ok',
    title: 'a 255-byte name works',
    run({ fs, p }) {
      const name = 'n'.repeat(255);
      fs.writeFileSync(p(name), 'ok');
      expect(fs.readdirSync(p())).toEqual([name]);
    },
  },
  {
    id: 'errors/enametoolong-component',
    title: 'a 256-byte name gives ENAMETOOLONG, whether or not it exists or is being created',
    run({ fs, p }) {
      const q = p('n'.repeat(256));
      expectSyncUv(() => fs.writeFileSync(q, ''), { code: 'ENAMETOOLONG', syscall: 'open', path: q });
      expectSyncUv(() => fs.statSync(q), { code: 'ENAMETOOLONG', syscall: 'stat', path: q });
      expectSyncUv(() => fs.mkdirSync(q), { code: 'ENAMETOOLONG', syscall: 'mkdir', path: q });
    },
  },
  {
    id: 'errors/enametoolong-multibyte',
    title: 'the name limit counts bytes: 128 two-byte characters are too long',
    run({ fs, p }) {
      const q = p('é'.repeat(128));
      expectSyncUv(() => fs.writeFileSync(q, ''), { code: 'ENAMETOOLONG', syscall: 'open', path: q });
      fs.writeFileSync(p('é'.repeat(127)), '');
    },
  },
  {
    id: 'errors/enametoolong-path',
    title: 'a path of 4096 bytes or more gives ENAMETOOLONG',
    run({ fs, p }) {
      const q = p(`${'d/'.repeat(2100)}f`);
      expectSyncUv(() => fs.statSync(q), { code: 'ENAMETOOLONG', syscall: 'stat', path: q });
    },
  },
  {
    id: 'errors/eisdir-open-write',
    title: 'opening a directory for writing gives EISDIR',
    run({ fs, p }) {
      fs.mkdirSync(p('d'));
      expectSyncUv(() => fs.openSync(p('d'), 'w'), { code: 'EISDIR', syscall: 'open', path: p('d') });
      expectSyncUv(() => fs.openSync(p('d'), 'r+'), { code: 'EISDIR', syscall: 'open', path: p('d') });
      expectSyncUv(() => fs.writeFileSync(p('d'), 'x'), { code: 'EISDIR', syscall: 'open', path: p('d') });
    },
  },
  {
    id: 'errors/mkdir-root-eexist',
    title: "mkdirSync of the working dir (which exists) gives EEXIST; so does 'dir/.'",
    run({ fs, p, root }) {
      expectSyncUv(() => fs.mkdirSync(root), { code: 'EEXIST', syscall: 'mkdir', path: root });
      const dot = `${p()}/.`;
      expectSyncUv(() => fs.mkdirSync(dot), { code: 'EEXIST', syscall: 'mkdir', path: dot });
    },
  },
  {
    id: 'errors/empty-path',
    title: "an empty path gives ENOENT with path ''",
    run({ fs }) {
      expectSyncUv(() => fs.statSync(''), { code: 'ENOENT', syscall: 'stat', path: '' });
      expectSyncUv(() => fs.openSync('', 'r'), { code: 'ENOENT', syscall: 'open', path: '' });
    },
  },
  {
    id: 'errors/null-byte',
    title: 'a path with a NUL byte is refused before any call: ERR_INVALID_ARG_VALUE, even in callback form',
    run({ fs, p }) {
      const bad = `${p('a')}\0b`;
      for (const call of [() => fs.statSync(bad), () => fs.stat(bad, () => {}), () => fs.readFileSync(bad)]) {
        const err = thrown(call) as NodeJS.ErrnoException;
        expect(err).toBeInstanceOf(TypeError);
        expect(err.code).toBe('ERR_INVALID_ARG_VALUE');
      }
    },
  },
  {
    id: 'errors/invalid-args',
    title: 'bad argument types throw ERR_INVALID_ARG_TYPE synchronously, also for callback forms',
    run({ fs, p }) {
      const bad = [
        () => fs.readFileSync(true as unknown as string),
        () => fs.closeSync('3' as unknown as number),
        () => fs.readFile(p('x'), undefined as unknown as () => void),
      ];
      for (const call of bad) {
        const err = thrown(call) as NodeJS.ErrnoException;
        expect(err).toBeInstanceOf(TypeError);
        expect(err.code).toBe('ERR_INVALID_ARG_TYPE');
      }
    },
  },
  {
    id: 'errors/read-write-ranges',
    title: 'read and write check offset, length and position as Node does, before any byte moves',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'x'.repeat(100));
      const fd = fs.openSync(p('f'), 'r+');
      const buf = Buffer.alloc(16);
      // [call, error class, code, message]: the same text as node:fs, nothing read or written.
      const bad: [() => unknown, ErrorConstructor | RangeErrorConstructor, string, string][] = [
        [
          () => fs.readSync(fd, buf, 4, 20, 0),
          RangeError,
          'ERR_OUT_OF_RANGE',
          'The value of "length" is out of range. It must be <= 12. Received 20',
        ],
        [
          () => fs.readSync(fd, buf, -1, 4, 0),
          RangeError,
          'ERR_OUT_OF_RANGE',
          'The value of "offset" is out of range. It must be >= 0 && <= 9007199254740991. Received -1',
        ],
        [
          () => fs.readSync(fd, buf, 1.5, 4, 0),
          RangeError,
          'ERR_OUT_OF_RANGE',
          'The value of "offset" is out of range. It must be an integer. Received 1.5',
        ],
        [
          () => fs.readSync(fd, buf, 0, -1, 0),
          RangeError,
          'ERR_OUT_OF_RANGE',
          'The value of "length" is out of range. It must be >= 0. Received -1',
        ],
        [
          () => fs.readSync(fd, buf, 0, 4, -2),
          RangeError,
          'ERR_OUT_OF_RANGE',
          'The value of "position" is out of range. It must be >= -1 && <= 9007199254740991. Received -2',
        ],
        [
          () => fs.readSync(fd, buf, 0, 4, 2 ** 53),
          RangeError,
          'ERR_OUT_OF_RANGE',
          'The value of "position" is out of range. It must be >= -1 && <= 9007199254740991. Received 9_007_199_254_740_992',
        ],
        [
          () => fs.readSync(fd, buf, 0, 4, '3' as unknown as number),
          TypeError,
          'ERR_INVALID_ARG_TYPE',
          `The "position" argument must be of type bigint or integer. Received type string ('3')`,
        ],
        [
          () => fs.readSync(fd, buf, { offset: 20 }),
          RangeError,
          'ERR_OUT_OF_RANGE',
          'The value of "length" is out of range. It must be >= 0. Received -4',
        ],
        [
          () => fs.readSync(fd, Buffer.alloc(0), 0, 1, 0),
          TypeError,
          'ERR_INVALID_ARG_VALUE',
          "The argument 'buffer' is empty and cannot be written. Received <Buffer >",
        ],
        [
          () => fs.writeSync(fd, buf, 20, 1, 0),
          RangeError,
          'ERR_OUT_OF_RANGE',
          'The value of "offset" is out of range. It must be <= 16. Received 20',
        ],
        [
          () => fs.writeSync(fd, buf, 4, 20, 0),
          RangeError,
          'ERR_OUT_OF_RANGE',
          'The value of "length" is out of range. It must be <= 12. Received 20',
        ],
        [
          () => fs.writeSync(fd, buf, 0, -1, 0),
          RangeError,
          'ERR_OUT_OF_RANGE',
          'The value of "length" is out of range. It must be >= 0. Received -1',
        ],
        [
          () => fs.writeSync(fd, buf, 0, 1.5, 0),
          RangeError,
          'ERR_OUT_OF_RANGE',
          'The value of "length" is out of range. It must be an integer. Received 1.5',
        ],
        [
          () => fs.writeSync(fd, buf, '1' as unknown as number, 4, 0),
          TypeError,
          'ERR_INVALID_ARG_TYPE',
          `The "offset" argument must be of type number. Received type string ('1')`,
        ],
        [
          () => fs.fstatSync(-1),
          RangeError,
          'ERR_OUT_OF_RANGE',
          'The value of "fd" is out of range. It must be >= 0 && <= 2147483647. Received -1',
        ],
      ];
      for (const [call, cls, code, message] of bad) {
        const err = thrown(call) as NodeJS.ErrnoException;
        expect(err).toBeInstanceOf(cls);
        expect([err.code, err.message]).toEqual([code, message]);
      }
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('x'.repeat(100));
      // What Node lets through: a fractional length is cut to an int32, a write at a fraction or a
      // bigint position goes to the file position; a read takes a bigint position.
      expect(fs.readSync(fd, buf, 0, 4.7, 0)).toBe(4);
      expect(fs.writeSync(fd, Buffer.from('A'), 0, 1, 5.5)).toBe(1);
      expect(fs.writeSync(fd, Buffer.from('B'), 0, 1, 3n as unknown as number)).toBe(1);
      expect(fs.readFileSync(p('f'), 'utf8').slice(0, 3)).toBe('ABx');
      expect(fs.readSync(fd, buf, 0, 2, 1n as unknown as number)).toBe(2);
      expect(buf.subarray(0, 2).toString()).toBe('Bx');
      fs.closeSync(fd);
    },
  },
  {
    id: 'errors/argument-checks',
    title: 'modes, ids, times, buffers, encodings and options are checked as Node does, before the path is',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'data');
      const fd = fs.openSync(p('f'), 'r+');
      const gone = p('missing');
      const any = (x: unknown) => x as never;
      const bad: [() => unknown, string, string][] = [
        [
          () => fs.chmodSync(gone, 'abc'),
          'ERR_INVALID_ARG_VALUE',
          "The argument 'mode' must be a 32-bit unsigned integer or an octal string. Received 'abc'",
        ],
        [
          () => fs.chmodSync(gone, -1),
          'ERR_OUT_OF_RANGE',
          'The value of "mode" is out of range. It must be >= 0 && <= 4294967295. Received -1',
        ],
        [
          () => fs.openSync(gone, 'w', 1.5),
          'ERR_OUT_OF_RANGE',
          'The value of "mode" is out of range. It must be an integer. Received 1.5',
        ],
        [
          () => fs.mkdirSync(gone, { recursive: any(1) }),
          'ERR_INVALID_ARG_TYPE',
          'The "options.recursive" property must be of type boolean. Received type number (1)',
        ],
        [
          () => fs.chownSync(gone, -2, 0),
          'ERR_OUT_OF_RANGE',
          'The value of "uid" is out of range. It must be >= -1 && <= 4294967295. Received -2',
        ],
        [
          () => fs.chownSync(gone, 0, any('0')),
          'ERR_INVALID_ARG_TYPE',
          `The "gid" argument must be of type number. Received type string ('0')`,
        ],
        [
          () => fs.utimesSync(gone, Number.NaN, 0),
          'ERR_INVALID_ARG_TYPE',
          'The "time" argument must be an instance of Date or an Time in seconds. Received type number (NaN)',
        ],
        [
          () => fs.futimesSync(fd, any(1n), 0),
          'ERR_INVALID_ARG_TYPE',
          'The "atime" argument must be an instance of Date or an Time in seconds. Received type bigint (1n)',
        ],
        [() => fs.accessSync(gone, 99), 'ERR_OUT_OF_RANGE', 'mode is out of range: >= 0 && <= 7'],
        [
          () => fs.readvSync(fd, any(Buffer.alloc(4))),
          'ERR_INVALID_ARG_TYPE',
          'The "buffers" argument must be an ArrayBufferView[]. Received an instance of Buffer',
        ],
        [
          () => fs.writevSync(fd, any(['text'])),
          'ERR_INVALID_ARG_TYPE',
          'The "buffers" argument must be an ArrayBufferView[]. Received an instance of Array',
        ],
        [
          () => fs.ftruncateSync(fd, 1.5),
          'ERR_OUT_OF_RANGE',
          'The value of "len" is out of range. It must be an integer. Received 1.5',
        ],
        [
          () => fs.readFileSync(p('f'), any('bogus')),
          'ERR_INVALID_ARG_VALUE',
          "The argument 'encoding' is invalid encoding. Received 'bogus'",
        ],
        [
          () => fs.readdirSync(p(), any({ encoding: 'bogus' })),
          'ERR_INVALID_ARG_VALUE',
          "The argument 'encoding' is invalid encoding. Received 'bogus'",
        ],
        [
          () => fs.symlinkSync(p('f'), gone, any('bogus')),
          'ERR_FS_INVALID_SYMLINK_TYPE',
          'Symlink type must be one of "dir", "file", or "junction". Received "bogus"',
        ],
        [
          () => fs.rmSync(gone, { maxRetries: -1 }),
          'ERR_OUT_OF_RANGE',
          'The value of "options.maxRetries" is out of range. It must be >= 0 && <= 4294967295. Received -1',
        ],
      ];
      for (const [call, code, message] of bad) {
        const err = thrown(call) as NodeJS.ErrnoException;
        expect([err.code, err.message]).toEqual([code, message]);
      }
      // Nothing was made or changed on the way.
      expect(fs.existsSync(gone)).toBe(false);
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('data');
      fs.closeSync(fd);
    },
  },
  {
    id: 'errors/url-and-buffer-paths',
    title: 'file: URLs and Buffers work as paths',
    run({ fs, p }) {
      fs.writeFileSync(pathToFileURL(p('f')), 'via url');
      expect(fs.readFileSync(Buffer.from(p('f')), 'utf8')).toBe('via url');
      expect(fs.existsSync(pathToFileURL(p('f')))).toBe(true);
      expect(fs.statSync(Buffer.from(p('f'))).size).toBe(7);
    },
  },
  {
    id: 'errors/nonroot-eacces',
    title:
      'a non-root user gets EACCES reading a 0600 root file, creating in a 0755 root dir, listing a 0700 dir',
    root: true,
    run({ fs, p, asUser }) {
      fs.writeFileSync(p('secret'), 's', { mode: 0o600 });
      fs.chmodSync(p('secret'), 0o600);
      fs.mkdirSync(p('closed'));
      fs.chmodSync(p('closed'), 0o700);
      fs.chmodSync(p(), 0o755);
      fs.writeFileSync(p('public'), 'p');
      fs.chmodSync(p('public'), 0o644);
      asUser(NOBODY, (ufs) => {
        expect(ufs.readFileSync(p('public'), 'utf8')).toBe('p');
        expectSyncUv(() => ufs.readFileSync(p('secret')), {
          code: 'EACCES',
          syscall: 'open',
          path: p('secret'),
        });
        expectSyncUv(() => ufs.writeFileSync(p('public'), 'x'), {
          code: 'EACCES',
          syscall: 'open',
          path: p('public'),
        });
        expectSyncUv(() => ufs.writeFileSync(p('new'), ''), {
          code: 'EACCES',
          syscall: 'open',
          path: p('new'),
        });
        expectSyncUv(() => ufs.readdirSync(p('closed')), {
          code: 'EACCES',
          syscall: 'scandir',
          path: p('closed'),
        });
        // An existing name wins over the permission the directory lacks; a new one does not.
        expectSyncUv(() => ufs.mkdirSync(p('closed')), {
          code: 'EEXIST',
          syscall: 'mkdir',
          path: p('closed'),
        });
        expectSyncUv(() => ufs.mkdirSync(p('public')), {
          code: 'EEXIST',
          syscall: 'mkdir',
          path: p('public'),
        });
        expectSyncUv(() => ufs.mkdirSync(p('newdir')), {
          code: 'EACCES',
          syscall: 'mkdir',
          path: p('newdir'),
        });
        expectSyncUv(() => ufs.openSync(p('public'), 'wx'), {
          code: 'EEXIST',
          syscall: 'open',
          path: p('public'),
        });
        expectSyncUv(() => ufs.openSync(p('fresh'), 'wx'), {
          code: 'EACCES',
          syscall: 'open',
          path: p('fresh'),
        });
        // access() is left out: it checks with the real uid, which nodefs's seteuid leaves at 0.
      });
    },
  },
  {
    id: 'errors/nonroot-search-permission',
    title: 'a non-root user without search (x) permission on a dir gets EACCES for paths below it',
    root: true,
    run({ fs, p, asUser }) {
      fs.chmodSync(p(), 0o755);
      fs.mkdirSync(p('d'));
      fs.writeFileSync(p('d', 'f'), 'x');
      fs.chmodSync(p('d', 'f'), 0o644);
      fs.chmodSync(p('d'), 0o744);
      asUser(NOBODY, (ufs) => {
        expect(ufs.readdirSync(p('d'))).toEqual(['f']);
        expectSyncUv(() => ufs.statSync(p('d', 'f')), { code: 'EACCES', syscall: 'stat', path: p('d', 'f') });
      });
    },
  },
  {
    id: 'errors/nonroot-owner-class',
    title: "permission checks use the owner's bits only, for the owner: mode 0077 denies its owner",
    root: true,
    run({ fs, p, asUser }) {
      fs.chmodSync(p(), 0o755);
      fs.writeFileSync(p('f'), 'x');
      fs.chownSync(p('f'), NOBODY.uid, NOBODY.gid);
      fs.chmodSync(p('f'), 0o077);
      asUser(NOBODY, (ufs) => {
        expectSyncUv(() => ufs.readFileSync(p('f')), { code: 'EACCES', syscall: 'open', path: p('f') });
      });
    },
  },
  {
    id: 'errors/nonroot-eperm',
    title: "a non-root user gets EPERM changing the mode, owner or times of root's file",
    root: true,
    run({ fs, p, asUser }) {
      fs.chmodSync(p(), 0o755);
      fs.writeFileSync(p('f'), 'x');
      fs.chmodSync(p('f'), 0o666);
      asUser(NOBODY, (ufs) => {
        expectSyncUv(() => ufs.chmodSync(p('f'), 0o777), { code: 'EPERM', syscall: 'chmod', path: p('f') });
        expectSyncUv(() => ufs.chownSync(p('f'), NOBODY.uid, NOBODY.gid), {
          code: 'EPERM',
          syscall: 'chown',
          path: p('f'),
        });
        expectSyncUv(() => ufs.utimesSync(p('f'), 1, 1), { code: 'EPERM', syscall: 'utime', path: p('f') });
        // Setting times to now needs only write access, which 0666 grants.
        ufs.writeFileSync(p('f'), 'y');
      });
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('y');
    },
  },
  {
    id: 'errors/nonroot-sticky-dir',
    title: "in a sticky 1777 dir a non-root user cannot remove another user's file (EPERM)",
    root: true,
    run({ fs, p, asUser }) {
      fs.chmodSync(p(), 0o755);
      fs.mkdirSync(p('tmp'));
      fs.chmodSync(p('tmp'), 0o1777);
      fs.writeFileSync(p('tmp', 'roots'), '');
      asUser(NOBODY, (ufs) => {
        ufs.writeFileSync(p('tmp', 'mine'), '');
        ufs.unlinkSync(p('tmp', 'mine'));
        expectSyncUv(() => ufs.unlinkSync(p('tmp', 'roots')), {
          code: 'EPERM',
          syscall: 'unlink',
          path: p('tmp', 'roots'),
        });
      });
      expect(fs.existsSync(p('tmp', 'roots'))).toBe(true);
    },
  },
];
