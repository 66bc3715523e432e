// The CLI as installed without the bench (@zufs/bench is private to the repository), and `zufs ls`
// as a command that loads only what it needs: run with packages hidden from module resolution
// (fixtures/hide-packages.mjs), as if they were not installed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zufsWith } from './helpers.js';

const HIDE = fileURLToPath(new URL('./fixtures/hide-packages.mjs', import.meta.url));
let dir: string;

/** `zufs ...args` with the packages in `hide` unresolvable. */
const zufs = (hide: string[], ...args: string[]) =>
  zufsWith(
    { cwd: dir, nodeArgs: ['--import', HIDE], env: { ...process.env, ZUFS_TEST_HIDE: hide.join(',') } },
    ...args,
  );

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'zufs-cli-lazy-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('without @zufs/bench', () => {
  it('zufs bench SUITE says the bench is not installed and where it lives, exit 1', async () => {
    const r = await zufs(['@zufs/bench'], 'bench', 'relay', '--quick');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^zufs: bench: the benchmarks \(@zufs\/bench\) are not installed: .*repository.*pnpm bench SUITE/,
    );
    expect(r.err.trim().split('\n')).toHaveLength(1); // one line, no stack trace
  });

  it('zufs demo says the same; the help still lists every suite', async () => {
    const demo = await zufs(['@zufs/bench'], 'demo');
    expect(demo.code).toBe(1);
    expect(demo.err).toMatch(/^zufs: demo: the benchmarks \(@zufs\/bench\) are not installed/);
    const help = await zufs(['@zufs/bench'], 'bench', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('one of: relay, dispatch, idle, fs, fuse');
  });

  it('an unknown suite is a usage error (exit 2) naming the suites', async () => {
    const r = await zufs(['@zufs/bench'], 'bench', 'nope');
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      "unknown suite 'nope' (suites: relay, dispatch, idle, fs, fuse, image, workload, remote, restart)",
    );
  });
});

describe('a command loads only its own modules', () => {
  it('mkfs and ls work with neither FUSE nor the bench installed', async () => {
    const hide = ['@zufs/fuse', '@zufs/bench'];
    expect((await zufs(hide, 'mkfs', 'fs.img', '--size', '4M')).code).toBe(0);
    const ls = await zufs(hide, 'ls', 'fs.img:/', '--json');
    expect(ls.err).toBe('');
    expect(ls).toMatchObject({ code: 0 });
    expect(JSON.parse(ls.out)).toEqual([]);
  });
});
