import type { Case } from '../case.js';
import { expect } from '../expect.js';
import type { FsLike } from '../target.js';

/**
 * Every permission-checked call, made as uid/gid 65534 on every kind of place a root-owned tree
 * offers (a writable, read-only, unsearchable and unreadable directory, a sticky directory with
 * another's file and the caller's own, files 000, 444, 666 and the caller's own 600): what it does
 * (error code and syscall, or 'ok'), as Linux. The table was written from node:fs run with seteuid
 * and the nodefs target checks it stays true; a fresh tree is made for every cell. access() is
 * left out: it checks with the real uid, which nodefs's seteuid leaves at 0. Linking to another's
 * file follows protected_hardlinks (1, as Debian sets it).
 */
const NOBODY = { uid: 65534, gid: 65534 };
const KINDS = {
  openDir: 'open/x',
  readOnlyDir: 'ro/x',
  noSearchDir: 'nox/x',
  noReadDir: 'nor/x',
  stickyOther: 'sticky/x',
  stickyOwn: 'sticky/mine',
  file000: 'f000',
  fileRO: 'f444',
  fileRW: 'f666',
  ownFile: 'own',
} as const;
type Kind = keyof typeof KINDS;

/** The same name beside `q`. */
const sib = (q: string, name: string) => q.replace(/[^/]*$/, name);

function calls(fs: FsLike): Record<string, (q: string) => unknown> {
  return {
    openR: (q) => fs.closeSync(fs.openSync(q, 'r')),
    openW: (q) => fs.closeSync(fs.openSync(q, 'r+')),
    create: (q) => fs.closeSync(fs.openSync(sib(q, 'new'), 'wx')),
    mkdir: (q) => fs.mkdirSync(sib(q, 'newdir')),
    unlink: (q) => fs.unlinkSync(q),
    rmdirSub: (q) => fs.rmdirSync(sib(q, 'sub')),
    renameAway: (q) => fs.renameSync(q, sib(q, 'moved')),
    linkNew: (q) => fs.linkSync(q, sib(q, 'hard')),
    symlinkNew: (q) => fs.symlinkSync('t', sib(q, 'sym')),
    readdir: (q) => fs.readdirSync(sib(q, '')),
    stat: (q) => fs.statSync(q),
    chmod: (q) => fs.chmodSync(q, 0o640),
    chownSelf: (q) => fs.chownSync(q, NOBODY.uid, NOBODY.gid),
    chownKeep: (q) => fs.chownSync(q, -1, -1),
    utimesNow: (q) => {
      const t = new Date();
      fs.utimesSync(q, t, t);
    },
    utimesSet: (q) => fs.utimesSync(q, 1, 2),
    truncate: (q) => fs.truncateSync(q, 1),
    readFile: (q) => fs.readFileSync(q),
    appendFile: (q) => fs.appendFileSync(q, 'z'),
  };
}

