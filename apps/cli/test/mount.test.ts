// `zufs mount --daemon` and `zufs umount` on a real kernel mount: needs root and /dev/fuse. Elsewhere
// the test is skipped with the reason; under .ci/run (ZUFS_REQUIRE_PRIVILEGED_TESTS=1) it must run.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
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

/** What a process's open file descriptors point at. */
async function readdirFds(pid: number): Promise<string[]> {
  try {
    return readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return '';
      }
    });
  } catch {
    return [];
  }
}

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
      stderr: expect.stringMatching(/fs\.img: in use by zufs mount .*mnt \(pid \d+\)/),
    });
    // umount returns once the serving process has committed the image and let go of it: the
    // image is usable at once (no retry), with the file.
    const um = await zufs('umount', mnt);
    expect(um.stdout).toMatch(/^unmounted .*mnt; .*fs\.img is released\n$/);
    expect((await zufs('fsck', 'fs.img')).stdout).toMatch(/fs\.img: clean/);
    expect((await zufs('cat', 'fs.img:/hello.txt')).stdout).toBe('through the kernel\n');
    await expect(zufs('umount', mnt)).rejects.toMatchObject({ stderr: expect.stringMatching(/not mounted/) });
  });

  it('umount --lazy of a busy mount says what is pending; the image is released when its last user goes', async () => {
    await zufs('mount', '--daemon', 'fs.img', mnt);
    // A program with a file open on the mount keeps it busy.
    const user = spawn(
      process.execPath,
      [
        '-e',
        'require("fs").openSync(process.argv[1], "r"); setInterval(() => {}, 1000)',
        join(mnt, 'hello.txt'),
      ],
      { stdio: 'ignore' },
    );
    try {
      while (!(await readdirFds(user.pid!)).some((t) => t.endsWith('hello.txt'))) {
        expect(user.exitCode, 'the program holding a file open exited').toBeNull();
        await new Promise((r) => setTimeout(r, 20));
      }
      await expect(zufs('umount', mnt)).rejects.toMatchObject({
        stderr: expect.stringMatching(/busy \(retry with --lazy\)/),
      });
      const lazy = await zufs('umount', '--lazy', mnt);
      expect(lazy.stdout).toMatch(
        /^detached .*mnt: still in use; .*fs\.img is released by zufs mount .*mnt \(pid \d+\) when the last program using the mount closes its files\n$/,
      );
      await expect(zufs('ls', 'fs.img:/')).rejects.toMatchObject({
        stderr: expect.stringMatching(/in use by zufs mount/),
      });
    } finally {
      user.kill();
      await once(user, 'exit');
    }
    // The last user gone, the serving process commits, lets go and exits.
    for (let i = 0; i < 200 && existsSync(join(dir, 'fs.img.lock')); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(join(dir, 'fs.img.lock'))).toBe(false);
    expect((await zufs('cat', 'fs.img:/hello.txt')).stdout).toBe('through the kernel\n');
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
