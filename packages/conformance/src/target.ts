import type * as nodeFs from 'node:fs';

/**
 * The part of `node:fs` the conformance cases use: sync, callback and promises forms, streams and
 * constants, typed as Node types them. A target that is a real drop-in (`node:fs`, `@zufs/vfs`) fits
 * as is; memfs types its API its own way and is cast at its target (see targets/memfs.ts).
 * A case that needs a method not listed here adds it to this list.
 */
export type FsMethod =
  | 'access'
  | 'accessSync'
  | 'appendFile'
  | 'appendFileSync'
  | 'chmod'
  | 'chmodSync'
  | 'chown'
  | 'chownSync'
  | 'close'
  | 'closeSync'
  | 'constants'
  | 'copyFile'
  | 'copyFileSync'
  | 'cp'
  | 'cpSync'
  | 'createReadStream'
  | 'createWriteStream'
  | 'exists'
  | 'existsSync'
  | 'fchmod'
  | 'fchmodSync'
  | 'fchown'
  | 'fchownSync'
  | 'fdatasync'
  | 'fdatasyncSync'
  | 'fstat'
  | 'fstatSync'
  | 'fsync'
  | 'fsyncSync'
  | 'ftruncate'
  | 'ftruncateSync'
  | 'futimes'
  | 'futimesSync'
  | 'link'
  | 'linkSync'
  | 'lstat'
  | 'lstatSync'
  | 'lutimes'
  | 'lutimesSync'
  | 'mkdir'
  | 'mkdirSync'
  | 'mkdtemp'
  | 'mkdtempSync'
  | 'open'
  | 'openSync'
  | 'opendir'
  | 'opendirSync'
  | 'promises'
  | 'read'
  | 'readSync'
  | 'readdir'
  | 'readdirSync'
  | 'readFile'
  | 'readFileSync'
  | 'readlink'
  | 'readlinkSync'
  | 'readv'
  | 'readvSync'
  | 'realpath'
  | 'realpathSync'
  | 'rename'
  | 'renameSync'
  | 'rm'
  | 'rmSync'
  | 'rmdir'
  | 'rmdirSync'
  | 'stat'
  | 'statSync'
  | 'statfs'
  | 'statfsSync'
  | 'symlink'
  | 'symlinkSync'
  | 'truncate'
  | 'truncateSync'
  | 'unlink'
  | 'unlinkSync'
  | 'utimes'
  | 'utimesSync'
  | 'unwatchFile'
  | 'watch'
  | 'watchFile'
  | 'write'
  | 'writeSync'
  | 'writeFile'
  | 'writeFileSync'
  | 'writev'
  | 'writevSync';

/** A `node:fs`-shaped object, minimal to what the cases use. */
export type FsLike = Pick<typeof nodeFs, FsMethod>;

/** A user and group to act as (for permission cases that need a non-root caller). */
export interface Cred {
  uid: number;
  gid: number;
}

/** One target, set up afresh for each case. */
export interface TargetEnv {
  fs: FsLike;
  /** An existing, empty directory inside `fs`; cases work under it. */
  root: string;
  /**
   * Runs `fn` with an fs that acts as `cred` on the same tree and returns what it returns. Only
   * synchronous work may happen inside `fn` (nodefs switches the process's effective ids around it).
   * A target that cannot act as another user leaves this out, and the cases that need it fail there
   * (list them in its departures with the reason).
   */
  asUser?<T>(cred: Cred, fn: (fs: FsLike) => T): T;
  cleanup(): Promise<void>;
}

export interface Target {
  name: string;
  /**
   * Cases this target is known to fail, by case id, with the reason. Such a case still runs and must
   * fail: one that passes is reported, so a fixed departure gets removed from this list.
   */
  departures: Record<string, string>;
  setup(): Promise<TargetEnv>;
  /** Frees what the target shares between cases (a server), after the last case. */
  close?(): Promise<void>;
}
