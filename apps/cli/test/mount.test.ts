// `zufs mount --daemon` and `zufs umount` on a real kernel mount: needs root and /dev/fuse. Elsewhere
// the test is skipped with the reason; under .ci/run (ZUFS_REQUIRE_PRIVILEGED_TESTS=1) it must run.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readLockHolder } from '@zufs/example-pmemfs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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

  it('zufs reload (and SIGHUP) reloads the serving process without unmounting: a writer sees no error, an open fd reads on', async () => {
    await zufs('mount', '--daemon', 'fs.img', mnt);
    const fd = openSync(join(mnt, 'hello.txt'), 'r');
    // Appends numbered lines until told to stop; any failed write ends it with that error.
    const writer = spawn(
      'bash',
      ['-c', 'i=0; until [ -e ../stop ]; do echo $i >> lines || exit 1; i=$((i+1)); done; echo $i'],
      { cwd: mnt, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    writer.stdout.on('data', (b) => (out += b));
    writer.stderr.on('data', (b) => (out += b));
    try {
      const r = await zufs('reload', mnt);
      expect(r.stdout).toMatch(/mnt: reloaded pmemfs \(pid (\d+)\)\n$/);
      const pid = Number(/\(pid (\d+)\)/.exec(r.stdout)![1]);
      // SIGHUP itself, as a service manager sends it: the process counts a second reload.
      const before = JSON.parse(readFileSync(`/run/zufs/reload-${pid}.json`, 'utf8')).done;
      process.kill(pid, 'SIGHUP');
      await expect
        .poll(() => JSON.parse(readFileSync(`/run/zufs/reload-${pid}.json`, 'utf8')).done, {
          timeout: 60_000,
        })
        .toBe(before + 1);
      expect(readFileSync(`/run/zufs/reload-${pid}.json`, 'utf8')).toContain('"ok":true');
      expect((await zufs('reload', mnt)).stdout).toMatch(/reloaded pmemfs/);
    } finally {
      writeFileSync(join(dir, 'stop'), '');
    }
    const [code] = await once(writer, 'close');
    expect(code, out).toBe(0);
    const written = Number(out.trim());
    const lines = readFileSync(join(mnt, 'lines'), 'utf8').trim().split('\n').map(Number);
    expect(lines).toEqual(Array.from({ length: written }, (_, i) => i));
    expect(readSync(fd, Buffer.alloc(64), 0, 64, 0)).toBe('through the kernel\n'.length);
    closeSync(fd);
    rmSync(join(dir, 'stop'));
    // Not a zufs mount, nothing mounted: exit 1 with the reason.
    await expect(zufs('reload', dir)).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/reload: .*: not mounted/),
    });
    await zufs('umount', mnt);
    expect((await zufs('fsck', 'fs.img')).stdout).toMatch(/fs\.img: clean/);
    // The status file goes with the process.
    expect(readdirSync('/run/zufs').filter((f) => f.startsWith('reload-'))).toEqual([]);
  });

  it('-o serve=grid runs the plugin in server threads: it serves, and reloads; a bad value is a usage error', async () => {
    await expect(zufs('mount', '-o', 'serve=sideways', 'fs.img', mnt)).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/option 'serve' takes inline or grid \(got 'sideways'\)/),
    });
    await zufs('mount', '--daemon', '-o', 'serve=grid', 'fs.img', mnt);
    try {
      writeFileSync(join(mnt, 'grid.txt'), 'served by a ZT\n');
      expect((await zufs('reload', mnt)).stdout).toMatch(/reloaded pmemfs/);
      expect(readFileSync(join(mnt, 'grid.txt'), 'utf8')).toBe('served by a ZT\n');
    } finally {
      await zufs('umount', mnt);
    }
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
      stderr: expect.stringMatching(/--map-uid.*IMAGE_ID:HOST_ID/),
    });
  });

  it('a mountpoint that is missing or a file is refused, named as typed (exit 1)', async () => {
    await expect(zufs('mount', 'fs.img', 'no-such-dir')).rejects.toMatchObject({
      code: 1,
      stderr: 'zufs: mount: no-such-dir: mountpoint does not exist\n',
    });
    await expect(zufs('mount', 'fs.img', 'fs.img')).rejects.toMatchObject({
      code: 1,
      stderr: 'zufs: mount: fs.img: mountpoint is not a directory\n',
    });
  });

  it('takes -o as FUSE filesystems do: ro, allow_other, attr_timeout, noatime reach the mount', async () => {
    await zufs('mount', '--daemon', '-o', 'ro,allow_other,attr_timeout=0,noatime,commit=1', 'fs.img', mnt);
    try {
      const line = mountLine(mnt);
      expect(line).toMatch(/ fuse\.zufs ro,/);
      expect(line).toMatch(/\bnoatime\b/);
      expect(line).toMatch(/\ballow_other\b/);
      expect(line).toMatch(/\bdefault_permissions\b/);
      await expect(run('touch', [join(mnt, 'no.txt')])).rejects.toMatchObject({
        stderr: expect.stringMatching(/Read-only file system/),
      });
      // The background process was started with the same options, as one -o list.
      expect(readFileSync(`/proc/${lockPid('fs.img')}/cmdline`, 'utf8')).toMatch(
        /ro,.*attr_timeout=0.*noatime,commit=1/,
      );
    } finally {
      await zufs('umount', mnt);
    }
    await waitReleased('fs.img');
  });
});

