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

const WORDS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EEXIST: 'file exists',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  ENOTEMPTY: 'directory not empty',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on device (the image is full)',
  EFBIG: 'file too large',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many levels of symbolic links',
  EXDEV: 'cross-device link',
  EINVAL: 'invalid argument',
  EIO: 'input/output error',
};

/** `cmd: path: what went wrong` for any error a command meets. */
export function describe(e: unknown, cmd: string): string {
  if (e instanceof CliError) return e.message;
  const err = e as NodeJS.ErrnoException & { dest?: string };
  if (typeof err?.code === 'string' && WORDS[err.code]) {
    const where = err.path ? `${err.path}${err.dest ? ` -> ${err.dest}` : ''}: ` : '';
    return `${cmd}: ${where}${WORDS[err.code]}`;
  }
  return `${cmd}: ${err instanceof Error ? err.message : String(e)}`;
}
