import type { Case } from '../case.js';
import { expect } from '../expect.js';
import type { FsLike } from '../target.js';

/**
 * Every fd call on every kind of fd (read-only, write-only, read-write, append, append+read, a
 * directory, one never opened, one whose file was unlinked): its result or error code and syscall,
 * as Linux (the table written from node:fs; the nodefs target keeps it true). A closed fd is left
 * out: in a process that opens files in the background its number may be reused at once.
 */
const KINDS = [
  'readOnly',
  'writeOnly',
  'readWrite',
  'append',
  'appendRead',
  'directory',
  'neverOpened',
  'unlinked',
] as const;
type Kind = (typeof KINDS)[number];

function opener(fs: FsLike, r: string): Record<Kind, () => number> {
  return {
    readOnly: () => fs.openSync(`${r}/f`, 'r'),
    writeOnly: () => fs.openSync(`${r}/f`, 'w'),
    readWrite: () => fs.openSync(`${r}/f`, 'r+'),
    append: () => fs.openSync(`${r}/f`, 'a'),
    appendRead: () => fs.openSync(`${r}/f`, 'a+'),
    directory: () => fs.openSync(`${r}/d`, 'r'),
    neverOpened: () => 9999,
    unlinked: () => {
      const fd = fs.openSync(`${r}/f`, 'r+');
      fs.unlinkSync(`${r}/f`);
      return fd;
    },
  };
}

function calls(fs: FsLike): Record<string, (fd: number) => unknown> {
  return {
    pread: (fd) => fs.readSync(fd, Buffer.alloc(3), 0, 3, 0),
    read: (fd) => fs.readSync(fd, Buffer.alloc(3), 0, 3, null),
    pwrite: (fd) => fs.writeSync(fd, 'xy', 0),
    write: (fd) => fs.writeSync(fd, 'xy'),
    fstat: (fd) => {
      fs.fstatSync(fd);
    },
    ftruncate: (fd) => fs.ftruncateSync(fd, 2),
    fsync: (fd) => fs.fsyncSync(fd),
    fdatasync: (fd) => fs.fdatasyncSync(fd),
    fchmod: (fd) => fs.fchmodSync(fd, 0o600),
    fchown: (fd) => fs.fchownSync(fd, 0, 0),
    futimes: (fd) => fs.futimesSync(fd, 1, 2),
    close: (fd) => fs.closeSync(fd),
    readFile: (fd) => fs.readFileSync(fd, 'utf8'),
    writeFile: (fd) => fs.writeFileSync(fd, 'zz'),
    readv: (fd) => fs.readvSync(fd, [Buffer.alloc(2)], 0),
    writev: (fd) => fs.writevSync(fd, [Buffer.from('q')], 0),
  };
}