/** The /proc/mounts line of `dir`, or ''. */
function mountLine(dir: string): string {
  return (
    readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .find((l) => l.split(' ')[1] === dir) ?? ''
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid in IMAGE.lock: the process serving the image. */
function lockPid(image: string): number {
  const holder = readLockHolder(join(dir, `${image}.lock`));
  if (!holder) throw new Error(`${image} is not locked`);
  return holder.pid;
}

/** Waits (at most 20 s) until the serving process has let the image go: its lock file is gone. */
async function waitReleased(image: string): Promise<void> {
  for (let i = 0; i < 200 && existsSync(join(dir, `${image}.lock`)); i++)
    await new Promise((r) => setTimeout(r, 100));
  expect(existsSync(join(dir, `${image}.lock`))).toBe(false);
}

// mount(8) finds a helper for type fuse.zufs at /sbin/mount.fuse.zufs. The test installs the built
// one there (a symlink, as the README says) and takes it away after; one already there that is not
// this build's is left alone, and the test says why it skips.
const HELPER_LINK = '/sbin/mount.fuse.zufs';
const HELPER = fileURLToPath(new URL('../dist/mount-helper.js', import.meta.url));
function helperBlocked(): string | undefined {
  if (why) return why;
  try {
    const target = readlinkSync(HELPER_LINK);
    return target === HELPER ? undefined : `${HELPER_LINK} is another install (${target})`;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? undefined : `${HELPER_LINK} is not a symlink (${code})`;
  }
}
const blocked = helperBlocked();
if (blocked && !why && process.env.ZUFS_REQUIRE_PRIVILEGED_TESTS === '1')
  throw new Error(`the mount helper test must run here (ZUFS_REQUIRE_PRIVILEGED_TESTS=1) but: ${blocked}`);

describe.skipIf(blocked !== undefined)(
  `mount -t fuse.zufs and fstab${blocked ? ` (skipped: ${blocked})` : ''}`,
  () => {
    let made = false;
    beforeAll(async () => {
      if (!existsSync(HELPER_LINK)) {
        symlinkSync(HELPER, HELPER_LINK);
        made = true;
      }
      chmodSync(HELPER, 0o755);
      await zufs('mkfs', '-f', 'helper.img', '--size', '32M');
      mkdirSync(mnt, { recursive: true });
    });
    afterAll(() => {
      if (made) unlinkSync(HELPER_LINK);
    });

    it('mount -t fuse.zufs IMAGE DIR mounts; the system umount stops the server, which lets the image go', async () => {
      const m = await run('mount', ['-t', 'fuse.zufs', '-o', 'attr_timeout=0', join(dir, 'helper.img'), mnt]);
      expect(m.stdout).toBe(''); // as any mount(8) helper: silent
      expect(mountLine(mnt)).toMatch(/helper\.img .* fuse\.zufs rw,/);
      const pid = lockPid('helper.img');
      writeFileSync(join(mnt, 'by-helper.txt'), 'mounted by mount(8)\n');
      await run('umount', [mnt]);
      // The serving process sees the connection end, writes the image back, unlocks and exits.
      await waitReleased('helper.img');
      for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      expect(alive(pid)).toBe(false);
      expect((await zufs('cat', 'helper.img:/by-helper.txt')).stdout).toBe('mounted by mount(8)\n');
      expect((await zufs('fsck', 'helper.img')).stdout).toMatch(/clean/);
    });

    it('an /etc/fstab line of type fuse.zufs mounts with mount DIR (here: mount -T FSTAB DIR)', async () => {
      const fstab = join(dir, 'fstab');
      writeFileSync(
        fstab,
        `${join(dir, 'helper.img')} ${mnt} fuse.zufs defaults,noauto,nofail,ro,x-systemd.automount 0 0\n`,
      );
      await run('mount', ['-T', fstab, mnt]);
      try {
        expect(mountLine(mnt)).toMatch(/ fuse\.zufs ro,/);
        expect(readFileSync(join(mnt, 'by-helper.txt'), 'utf8')).toBe('mounted by mount(8)\n');
      } finally {
        await run('umount', [mnt]);
      }
      await waitReleased('helper.img');
    });

    it("mount(8) reports the helper's errors: an unknown option, a missing image", async () => {
      await expect(
        run('mount', ['-t', 'fuse.zufs', '-o', 'bogus', join(dir, 'helper.img'), mnt]),
      ).rejects.toMatchObject({
        stderr: expect.stringMatching(/mount\.fuse\.zufs: unknown mount option 'bogus'/),
      });
      await expect(run('mount', ['-t', 'fuse.zufs', join(dir, 'none.img'), mnt])).rejects.toMatchObject({
        code: 32,
        stderr: expect.stringMatching(/mount\.fuse\.zufs: .*none\.img: no such image/),
      });
      expect(mountLine(mnt)).toBe('');
    });
  },
);
