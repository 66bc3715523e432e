import type { Case } from '../case.js';
import { expect } from '../expect.js';
import { cb, cbAll, expectSyncUv, nowFloorMs, PAST_S } from '../helpers.js';
import type { FsLike } from '../target.js';

function contents(fs: FsLike, file: string): string {
  return fs.readFileSync(file, 'latin1');
}

/** File descriptors: open flags, read/write (sequential, positional), readv/writev, f* calls, close. */
export const fdCases: Case[] = [
  {
    id: 'fds/open-r',
    title: "open 'r' (the default) reads; writing through it gives EBADF",
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'abc');
      // Node's flags default to 'r' (its types make them required).
      const fd = (fs.openSync as (path: string) => number)(p('f'));
      expect(Number.isInteger(fd) && fd >= 0).toBe(true);
      const buf = Buffer.alloc(3);
      expect(fs.readSync(fd, buf)).toBe(3);
      expect(buf.toString()).toBe('abc');
      expectSyncUv(() => fs.writeSync(fd, 'x'), { code: 'EBADF', syscall: 'write' });
      fs.closeSync(fd);
    },
  },
  {
    id: 'fds/open-r-enoent',
    title: "open 'r' of a missing file gives ENOENT; 'r' does not create",
    run({ fs, p }) {
      expectSyncUv(() => fs.openSync(p('f'), 'r'), { code: 'ENOENT', syscall: 'open', path: p('f') });
      expectSyncUv(() => fs.openSync(p('f'), 'r+'), { code: 'ENOENT', syscall: 'open', path: p('f') });
      expect(fs.existsSync(p('f'))).toBe(false);
    },
  },
  {
    id: 'fds/open-r-plus',
    title: "open 'r+' reads and writes in place without truncating",
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'abcdef');
      const fd = fs.openSync(p('f'), 'r+');
      fs.writeSync(fd, 'XY');
      const buf = Buffer.alloc(2);
      fs.readSync(fd, buf);
      expect(buf.toString()).toBe('cd');
      fs.closeSync(fd);
      expect(contents(fs, p('f'))).toBe('XYcdef');
    },
  },
  {
    id: 'fds/open-w',
    title: "open 'w' creates or truncates, and cannot read (EBADF)",
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'old content');
      const fd = fs.openSync(p('f'), 'w');
      expect(fs.fstatSync(fd).size).toBe(0);
      fs.writeSync(fd, 'new');
      expectSyncUv(() => fs.readSync(fd, Buffer.alloc(1), 0, 1, 0), { code: 'EBADF', syscall: 'read' });
      fs.closeSync(fd);
      expect(contents(fs, p('f'))).toBe('new');
      fs.closeSync(fs.openSync(p('g'), 'w'));
      expect(fs.statSync(p('g')).size).toBe(0);
    },
  },
  {
    id: 'fds/open-wx',
    title: "open 'wx' creates a new file and gives EEXIST for an existing one (file, dir or link)",
    run({ fs, p }) {
      fs.closeSync(fs.openSync(p('f'), 'wx'));
      fs.mkdirSync(p('d'));
      fs.symlinkSync('f', p('l'));
      for (const q of [p('f'), p('d'), p('l')]) {
        expectSyncUv(() => fs.openSync(q, 'wx'), { code: 'EEXIST', syscall: 'open', path: q });
      }
      expectSyncUv(() => fs.openSync(p('f'), 'ax'), { code: 'EEXIST', syscall: 'open', path: p('f') });
    },
  },
  {
    id: 'fds/open-excl-dangling-symlink',
    title: 'O_CREAT|O_EXCL does not follow a dangling symlink: EEXIST, and no target is made',
    run({ fs, p }) {
      fs.symlinkSync('target', p('l'));
      expectSyncUv(() => fs.openSync(p('l'), 'wx'), { code: 'EEXIST', syscall: 'open', path: p('l') });
      expect(fs.existsSync(p('target'))).toBe(false);
    },
  },
  {
    id: 'fds/open-a',
    title: "open 'a' appends every write, ignoring the position given (Linux O_APPEND)",
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'abc');
      const fd = fs.openSync(p('f'), 'a');
      fs.writeSync(fd, 'd');
      fs.writeSync(fd, 'e', 0);
      fs.closeSync(fd);
      expect(contents(fs, p('f'))).toBe('abcde');
    },
  },
  {
    id: 'fds/open-a-plus',
    title: "open 'a+' reads from the start and appends writes",
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'abc');
      const fd = fs.openSync(p('f'), 'a+');
      const buf = Buffer.alloc(3);
      expect(fs.readSync(fd, buf, 0, 3, null)).toBe(3);
      expect(buf.toString()).toBe('abc');
      fs.writeSync(fd, 'Z');
      fs.closeSync(fd);
      expect(contents(fs, p('f'))).toBe('abcZ');
      fs.closeSync(fs.openSync(p('new'), 'a+'));
      expect(fs.existsSync(p('new'))).toBe(true);
    },
  },
  {
    id: 'fds/open-numeric-flags',
    title: 'numeric O_* flags: O_CREAT|O_EXCL|O_WRONLY creates, then EEXIST',
    run({ fs, p }) {
      const { O_CREAT, O_EXCL, O_WRONLY } = fs.constants;
      const fd = fs.openSync(p('f'), O_CREAT | O_EXCL | O_WRONLY, 0o600);
      fs.writeSync(fd, 'x');
      fs.closeSync(fd);
      expect(fs.statSync(p('f')).mode & 0o777).toBe(0o600 & ~process.umask());
      expectSyncUv(() => fs.openSync(p('f'), O_CREAT | O_EXCL | O_WRONLY), {
        code: 'EEXIST',
        syscall: 'open',
        path: p('f'),
      });
    },
  },
  {
    id: 'fds/open-o-trunc',
    title: 'O_RDWR|O_TRUNC empties an existing file',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'content');
      const fd = fs.openSync(p('f'), fs.constants.O_RDWR | fs.constants.O_TRUNC);
      expect(fs.fstatSync(fd).size).toBe(0);
      fs.closeSync(fd);
      expect(fs.statSync(p('f')).size).toBe(0);
    },
  },
  {
    id: 'fds/open-o-append',
    title: 'O_WRONLY|O_APPEND appends',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '12');
      const fd = fs.openSync(p('f'), fs.constants.O_WRONLY | fs.constants.O_APPEND);
      fs.writeSync(fd, '3');
      fs.closeSync(fd);
      expect(contents(fs, p('f'))).toBe('123');
    },
  },
  {
    id: 'fds/open-o-directory',
    title: 'O_DIRECTORY on a file gives ENOTDIR; on a directory it opens',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      fs.mkdirSync(p('d'));
      expectSyncUv(() => fs.openSync(p('f'), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY), {
        code: 'ENOTDIR',
        syscall: 'open',
        path: p('f'),
      });
      fs.closeSync(fs.openSync(p('d'), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY));
    },
  },
  {
    id: 'fds/open-o-nofollow',
    title: 'O_NOFOLLOW on a symlink gives ELOOP',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      fs.symlinkSync('f', p('l'));
      expectSyncUv(() => fs.openSync(p('l'), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW), {
        code: 'ELOOP',
        syscall: 'open',
        path: p('l'),
      });
    },
  },
  {
    id: 'fds/open-dir-read-eisdir',
    title: "a directory opens with 'r'; reading from it gives EISDIR",
    run({ fs, p }) {
      fs.mkdirSync(p('d'));
      const fd = fs.openSync(p('d'), 'r');
      expect(fs.fstatSync(fd).isDirectory()).toBe(true);
      expectSyncUv(() => fs.readSync(fd, Buffer.alloc(1)), { code: 'EISDIR', syscall: 'read' });
      fs.closeSync(fd);
    },
  },
  {
    id: 'fds/read-sequential',
    title: 'readSync with position null reads on from the current offset; 0 at end of file',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'abcde');
      const fd = fs.openSync(p('f'), 'r');
      const buf = Buffer.alloc(2);
      const got: string[] = [];
      for (let n = fs.readSync(fd, buf, 0, 2, null); n > 0; n = fs.readSync(fd, buf, 0, 2, null)) {
        got.push(buf.toString('latin1', 0, n));
      }
      expect(got).toEqual(['ab', 'cd', 'e']);
      expect(fs.readSync(fd, buf, 0, 2, null)).toBe(0);
      fs.closeSync(fd);
    },
  },
  {
    id: 'fds/read-positional',
    title: 'readSync at a position reads there and leaves the file offset alone',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'abcdef');
      const fd = fs.openSync(p('f'), 'r');
      const buf = Buffer.alloc(6);
      expect(fs.readSync(fd, buf, 0, 2, 4)).toBe(2);
      expect(buf.toString('latin1', 0, 2)).toBe('ef');
      expect(fs.readSync(fd, buf, 0, 2, null)).toBe(2);
      expect(buf.toString('latin1', 0, 2)).toBe('ab');
      expect(fs.readSync(fd, buf, 0, 6, 100)).toBe(0);
      fs.closeSync(fd);
    },
  },
  {
    id: 'fds/read-options',
    title: 'readSync takes { offset, length, position } and fills the buffer at offset',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'abcdef');
      const fd = fs.openSync(p('f'), 'r');
      const buf = Buffer.from('......');
      expect(fs.readSync(fd, buf, { offset: 2, length: 3, position: 1 })).toBe(3);
      expect(buf.toString()).toBe('..bcd.');
      fs.closeSync(fd);
    },
  },
  {
    id: 'fds/read-callback',
    title: 'read (callback) passes bytesRead and the same buffer',
    async run({ fs, p }) {
      fs.writeFileSync(p('f'), 'hello');
      const fd = fs.openSync(p('f'), 'r');
      const buf = Buffer.alloc(5);
      const [n, same] = await cbAll((done) => fs.read(fd, buf, 0, 5, 0, done));
      expect(n).toBe(5);
      expect(same).toBe(buf);
      expect(buf.toString()).toBe('hello');
      fs.closeSync(fd);
    },
  },
  {
    id: 'fds/write-string',
    title: 'writeSync of a string returns the bytes written; position and encoding apply',
    run({ fs, p }) {
      const fd = fs.openSync(p('f'), 'w+');
      expect(fs.writeSync(fd, 'héllo')).toBe(6);
      expect(fs.writeSync(fd, '41', 0, 'hex')).toBe(1);
      fs.closeSync(fd);
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('Aéllo');
    },
  },
  {
    id: 'fds/write-buffer',
    title: 'writeSync of a Buffer slice: offset and length pick the bytes, position where they go',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '------');
      const fd = fs.openSync(p('f'), 'r+');
      expect(fs.writeSync(fd, Buffer.from('abcdef'), 1, 3, 2)).toBe(3);
      fs.closeSync(fd);
      expect(contents(fs, p('f'))).toBe('--bcd-');
    },
  },
  {
    id: 'fds/write-positional-keeps-offset',
    title: 'a positional writeSync leaves the file offset where it was',
    run({ fs, p }) {
      const fd = fs.openSync(p('f'), 'w');
      fs.writeSync(fd, 'ab');
      fs.writeSync(fd, 'ZZZZ', 4);
      fs.writeSync(fd, 'cd');
      fs.closeSync(fd);
      expect(contents(fs, p('f'))).toBe('abcdZZZZ');
    },
  },
  {
    id: 'fds/write-callback',
    title: 'write (callback) passes bytesWritten and the buffer or string written',
    async run({ fs, p }) {
      const fd = fs.openSync(p('f'), 'w');
      const buf = Buffer.from('xyz');
      const [n, same] = await cbAll((done) => fs.write(fd, buf, 0, 3, null, done));
      expect([n, same]).toEqual([3, buf]);
      const [m, str] = await cbAll((done) => fs.write(fd, 'é', done));
      expect([m, str]).toEqual([2, 'é']);
      fs.closeSync(fd);
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('xyzé');
    },
  },
  {
    id: 'fds/writev-readv',
    title: 'writevSync writes buffers in order; readvSync fills buffers in order; both positional',
    run({ fs, p }) {
      const fd = fs.openSync(p('f'), 'w+');
      expect(fs.writevSync(fd, [Buffer.from('ab'), Buffer.from('cde')])).toBe(5);
      expect(fs.writevSync(fd, [Buffer.from('XY')], 1)).toBe(2);
      const a = Buffer.alloc(2);
      const b = Buffer.alloc(10);
      expect(fs.readvSync(fd, [a, b], 0)).toBe(5);
      expect([a.toString(), b.toString('latin1', 0, 3)]).toEqual(['aX', 'Yde']);
      fs.closeSync(fd);
    },
  },
  {
    id: 'fds/writev-readv-callback',
    title: 'writev and readv (callback) pass the byte count and the buffers',
    async run({ fs, p }) {
      const fd = fs.openSync(p('f'), 'w+');
      const bufs = [Buffer.from('12'), Buffer.from('34')];
      const [n, same] = await cbAll((done) => fs.writev(fd, bufs, 0, done));
      expect(n).toBe(4);
      expect(same).toBe(bufs);
      const out = [Buffer.alloc(3), Buffer.alloc(3)];
      const [m] = await cbAll((done) => fs.readv(fd, out, 0, done));
      expect(m).toBe(4);
      expect(Buffer.concat(out).toString('latin1', 0, 4)).toBe('1234');
      fs.closeSync(fd);
    },
  },
  {
    id: 'fds/fstat',
    title: 'fstatSync sees writes made through the fd',
    run({ fs, p }) {
      const fd = fs.openSync(p('f'), 'w');
      fs.writeSync(fd, 'abcd');
      const st = fs.fstatSync(fd);
      expect(st.isFile()).toBe(true);
      expect(st.size).toBe(4);
      expect(st.ino).toBe(fs.statSync(p('f')).ino);
      fs.closeSync(fd);
    },
  },
  {
    id: 'fds/fchmod-fchown',
    title: 'fchmodSync and fchownSync change the open file',
    root: true,
    run({ fs, p }) {
      const fd = fs.openSync(p('f'), 'w');
      fs.fchmodSync(fd, 0o640);
      fs.fchownSync(fd, 77, 88);
      fs.closeSync(fd);
      const st = fs.statSync(p('f'));
      expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o640, 77, 88]);
    },
  },
  {
    id: 'fds/fsync-fdatasync',
    title: 'fsyncSync and fdatasyncSync succeed on a written file, in both forms',
    async run({ fs, p }) {
      const fd = fs.openSync(p('f'), 'w');
      fs.writeSync(fd, 'x');
      expect(fs.fsyncSync(fd)).toBeUndefined();
      expect(fs.fdatasyncSync(fd)).toBeUndefined();
      await cb((done) => fs.fsync(fd, done));
      await cb((done) => fs.fdatasync(fd, done));
      fs.closeSync(fd);
    },
  },
  {
    id: 'fds/ftruncate',
    title: 'ftruncateSync shrinks and extends with zeros; no length means 0; needs a writable fd',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'abcdef');
      const fd = fs.openSync(p('f'), 'r+');
      fs.ftruncateSync(fd, 2);
      expect(fs.fstatSync(fd).size).toBe(2);
      fs.ftruncateSync(fd, 4);
      expect([...fs.readFileSync(p('f'))]).toEqual([97, 98, 0, 0]);
      fs.ftruncateSync(fd);
      expect(fs.fstatSync(fd).size).toBe(0);
      fs.closeSync(fd);
      const ro = fs.openSync(p('f'), 'r');
      expectSyncUv(() => fs.ftruncateSync(ro, 1), { code: 'EINVAL', syscall: 'ftruncate' });
      fs.closeSync(ro);
    },
  },
  {
    id: 'fds/futimes',
    title: 'futimesSync sets the times of the open file',
    run({ fs, p }) {
      const fd = fs.openSync(p('f'), 'w');
      fs.futimesSync(fd, PAST_S, new Date((PAST_S + 5) * 1000));
      fs.closeSync(fd);
      const st = fs.statSync(p('f'));
      expect([st.atimeMs, st.mtimeMs]).toEqual([PAST_S * 1000, (PAST_S + 5) * 1000]);
    },
  },
  {
    id: 'fds/write-moves-mtime',
    title: 'writeSync through an fd moves mtime and ctime',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '');
      fs.utimesSync(p('f'), PAST_S, PAST_S);
      const floor = nowFloorMs();
      const fd = fs.openSync(p('f'), 'r+');
      fs.writeSync(fd, 'x');
      fs.closeSync(fd);
      expect(fs.statSync(p('f')).mtimeMs).toBeGreaterThan(floor);
      expect(fs.statSync(p('f')).ctimeMs).toBeGreaterThan(floor);
    },
  },
  {
    id: 'fds/close-ebadf',
    title: 'after closeSync, using or closing the fd again gives EBADF',
    run({ fs, p }) {
      const fd = fs.openSync(p('f'), 'w');
      expect(fs.closeSync(fd)).toBeUndefined();
      expectSyncUv(() => fs.fstatSync(fd), { code: 'EBADF', syscall: 'fstat' });
      expectSyncUv(() => fs.closeSync(fd), { code: 'EBADF', syscall: 'close' });
    },
  },
  {
    id: 'fds/close-callback',
    title: 'close (callback) closes the fd',
    async run({ fs, p }) {
      const fd = fs.openSync(p('f'), 'w');
      const was = fs.fstatSync(fd);
      await cb((done) => fs.close(fd, done));
      // The callback comes after turns of the event loop, in which the process may open other files
      // (a kernel mount's server runs in it): the number can be another fd by now. Closed means EBADF,
      // or an fd of another file.
      let now: { ino: number; dev: number } | undefined;
      let err: unknown;
      try {
        now = fs.fstatSync(fd);
      } catch (e) {
        err = e;
      }
      if (now) expect([now.dev, now.ino]).not.toEqual([was.dev, was.ino]);
      else
        expectSyncUv(
          () => {
            throw err;
          },
          { code: 'EBADF', syscall: 'fstat' },
        );
    },
  },
  {
    id: 'fds/open-callback',
    title: 'open (callback) passes an fd; its mode applies to a created file',
    async run({ fs, p }) {
      const fd = await cb<number>((done) => fs.open(p('f'), 'wx', 0o604, done));
      fs.writeSync(fd, 'ok');
      fs.closeSync(fd);
      expect(fs.readFileSync(p('f'), 'utf8')).toBe('ok');
      expect(fs.statSync(p('f')).mode & 0o777).toBe(0o604 & ~process.umask());
    },
  },
  {
    id: 'fds/unlinked-open-file',
    title: 'an unlinked file stays usable through an open fd; fstat shows nlink 0',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), 'still here');
      const fd = fs.openSync(p('f'), 'r+');
      fs.unlinkSync(p('f'));
      expect(fs.existsSync(p('f'))).toBe(false);
      expect(fs.fstatSync(fd).nlink).toBe(0);
      fs.writeSync(fd, 'S', 0);
      const buf = Buffer.alloc(10);
      fs.readSync(fd, buf, 0, 10, 0);
      expect(buf.toString()).toBe('Still here');
      fs.closeSync(fd);
    },
  },
  {
    id: 'fds/two-fds-share-file',
    title: 'two fds on one file have their own offsets and see each other’s writes',
    run({ fs, p }) {
      fs.writeFileSync(p('f'), '0123');
      const a = fs.openSync(p('f'), 'r+');
      const b = fs.openSync(p('f'), 'r');
      fs.writeSync(a, 'AB');
      const buf = Buffer.alloc(4);
      expect(fs.readSync(b, buf, 0, 4, null)).toBe(4);
      expect(buf.toString()).toBe('AB23');
      fs.closeSync(a);
      fs.closeSync(b);
    },
  },
  {
    id: 'fds/large-roundtrip',
    title: 'a 1 MiB write and read give the same bytes',
    run({ fs, p }) {
      const data = Buffer.alloc(1 << 20);
      for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;
      const fd = fs.openSync(p('f'), 'w+');
      expect(fs.writeSync(fd, data, 0, data.length, 0)).toBe(data.length);
      const back = Buffer.alloc(data.length);
      expect(fs.readSync(fd, back, 0, back.length, 0)).toBe(data.length);
      fs.closeSync(fd);
      expect(back.equals(data)).toBe(true);
    },
  },
];
