import type { Case } from '../case.js';
import { expect } from '../expect.js';
import { expectSyncUv, NOBODY, nowFloorMs, PAST_S, tick } from '../helpers.js';

/** stat and attributes: stat/lstat/fstat fields, bigint, chmod, chown, utimes, timestamps, statfs. */
export const attrCases: Case[] = [
  {
    id: 'attrs/stat-file',
    title: 'statSync of a new file: S_IFREG, size, nlink 1, owner is the caller, predicates',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'hello');
      const st = fs.statSync(p('f'));
      expect(st.mode & fs.constants.S_IFMT).toBe(fs.constants.S_IFREG);
      expect(st.size).toBe(5);
      expect(st.nlink).toBe(1);
      expect(st.uid).toBe(process.getuid!());
      expect(st.gid).toBe(process.getgid!());
      expect(st.blksize).toBeGreaterThan(0);
      expect(st.rdev).toBe(0);
      expect([
        st.isFile(),
        st.isDirectory(),
        st.isSymbolicLink(),
        st.isFIFO(),
        st.isSocket(),
        st.isBlockDevice(),
        st.isCharacterDevice(),
      ]).toEqual([true, false, false, false, false, false, false]);
    },
  },
  {
    id: 'attrs/stat-dir',
    title: 'statSync of a directory: S_IFDIR and isDirectory',
    run({ fs, p }) {
      fs.mkdirSync(p('d'));
      const st = fs.statSync(p('d'));
      expect(st.mode & fs.constants.S_IFMT).toBe(fs.constants.S_IFDIR);
      expect(st.isDirectory()).toBe(true);
      expect(st.isFile()).toBe(false);
    },
  },
  {
    id: 'attrs/stat-blocks',
    title: 'blocks: 0 for an empty file, enough 512-byte blocks to hold the data once written',
    run({ fs, p }) {
      fs.writeFileSync(p('empty'), '');
      expect(fs.statSync(p('empty')).blocks).toBe(0);
      fs.writeFileSync(p('f'), Buffer.alloc(10_000, 1));
      const st = fs.statSync(p('f'));
      expect(st.size).toBe(10_000);
      expect(st.blocks * 512).toBeGreaterThanOrEqual(10_000);
    },
  },
  {
    id: 'attrs/stat-ino',
    title: 'ino and dev agree across stat, lstat and fstat; different files have different inos',
    run({ fs, p }) {
      fs.writeFileSync(p('a'), '');
      fs.writeFileSync(p('b'), '');
      const s = fs.statSync(p('a'));
      const l = fs.lstatSync(p('a'));
      const fd = fs.openSync(p('a'), 'r');
      const f = fs.fstatSync(fd);
      fs.closeSync(fd);
      expect([l.ino, f.ino]).toEqual([s.ino, s.ino]);
      expect([l.dev, f.dev]).toEqual([s.dev, s.dev]);
      expect(fs.statSync(p('b')).ino).not.toBe(s.ino);
      expect(fs.statSync(p('b')).dev).toBe(s.dev);
    },
  },
  {
    id: 'attrs/stat-dates',
    title: 'the Date fields are the *Ms fields as Dates',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      fs.utimesSync(p('f'), PAST_S + 0.25, PAST_S + 0.5);
      const st = fs.statSync(p('f'));
      for (const k of ['atime', 'mtime', 'ctime', 'birthtime'] as const) {
        expect(st[k]).toBeInstanceOf(Date);
        expect(Math.abs(st[k].getTime() - st[`${k}Ms`])).toBeLessThan(1);
      }
      expect(st.atime.toISOString()).toBe('2001-09-09T01:46:40.250Z');
      expect(st.mtime.toISOString()).toBe('2001-09-09T01:46:40.500Z');
    },
  },
  {
    id: 'attrs/stat-bigint',
    title: 'statSync bigint: every field a bigint, equal to the number form; *Ns carries nanoseconds',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'abc');
      fs.utimesSync(p('f'), PAST_S, PAST_S + 1);
      const n = fs.statSync(p('f'));
      const b = fs.statSync(p('f'), { bigint: true });
      for (const k of [
        'dev',
        'ino',
        'mode',
        'nlink',
        'uid',
        'gid',
        'rdev',
        'size',
        'blksize',
        'blocks',
      ] as const) {
        expect(typeof b[k]).toBe('bigint');
        expect(b[k]).toBe(BigInt(n[k]));
      }
      expect(b.atimeNs).toBe(BigInt(PAST_S) * 1_000_000_000n);
      expect(b.mtimeNs).toBe(BigInt(PAST_S + 1) * 1_000_000_000n);
      expect(b.mtimeMs).toBe(BigInt(PAST_S + 1) * 1000n);
      expect(b.mtime.getTime()).toBe((PAST_S + 1) * 1000);
      expect(b.isFile()).toBe(true);
    },
  },
  {
    id: 'attrs/lstat-fstat-bigint',
    title: 'lstatSync and fstatSync take bigint too',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'abc');
      fs.symlinkSync('f', p('l'));
      const l = fs.lstatSync(p('l'), { bigint: true });
      expect(l.isSymbolicLink()).toBe(true);
      expect(l.size).toBe(1n);
      const fd = fs.openSync(p('f'), 'r');
      const f = fs.fstatSync(fd, { bigint: true });
      fs.closeSync(fd);
      expect(f.size).toBe(3n);
    },
  },
  {
    id: 'attrs/stat-throw-if-no-entry',
    title: 'statSync/lstatSync with throwIfNoEntry: false give undefined for a missing path',
    run({ fs, p }) {
      expect(fs.statSync(p('missing'), { throwIfNoEntry: false })).toBeUndefined();
      expect(fs.lstatSync(p('missing'), { throwIfNoEntry: false })).toBeUndefined();
      fs.writeFileSync(p('f'), '');
      // Only ENOENT is swallowed.
      expectSyncUv(() => fs.statSync(p('f', 'x'), { throwIfNoEntry: false }), {
        code: 'ENOTDIR',
        syscall: 'stat',
        path: p('f', 'x'),
      });
    },
  },
  {
    id: 'attrs/stat-enoent',
    title: 'statSync and lstatSync of a missing path throw ENOENT',
    run({ fs, p }) {
      expectSyncUv(() => fs.statSync(p('missing')), { code: 'ENOENT', syscall: 'stat', path: p('missing') });
      expectSyncUv(() => fs.lstatSync(p('missing')), {
        code: 'ENOENT',
        syscall: 'lstat',
        path: p('missing'),
      });
    },
  },
  {
    id: 'attrs/sparse-size',
    title: 'writing past the end makes a hole that reads as zeros',
    run({ fs, p }) {
      const fd = fs.openSync(p('f'), 'w');
      fs.writeSync(fd, 'x', 10_000);
      fs.closeSync(fd);
      const data = fs.readFileSync(p('f'));
      expect(data.length).toBe(10_001);
      expect(data.subarray(0, 10_000).every((b) => b === 0)).toBe(true);
      expect(data[10_000]).toBe(120);
    },
  },
  {
    id: 'attrs/chmod',
    title: 'chmodSync sets permission bits from a number or an octal string, keeping the type bits',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      expect(fs.chmodSync(p('f'), 0o751)).toBeUndefined();
      expect(fs.statSync(p('f')).mode).toBe(fs.constants.S_IFREG | 0o751);
      fs.chmodSync(p('f'), '640');
      expect(fs.statSync(p('f')).mode).toBe(fs.constants.S_IFREG | 0o640);
      fs.mkdirSync(p('d'));
      fs.chmodSync(p('d'), 0o705);
      expect(fs.statSync(p('d')).mode).toBe(fs.constants.S_IFDIR | 0o705);
    },
  },
  {
    id: 'attrs/chmod-special-bits',
    title: 'chmodSync sets setuid, setgid and sticky bits (as root)',
    root: true,
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      fs.chmodSync(p('f'), 0o6755);
      expect(fs.statSync(p('f')).mode & 0o7777).toBe(0o6755);
      fs.mkdirSync(p('d'));
      fs.chmodSync(p('d'), 0o1777);
      expect(fs.statSync(p('d')).mode & 0o7777).toBe(0o1777);
    },
  },
  {
    id: 'attrs/chmod-times',
    title: 'chmodSync moves ctime and leaves mtime and atime',
    async run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      fs.utimesSync(p('f'), PAST_S, PAST_S);
      const before = fs.statSync(p('f')).ctimeMs;
      await tick();
      fs.chmodSync(p('f'), 0o600);
      const st = fs.statSync(p('f'));
      expect(st.ctimeMs).toBeGreaterThan(before);
      expect([st.atimeMs, st.mtimeMs]).toEqual([PAST_S * 1000, PAST_S * 1000]);
    },
  },
  {
    id: 'attrs/chmod-enoent',
    title: 'chmodSync of a missing path throws ENOENT',
    run({ fs, p }) {
      expectSyncUv(() => fs.chmodSync(p('missing'), 0o600), {
        code: 'ENOENT',
        syscall: 'chmod',
        path: p('missing'),
      });
    },
  },
  {
    id: 'attrs/chown',
    title: 'chownSync as root gives a file to any uid/gid; -1 leaves that id as it is',
    root: true,
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      expect(fs.chownSync(p('f'), 1234, 5678)).toBeUndefined();
      let st = fs.statSync(p('f'));
      expect([st.uid, st.gid]).toEqual([1234, 5678]);
      fs.chownSync(p('f'), -1, 42);
      st = fs.statSync(p('f'));
      expect([st.uid, st.gid]).toEqual([1234, 42]);
      fs.chownSync(p('f'), 0, -1);
      st = fs.statSync(p('f'));
      expect([st.uid, st.gid]).toEqual([0, 42]);
    },
  },
  {
    id: 'attrs/chown-clears-setuid',
    title: 'chownSync of a regular file clears setuid and setgid (Linux, even for root)',
    root: true,
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      fs.chmodSync(p('f'), 0o6755);
      fs.chownSync(p('f'), 0, 0);
      expect(fs.statSync(p('f')).mode & 0o7777).toBe(0o755);
      fs.mkdirSync(p('d'));
      fs.chmodSync(p('d'), 0o2755);
      fs.chownSync(p('d'), 0, 0);
      expect(fs.statSync(p('d')).mode & 0o7777).toBe(0o2755);
    },
  },
  {
    id: 'attrs/write-clears-setuid',
    title:
      'a non-root write, truncate or O_TRUNC open clears setuid, and setgid when the group may execute or the writer is not in it; root keeps both',
    root: true,
    run({ fs, p, asUser }) {
      const mode = (f: string) => fs.statSync(p(f)).mode & 0o7777;
      const make = (f: string, m: number, gid = NOBODY.gid) => {
        fs.writeFileSync(p(f), 'x');
        fs.chownSync(p(f), NOBODY.uid, gid);
        fs.chmodSync(p(f), m);
      };
      fs.chmodSync(p(), 0o755);
      for (const f of ['root', 'write', 'truncate', 'open']) make(f, 0o6755);
      make('ingroup', 0o2745);
      make('outgroup', 0o2745, 4242);
      make('chown', 0o2745, 4242);
      fs.appendFileSync(p('root'), 'y'); // root has CAP_FSETID
      asUser(NOBODY, (u) => {
        u.appendFileSync(p('write'), 'y');
        u.truncateSync(p('truncate'), 1);
        u.closeSync(u.openSync(p('open'), 'w'));
        u.appendFileSync(p('ingroup'), 'y');
        u.appendFileSync(p('outgroup'), 'y');
        u.chownSync(p('chown'), -1, NOBODY.gid); // the file's group was not the caller's
      });
      expect(['root', 'write', 'truncate', 'open', 'ingroup', 'outgroup', 'chown'].map(mode)).toEqual([
        0o6755, 0o755, 0o755, 0o755, 0o2745, 0o745, 0o745,
      ]);
    },
  },
  {
    id: 'attrs/chown-times',
    title: 'chownSync moves ctime and leaves mtime',
    root: true,
    async run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      fs.utimesSync(p('f'), PAST_S, PAST_S);
      const before = fs.statSync(p('f')).ctimeMs;
      await tick();
      fs.chownSync(p('f'), 1, 1);
      const st = fs.statSync(p('f'));
      expect(st.ctimeMs).toBeGreaterThan(before);
      expect(st.mtimeMs).toBe(PAST_S * 1000);
    },
  },
  {
    id: 'attrs/chown-enoent',
    title: 'chownSync of a missing path throws ENOENT',
    run({ fs, p }) {
      expectSyncUv(() => fs.chownSync(p('missing'), 0, 0), {
        code: 'ENOENT',
        syscall: 'chown',
        path: p('missing'),
      });
    },
  },
  {
    id: 'attrs/utimes-numbers',
    title: 'utimesSync with numbers sets atime and mtime in seconds, fractions kept',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      expect(fs.utimesSync(p('f'), 1000, 2000.5)).toBeUndefined();
      const st = fs.statSync(p('f'));
      expect([st.atimeMs, st.mtimeMs]).toEqual([1_000_000, 2_000_500]);
    },
  },
  {
    id: 'attrs/utimes-dates',
    title: 'utimesSync with Dates',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      fs.utimesSync(p('f'), new Date('2010-01-02T03:04:05.678Z'), new Date('2011-01-01T00:00:00Z'));
      const st = fs.statSync(p('f'));
      expect(st.atime.toISOString()).toBe('2010-01-02T03:04:05.678Z');
      expect(st.mtime.toISOString()).toBe('2011-01-01T00:00:00.000Z');
    },
  },
  {
    id: 'attrs/utimes-strings',
    title: 'utimesSync with numeric strings reads them as seconds',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      fs.utimesSync(p('f'), '1000', '2000');
      const st = fs.statSync(p('f'));
      expect([st.atimeMs, st.mtimeMs]).toEqual([1_000_000, 2_000_000]);
    },
  },
  {
    id: 'attrs/utimes-ctime',
    title: 'utimesSync moves ctime to now',
    async run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      const before = fs.statSync(p('f')).ctimeMs;
      await tick();
      fs.utimesSync(p('f'), PAST_S, PAST_S);
      expect(fs.statSync(p('f')).ctimeMs).toBeGreaterThan(before);
    },
  },
  {
    id: 'attrs/utimes-enoent',
    title: 'utimesSync of a missing path throws ENOENT from utime',
    run({ fs, p }) {
      expectSyncUv(() => fs.utimesSync(p('missing'), 1, 1), {
        code: 'ENOENT',
        syscall: 'utime',
        path: p('missing'),
      });
    },
  },
  {
    id: 'attrs/mtime-on-write',
    title: 'writing moves mtime and ctime to now, and leaves atime',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'a');
      fs.utimesSync(p('f'), PAST_S, PAST_S);
      const floor = nowFloorMs();
      fs.appendFileSync(p('f'), 'b');
      const st = fs.statSync(p('f'));
      expect(st.mtimeMs).toBeGreaterThan(floor);
      expect(st.ctimeMs).toBeGreaterThan(floor);
      expect(st.atimeMs).toBe(PAST_S * 1000);
    },
  },
  {
    id: 'attrs/mtime-on-truncate',
    title: 'truncating moves mtime and ctime',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'abc');
      fs.utimesSync(p('f'), PAST_S, PAST_S);
      const floor = nowFloorMs();
      fs.truncateSync(p('f'), 1);
      const st = fs.statSync(p('f'));
      expect(st.mtimeMs).toBeGreaterThan(floor);
      expect(st.ctimeMs).toBeGreaterThan(floor);
    },
  },
  {
    id: 'attrs/read-keeps-mtime',
    title: 'reading a file leaves its mtime and ctime',
    async run({ fs, p }) {
      fs.writeFileSync(p('f'), 'abc');
      fs.utimesSync(p('f'), PAST_S, PAST_S);
      const ctime = fs.statSync(p('f')).ctimeMs;
      await tick();
      fs.readFileSync(p('f'));
      const st = fs.statSync(p('f'));
      expect(st.mtimeMs).toBe(PAST_S * 1000);
      expect(st.ctimeMs).toBe(ctime);
    },
  },
  {
    id: 'attrs/statfs',
    title: 'statfsSync gives the file system’s sizes as numbers, or bigints with bigint: true',
    run({ fs, p }) {
      const s = fs.statfsSync(p());
      for (const k of ['type', 'bsize', 'blocks', 'bfree', 'bavail', 'files', 'ffree'] as const) {
        expect(typeof s[k]).toBe('number');
        expect(s[k]).toBeGreaterThanOrEqual(0);
      }
      expect(s.bsize).toBeGreaterThan(0);
      expect(s.blocks).toBeGreaterThanOrEqual(s.bfree);
      expect(s.bfree).toBeGreaterThanOrEqual(s.bavail);
      const b = fs.statfsSync(p(), { bigint: true });
      expect(typeof b.bsize).toBe('bigint');
      expect(b.bsize).toBe(BigInt(s.bsize));
    },
  },
  {
    id: 'attrs/statfs-enoent',
    title: 'statfsSync of a missing path throws ENOENT',
    run({ fs, p }) {
      expectSyncUv(() => fs.statfsSync(p('missing')), {
        code: 'ENOENT',
        syscall: 'statfs',
        path: p('missing'),
      });
    },
  },
  {
    id: 'attrs/constants',
    title: 'fs.constants carries the Linux values',
    run({ fs }) {
      const c = fs.constants;
      expect({
        F_OK: c.F_OK,
        R_OK: c.R_OK,
        W_OK: c.W_OK,
        X_OK: c.X_OK,
        COPYFILE_EXCL: c.COPYFILE_EXCL,
        O_RDONLY: c.O_RDONLY,
        O_WRONLY: c.O_WRONLY,
        O_RDWR: c.O_RDWR,
        O_CREAT: c.O_CREAT,
        O_EXCL: c.O_EXCL,
        O_TRUNC: c.O_TRUNC,
        O_APPEND: c.O_APPEND,
        O_DIRECTORY: c.O_DIRECTORY,
        O_NOFOLLOW: c.O_NOFOLLOW,
        O_SYNC: c.O_SYNC,
        S_IFMT: c.S_IFMT,
        S_IFREG: c.S_IFREG,
        S_IFDIR: c.S_IFDIR,
        S_IFLNK: c.S_IFLNK,
      }).toEqual({
        F_OK: 0,
        R_OK: 4,
        W_OK: 2,
        X_OK: 1,
        COPYFILE_EXCL: 1,
        O_RDONLY: 0,
        O_WRONLY: 1,
        O_RDWR: 2,
        O_CREAT: 0o100,
        O_EXCL: 0o200,
        O_TRUNC: 0o1000,
        O_APPEND: 0o2000,
        O_DIRECTORY: 0o200000,
        O_NOFOLLOW: 0o400000,
        O_SYNC: 0o4010000,
        S_IFMT: 0o170000,
        S_IFREG: 0o100000,
        S_IFDIR: 0o40000,
        S_IFLNK: 0o120000,
      });
    },
  },
  {
    id: 'attrs/stamps-by-operation',
    title: 'each write, truncate, name change and attribute change moves exactly the stamps Linux moves',
    run({ fs, p }) {
      const stamps = (path: string) => {
        const s = fs.lstatSync(path, { bigint: true });
        return [s.atimeNs, s.mtimeNs, s.ctimeNs];
      };
      const pause = () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 12);
      /** Which of a(time), m(time), c(time) `op` moved on each path ('-': none). */
      const moved = (paths: string[], op: () => void) => {
        const before = paths.map(stamps);
        pause();
        op();
        return paths.map((q, i) => {
          const after = stamps(q);
          return ['a', 'm', 'c'].filter((_, k) => after[k] !== before[i][k]).join('') || '-';
        });
      };
      fs.mkdirSync(p('d'));
      fs.mkdirSync(p('e'));
      fs.writeFileSync(p('d', 'f'), 'abc');
      const rw = (q: string, f: (fd: number) => void) => {
        const fd = fs.openSync(q, 'r+');
        f(fd);
        fs.closeSync(fd);
      };
      const table: [string, string[], () => void, string[]][] = [
        [
          'write',
          [p('d', 'f'), p('d')],
          () => rw(p('d', 'f'), (fd) => fs.writeSync(fd, 'x', 0)),
          ['mc', '-'],
        ],
        [
          'empty write',
          [p('d', 'f')],
          () => rw(p('d', 'f'), (fd) => fs.writeSync(fd, Buffer.alloc(0), 0, 0, 0)),
          ['-'],
        ],
        ['O_TRUNC', [p('d', 'f')], () => fs.closeSync(fs.openSync(p('d', 'f'), 'w')), ['mc']],
        ['truncate to the same size', [p('d', 'f')], () => fs.truncateSync(p('d', 'f'), 0), ['mc']],
        ['ftruncate', [p('d', 'f')], () => rw(p('d', 'f'), (fd) => fs.ftruncateSync(fd, 9)), ['mc']],
        ['fsync', [p('d', 'f')], () => rw(p('d', 'f'), (fd) => fs.fsyncSync(fd)), ['-']],
        ['chmod', [p('d', 'f'), p('d')], () => fs.chmodSync(p('d', 'f'), 0o600), ['c', '-']],
        ['create', [p('d')], () => fs.writeFileSync(p('d', 'new'), ''), ['mc']],
        ['link', [p('d', 'f'), p('d')], () => fs.linkSync(p('d', 'f'), p('d', 'f2')), ['c', 'mc']],
        ['unlink', [p('d', 'f'), p('d')], () => fs.unlinkSync(p('d', 'f2')), ['c', 'mc']],
        ['rename', [p('d')], () => fs.renameSync(p('d', 'f'), p('d', 'g')), ['mc']],
        ['rename across', [p('d'), p('e')], () => fs.renameSync(p('d', 'g'), p('e', 'g')), ['mc', 'mc']],
        [
          'moved file',
          [p('e', 'g')],
          () => {
            fs.renameSync(p('e', 'g'), p('e', 'h'));
            fs.renameSync(p('e', 'h'), p('e', 'g'));
          },
          ['c'],
        ],
        ['mkdir', [p('e')], () => fs.mkdirSync(p('e', 'm')), ['mc']],
        ['rmdir', [p('e')], () => fs.rmdirSync(p('e', 'm')), ['mc']],
        ['symlink', [p('e')], () => fs.symlinkSync('g', p('e', 'l')), ['mc']],
        ['utimes', [p('e', 'g')], () => fs.utimesSync(p('e', 'g'), 1, 2), ['amc']],
        ['append', [p('e', 'g')], () => fs.appendFileSync(p('e', 'g'), 'z'), ['mc']],
      ];
      const got = table.map(([what, paths, op]) => `${what}: ${moved(paths, op).join(' ')}`);
      expect(got).toEqual(table.map(([what, , , want]) => `${what}: ${want.join(' ')}`));
    },
  },
];
