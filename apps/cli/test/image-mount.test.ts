// mountImage(): a pmemfs image file served through FUSE by a child process (the fixture), written
// through the kernel mount, unmounted by SIGTERM, mounted again (SIGINT this time): the data is there.
// Needs root and /dev/fuse: skipped without them, failed instead when ZUFS_REQUIRE_PRIVILEGED_TESTS=1.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkfs, PmemDevice } from '@zufs/example-pmemfs';
import { fuseUnavailable } from '@zufs/fuse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REQUIRED = process.env.ZUFS_REQUIRE_PRIVILEGED_TESTS === '1';
const why = fuseUnavailable();
const FIXTURE = new URL('./fixtures/image-mount.mjs', import.meta.url).pathname;

function mounted(dir: string): boolean {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[1] === dir);
}

interface Served {
  child: ChildProcess;
  out: () => string;
  exit: Promise<number | null>;
}

/** Starts the fixture and waits for "mounted". */
async function serve(image: string, mnt: string): Promise<Served> {
  const child = spawn(process.execPath, [FIXTURE, image, mnt], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b) => (out += b));
  child.stderr!.on('data', (b) => (out += b));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const t0 = Date.now();
  while (!out.includes('mounted')) {
    if (child.exitCode !== null || Date.now() - t0 > 30_000) throw new Error(`fixture did not mount: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, out: () => out, exit };
}

if (why && REQUIRED) {
  describe('mountImage', () => {
    it('can mount (ZUFS_REQUIRE_PRIVILEGED_TESTS=1)', () => {
      expect.fail(`privileged tests are required but cannot run: ${why.message}`);
    });
  });
} else {
  describe.skipIf(why !== null)(`mountImage${why ? ` (skipped: ${why.message})` : ''}`, () => {
    let dir: string;
    let mnt: string;
    let image: string;
    let current: Served | undefined;

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'zufs-fuse-img-'));
      mnt = join(dir, 'mnt');
      mkdirSync(mnt);
      image = join(dir, 'fs.img');
      const dev = PmemDevice.createFile(image, 64 * 1024 * 1024);
      mkfs(dev, { inodes: 4096, label: 'fuse' });
      dev.flush();
      dev.close();
    });

    afterAll(async () => {
      if (current && current.child.exitCode === null) {
        current.child.kill('SIGKILL');
        await current.exit;
      }
      if (mnt && mounted(mnt)) execFileSync('umount', ['-l', mnt], { stdio: 'ignore' });
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('SIGTERM unmounts and flushes; the next mount sees the data', async () => {
      current = await serve(image, mnt);
      expect(mounted(mnt)).toBe(true);
      mkdirSync(join(mnt, 'kept'));
      writeFileSync(join(mnt, 'kept/file.txt'), 'survives a restart\n');
      current.child.kill('SIGTERM');
      expect(await current.exit).toBe(0);
      expect(current.out()).toContain('closed');
      expect(mounted(mnt)).toBe(false);

      current = await serve(image, mnt);
      expect(readFileSync(join(mnt, 'kept/file.txt'), 'utf8')).toBe('survives a restart\n');
      current.child.kill('SIGINT');
      expect(await current.exit).toBe(0);
      expect(mounted(mnt)).toBe(false);
    }, 120_000);

    it('a server killed with SIGKILL leaves a dead mount; the next mount clears it', async () => {
      current = await serve(image, mnt);
      current.child.kill('SIGKILL');
      await current.exit;
      expect(mounted(mnt)).toBe(true);
      expect(() => readFileSync(join(mnt, 'kept/file.txt'))).toThrow(/ENOTCONN/);
      current = await serve(image, mnt);
      expect(readFileSync(join(mnt, 'kept/file.txt'), 'utf8')).toBe('survives a restart\n');
      current.child.kill('SIGTERM');
      expect(await current.exit).toBe(0);
      expect(mounted(mnt)).toBe(false);
    }, 120_000);

    it('a umount from outside ends the server process', async () => {
      current = await serve(image, mnt);
      execFileSync('umount', [mnt]);
      expect(await current.exit).toBe(0);
      expect(current.out()).toContain('closed');
    }, 120_000);
  });
}