// biome-ignore format: one row per call reads as a table
const EXPECTED: Record<string, Record<Kind, string>> = {
  openR: { openDir: 'ok', readOnlyDir: 'ok', noSearchDir: 'EACCES open', noReadDir: 'ok', stickyOther: 'ok', stickyOwn: 'ok', file000: 'EACCES open', fileRO: 'ok', fileRW: 'ok', ownFile: 'ok' },
  openW: { openDir: 'ok', readOnlyDir: 'ok', noSearchDir: 'EACCES open', noReadDir: 'ok', stickyOther: 'ok', stickyOwn: 'ok', file000: 'EACCES open', fileRO: 'EACCES open', fileRW: 'ok', ownFile: 'ok' },
  create: { openDir: 'ok', readOnlyDir: 'EACCES open', noSearchDir: 'EACCES open', noReadDir: 'ok', stickyOther: 'ok', stickyOwn: 'ok', file000: 'EACCES open', fileRO: 'EACCES open', fileRW: 'EACCES open', ownFile: 'EACCES open' },
  mkdir: { openDir: 'ok', readOnlyDir: 'EACCES mkdir', noSearchDir: 'EACCES mkdir', noReadDir: 'ok', stickyOther: 'ok', stickyOwn: 'ok', file000: 'EACCES mkdir', fileRO: 'EACCES mkdir', fileRW: 'EACCES mkdir', ownFile: 'EACCES mkdir' },
  unlink: { openDir: 'ok', readOnlyDir: 'EACCES unlink', noSearchDir: 'EACCES unlink', noReadDir: 'ok', stickyOther: 'EPERM unlink', stickyOwn: 'ok', file000: 'EACCES unlink', fileRO: 'EACCES unlink', fileRW: 'EACCES unlink', ownFile: 'EACCES unlink' },
  rmdirSub: { openDir: 'ok', readOnlyDir: 'EACCES rmdir', noSearchDir: 'EACCES rmdir', noReadDir: 'ok', stickyOther: 'EPERM rmdir', stickyOwn: 'EPERM rmdir', file000: 'ENOENT rmdir', fileRO: 'ENOENT rmdir', fileRW: 'ENOENT rmdir', ownFile: 'ENOENT rmdir' },
  renameAway: { openDir: 'ok', readOnlyDir: 'EACCES rename', noSearchDir: 'EACCES rename', noReadDir: 'ok', stickyOther: 'EPERM rename', stickyOwn: 'ok', file000: 'EACCES rename', fileRO: 'EACCES rename', fileRW: 'EACCES rename', ownFile: 'EACCES rename' },
  linkNew: { openDir: 'ok', readOnlyDir: 'EACCES link', noSearchDir: 'EACCES link', noReadDir: 'ok', stickyOther: 'ok', stickyOwn: 'ok', file000: 'EPERM link', fileRO: 'EPERM link', fileRW: 'EACCES link', ownFile: 'EACCES link' },
  symlinkNew: { openDir: 'ok', readOnlyDir: 'EACCES symlink', noSearchDir: 'EACCES symlink', noReadDir: 'ok', stickyOther: 'ok', stickyOwn: 'ok', file000: 'EACCES symlink', fileRO: 'EACCES symlink', fileRW: 'EACCES symlink', ownFile: 'EACCES symlink' },
  readdir: { openDir: 'ok', readOnlyDir: 'ok', noSearchDir: 'ok', noReadDir: 'EACCES scandir', stickyOther: 'ok', stickyOwn: 'ok', file000: 'ok', fileRO: 'ok', fileRW: 'ok', ownFile: 'ok' },
  stat: { openDir: 'ok', readOnlyDir: 'ok', noSearchDir: 'EACCES stat', noReadDir: 'ok', stickyOther: 'ok', stickyOwn: 'ok', file000: 'ok', fileRO: 'ok', fileRW: 'ok', ownFile: 'ok' },
  chmod: { openDir: 'EPERM chmod', readOnlyDir: 'EPERM chmod', noSearchDir: 'EACCES chmod', noReadDir: 'EPERM chmod', stickyOther: 'EPERM chmod', stickyOwn: 'ok', file000: 'EPERM chmod', fileRO: 'EPERM chmod', fileRW: 'EPERM chmod', ownFile: 'ok' },
  chownSelf: { openDir: 'EPERM chown', readOnlyDir: 'EPERM chown', noSearchDir: 'EACCES chown', noReadDir: 'EPERM chown', stickyOther: 'EPERM chown', stickyOwn: 'ok', file000: 'EPERM chown', fileRO: 'EPERM chown', fileRW: 'EPERM chown', ownFile: 'ok' },
  chownKeep: { openDir: 'ok', readOnlyDir: 'ok', noSearchDir: 'EACCES chown', noReadDir: 'ok', stickyOther: 'ok', stickyOwn: 'ok', file000: 'ok', fileRO: 'ok', fileRW: 'ok', ownFile: 'ok' },
  utimesNow: { openDir: 'EPERM utime', readOnlyDir: 'EPERM utime', noSearchDir: 'EACCES utime', noReadDir: 'EPERM utime', stickyOther: 'EPERM utime', stickyOwn: 'ok', file000: 'EPERM utime', fileRO: 'EPERM utime', fileRW: 'EPERM utime', ownFile: 'ok' },
  utimesSet: { openDir: 'EPERM utime', readOnlyDir: 'EPERM utime', noSearchDir: 'EACCES utime', noReadDir: 'EPERM utime', stickyOther: 'EPERM utime', stickyOwn: 'ok', file000: 'EPERM utime', fileRO: 'EPERM utime', fileRW: 'EPERM utime', ownFile: 'ok' },
  truncate: { openDir: 'ok', readOnlyDir: 'ok', noSearchDir: 'EACCES open', noReadDir: 'ok', stickyOther: 'ok', stickyOwn: 'ok', file000: 'EACCES open', fileRO: 'EACCES open', fileRW: 'ok', ownFile: 'ok' },
  readFile: { openDir: 'ok', readOnlyDir: 'ok', noSearchDir: 'EACCES open', noReadDir: 'ok', stickyOther: 'ok', stickyOwn: 'ok', file000: 'EACCES open', fileRO: 'ok', fileRW: 'ok', ownFile: 'ok' },
  appendFile: { openDir: 'ok', readOnlyDir: 'ok', noSearchDir: 'EACCES open', noReadDir: 'ok', stickyOther: 'ok', stickyOwn: 'ok', file000: 'EACCES open', fileRO: 'EACCES open', fileRW: 'ok', ownFile: 'ok' },

};

