import type { Case } from '../case.js';
import { expect } from '../expect.js';
import type { FsLike } from '../target.js';

/**
 * Every path call against every kind of path: what each one does (its error's code, syscall, path
 * and dest below the case's root, or 'ok'), as node:fs does it on Linux. The table was written from
 * node:fs and the nodefs target checks it stays true; a fresh tree is made for every cell.
 */
const KINDS = {
  missing: 'nope',
  missingParent: 'nodir/x',
  file: 'f',
  dir: 'd',
  fileAsDir: 'f/x',
  dangling: 'dang',
  linkDir: 'ld',
  linkFile: 'lf',
  dot: 'd/.',
  dotdot: 'd/..',
  fileSlash: 'f/',
  dirSlash: 'd/',
  danglingSlash: 'dang/',
  linkDirSlash: 'ld/',
  fullDir: 'full',
  loop: 'loop',
} as const;
type Kind = keyof typeof KINDS;

/** The calls, each on a path `q` of the tree under `r`. */
function calls(fs: FsLike, r: string): Record<string, (q: string) => unknown> {
  return {
    openR: (q) => fs.closeSync(fs.openSync(q, 'r')),
    openW: (q) => fs.closeSync(fs.openSync(q, 'w')),
    openWX: (q) => fs.closeSync(fs.openSync(q, 'wx')),
    openA: (q) => fs.closeSync(fs.openSync(q, 'a')),
    mkdir: (q) => fs.mkdirSync(q),
    mkdirP: (q) => fs.mkdirSync(q, { recursive: true }),
    rmdir: (q) => fs.rmdirSync(q),
    unlink: (q) => fs.unlinkSync(q),
    renameTo: (q) => fs.renameSync(`${r}/f`, q),
    renameFrom: (q) => fs.renameSync(q, `${r}/newname`),
    renameDirTo: (q) => fs.renameSync(`${r}/d`, q),
    linkTo: (q) => fs.linkSync(`${r}/f`, q),
    linkFrom: (q) => fs.linkSync(q, `${r}/newlink`),
    symlink: (q) => fs.symlinkSync('t', q),
    readlink: (q) => fs.readlinkSync(q),
    truncate: (q) => fs.truncateSync(q, 1),
    readdir: (q) => fs.readdirSync(q),
    stat: (q) => fs.statSync(q),
    lstat: (q) => fs.lstatSync(q),
    chmod: (q) => fs.chmodSync(q, 0o644),
    utimes: (q) => fs.utimesSync(q, 1, 1),
    readFile: (q) => fs.readFileSync(q),
    writeFile: (q) => fs.writeFileSync(q, 'x'),
    copyTo: (q) => fs.copyFileSync(`${r}/f`, q),
    copyFrom: (q) => fs.copyFileSync(q, `${r}/copy`),
    rm: (q) => fs.rmSync(q),
    rmR: (q) => fs.rmSync(q, { recursive: true }),
    access: (q) => fs.accessSync(q),
    realpath: (q) => fs.realpathSync(q),
    opendir: (q) => fs.opendirSync(q).closeSync(),
    exists: (q) => fs.existsSync(q),
  };
}

