// What the tests of a real kernel mount share: their suites (skipped without root and /dev/fuse,
// failed instead when ZUFS_REQUIRE_PRIVILEGED_TESTS=1), tests that need programs, whether a
// directory is mounted, and a teardown that never leaves a mount behind.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { type FuseMount, fuseUnavailable } from '@zufs/fuse';
import type { ZufsMount } from '@zufs/vfs';
import type { ZusServer } from '@zufs/zus-server';
import { describe, expect, it } from 'vitest';

/** ZUFS_REQUIRE_PRIVILEGED_TESTS=1: a test that cannot run here fails instead of being skipped. */
export const REQUIRED = process.env.ZUFS_REQUIRE_PRIVILEGED_TESTS === '1';
const why = fuseUnavailable();
const skipped = why ? ` (skipped: ${why.message})` : '';

/** Where mounting cannot happen but must: one failing test in place of the suite. True then. */
function failUnmountable(title: string): boolean {
  if (!why || !REQUIRED) return false;
  describe(title, () => {
    it('can mount (ZUFS_REQUIRE_PRIVILEGED_TESTS=1)', () => {
      expect.fail(`privileged tests are required but cannot run: ${why.message}`);
    });
  });
  return true;
}

/** `body` as a suite that mounts through the kernel. */
export function kernelSuite(title: string, body: () => void): void {
  if (!failUnmountable(title)) describe.skipIf(why !== null)(`${title}${skipped}`, body);
}

const SERVINGS = [
  { serving: 'inline', inline: true },
  { serving: 'through the ZT grid', inline: false },
];

/**
 * `body` as a suite for each of `variants`; by default both ways a reader can serve: operations
 * run in the reader (an inline ZT, the default of `zufs mount`), or handed to the ZT grid.
 * `title` may name `$serving`.
 */
export function kernelSuites<T extends { serving: string; inline: boolean }>(
  title: string,
  body: (o: T) => void,
  variants: T[] = SERVINGS as T[],
): void {
  if (failUnmountable(title.replace('$serving', 'any serving'))) return;
  describe.skipIf(why !== null).each(variants)(`${title}${skipped}`, body);
}

export function have(tool: string): boolean {
  try {
    execFileSync('bash', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A test needing `tools`: skipped when one is missing, failed instead when privileged tests are required. */
export function itWith(tools: string[], name: string, fn: () => void, timeout = 120_000): void {
  const missing = tools.filter((t) => !have(t));
  if (missing.length === 0) it(name, fn, timeout);
  else if (REQUIRED) it(name, () => expect.fail(`missing programs: ${missing.join(', ')}`));
  else it.skip(`${name} (skipped: ${missing.join(', ')} not installed)`, fn);
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
