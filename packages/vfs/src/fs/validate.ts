/**
 * Node's checks of the numbers the fd calls take (read, write): the same tests in the same order,
 * so a bad offset, length or position throws what node:fs throws, before any byte moves.
 */
import { invalidArgType, outOfRange } from './errors.js';

export function validateInteger(
  value: unknown,
  name: string,
  min = Number.MIN_SAFE_INTEGER,
  max = Number.MAX_SAFE_INTEGER,
): asserts value is number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
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
