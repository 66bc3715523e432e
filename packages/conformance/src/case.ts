import type { Cred, FsLike } from './target.js';

/** What a case gets: the target's fs, a fresh directory in it, and a few helpers. */
export interface Ctx {
  fs: FsLike;
  /** The fresh, empty directory the case works in. */
  root: string;
  /** `path.posix.join(root, ...segments)`. */
  p(...segments: string[]): string;
  /** Runs synchronous `fn` acting as `cred` (fails if the target cannot; see TargetEnv.asUser). */
  asUser<T>(cred: Cred, fn: (fs: FsLike) => T): T;
  /** The target's name (for messages only: a case must not branch on it). */
  target: string;
}

export interface Case {
  /** Stable id, `area/name`; departures refer to it. */
  id: string;
  title: string;
  /** The case expects the calling user to be root (uid 0); it is skipped when the suite is not. */
  root?: true;
  run(ctx: Ctx): void | Promise<void>;
}
