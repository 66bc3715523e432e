// The CLI's error lines: every errno a command can meet in words (strerror's), the path as the user
// typed it, never Node's wording; usage errors exit 2.
import { expect, describe as group, it } from 'vitest';
import { CliError, describe, usageError } from '../dist/errors.js';

/** An error as node:fs and the zufs face throw it. */
const fsError = (code: string, syscall: string, path?: string, dest?: string) =>
  Object.assign(new Error(`${code}: Node's own wording, ${syscall} '${path}'`), {
    code,
    syscall,
    path,
    dest,
  });

group('error lines', () => {
  it.each([
    ['ENOENT', 'no such file or directory'],
    ['ENOTEMPTY', 'directory not empty'],
    ['EROFS', 'read-only file system'],
    ['EOPNOTSUPP', 'operation not supported'],
    ['ENOTSUP', 'operation not supported'],
    ['EBUSY', 'device or resource busy'],
    ['ENOTCONN', 'transport endpoint is not connected'],
    ['EMFILE', 'too many open files'],
    ['ENFILE', 'too many open files in system'],
    ['EACCES', 'permission denied'],
    ['EPERM', 'operation not permitted'],
    ['ENOSPC', 'no space left on device (the image is full)'],
    ['EIO', 'input/output error'],
    ['ELOOP', 'too many levels of symbolic links'],
    ['ENAMETOOLONG', 'file name too long'],
    ['EXDEV', 'invalid cross-device link'],
    ['ENOSYS', 'function not implemented'],
    ['EMLINK', 'too many links'],
    ['ESTALE', 'stale file handle'],
    ['ENODATA', 'no data available'],
  ])('%s is "%s"', (code, words) => {
    expect(describe(fsError(code, 'open', '/a'), 'cat')).toBe(`cat: /a: ${words}`);
  });

  it('shows the path as typed when a command gave one (IMG:/a), and both paths of a rename', () => {
    const e = Object.assign(fsError('ENOENT', 'rename', '/a', '/b'), {
      shown: 'fs.img:/a',
      shownDest: 'fs.img:/b',
    });
    expect(describe(e, 'mv')).toBe('mv: fs.img:/a -> fs.img:/b: no such file or directory');
  });

  it('a symlink names the new link, not its target text', () => {
    const e = Object.assign(fsError('EEXIST', 'symlink', 'target text', '/l'), { shownDest: 'fs.img:/l' });
    expect(describe(e, 'ln')).toBe('ln: fs.img:/l: file exists');
  });

  it("Node's ERR_FS_EISDIR (rm of a directory) is EISDIR, with the hint of the flag", () => {
    const e = Object.assign(new Error('Path is a directory: rm returned EISDIR (is a directory) /d'), {
      code: 'ERR_FS_EISDIR',
      info: { code: 'EISDIR' },
      path: '/d',
      shown: 'fs.img:/d',
    });
    expect(describe(e, 'rm')).toBe('rm: fs.img:/d: is a directory (use -r)');
  });

  it('an errno without words is printed as its code, never as the message', () => {
    expect(describe(fsError('EWHATEVER', 'read', '/x'), 'cat')).toBe('cat: /x: EWHATEVER');
  });

  it('a CliError is its own line; usage errors exit 2', () => {
    expect(describe(new CliError('ls: x: no such image'), 'ls')).toBe('ls: x: no such image');
    expect(usageError('x').exitCode).toBe(2);
    expect(new CliError('x').exitCode).toBe(1);
  });
});