// biome-ignore format: one row per call reads as a table
const EXPECTED: Record<string, Record<Kind, string>> = {
  openR: { missing: 'ENOENT open /nope', missingParent: 'ENOENT open /nodir/x', file: 'ok', dir: 'ok', fileAsDir: 'ENOTDIR open /f/x', dangling: 'ENOENT open /dang', linkDir: 'ok', linkFile: 'ok', dot: 'ok', dotdot: 'ok', fileSlash: 'ENOTDIR open /f/', dirSlash: 'ok', danglingSlash: 'ENOENT open /dang/', linkDirSlash: 'ok', fullDir: 'ok', loop: 'ELOOP open /loop' },
  openW: { missing: 'ok', missingParent: 'ENOENT open /nodir/x', file: 'ok', dir: 'EISDIR open /d', fileAsDir: 'ENOTDIR open /f/x', dangling: 'ok', linkDir: 'EISDIR open /ld', linkFile: 'ok', dot: 'EISDIR open /d/.', dotdot: 'EISDIR open /d/..', fileSlash: 'EISDIR open /f/', dirSlash: 'EISDIR open /d/', danglingSlash: 'EISDIR open /dang/', linkDirSlash: 'EISDIR open /ld/', fullDir: 'EISDIR open /full', loop: 'ELOOP open /loop' },
  openWX: { missing: 'ok', missingParent: 'ENOENT open /nodir/x', file: 'EEXIST open /f', dir: 'EEXIST open /d', fileAsDir: 'ENOTDIR open /f/x', dangling: 'EEXIST open /dang', linkDir: 'EEXIST open /ld', linkFile: 'EEXIST open /lf', dot: 'EEXIST open /d/.', dotdot: 'EEXIST open /d/..', fileSlash: 'EISDIR open /f/', dirSlash: 'EISDIR open /d/', danglingSlash: 'EISDIR open /dang/', linkDirSlash: 'EISDIR open /ld/', fullDir: 'EEXIST open /full', loop: 'EEXIST open /loop' },
  openA: { missing: 'ok', missingParent: 'ENOENT open /nodir/x', file: 'ok', dir: 'EISDIR open /d', fileAsDir: 'ENOTDIR open /f/x', dangling: 'ok', linkDir: 'EISDIR open /ld', linkFile: 'ok', dot: 'EISDIR open /d/.', dotdot: 'EISDIR open /d/..', fileSlash: 'EISDIR open /f/', dirSlash: 'EISDIR open /d/', danglingSlash: 'EISDIR open /dang/', linkDirSlash: 'EISDIR open /ld/', fullDir: 'EISDIR open /full', loop: 'ELOOP open /loop' },
  mkdir: { missing: 'ok', missingParent: 'ENOENT mkdir /nodir/x', file: 'EEXIST mkdir /f', dir: 'EEXIST mkdir /d', fileAsDir: 'ENOTDIR mkdir /f/x', dangling: 'EEXIST mkdir /dang', linkDir: 'EEXIST mkdir /ld', linkFile: 'EEXIST mkdir /lf', dot: 'EEXIST mkdir /d/.', dotdot: 'EEXIST mkdir /d/..', fileSlash: 'EEXIST mkdir /f/', dirSlash: 'EEXIST mkdir /d/', danglingSlash: 'EEXIST mkdir /dang/', linkDirSlash: 'EEXIST mkdir /ld/', fullDir: 'EEXIST mkdir /full', loop: 'EEXIST mkdir /loop' },
  mkdirP: { missing: 'ok', missingParent: 'ok', file: 'EEXIST mkdir /f', dir: 'ok', fileAsDir: 'ENOTDIR mkdir /f/x', dangling: 'ENOENT mkdir /dang', linkDir: 'ok', linkFile: 'EEXIST mkdir /lf', dot: 'ok', dotdot: 'ok', fileSlash: 'ENOTDIR mkdir /f/', dirSlash: 'ok', danglingSlash: 'ENOENT mkdir /dang/', linkDirSlash: 'ok', fullDir: 'ok', loop: 'ELOOP mkdir /loop' },
  rmdir: { missing: 'ENOENT rmdir /nope', missingParent: 'ENOENT rmdir /nodir/x', file: 'ENOTDIR rmdir /f', dir: 'ok', fileAsDir: 'ENOTDIR rmdir /f/x', dangling: 'ENOTDIR rmdir /dang', linkDir: 'ENOTDIR rmdir /ld', linkFile: 'ENOTDIR rmdir /lf', dot: 'EINVAL rmdir /d/.', dotdot: 'ENOTEMPTY rmdir /d/..', fileSlash: 'ENOTDIR rmdir /f/', dirSlash: 'ok', danglingSlash: 'ENOTDIR rmdir /dang/', linkDirSlash: 'ENOTDIR rmdir /ld/', fullDir: 'ENOTEMPTY rmdir /full', loop: 'ENOTDIR rmdir /loop' },
  unlink: { missing: 'ENOENT unlink /nope', missingParent: 'ENOENT unlink /nodir/x', file: 'ok', dir: 'EISDIR unlink /d', fileAsDir: 'ENOTDIR unlink /f/x', dangling: 'ok', linkDir: 'ok', linkFile: 'ok', dot: 'EISDIR unlink /d/.', dotdot: 'EISDIR unlink /d/..', fileSlash: 'ENOTDIR unlink /f/', dirSlash: 'EISDIR unlink /d/', danglingSlash: 'ENOTDIR unlink /dang/', linkDirSlash: 'ENOTDIR unlink /ld/', fullDir: 'EISDIR unlink /full', loop: 'ok' },
  renameTo: { missing: 'ok', missingParent: 'ENOENT rename /f /nodir/x', file: 'ok', dir: 'EISDIR rename /f /d', fileAsDir: 'ENOTDIR rename /f /f/x', dangling: 'ok', linkDir: 'ok', linkFile: 'ok', dot: 'EBUSY rename /f /d/.', dotdot: 'EBUSY rename /f /d/..', fileSlash: 'ENOTDIR rename /f /f/', dirSlash: 'ENOTDIR rename /f /d/', danglingSlash: 'ENOTDIR rename /f /dang/', linkDirSlash: 'ENOTDIR rename /f /ld/', fullDir: 'EISDIR rename /f /full', loop: 'ok' },
  renameFrom: { missing: 'ENOENT rename /nope /newname', missingParent: 'ENOENT rename /nodir/x /newname', file: 'ok', dir: 'ok', fileAsDir: 'ENOTDIR rename /f/x /newname', dangling: 'ok', linkDir: 'ok', linkFile: 'ok', dot: 'EBUSY rename /d/. /newname', dotdot: 'EBUSY rename /d/.. /newname', fileSlash: 'ENOTDIR rename /f/ /newname', dirSlash: 'ok', danglingSlash: 'ENOTDIR rename /dang/ /newname', linkDirSlash: 'ENOTDIR rename /ld/ /newname', fullDir: 'ok', loop: 'ok' },
  renameDirTo: { missing: 'ok', missingParent: 'ENOENT rename /d /nodir/x', file: 'ENOTDIR rename /d /f', dir: 'ok', fileAsDir: 'ENOTDIR rename /d /f/x', dangling: 'ENOTDIR rename /d /dang', linkDir: 'ENOTDIR rename /d /ld', linkFile: 'ENOTDIR rename /d /lf', dot: 'EBUSY rename /d /d/.', dotdot: 'EBUSY rename /d /d/..', fileSlash: 'ENOTDIR rename /d /f/', dirSlash: 'ok', danglingSlash: 'ENOTDIR rename /d /dang/', linkDirSlash: 'ENOTDIR rename /d /ld/', fullDir: 'ENOTEMPTY rename /d /full', loop: 'ENOTDIR rename /d /loop' },
  linkTo: { missing: 'ok', missingParent: 'ENOENT link /f /nodir/x', file: 'EEXIST link /f /f', dir: 'EEXIST link /f /d', fileAsDir: 'ENOTDIR link /f /f/x', dangling: 'EEXIST link /f /dang', linkDir: 'EEXIST link /f /ld', linkFile: 'EEXIST link /f /lf', dot: 'EEXIST link /f /d/.', dotdot: 'EEXIST link /f /d/..', fileSlash: 'EEXIST link /f /f/', dirSlash: 'EEXIST link /f /d/', danglingSlash: 'EEXIST link /f /dang/', linkDirSlash: 'EEXIST link /f /ld/', fullDir: 'EEXIST link /f /full', loop: 'EEXIST link /f /loop' },
  linkFrom: { missing: 'ENOENT link /nope /newlink', missingParent: 'ENOENT link /nodir/x /newlink', file: 'ok', dir: 'EPERM link /d /newlink', fileAsDir: 'ENOTDIR link /f/x /newlink', dangling: 'ok', linkDir: 'ok', linkFile: 'ok', dot: 'EPERM link /d/. /newlink', dotdot: 'EPERM link /d/.. /newlink', fileSlash: 'ENOTDIR link /f/ /newlink', dirSlash: 'EPERM link /d/ /newlink', danglingSlash: 'ENOENT link /dang/ /newlink', linkDirSlash: 'EPERM link /ld/ /newlink', fullDir: 'EPERM link /full /newlink', loop: 'ok' },
  symlink: { missing: 'ok', missingParent: 'ENOENT symlink t /nodir/x', file: 'EEXIST symlink t /f', dir: 'EEXIST symlink t /d', fileAsDir: 'ENOTDIR symlink t /f/x', dangling: 'EEXIST symlink t /dang', linkDir: 'EEXIST symlink t /ld', linkFile: 'EEXIST symlink t /lf', dot: 'EEXIST symlink t /d/.', dotdot: 'EEXIST symlink t /d/..', fileSlash: 'EEXIST symlink t /f/', dirSlash: 'EEXIST symlink t /d/', danglingSlash: 'EEXIST symlink t /dang/', linkDirSlash: 'EEXIST symlink t /ld/', fullDir: 'EEXIST symlink t /full', loop: 'EEXIST symlink t /loop' },
  readlink: { missing: 'ENOENT readlink /nope', missingParent: 'ENOENT readlink /nodir/x', file: 'EINVAL readlink /f', dir: 'EINVAL readlink /d', fileAsDir: 'ENOTDIR readlink /f/x', dangling: 'ok', linkDir: 'ok', linkFile: 'ok', dot: 'EINVAL readlink /d/.', dotdot: 'EINVAL readlink /d/..', fileSlash: 'ENOTDIR readlink /f/', dirSlash: 'EINVAL readlink /d/', danglingSlash: 'ENOENT readlink /dang/', linkDirSlash: 'EINVAL readlink /ld/', fullDir: 'EINVAL readlink /full', loop: 'ok' },
  truncate: { missing: 'ENOENT open /nope', missingParent: 'ENOENT open /nodir/x', file: 'ok', dir: 'EISDIR open /d', fileAsDir: 'ENOTDIR open /f/x', dangling: 'ENOENT open /dang', linkDir: 'EISDIR open /ld', linkFile: 'ok', dot: 'EISDIR open /d/.', dotdot: 'EISDIR open /d/..', fileSlash: 'ENOTDIR open /f/', dirSlash: 'EISDIR open /d/', danglingSlash: 'ENOENT open /dang/', linkDirSlash: 'EISDIR open /ld/', fullDir: 'EISDIR open /full', loop: 'ELOOP open /loop' },
  readdir: { missing: 'ENOENT scandir /nope', missingParent: 'ENOENT scandir /nodir/x', file: 'ENOTDIR scandir /f', dir: 'ok', fileAsDir: 'ENOTDIR scandir /f/x', dangling: 'ENOENT scandir /dang', linkDir: 'ok', linkFile: 'ENOTDIR scandir /lf', dot: 'ok', dotdot: 'ok', fileSlash: 'ENOTDIR scandir /f/', dirSlash: 'ok', danglingSlash: 'ENOENT scandir /dang/', linkDirSlash: 'ok', fullDir: 'ok', loop: 'ELOOP scandir /loop' },
  stat: { missing: 'ENOENT stat /nope', missingParent: 'ENOENT stat /nodir/x', file: 'ok', dir: 'ok', fileAsDir: 'ENOTDIR stat /f/x', dangling: 'ENOENT stat /dang', linkDir: 'ok', linkFile: 'ok', dot: 'ok', dotdot: 'ok', fileSlash: 'ENOTDIR stat /f/', dirSlash: 'ok', danglingSlash: 'ENOENT stat /dang/', linkDirSlash: 'ok', fullDir: 'ok', loop: 'ELOOP stat /loop' },
  lstat: { missing: 'ENOENT lstat /nope', missingParent: 'ENOENT lstat /nodir/x', file: 'ok', dir: 'ok', fileAsDir: 'ENOTDIR lstat /f/x', dangling: 'ok', linkDir: 'ok', linkFile: 'ok', dot: 'ok', dotdot: 'ok', fileSlash: 'ENOTDIR lstat /f/', dirSlash: 'ok', danglingSlash: 'ENOENT lstat /dang/', linkDirSlash: 'ok', fullDir: 'ok', loop: 'ok' },
  chmod: { missing: 'ENOENT chmod /nope', missingParent: 'ENOENT chmod /nodir/x', file: 'ok', dir: 'ok', fileAsDir: 'ENOTDIR chmod /f/x', dangling: 'ENOENT chmod /dang', linkDir: 'ok', linkFile: 'ok', dot: 'ok', dotdot: 'ok', fileSlash: 'ENOTDIR chmod /f/', dirSlash: 'ok', danglingSlash: 'ENOENT chmod /dang/', linkDirSlash: 'ok', fullDir: 'ok', loop: 'ELOOP chmod /loop' },
  utimes: { missing: 'ENOENT utime /nope', missingParent: 'ENOENT utime /nodir/x', file: 'ok', dir: 'ok', fileAsDir: 'ENOTDIR utime /f/x', dangling: 'ENOENT utime /dang', linkDir: 'ok', linkFile: 'ok', dot: 'ok', dotdot: 'ok', fileSlash: 'ENOTDIR utime /f/', dirSlash: 'ok', danglingSlash: 'ENOENT utime /dang/', linkDirSlash: 'ok', fullDir: 'ok', loop: 'ELOOP utime /loop' },
  readFile: { missing: 'ENOENT open /nope', missingParent: 'ENOENT open /nodir/x', file: 'ok', dir: 'EISDIR read', fileAsDir: 'ENOTDIR open /f/x', dangling: 'ENOENT open /dang', linkDir: 'EISDIR read', linkFile: 'ok', dot: 'EISDIR read', dotdot: 'EISDIR read', fileSlash: 'ENOTDIR open /f/', dirSlash: 'EISDIR read', danglingSlash: 'ENOENT open /dang/', linkDirSlash: 'EISDIR read', fullDir: 'EISDIR read', loop: 'ELOOP open /loop' },
  writeFile: { missing: 'ok', missingParent: 'ENOENT open /nodir/x', file: 'ok', dir: 'EISDIR open /d', fileAsDir: 'ENOTDIR open /f/x', dangling: 'ok', linkDir: 'EISDIR open /ld', linkFile: 'ok', dot: 'EISDIR open /d/.', dotdot: 'EISDIR open /d/..', fileSlash: 'EISDIR open /f/', dirSlash: 'EISDIR open /d/', danglingSlash: 'EISDIR open /dang/', linkDirSlash: 'EISDIR open /ld/', fullDir: 'EISDIR open /full', loop: 'ELOOP open /loop' },
  copyTo: { missing: 'ok', missingParent: 'ENOENT copyfile /f /nodir/x', file: 'ok', dir: 'EISDIR copyfile /f /d', fileAsDir: 'ENOTDIR copyfile /f /f/x', dangling: 'ok', linkDir: 'EISDIR copyfile /f /ld', linkFile: 'ok', dot: 'EISDIR copyfile /f /d/.', dotdot: 'EISDIR copyfile /f /d/..', fileSlash: 'EISDIR copyfile /f /f/', dirSlash: 'EISDIR copyfile /f /d/', danglingSlash: 'EISDIR copyfile /f /dang/', linkDirSlash: 'EISDIR copyfile /f /ld/', fullDir: 'EISDIR copyfile /f /full', loop: 'ELOOP copyfile /f /loop' },
  copyFrom: { missing: 'ENOENT copyfile /nope /copy', missingParent: 'ENOENT copyfile /nodir/x /copy', file: 'ok', dir: 'EISDIR copyfile /d /copy', fileAsDir: 'ENOTDIR copyfile /f/x /copy', dangling: 'ENOENT copyfile /dang /copy', linkDir: 'EISDIR copyfile /ld /copy', linkFile: 'ok', dot: 'EISDIR copyfile /d/. /copy', dotdot: 'EISDIR copyfile /d/.. /copy', fileSlash: 'ENOTDIR copyfile /f/ /copy', dirSlash: 'EISDIR copyfile /d/ /copy', danglingSlash: 'ENOENT copyfile /dang/ /copy', linkDirSlash: 'EISDIR copyfile /ld/ /copy', fullDir: 'EISDIR copyfile /full /copy', loop: 'ELOOP copyfile /loop /copy' },
  rm: { missing: 'ENOENT lstat /nope', missingParent: 'ENOENT lstat /nodir/x', file: 'ok', dir: 'ERR_FS_EISDIR rm /d', fileAsDir: 'ENOTDIR lstat /f/x', dangling: 'ok', linkDir: 'ok', linkFile: 'ok', dot: 'ERR_FS_EISDIR rm /d/.', dotdot: 'ERR_FS_EISDIR rm /d/..', fileSlash: 'ENOTDIR lstat /f/', dirSlash: 'ERR_FS_EISDIR rm /d/', danglingSlash: 'ENOENT lstat /dang/', linkDirSlash: 'ERR_FS_EISDIR rm /ld/', fullDir: 'ERR_FS_EISDIR rm /full', loop: 'ok' },
  rmR: { missing: 'ENOENT lstat /nope', missingParent: 'ENOENT lstat /nodir/x', file: 'ok', dir: 'ok', fileAsDir: 'ENOTDIR lstat /f/x', dangling: 'ok', linkDir: 'ok', linkFile: 'ok', dot: 'EINVAL rmdir /d/.', dotdot: 'ok', fileSlash: 'ENOTDIR lstat /f/', dirSlash: 'ok', danglingSlash: 'ENOENT lstat /dang/', linkDirSlash: 'ENOTDIR rmdir /ld/', fullDir: 'ok', loop: 'ok' },
  access: { missing: 'ENOENT access /nope', missingParent: 'ENOENT access /nodir/x', file: 'ok', dir: 'ok', fileAsDir: 'ENOTDIR access /f/x', dangling: 'ENOENT access /dang', linkDir: 'ok', linkFile: 'ok', dot: 'ok', dotdot: 'ok', fileSlash: 'ENOTDIR access /f/', dirSlash: 'ok', danglingSlash: 'ENOENT access /dang/', linkDirSlash: 'ok', fullDir: 'ok', loop: 'ELOOP access /loop' },
  realpath: { missing: 'ENOENT lstat /nope', missingParent: 'ENOENT lstat /nodir', file: 'ok', dir: 'ok', fileAsDir: 'ENOTDIR lstat /f/x', dangling: 'ENOENT stat /dang', linkDir: 'ok', linkFile: 'ok', dot: 'ok', dotdot: 'ok', fileSlash: 'ok', dirSlash: 'ok', danglingSlash: 'ENOENT stat /dang', linkDirSlash: 'ok', fullDir: 'ok', loop: 'ELOOP stat /loop' },
  opendir: { missing: 'ENOENT opendir', missingParent: 'ENOENT opendir', file: 'ENOTDIR opendir', dir: 'ok', fileAsDir: 'ENOTDIR opendir', dangling: 'ENOENT opendir', linkDir: 'ok', linkFile: 'ENOTDIR opendir', dot: 'ok', dotdot: 'ok', fileSlash: 'ENOTDIR opendir', dirSlash: 'ok', danglingSlash: 'ENOENT opendir', linkDirSlash: 'ok', fullDir: 'ok', loop: 'ELOOP opendir' },
  exists: { missing: 'false', missingParent: 'false', file: 'true', dir: 'true', fileAsDir: 'false', dangling: 'false', linkDir: 'true', linkFile: 'true', dot: 'true', dotdot: 'true', fileSlash: 'false', dirSlash: 'true', danglingSlash: 'false', linkDirSlash: 'true', fullDir: 'true', loop: 'false' },
};

