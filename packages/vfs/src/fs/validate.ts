/**
 * Node's argument checks (Node 20's lib/fs.js and its binding): the same tests in the same order,
 * so a bad offset, length, position, mode, id, time or option throws what node:fs throws, before
 * any path is walked or any byte moves.
 */
import { invalidArgType, invalidArgValue, outOfRange } from './errors.js';

export function validateInteger(
  value: unknown,
  name: string,
  min = Number.MIN_SAFE_INTEGER,
  max = Number.MAX_SAFE_INTEGER,
): asserts value is number {
  // The test alone, so that it inlines into every read and write; the errors are built out of line.
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    integerError(value, name, min, max);
}

function integerError(value: unknown, name: string, min: number, max: number): never {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
  throw outOfRange(name, `>= ${min} && <= ${max}`, value);
}

/** An fd: an int32 >= 0. */
export function validateFd(fd: unknown): asserts fd is number {
  validateInteger(fd, 'fd', 0, 2 ** 31 - 1);
}

/** readSync's offset and length against the buffer (`length` is already an int32). */
export function validateReadRange(offset: number, length: number, byteLength: number): void {
  if (offset < 0) throw outOfRange('offset', '>= 0', offset);
  if (length < 0) throw outOfRange('length', '>= 0', length);
  if (offset + length > byteLength) throw outOfRange('length', `<= ${byteLength - offset}`, length);
}

/** writeSync's offset and length against the buffer. */
export function validateWriteRange(offset: number, length: number, byteLength: number): void {
  if (offset > byteLength) throw outOfRange('offset', `<= ${byteLength}`, offset);
  if (length > byteLength - offset) throw outOfRange('length', `<= ${byteLength - offset}`, length);
  if (length < 0) throw outOfRange('length', '>= 0', length);
  validateInteger(length, 'length', 0, 2 ** 31 - 1);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A read position: an integer >= -1 or any int64 bigint (negative: the file position). */
export function validatePosition(position: unknown, name: string): asserts position is number | bigint {
  if (typeof position === 'number') validateInteger(position, name, -1);
  else if (typeof position === 'bigint') {
    if (!(position >= INT64_MIN && position <= INT64_MAX)) {
      throw outOfRange(name, `>= ${INT64_MIN} && <= ${INT64_MAX}`, position);
    }
  } else throw invalidArgType(name, 'of type bigint or integer', position);
}

/**
 * Where a write goes: a safe integer >= 0 is a position; anything else (null, a negative number, a
 * fraction, a bigint) is the file position, as Node's binding takes it. -1 for the latter.
 */
export function writePosition(position: unknown): number {
  return typeof position === 'number' && Number.isSafeInteger(position) && position >= 0 ? position : -1;
}

export function validateUint32(value: unknown, name: string): asserts value is number {
  validateInteger(value, name, 0, 2 ** 32 - 1);
}

export function validateBoolean(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== 'boolean') throw invalidArgType(name, 'of type boolean', value);
}

/** A mode: a uint32, or a string of octal digits (`def` when absent). */
export function parseFileMode(value: unknown, name: string, def?: number): number {
  const v = value ?? def;
  if (typeof v === 'string') {
    if (!/^[0-7]+$/.test(v))
      throw invalidArgValue(name, v, 'must be a 32-bit unsigned integer or an octal string');
    return Number.parseInt(v, 8);
  }
  validateUint32(v, name);
  return v;
}

/** A uid or gid: -1 (leave it) up to 2^32 - 1. */
export function validateId(value: unknown, name: string): asserts value is number {
  validateInteger(value, name, -1, 2 ** 32 - 1);
}

/**
 * access(2)'s and copyFile's mode, as Node 20's binding checks it: an int32 (or nothing) from 0 to
 * 7; a fraction is cut.
 */
export function accessMode(mode: unknown): number {
  if (mode === undefined || mode === null) return 0;
  if (typeof mode !== 'number') {
    throw Object.assign(new TypeError('mode must be int32 or null/undefined'), {
      code: 'ERR_INVALID_ARG_TYPE',
    });
  }
  const m = mode | 0;
  if (m < 0 || m > 7) {
    throw Object.assign(new RangeError('mode is out of range: >= 0 && <= 7'), { code: 'ERR_OUT_OF_RANGE' });
  }
  return m;
}

/** Node's toUnixTimestamp, in ns: a Date, seconds (a negative count is now), or a numeric string. */
export function timeNs(t: unknown, name = 'time'): number {
  if (typeof t === 'string' && !Number.isNaN(Number(t))) return Number(t) * 1e9;
  if (typeof t === 'number' && Number.isFinite(t)) return t < 0 ? Date.now() * 1e6 : t * 1e9;
  if (t instanceof Date) return t.getTime() * 1e6;
  throw invalidArgType(name, 'an instance of Date or an Time in seconds', t);
}

/** readv/writev's buffers: an array of ArrayBufferViews. */
export function validateBufferArray(buffers: unknown): asserts buffers is ArrayBufferView[] {
  if (!Array.isArray(buffers) || !buffers.every((b) => ArrayBuffer.isView(b)))
    throw invalidArgType('buffers', 'an ArrayBufferView[]', buffers);
}

/** symlink's type (Windows' hint; checked all the same). */
export function validateSymlinkType(type: unknown): void {
  if (type === undefined || type === null || type === 'dir' || type === 'file' || type === 'junction') return;
  throw Object.assign(
    new Error(`Symlink type must be one of "dir", "file", or "junction". Received ${JSON.stringify(type)}`),
    { code: 'ERR_FS_INVALID_SYMLINK_TYPE' },
  );
}

/** rm's options: booleans recursive and force, retryDelay an int32 >= 0, maxRetries a uint32. */
export function validateRmOptions(o: Record<string, unknown>): void {
  validateBoolean(o.recursive ?? false, 'options.recursive');
  validateInteger(o.retryDelay ?? 100, 'options.retryDelay', 0, 2 ** 31 - 1);
  validateUint32(o.maxRetries ?? 0, 'options.maxRetries');
  validateBoolean(o.force ?? false, 'options.force');
}

/** An encoding option: one Buffer knows, or 'buffer' (an empty one is the default). */
export function validateEncoding(encoding: unknown): void {
  if (encoding && encoding !== 'buffer' && !Buffer.isEncoding(encoding as string))
    throw invalidArgValue('encoding', encoding, 'is invalid encoding');
}
