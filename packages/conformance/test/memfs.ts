import { createRequire } from 'node:module';
import type { Cred, FsLike, Target, TargetEnv } from '@zufs/conformance';
import type * as memfsModule from 'memfs';

const require = createRequire(import.meta.url);

/** Loads memfs (CommonJS) lazily, so the nodefs target runs even where memfs is absent. */
function loadMemfs(): typeof memfsModule {
  return require('memfs') as typeof memfsModule;
}

let memfs: typeof memfsModule | undefined;

/** memfs decides permissions from process.getuid()/getgid(): swap those around `fn`. */
function asUserWith(fs: FsLike) {
  return <T>(cred: Cred, fn: (fs: FsLike) => T): T => {
    const { getuid, getgid } = process;
    process.getuid = () => cred.uid;
    process.getgid = () => cred.gid;
    try {
      return fn(fs);
    } finally {
      process.getuid = getuid;
      process.getgid = getgid;
    }
  };
}

const MKDIR_P_RETURN = 'mkdir recursive returns the whole path given, not the first directory it created';
const CHMOD_MTIME = 'chmod and chown move mtime too (Linux moves only ctime)';
const NO_NAME_MAX = 'no 255-byte limit on a name: the file is created';

/**
 * Where memfs 4.80 departs from Linux (found by running the suite; each case still runs and must
 * fail here). Several are data-losing: renames that replace non-empty dirs or detach a subtree.
 */
