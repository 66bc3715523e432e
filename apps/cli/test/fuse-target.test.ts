// The FUSE target's ways out: a case left blocked in a call on the kernel mount (an operation that
// does not return) is ended by the watchdog, and the mount still goes away. Needs root and
// /dev/fuse: skipped without them, failed instead when ZUFS_REQUIRE_PRIVILEGED_TESTS=1.
import { readFileSync } from 'node:fs';
import { runSuite } from '@zufs/conformance';
import { fuseUnavailable } from '@zufs/fuse';
import { describe, expect, it } from 'vitest';
import { fuseTarget } from '../dist/conformance/fuse-target.js';

const why = fuseUnavailable();
if (why && process.env.ZUFS_REQUIRE_PRIVILEGED_TESTS === '1')
  throw new Error(
    `the FUSE target must be tested here (ZUFS_REQUIRE_PRIVILEGED_TESTS=1) but: ${why.message}`,
  );

describe.skipIf(why !== null)(`fuse target${why ? ` (skipped: ${why.message})` : ''}`, () => {
  it('aborts the mount under a case blocked in a call, fails the cases after it saying why, and unmounts', async () => {
    const target = fuseTarget({
      filesystem: new URL('./fixtures/stuck-statfs-fs.mjs', import.meta.url),
      type: 'stuckfs',
      options: 'inodes=64,slot=4096',
      hangMs: 2000,
    });
    const results = await runSuite(target, { only: ['rename/', 'attrs/statfs', 'streams/'] });
    const at = results.findIndex((r) => r.case.id === 'attrs/statfs');
    expect(results.slice(0, at).every((r) => r.outcome.status === 'passed')).toBe(true);
    expect(results[at].outcome).toMatchObject({ status: 'failed', error: { code: 'ECONNABORTED' } });
    const after = results.slice(at + 1);
    expect(after.length).toBeGreaterThan(2);
    for (const r of after)
      expect(r.outcome).toMatchObject({
        status: 'failed',
        error: { message: expect.stringContaining('the kernel mount was aborted') },
      });
    expect(readFileSync('/proc/mounts', 'utf8')).not.toContain('zufs-conformance:stuckfs');
  }, 120_000);
});
