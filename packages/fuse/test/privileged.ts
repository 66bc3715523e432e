// What the tests that mount through the kernel share: the switch that turns their skips into
// failures, tests that need programs, and whether a directory is a mount point.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

/** ZUFS_REQUIRE_PRIVILEGED_TESTS=1: a test that cannot run here fails instead of being skipped. */
export const REQUIRED = process.env.ZUFS_REQUIRE_PRIVILEGED_TESTS === '1';

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
