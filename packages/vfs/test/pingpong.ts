// The main thread's half of the ping-pong with a worker (fixtures/fs-worker.mjs, mode 'pingpong'):
// in turns, each thread renames, unlinks and writes, and the other checks with its very next call.
// The main thread stats every name first, so a cache that missed the change would answer stale.
import type { ZufsMount } from '@zufs/vfs';
import { expect } from 'vitest';

/** 'ok', or the errno code `fn` failed with. */
export function code(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    const c = (e as NodeJS.ErrnoException).code;
    if (!c) throw e;
    return c;
  }
}

/**
 * Runs `rounds` turns; `start(flag, rounds)` starts the worker and resolves with what it posts.
 * Returns what either thread saw wrong (nothing, when changes are seen at once).
 */
export async function pingpong(
  f: ZufsMount,
  rounds: number,
  start: (flag: SharedArrayBuffer, rounds: number) => Promise<Record<string, unknown>>,
): Promise<string[]> {
  f.mkdirSync('/pp');
  for (let k = 0; k < rounds; k++) for (const n of ['m', 'u', 'w', 'v']) f.writeFileSync(`/pp/${n}${k}`, n);
  const flag = new SharedArrayBuffer(4);
  const fl = new Int32Array(flag);
  const done = start(flag, rounds);
  const bad: string[] = [];
  for (let k = 0; k < rounds; k++) {
    for (const n of ['m', 'w', 'v', 'x', 's']) code(() => f.statSync(`/pp/${n}${k}`));
    f.renameSync(`/pp/m${k}`, `/pp/n${k}`);
    f.unlinkSync(`/pp/u${k}`);
    Atomics.store(fl, 0, 2 * k + 1);
    Atomics.notify(fl, 0);
    expect(Atomics.wait(fl, 0, 2 * k + 1, 10_000)).not.toBe('timed-out');
    // The worker just renamed w -> x, unlinked v and wrote s (k + 1 bytes).
    if (code(() => f.statSync(`/pp/w${k}`)) !== 'ENOENT') bad.push(`main sees /pp/w${k}`);
    if (code(() => f.statSync(`/pp/x${k}`)) !== 'ok') bad.push(`main misses /pp/x${k}`);
    if (code(() => f.statSync(`/pp/v${k}`)) !== 'ENOENT') bad.push(`main sees /pp/v${k}`);
    if (f.statSync(`/pp/s${k}`).size !== k + 1) bad.push(`main sees a stale size for /pp/s${k}`);
    if (f.readFileSync(`/pp/s${k}`, 'utf8') !== 'z'.repeat(k + 1)) bad.push(`main reads stale /pp/s${k}`);
  }
  const r = await done;
  return [...bad, ...(r.bad as string[])];
}
