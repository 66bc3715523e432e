// A/B against another build of zufs in the same run: ZUFS_BENCH_BASE names a built checkout (a git
// worktree of main, say). The dispatch and fs suites then measure its zufs as one more peer (cases
// named `...-base`), interleaved with ours, and report the ratios: a change's cost to the hot path
// shows up as `zufs-null-op/zufs-null-op-base`, `zufs:stat/zufs-base:stat`, ... on one machine at
// one time. Unset, those cases do not exist.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The base checkout, or undefined when no A/B is asked for. */
export const BASE_CHECKOUT: string | undefined = process.env.ZUFS_BENCH_BASE || undefined;

/** Imports a package's build from the base checkout (`pkg`: its folder under packages/). */
export function importBase<T>(pkg: string): Promise<T> {
  if (!BASE_CHECKOUT) throw new Error('ZUFS_BENCH_BASE is not set');
  return import(pathToFileURL(join(BASE_CHECKOUT, 'packages', pkg, 'dist', 'index.js')).href) as Promise<T>;
}