export const permissionMatrixCases: Case[] = [
  {
    id: 'errors/permission-matrix',
    title:
      '19 calls x 10 kinds of place, as a non-root user: EACCES and EPERM exactly where Linux gives them',
    root: true,
    run({ fs, p, asUser }) {
      const r = p('m');
      fs.chmodSync(p(), 0o755); // the case's own directory: searchable by the other user
      const fresh = () => {
        fs.rmSync(r, { recursive: true, force: true });
        fs.mkdirSync(r);
        fs.chmodSync(r, 0o755);
        for (const [name, mode] of [
          ['open', 0o777],
          ['ro', 0o555],
          ['nox', 0o666],
          ['nor', 0o333],
          ['sticky', 0o1777],
        ] as const) {
          fs.mkdirSync(`${r}/${name}`);
          fs.writeFileSync(`${r}/${name}/x`, 'x');
          fs.chmodSync(`${r}/${name}/x`, 0o666);
          fs.mkdirSync(`${r}/${name}/sub`);
          fs.chmodSync(`${r}/${name}`, mode);
        }
        fs.writeFileSync(`${r}/sticky/mine`, 'm');
        fs.chownSync(`${r}/sticky/mine`, NOBODY.uid, NOBODY.gid);
        for (const [name, mode] of [
          ['f000', 0o000],
          ['f444', 0o444],
          ['f666', 0o666],
        ] as const) {
          fs.writeFileSync(`${r}/${name}`, 'data');
          fs.chmodSync(`${r}/${name}`, mode);
        }
        fs.writeFileSync(`${r}/own`, 'mine');
        fs.chmodSync(`${r}/own`, 0o600);
        fs.chownSync(`${r}/own`, NOBODY.uid, NOBODY.gid);
      };
      const got: Record<string, Record<string, string>> = {};
      for (const name of Object.keys(EXPECTED)) {
        got[name] = {};
        for (const [kind, q] of Object.entries(KINDS)) {
          fresh();
          got[name][kind] = asUser(NOBODY, (ufs) => {
            try {
              calls(ufs)[name](`${r}/${q}`);
              return 'ok';
            } catch (e) {
              const err = e as NodeJS.ErrnoException;
              return [err.code, err.syscall].filter(Boolean).join(' ');
            }
          });
        }
      }
      expect(got).toEqual(EXPECTED);
    },
  },
];
