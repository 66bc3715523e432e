// The conformance kit as a plugin author runs it: `zufs test-plugin` in a child process on the guide's
// tiny-fs and on pmemfs, the whole suite each, through the face and through a kernel mount. The
// kernel mount needs root and /dev/fuse: without them the tests check it says why it was not run,
// and fail instead when ZUFS_REQUIRE_PRIVILEGED_TESTS=1.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PMEMFS_TYPE } from '@zufs/example-pmemfs';
import { fuseUnavailable } from '@zufs/fuse';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const TINY_FS = fileURLToPath(new URL('../../../packages/zus-server/examples/tiny-fs.mjs', import.meta.url));
const run = promisify(execFile);
const why = fuseUnavailable();
if (why && process.env.ZUFS_REQUIRE_PRIVILEGED_TESTS === '1')
  throw new Error(
    `the kit's kernel-mount run must happen here (ZUFS_REQUIRE_PRIVILEGED_TESTS=1) but: ${why.message}`,
  );

/** The kernel-mount run's counts, or the line saying why it was not run. */
function expectKernel(out: string, counts: RegExp): void {
  if (why) expect(out).toContain(`kernel mount: not run (${why.message})`);
  else {
    expect(out).toContain('through a kernel mount (FUSE)');
    expect(out).toMatch(counts);
  }
}

/** A run of the kit: a whole suite takes ~35 s here; one past RUN_LIMIT_MS is killed and shown. */
const RUN_LIMIT_MS = 300_000;

async function testPlugin(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run(process.execPath, [BIN, 'test-plugin', ...args], {
      timeout: RUN_LIMIT_MS,
      killSignal: 'SIGKILL',
      maxBuffer: 1 << 26,
    });
    return { code: 0, out: r.stdout };
  } catch (e) {
    const x = e as { code?: unknown; killed?: boolean; stdout?: string; stderr?: string };
    // What it printed up to there names the case it was in.
    if (x.killed)
      throw new Error(`zufs test-plugin still ran after ${RUN_LIMIT_MS / 1000} s:\n${x.stdout}${x.stderr}`);
    if (typeof x.code !== 'number') throw e;
    return { code: x.code, out: `${x.stdout}${x.stderr}` };
  }
}

/** What tiny-fs (the guide's 148-line example) leaves out, as its author would declare it. */
const TINY_UNSUPPORTED = [
  'fds/large-roundtrip=a file holds one slot (64 KiB)',
  'streams/pipeline-copy=a file holds one slot (64 KiB)',
  'attrs/stat-blocks=no block count',
  'attrs/stamps-by-operation=stamps by its own simple rules',
].join(',');

// The whole suite takes ~25 s a plugin and a way on an idle machine; the timeout is a safety net for a loaded one.
describe('zufs test-plugin', { timeout: 600_000 }, () => {
  it('passes on tiny-fs with its departures declared, and names them as not supported', async () => {
    const r = await testPlugin(
      TINY_FS,
      '--options',
      'inodes=1024,slot=65536',
      '--unsupported',
      TINY_UNSUPPORTED,
    );
    expect(r.out).toMatch(/zufs:tinyfs: \d+ passed, 0 failed, 4 not supported/);
    expect(r.out).toContain('not supported by this fs (a file holds one slot (64 KiB)): 2 cases');
    expectKernel(r.out, /fuse:tinyfs: \d+ passed, 0 failed, 4 not supported/);
    expect(r.code).toBe(0);
  });

  it('fails (exit 1) on a case the plugin does not pass, and says which and why', async () => {
    const r = await testPlugin(TINY_FS, '--options', 'inodes=64,slot=4096', '--only', 'fds/large-roundtrip');
    expect(r.out).toContain('FAIL fds/large-roundtrip: a 1 MiB write and read give the same bytes');
    expect(r.out).toContain('EFBIG: file too large, write');
    expect(r.out).toContain('zufs:tinyfs: 0 passed, 1 failed');
    // Through the kernel too; the case leaves its file open, and the mount still goes away.
    expectKernel(r.out, /fuse:tinyfs: 0 passed, 1 failed/);
    if (!why) expect(r.out.match(/FAIL fds\/large-roundtrip/g)).toHaveLength(2);
    expect(readFileSync('/proc/mounts', 'utf8')).not.toContain('zufs-conformance:tinyfs');
    expect(r.code).toBe(1);
  });

  it('passes on pmemfs: every case', async () => {
    const r = await testPlugin(fileURLToPath(PMEMFS_TYPE), '--options', `memory=${8 * 1024 * 1024}`);
    expect(r.out).toMatch(/zufs:pmemfs: \d+ passed, 0 failed, 0 not supported/);
    expectKernel(r.out, /fuse:pmemfs: \d+ passed, 0 failed, 0 not supported/);
    expect(r.code).toBe(0);
  });

  it('--no-kernel runs the face only, and says so', async () => {
    const r = await testPlugin(
      TINY_FS,
      '--options',
      'inodes=64,slot=4096',
      '--only',
      'rename/',
      '--no-kernel',
    );
    expect(r.out).toMatch(/zufs:tinyfs: \d+ passed, 0 failed/);
    expect(r.out).toContain('kernel mount: not run (turned off)');
    expect(r.out).not.toContain('fuse:tinyfs');
    expect(r.code).toBe(0);
  });

  it('refuses a module that is not a filesystem type, and a malformed --unsupported, with usage exit codes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zufs-test-plugin-'));
    const notFs = join(dir, 'not-a-fs.mjs');
    writeFileSync(notFs, 'export default 42;\n');
    const bad = await testPlugin(notFs);
    rmSync(dir, { recursive: true });
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('the default export is not a filesystem type');
    const usage = await testPlugin(TINY_FS, '--unsupported', 'not an id');
    expect(usage.code).toBe(2);
    expect(usage.out).toContain("'not an id' is not a case id or area");
  });
});
