// What the tests of a real kernel mount share: their suites (skipped without root and /dev/fuse,
// failed instead when ZUFS_REQUIRE_PRIVILEGED_TESTS=1), whether a directory is mounted, and a
// teardown that never leaves a mount behind.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { type FuseMount, fuseUnavailable } from '@zufs/fuse';
import type { ZufsMount } from '@zufs/vfs';
import type { ZusServer } from '@zufs/zus-server';
import { describe, expect, it } from 'vitest';

export const REQUIRED = process.env.ZUFS_REQUIRE_PRIVILEGED_TESTS === '1';
const why = fuseUnavailable();

/**
 * `body` as a suite for both ways a reader can serve: operations run in the reader (an inline ZT,
 * the default of `zufs mount`), or handed to the ZT grid. `title` may name `$serving`.
 */
export function kernelSuites(title: string, body: (o: { inline: boolean }) => void): void {
  if (why && REQUIRED) {
    describe(title.replace('$serving', 'any serving'), () => {
      it('can mount (ZUFS_REQUIRE_PRIVILEGED_TESTS=1)', () => {
        expect.fail(`privileged tests are required but cannot run: ${why.message}`);
      });
    });
    return;
  }
  describe.skipIf(why !== null).each([
    { serving: 'inline', inline: true },
    { serving: 'through the ZT grid', inline: false },
  ])(`${title}${why ? ` (skipped: ${why.message})` : ''}`, body);
}

export function mounted(dir: string): boolean {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[1] === dir);
}

/** Unmounts (detaching if it takes over 20 s), then the vfs face, the server and the temp directory. */
export async function teardown(t: {
  m?: FuseMount;
  mnt?: string;
  face?: ZufsMount;
  server?: ZusServer;
  dir?: string;
}): Promise<void> {
  try {
    if (t.m) await Promise.race([t.m.unmount(), new Promise((r) => setTimeout(r, 20_000))]);
  } finally {
    // Never leave a mount behind, whatever happened above.
    if (t.mnt && mounted(t.mnt)) execFileSync('umount', ['-l', t.mnt], { stdio: 'ignore' });
    try {
      t.face?.umount();
    } catch {}
    await t.server?.stop();
    if (t.dir) rmSync(t.dir, { recursive: true, force: true });
  }
}
