// `zufs mount --daemon` and `zufs umount` on a real kernel mount: needs root and /dev/fuse. Elsewhere
// the test is skipped with the reason; under .ci/run (ZUFS_REQUIRE_PRIVILEGED_TESTS=1) it must run.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const run = promisify(execFile);
const why =
  process.getuid?.() !== 0 ? 'needs root' : !existsSync('/dev/fuse') ? 'needs /dev/fuse' : undefined;
if (why && process.env.ZUFS_REQUIRE_PRIVILEGED_TESTS === '1')
  throw new Error(`zufs mount tests must run here (ZUFS_REQUIRE_PRIVILEGED_TESTS=1) but: ${why}`);

const dir = mkdtempSync(join(tmpdir(), 'zufs-cli-mount-'));
const mnt = join(dir, 'mnt');
afterAll(async () => {
  await run('umount', ['-l', mnt]).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

const zufs = (...args: string[]) => run(process.execPath, [BIN, ...args], { cwd: dir, timeout: 60_000 });

describe.skipIf(why !== undefined)(`zufs mount / umount${why ? ` (skipped: ${why})` : ''}`, () => {
  it('mounts an image in the background, programs use it, umount writes it back', async () => {
    await zufs('mkfs', 'fs.img', '--size', '32M');
    mkdirSync(mnt);
    const m = await zufs('mount', '--daemon', 'fs.img', mnt);
    expect(m.stdout).toMatch(/mounted .*fs\.img on .*; unmount with: zufs umount/);
    expect(readFileSync('/proc/mounts', 'utf8')).toContain(`${mnt} fuse.zufs`);
    writeFileSync(join(mnt, 'hello.txt'), 'through the kernel\n');
    const { stdout } = await run('cat', [join(mnt, 'hello.txt')]);
    expect(stdout).toBe('through the kernel\n');
    // A second user of the image is refused while it is mounted.
    await expect(zufs('ls', 'fs.img:/')).rejects.toMatchObject({
      stderr: expect.stringMatching(/image in use/),
    });
    await zufs('umount', mnt);
    // The serving process flushes, unlocks and exits: the image is usable again, with the file.
    let out = '';
    for (let i = 0; i < 100 && !out; i++) {
      out = await zufs('cat', 'fs.img:/hello.txt').then(
        (r) => r.stdout,
        () => new Promise<string>((r) => setTimeout(() => r(''), 100)),
      );
    }
    expect(out).toBe('through the kernel\n');
    await expect(zufs('umount', mnt)).rejects.toMatchObject({ stderr: expect.stringMatching(/not mounted/) });
  });

  it('maps owners: --map-uid and --map-gid show ids of the image as ids of the host', async () => {
    // hello.txt was written by root: the image stores 0:0.
    await zufs('mount', '--daemon', '--map-uid', '0:4321', '--map-gid', '0:4322', 'fs.img', mnt);
    try {
      const { stdout } = await run('stat', ['-c', '%u:%g', join(mnt, 'hello.txt')]);
      expect(stdout.trim()).toBe('4321:4322');
      // A file root makes through the mapped mount is stored as 0:0, so it shows as 4321:4322 too.
      writeFileSync(join(mnt, 'made.txt'), 'x');
      expect((await run('stat', ['-c', '%u:%g', join(mnt, 'made.txt')])).stdout.trim()).toBe('4321:4322');
    } finally {
      await zufs('umount', mnt);
    }
    await expect(zufs('mount', '--map-uid', '1000', 'fs.img', mnt)).rejects.toMatchObject({
      stderr: expect.stringMatching(/--map-uid takes IMAGE_ID:HOST_ID/),
    });
  });
});
