/**
 * Which filesystem type a volume argument is: a pmemfs image (the default), or an sqlfs volume (an
 * SQLite database file, or a postgres:// URL). Told from the argument and the file's first bytes,
 * without loading either filesystem: sqlfs (and its SQLite addon) is imported only for its volumes.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

export type VolumeType = 'pmemfs' | 'sqlfs';
export const VOLUME_TYPES: readonly VolumeType[] = ['pmemfs', 'sqlfs'];

export const isPgUrl = (s: string) => /^postgres(ql)?:\/\//.test(s);

/** Every SQLite database file begins with these 16 bytes. */
const SQLITE_MAGIC = 'SQLite format 3\0';

export function volumeType(arg: string): VolumeType {
  if (isPgUrl(arg)) return 'sqlfs';
  const file = resolve(arg);
  if (!existsSync(file) || !statSync(file).isFile()) return 'pmemfs'; // its checks say what is wrong
  return readHead(file, 16).toString('latin1') === SQLITE_MAGIC ? 'sqlfs' : 'pmemfs';
}

/** The first `n` bytes of a file (zeros past its end). */
export function readHead(file: string, n: number): Buffer {
  const head = Buffer.alloc(n);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, n, 0);
  } finally {
    closeSync(fd);
  }
  return head;
}

/** The volume as the filesystem's device option: a path made absolute, a URL as given. */
export const volumeDevice = (arg: string) => (isPgUrl(arg) ? arg : resolve(arg));

/** A URL without its password, for messages. */
export const shownVolume = (arg: string) =>
  isPgUrl(arg) ? arg.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1@') : arg;
