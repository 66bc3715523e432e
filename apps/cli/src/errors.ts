/** The CLI's errors: one line for a person, no stack trace. */

/** An error whose message is already the line to print. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** A usage error: a bad argument or option value (exit 2, as every usage error). */
export const usageError = (message: string) => new CliError(message, 2);

/** Each errno in words, as Linux's strerror says them (lower case, as ls and cp print them). */
const WORDS: Record<string, string> = {
  E2BIG: 'argument list too long',
  EACCES: 'permission denied',
  EAGAIN: 'resource temporarily unavailable',
  EBADF: 'bad file descriptor',
  EBUSY: 'device or resource busy',
  ECANCELED: 'operation canceled',
  EDEADLK: 'resource deadlock avoided',
  EDQUOT: 'disk quota exceeded',
  EEXIST: 'file exists',
  EFAULT: 'bad address',
  EFBIG: 'file too large',
  EINTR: 'interrupted system call',
  EINVAL: 'invalid argument',
  EIO: 'input/output error',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  EMLINK: 'too many links',
  ENAMETOOLONG: 'file name too long',
  ENFILE: 'too many open files in system',
  ENODATA: 'no data available',
  ENODEV: 'no such device',
  ENOENT: 'no such file or directory',
  ENOLCK: 'no locks available',
  ENOMEM: 'cannot allocate memory',
  ENOSPC: 'no space left on device (the image is full)',
  ENOSYS: 'function not implemented',
  ENOTCONN: 'transport endpoint is not connected',
  ENOTDIR: 'not a directory',
  ENOTEMPTY: 'directory not empty',
  ENOTSUP: 'operation not supported',
  ENXIO: 'no such device or address',
  EOPNOTSUPP: 'operation not supported',
  EOVERFLOW: 'value too large for defined data type',
  EPERM: 'operation not permitted',
  ERANGE: 'numerical result out of range',
  EROFS: 'read-only file system',
  ESTALE: 'stale file handle',
  ETIMEDOUT: 'connection timed out',
  ETXTBSY: 'text file busy',
  EXDEV: 'invalid cross-device link',
};

/** A hint after the words, for an errno a flag of the command would avoid. */
const HINTS: Record<string, Record<string, string>> = {
  rm: { EISDIR: ' (use -r)' },
  cp: { EISDIR: ' (use -r)' },
  mkdir: { EEXIST: ' (use -p)' },
};

/** An error from a filesystem call, with the paths as the user wrote them (IMG:/a). */
export interface ShownError extends NodeJS.ErrnoException {
  dest?: string;
  /** The path (and the destination) to print, when it differs from `path` (an image's prefix). */
  shown?: string;
  shownDest?: string;
  /** Node's SystemError (rm of a directory: ERR_FS_EISDIR) keeps the errno's code here. */
  info?: { code?: string };
}

/** The errno's code of an error: EISDIR for Node's ERR_FS_EISDIR too. */
export function codeOf(e: unknown): string | undefined {
  const err = e as ShownError;
  if (typeof err?.code !== 'string') return undefined;
  return err.code.startsWith('ERR_') && typeof err.info?.code === 'string' ? err.info.code : err.code;
}

/** The words for an errno's code; an unknown code is printed as itself, never Node's message. */
export const errnoWords = (code: string) => WORDS[code] ?? code;

/** `cmd: path: what went wrong` for any error a command meets. */
export function describe(e: unknown, cmd: string): string {
  if (e instanceof CliError) return e.message;
  const err = e as ShownError;
  const code = codeOf(e);
  if (code && (WORDS[code] || /^E[A-Z0-9]+$/.test(code))) {
    const path = err.shown ?? err.path;
    const dest = err.shownDest ?? err.dest;
    // symlink(target, path): the target is any text; the new name is what failed.
    const where =
      err.syscall === 'symlink' && dest ? dest : path ? `${path}${dest ? ` -> ${dest}` : ''}` : '';
    return `${cmd}: ${where ? `${where}: ` : ''}${errnoWords(code)}${HINTS[cmd]?.[code] ?? ''}`;
  }
  return `${cmd}: ${err instanceof Error ? err.message : String(e)}`;
}