const departures: Record<string, string> = {
  'links/new-name-trailing-slash': "link and symlink to a missing 'name/' create 'name' instead of ENOENT",
  'links/link-order': 'checks no permissions in link as a non-root user',
  'copy/ficlone': 'COPYFILE_FICLONE_FORCE copies instead of failing ENOTSUP',
  'copy/permissions': 'copyFile checks no permissions of a non-root caller',
  'rename/subtree-order': 'checks ENOTDIR/EISDIR before the subtree rules (EINVAL, ENOTEMPTY)',
  'rename/dir-needs-write-on-itself': 'moves a directory to another parent without write permission on it',
  'rename/sticky-order': 'no sticky-directory rule in rename',
  'files/writefile-typed-arrays': 'writes a DataView as the string "[object DataView]"',
  'files/writefile-mode': 'ignores the umask: a new file gets 0666',
  'files/unlink-dir-eisdir': 'unlink of a directory gives EPERM, not EISDIR',
  'files/access-root-rw': 'no root override: root gets EACCES on a mode 000 file',
  'files/access-root-exec': 'no root override: root gets EACCES for X_OK on a dir without x bits',
  'dirs/mkdir': 'ignores the umask: a new dir gets 0777',
  'dirs/mkdir-mode': 'ignores the umask on the mode given',
  'dirs/mkdir-enoent': 'ENOENT names the missing parent, not the path given',
  'dirs/mkdir-recursive-returns-first': MKDIR_P_RETURN,
  'dirs/mkdir-recursive-over-file': 'mkdir recursive onto an existing file succeeds instead of EEXIST',
  'dirs/mkdir-recursive-callback': MKDIR_P_RETURN,
  'errors/argument-checks':
    'accepts some modes, ids, times or options Node refuses, or refuses them with other errors',
  'dirs/readdir-recursive-symlinks': 'recursive readdir of names does not go into symlinked directories',
  'dirs/cp-filter-and-kinds':
    'cp errors are plain Errors with other messages and no errno, syscall, path or info',
  'links/realpath-loop': "realpathSync's ELOOP names realpath (Node's names stat)",
  'attrs/stamps-by-operation':
    "a path lookup moves a directory's atime, chmod moves mtime, a rename leaves the moved file's ctime",
  'streams/filehandle-streams': "a FileHandle's read stream closes the handle even with autoClose: false",
  'errors/path-kind-matrix':
    'differs in 71 of the first 465 of 496 cells (a trailing slash on a file is ignored, other syscalls named...)',
  'errors/permission-matrix':
    'differs in 43 of 190 cells (no sticky-directory rule, no protected hardlinks, chown...)',
  'fds/fd-kind-matrix':
    'differs in 22 of 128 cells: reads and writes through an fd opened the other way work',
  'files/watch-promises': 'promises.watch of a missing path throws at the call, not at the first next()',
  'forms/abort-signal': 'ignores options.signal: an aborted readFile or writeFile runs',
  'errors/read-write-ranges': 'a negative fd is EBADF, not ERR_OUT_OF_RANGE',
  'removal/rename-over': 'a file replaced by rename keeps its link count: its other hard link says nlink 2',
  'removal/dotdot-through-removed-dir': "resolves '..' by the text: 'd/../f' reads f after d is gone",
  'dirs/mkdtemp': 'mkdtemp makes the dir with mode 0777, not 0700',
  'dirs/mkdtemp-enoent': "the error is mkdir's, naming the parent, not mkdtemp's naming 'prefixXXXXXX'",
  'dirs/rmdir-dot-einval': "rmdir of 'dir/.' removes dir instead of EINVAL",
  'dirs/rm-file': 'rm of a symlink to a dir follows the link and throws ERR_FS_EISDIR',
  'dirs/cp-dir-needs-recursive':
    'cp errors are plain Errors with other messages and no errno, syscall, path or info',
  'dirs/cp-into-itself': 'cp errors are plain Errors with other messages and no errno, syscall, path or info',
  'dirs/cp-link-onto-link':
    'cp of a symlink onto a dangling one fails lstat of the source, not stat of the destination',
  'dirs/mtime-on-entries': "removing an entry moves the dir's atime too",
  'links/symlink-dotdot-physical': "resolves '..' lexically instead of after the symlink",
  'links/lstat-symlink': 'a symlink has mode 0666 and size 0 (Linux: 0777, the length of its target)',
  'attrs/lstat-fstat-bigint': 'a symlink has size 0, not the length of its target',
  'links/link-dir-eperm': 'allows a hard link to a directory',
  'links/realpath-enoent':
    "realpathSync fails from syscall 'realpath'; Node's JS realpath fails from 'lstat'",
  'links/eloop-in-path': 'mkdir below a symlink loop gives ENOTDIR naming the link, not ELOOP',
  'links/utimes-follows': CHMOD_MTIME,
  'rename/dir-over-nonempty-dir':
    'replaces a non-empty directory (its contents are lost) instead of ENOTEMPTY',
  'rename/dir-over-file': 'a directory replaces a file instead of ENOTDIR',
  'rename/file-over-dir': 'a file replaces a directory instead of EISDIR',
  'rename/into-own-subtree': 'moving a dir into its own subtree detaches it (it vanishes) instead of EINVAL',
  'rename/hardlinks-same-inode':
    'renaming between two links of one inode drops the source name (POSIX: no-op)',
  'rename/symlink': "renames the symlink's target instead of the symlink",
  'rename/times': "rename leaves the renamed inode's ctime",
  'attrs/stat-blocks': 'blocks is 1 for every file, empty or not',
  'attrs/chmod-times': CHMOD_MTIME,
  'attrs/chown': 'chown stores -1 as the id instead of leaving it unchanged',
  'attrs/chown-clears-setuid': 'chown keeps the setuid and setgid bits of a regular file',
  'attrs/chown-times': CHMOD_MTIME,
  'attrs/write-clears-setuid': 'a write, truncate or chown by another user keeps setuid and setgid',
  'errors/enotdir-file-as-dir': 'mkdir below a file names the file in the error, not the path given',
  'errors/dotdot-not-lexical': "resolves '..' lexically: 'file/../x' finds x instead of ENOTDIR",
  'errors/trailing-slash-file':
    "stat, lstat and unlink accept 'file/' (unlink removes it); only open gives ENOTDIR",
  'errors/trailing-slash-rename': "rename accepts 'file/' as source and makes 'name/' a file",
  'errors/enametoolong-component': NO_NAME_MAX,
  'errors/enametoolong-multibyte': NO_NAME_MAX,
  'errors/enametoolong-path': 'no 4096-byte path limit: gives ENOENT',
  'errors/empty-path': "the error for path '' has no path property or quoted path in the message",
  'errors/nonroot-owner-class':
    "checks the others and group bits before the owner's: mode 0077 lets its owner read",
  'errors/nonroot-eperm': 'no owner check: anyone may chmod, chown or utimes any file',
  'errors/nonroot-sticky-dir': "no sticky-bit rule: anyone may remove another user's file from a 1777 dir",
  'fds/open-r': "openSync without flags throws ERR_INVALID_ARG_VALUE ('r' is the default)",
  'fds/open-w': 'reading from a write-only fd returns 0 bytes instead of EBADF',
  'fds/open-dir-read-eisdir': 'reading from a directory fd returns 0 bytes instead of EISDIR',
  'fds/ftruncate': 'ftruncate through a read-only fd succeeds instead of EINVAL',
  'forms/promises-mkdir-readdir': MKDIR_P_RETURN,
};

/** memfs 4 on a fresh Volume: a second reference, with its departures from Linux listed. */
export const memfsTarget: Target = {
  name: 'memfs',
  departures,
  async setup(): Promise<TargetEnv> {
    memfs ??= loadMemfs();
    const fs = memfs.createFsFromVolume(new memfs.Volume()) as unknown as FsLike;
    const root = '/work';
    fs.mkdirSync(root, { recursive: true });
    return { fs, root, asUser: asUserWith(fs), async cleanup() {} };
  },
};