// biome-ignore format: one row per call reads as a table
const EXPECTED: Record<string, Record<Kind, string>> = {
  pread: { readOnly: 'ok 3', writeOnly: 'EBADF read', readWrite: 'ok 3', append: 'EBADF read', appendRead: 'ok 3', directory: 'EISDIR read', neverOpened: 'EBADF read', unlinked: 'ok 3' },
  read: { readOnly: 'ok 3', writeOnly: 'EBADF read', readWrite: 'ok 3', append: 'EBADF read', appendRead: 'ok 3', directory: 'EISDIR read', neverOpened: 'EBADF read', unlinked: 'ok 3' },
  pwrite: { readOnly: 'EBADF write', writeOnly: 'ok 2', readWrite: 'ok 2', append: 'ok 2', appendRead: 'ok 2', directory: 'EBADF write', neverOpened: 'EBADF write', unlinked: 'ok 2' },
  write: { readOnly: 'EBADF write', writeOnly: 'ok 2', readWrite: 'ok 2', append: 'ok 2', appendRead: 'ok 2', directory: 'EBADF write', neverOpened: 'EBADF write', unlinked: 'ok 2' },
  fstat: { readOnly: 'ok', writeOnly: 'ok', readWrite: 'ok', append: 'ok', appendRead: 'ok', directory: 'ok', neverOpened: 'EBADF fstat', unlinked: 'ok' },
  ftruncate: { readOnly: 'EINVAL ftruncate', writeOnly: 'ok', readWrite: 'ok', append: 'ok', appendRead: 'ok', directory: 'EINVAL ftruncate', neverOpened: 'EBADF ftruncate', unlinked: 'ok' },
  fsync: { readOnly: 'ok', writeOnly: 'ok', readWrite: 'ok', append: 'ok', appendRead: 'ok', directory: 'ok', neverOpened: 'EBADF fsync', unlinked: 'ok' },
  fdatasync: { readOnly: 'ok', writeOnly: 'ok', readWrite: 'ok', append: 'ok', appendRead: 'ok', directory: 'ok', neverOpened: 'EBADF fdatasync', unlinked: 'ok' },
  fchmod: { readOnly: 'ok', writeOnly: 'ok', readWrite: 'ok', append: 'ok', appendRead: 'ok', directory: 'ok', neverOpened: 'EBADF fchmod', unlinked: 'ok' },
  fchown: { readOnly: 'ok', writeOnly: 'ok', readWrite: 'ok', append: 'ok', appendRead: 'ok', directory: 'ok', neverOpened: 'EBADF fchown', unlinked: 'ok' },
  futimes: { readOnly: 'ok', writeOnly: 'ok', readWrite: 'ok', append: 'ok', appendRead: 'ok', directory: 'ok', neverOpened: 'EBADF futime', unlinked: 'ok' },
  close: { readOnly: 'ok', writeOnly: 'ok', readWrite: 'ok', append: 'ok', appendRead: 'ok', directory: 'ok', neverOpened: 'EBADF close', unlinked: 'ok' },
  readFile: { readOnly: 'ok hello', writeOnly: 'EBADF read', readWrite: 'ok hello', append: 'EBADF read', appendRead: 'ok hello', directory: 'EISDIR read', neverOpened: 'EBADF read', unlinked: 'ok hello' },
  writeFile: { readOnly: 'EBADF write', writeOnly: 'ok', readWrite: 'ok', append: 'ok', appendRead: 'ok', directory: 'EBADF write', neverOpened: 'EBADF write', unlinked: 'ok' },
  readv: { readOnly: 'ok 2', writeOnly: 'EBADF read', readWrite: 'ok 2', append: 'EBADF read', appendRead: 'ok 2', directory: 'EISDIR read', neverOpened: 'EBADF read', unlinked: 'ok 2' },
  writev: { readOnly: 'EBADF write', writeOnly: 'ok 1', readWrite: 'ok 1', append: 'ok 1', appendRead: 'ok 1', directory: 'EBADF write', neverOpened: 'EBADF write', unlinked: 'ok 1' },

};

export const fdMatrixCases: Case[] = [
  {
    id: 'fds/fd-kind-matrix',
    title: '16 fd calls x 8 kinds of fd (read-only, write-only, append, a directory, unlinked...) as Linux',
    root: true,
    run({ fs, p }) {
      const r = p('m');
      const got: Record<string, Record<string, string>> = {};
      for (const [name, call] of Object.entries(calls(fs))) {
        got[name] = {};
        for (const kind of KINDS) {
          fs.rmSync(r, { recursive: true, force: true });
          fs.mkdirSync(r);
          fs.writeFileSync(`${r}/f`, 'hello');
          fs.mkdirSync(`${r}/d`);
          const fd = opener(fs, r)[kind]();
          let out: string;
          try {
            const v = call(fd);
            out = v === undefined ? 'ok' : `ok ${v}`;
          } catch (e) {
            const err = e as NodeJS.ErrnoException;
            out = [err.code, err.syscall].filter(Boolean).join(' ');
          }
          if (kind !== 'neverOpened' && name !== 'close') fs.closeSync(fd);
          got[name][kind] = out;
        }
      }
      expect(got).toEqual(EXPECTED);
    },
  },
];