export const pathMatrixCases: Case[] = [
  {
    id: 'errors/path-kind-matrix',
    title:
      '31 path calls x 16 kinds of path (missing, file as dir, dangling link, loop, trailing slash...) fail as Linux',
    run({ fs, p }) {
      const r = p('m');
      const fresh = () => {
        fs.rmSync(r, { recursive: true, force: true });
        fs.mkdirSync(r);
        fs.writeFileSync(`${r}/f`, 'file');
        fs.mkdirSync(`${r}/d`);
        fs.symlinkSync('nowhere', `${r}/dang`);
        fs.symlinkSync('d', `${r}/ld`);
        fs.symlinkSync('f', `${r}/lf`);
        fs.mkdirSync(`${r}/full`);
        fs.writeFileSync(`${r}/full/x`, '');
        fs.symlinkSync('loop', `${r}/loop`);
      };
      const rel = (x: unknown) => String(x ?? '').replace(r, '');
      const got: Record<string, Record<string, string>> = {};
      for (const [name, call] of Object.entries(calls(fs, r))) {
        got[name] = {};
        for (const [kind, q] of Object.entries(KINDS)) {
          fresh();
          let out: string;
          try {
            const v = call(`${r}/${q}`);
            out = v === true || v === false ? String(v) : 'ok';
          } catch (e) {
            const err = e as NodeJS.ErrnoException & { dest?: string };
            out = [err.code, err.syscall, rel(err.path), rel(err.dest)].filter(Boolean).join(' ');
          }
          got[name][kind] = out;
        }
      }
      expect(got).toEqual(EXPECTED);
    },
  },
];
