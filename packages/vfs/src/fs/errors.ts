/** Node-shaped errors: what node:fs throws for a failed libuv call, and its argument errors. */
import { constants as osConstants } from 'node:os';
import { getSystemErrorMap, inspect } from 'node:util';

const sysMap = getSystemErrorMap();
// libuv words ENOTSUP (95, EOPNOTSUPP on Linux) as sockets see it; a file operation a filesystem
// lacks (xattrs, fallocate, a reflink) reads as strerror(95) says.
const ENOTSUP_ENTRY = sysMap.get(-95);
if (ENOTSUP_ENTRY) sysMap.set(-95, [ENOTSUP_ENTRY[0], 'operation not supported']);
const errnos = osConstants.errno as Record<string, number>;

export interface FsError extends Error {
  errno: number;
  code: string;
  syscall: string;
  path?: string;
  dest?: string;
}

/** The Linux errno (positive) for a code such as 'ENOENT'. */
export function errnoOf(code: string): number {
  return errnos[code] ?? 0;
}

/** `CODE: text, syscall 'path' -> 'dest'`, with exactly the own properties errno, code, syscall, path, dest. */
export function uvError(errno: number, syscall: string, path?: string, dest?: string): FsError {
  const e = Math.abs(errno);
  // An errno libuv has no name for (ESTALE on Node 20) is Node's UNKNOWN; errno keeps the number.
  const [code, text] = sysMap.get(-e) ?? ['UNKNOWN', 'unknown error'];
  let message = `${code}: ${text}, ${syscall}`;
  if (path !== undefined) message += ` '${path}'`;
  if (dest !== undefined) message += ` -> '${dest}'`;
  const err = new Error(message) as FsError;
  err.errno = -e;
  err.code = code;
  err.syscall = syscall;
  if (path !== undefined) err.path = path;
  if (dest !== undefined) err.dest = dest;
  Error.captureStackTrace?.(err, uvError);
  return err;
}

/**
 * The Node error for a failure that carries its own reason (a mount refused by the filesystem:
 * `EBUSY: /x.img: in use by zufs mount /mnt/x (pid 42)`): that message, with errno, code and syscall
 * as node:fs sets them. Anything that is not a ZufsError is rethrown as it is.
 */
export function reasonError(e: unknown, syscall: string): FsError {
  const errno = errnoFrom(e);
  const [code, text] = sysMap.get(-errno) ?? ['UNKNOWN', 'unknown error'];
  const message = (e as Error).message;
  const err = new Error(message.startsWith(`${code}: `) ? message : `${code}: ${text}`) as FsError;
  err.errno = -errno;
  err.code = code;
  err.syscall = syscall;
  return err;
}

/** Throws the Node error for code `code` ('ENOENT'...). */
export function fail(code: string, syscall: string, path?: string, dest?: string): never {
  throw uvError(errnoOf(code), syscall, path, dest);
}

/** A Linux errno from anything thrown below (ZufsError carries a positive errno). */
export function errnoFrom(e: unknown): number {
  const n = (e as { errno?: unknown })?.errno;
  if (typeof n === 'number' && (e as { name?: string }).name === 'ZufsError') return Math.abs(n);
  throw e;
}

/** Runs `fn`, turning an inode-level ZufsError into the Node error for `syscall` on `path`. */
export function wrap<T>(fn: () => T, syscall: string, path?: string, dest?: string): T {
  try {
    return fn();
  } catch (e) {
    throw uvError(errnoFrom(e), syscall, path, dest);
  }
}

/** Node's SystemError (thrown by JS-side checks in rm and cp). */
export function systemError(
  code: string,
  title: string,
  uvCode: string,
  detail: string,
  syscall: string,
  path: string,
  errno = errnoOf(uvCode),
): Error {
  const err = new Error(`${title}: ${syscall} returned ${uvCode} (${detail}) ${path}`) as Error &
    Record<string, unknown>;
  Object.defineProperty(err, 'name', { value: 'SystemError', enumerable: false, configurable: true });
  err.code = code;
  err.info = { code: uvCode, message: detail, path, syscall, errno };
  err.errno = errno;
  err.syscall = syscall;
  err.path = path;
  return err;
}

function nodeTypeError(code: string, message: string): TypeError {
  const err = new TypeError(message) as TypeError & { code: string };
  err.code = code;
  return err;
}

/** How Node's argument errors show a value (its determineSpecificType). */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'function' && value.name) return `function ${value.name}`;
  if (typeof value === 'object') {
    const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
    return ctor ? `an instance of ${ctor}` : inspect(value, { depth: -1 });
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return `type ${typeof value} (${shown})`;
}

export function invalidArgType(name: string, what: string, value: unknown): TypeError {
  return nodeTypeError(
    'ERR_INVALID_ARG_TYPE',
    `The "${name}" ${name.includes('.') ? 'property' : 'argument'} must be ${what}. Received ${describeValue(value)}`,
  );
}

export function invalidArgValue(name: string, value: unknown, reason = 'is invalid'): TypeError {
  const what = name.includes('.') ? 'property' : 'argument';
  return nodeTypeError(
    'ERR_INVALID_ARG_VALUE',
    `The ${what} '${name}' ${reason}. Received ${inspect(value)}`,
  );
}

/** '9007199254740992' -> '9_007_199_254_740_992', as Node's range errors show large numbers. */
function withSeparators(digits: string): string {
  let out = '';
  let i = digits.length;
  const start = digits[0] === '-' ? 1 : 0;
  for (; i >= start + 4; i -= 3) out = `_${digits.slice(i - 3, i)}${out}`;
  return `${digits.slice(0, i)}${out}`;
}

/** Node's ERR_OUT_OF_RANGE: `The value of "name" is out of range. It must be <range>. Received <value>`. */
export function outOfRange(name: string, range: string, value: unknown): RangeError {
  let shown: string;
  if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) > 2 ** 32) {
    shown = withSeparators(String(value));
  } else if (typeof value === 'bigint') {
    const big = value > 2n ** 32n || value < -(2n ** 32n);
    shown = `${big ? withSeparators(String(value)) : String(value)}n`;
  } else shown = inspect(value);
  const err = new RangeError(
    `The value of "${name}" is out of range. It must be ${range}. Received ${shown}`,
  ) as RangeError & { code: string };
  err.code = 'ERR_OUT_OF_RANGE';
  return err;
}

/** Node's AbortError, as its fs methods reject with when their `signal` aborts. */
export function abortError(reason: unknown): Error {
  const err = new Error('The operation was aborted', { cause: reason });
  return Object.assign(err, { name: 'AbortError', code: 'ABORT_ERR' });
}

/**
 * `p`, or AbortError as soon as `signal` aborts (what `p` settles to later is dropped: the caller
 * has been answered).
 */
export function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(abortError(signal.reason));
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', abort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', abort);
        reject(e);
      },
    );
  });
}
