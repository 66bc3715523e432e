import { constants as osConstants } from 'node:os';
import { expect } from './expect.js';

/** libuv's text for each errno, as Node puts it in error messages. */
/** The user non-root cases act as (asUser). */
export const NOBODY = { uid: 65534, gid: 65534 };

export const UV_TEXT = {
  EACCES: 'permission denied',
  EBADF: 'bad file descriptor',
  EBUSY: 'resource busy or locked',
  EEXIST: 'file already exists',
  EINVAL: 'invalid argument',
  EISDIR: 'illegal operation on a directory',
  ELOOP: 'too many symbolic links encountered',
  ENAMETOOLONG: 'name too long',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  ENOTEMPTY: 'directory not empty',
  EPERM: 'operation not permitted',
} as const;

/** What a Node system error from a failed call carries. */
export interface UvShape {
  code: keyof typeof UV_TEXT;
  syscall: string;
  path?: string;
  dest?: string;
}

/**
 * Asserts that `err` is the error Node makes for a failed libuv call: an Error with exactly the own
 * properties errno (negative), code, syscall, path and dest (when given), and the message
 * `CODE: text, syscall 'path' -> 'dest'`.
 */
export function expectUvError(err: unknown, shape: UvShape): void {
  const { code, syscall, path, dest } = shape;
  expect(err).toBeInstanceOf(Error);
  let message = `${code}: ${UV_TEXT[code]}, ${syscall}`;
  if (path !== undefined) message += ` '${path}'`;
  if (dest !== undefined) message += ` -> '${dest}'`;
  const errno = -osConstants.errno[code];
  const want: Record<string, unknown> = { code, errno, syscall, message };
  if (path !== undefined) want.path = path;
  if (dest !== undefined) want.dest = dest;
  const e = err as Record<string, unknown>;
  const got: Record<string, unknown> = {
    code: e.code,
    errno: e.errno,
    syscall: e.syscall,
    message: e.message,
  };
  if ('path' in e) got.path = e.path;
  if ('dest' in e) got.dest = e.dest;
  expect(got).toEqual(want);
  const keys = ['code', 'errno', 'syscall'];
  if (path !== undefined) keys.push('path');
  if (dest !== undefined) keys.push('dest');
  expect(Object.keys(e).sort()).toEqual(keys.sort());
}

/** What Node's SystemError (thrown by JS-side checks, e.g. rm and cp) carries. */
export interface SystemErrorShape {
  code: string;
  errno: number;
  syscall: string;
  path: string;
  message: string;
  /** The libuv-style code and detail kept in `info`. */
  info: { code: string; message: string };
}

/**
 * Asserts that `err` is a Node SystemError: an Error with own properties code, info, errno,
 * syscall, path, and the message `Title: syscall returned CODE (detail) path`.
 */
export function expectSystemError(err: unknown, shape: SystemErrorShape): void {
  expect(err).toBeInstanceOf(Error);
  const e = err as Record<string, unknown>;
  const info = e.info as Record<string, unknown> | undefined;
  expect({
    code: e.code,
    errno: e.errno,
    syscall: e.syscall,
    path: e.path,
    message: e.message,
    info: { code: info?.code, message: info?.message },
  }).toEqual(shape);
  expect(Object.keys(e).sort()).toEqual(['code', 'errno', 'info', 'path', 'syscall']);
}

/** Runs `fn`, which must throw; returns what it threw. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw, it returned');
}

/** Awaits `p`, which must reject; returns the reason. */
export async function rejected(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject, it resolved');
}

/** `fn` must throw the Node system error described by `shape`. */
export function expectSyncUv(fn: () => unknown, shape: UvShape): void {
  expectUvError(thrown(fn), shape);
}

/** `call(from, to)` must throw the Node error `code` of `syscall` naming both paths (copyfile, rename). */
export function expectPairUv(
  call: (from: string, to: string) => unknown,
  code: UvShape['code'],
  syscall: string,
  from: string,
  to: string,
): void {
  expectUvError(
    thrown(() => call(from, to)),
    { code, syscall, path: from, dest: to },
  );
}

/** `p` must reject with the Node system error described by `shape`. */
export async function expectAsyncUv(p: Promise<unknown>, shape: UvShape): Promise<void> {
  expectUvError(await rejected(p), shape);
}

type Callback<T> = (err: NodeJS.ErrnoException | null, value?: T) => void;

/**
 * Calls a callback-form API through `start` and resolves with the callback's value (rejects with
 * its error). Also checks that the callback did not run before the call returned: Node never calls
 * back synchronously.
 */
export function cb<T = void>(start: (done: Callback<T>) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let returned = false;
    start((err, value) => {
      if (!returned) reject(new Error('callback ran synchronously, before the call returned'));
      else if (err) reject(err);
      else resolve(value as T);
    });
    returned = true;
  });
}

/** Like `cb`, for callbacks with several values after the error: resolves with all of them. */
export function cbAll(
  start: (done: (err: NodeJS.ErrnoException | null, ...values: unknown[]) => void) => void,
) {
  return new Promise<unknown[]>((resolve, reject) => {
    let returned = false;
    start((err, ...values) => {
      if (!returned) reject(new Error('callback ran synchronously, before the call returned'));
      else if (err) reject(err);
      else resolve(values);
    });
    returned = true;
  });
}

/**
 * Waits long enough for file timestamps to move: Linux stamps inodes from a coarse clock (one tick,
 * up to 10 ms), so two changes less than a tick apart can carry the same time.
 */
export function tick(ms = 25): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Seconds since the epoch for a fixed moment well in the past (2001-09-09T01:46:40Z). */
export const PAST_S = 1_000_000_000;

/** A lower bound for "now" as the file system stamps it (its clock may lag Date.now() a little). */
export function nowFloorMs(): number {
  return Date.now() - 2000;
}

/** Sorted copy, for comparing directory listings (readdir order is the file system's). */
export function sorted<T>(xs: Iterable<T>): T[] {
  return [...xs].sort();
}

/** Reads a whole readable stream into a Buffer (or a string, if the stream has an encoding). */
export async function drain(stream: NodeJS.ReadableStream): Promise<{ chunks: (Buffer | string)[] }> {
  const chunks: (Buffer | string)[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer | string);
  return { chunks };
}
