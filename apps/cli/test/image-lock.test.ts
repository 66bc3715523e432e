// The image lock between every kind of opener, each in its own process: a library mount (a user's
// script, fixtures/library-mount.mjs), CLI commands, fsck. The second opener is refused with who
// holds the image and changes nothing; nothing written by the first is lost.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PMEMFS_TYPE, readLockHolder } from '@zufs/example-pmemfs';
import { mount } from '@zufs/vfs';
import { startServer } from '@zufs/zus-server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BIN, started, zufsIn } from './helpers.js';

const LIBRARY = new URL('./fixtures/library-mount.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'zufs-cli-lock-'));
const image = join(dir, 'fs.img');
const zufs = (...args: string[]) => zufsIn(dir, ...args);
// Each test runs several processes one after the other: under load that takes more than the default.
const SLOW = 180_000;
let library: ChildProcess | undefined;

beforeAll(() => writeFileSync(join(dir, 'note.txt'), 'from the host\n'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(async () => {
  expect((await zufs('mkfs', '-f', image, '--size', '64M')).code).toBe(0);
});
afterEach(async () => {
  library?.kill('SIGKILL');
  library = undefined;
});

/** Ends the library mount (it unmounts and commits) and waits for its process to exit. */
async function unmountLibrary(): Promise<void> {
  const c = library!;
  library = undefined;
  c.stdin?.end();
  const [code] = await once(c, 'exit');
  expect(code).toBe(0);
}

describe('an image in use by a library mount', () => {
  it(
    "refuses zufs put, and the library's file is there after it unmounts",
    async () => {
      library = await started(LIBRARY, [image], 'mounted');
      const put = await zufs('put', 'note.txt', `${image}:/note`);
      expect(put.code).toBe(1);
      expect(put.err.trim()).toBe(
        `zufs: put: ${image}: in use by node library-mount.mjs ${image} (pid ${library.pid})`,
      );
      await unmountLibrary();
      expect((await zufs('ls', `${image}:/`)).out.trim()).toBe('from-library');
      expect((await zufs('cat', `${image}:/from-library`)).out).toBe('written while mounted\n');
      expect((await zufs('fsck', image)).code).toBe(0);
    },
    SLOW,
  );

  it(
    'refuses fsck (check and --repair, exit 8), info and mkfs --force, and they change nothing',
    async () => {
      library = await started(LIBRARY, [image], 'mounted');
      const before = readFileSync(image);
      for (const args of [
        ['fsck', image],
        ['fsck', '--repair', image],
      ]) {
        const r = await zufs(...args);
        expect(r.code, args.join(' ')).toBe(8);
        expect(r.err).toMatch(
          new RegExp(
            `fsck: ${image}: in use by node library-mount.mjs .* \\(pid ${library.pid}\\): unmount it first`,
          ),
        );
      }
      expect((await zufs('info', image)).err).toMatch(/info: .*: in use by node library-mount\.mjs/);
      const mk = await zufs('mkfs', '-f', image, '--size', '8M');
      expect(mk.err).toMatch(/mkfs: .*: in use by node library-mount\.mjs/);
      expect(readFileSync(image).equals(before)).toBe(true); // not truncated, not written
      await unmountLibrary();
      expect((await zufs('ls', `${image}:/`)).out.trim()).toBe('from-library');
    },
    SLOW,
  );

  it(
    'refuses a second library mount in another process',
    async () => {
      library = await started(LIBRARY, [image], 'mounted');
      const server = await startServer({ zts: 1, channels: 2, filesystems: [PMEMFS_TYPE] });
      try {
        expect(() => mount(server.root, { type: 'pmemfs', device: image })).toThrow(
          expect.objectContaining({
            code: 'EBUSY',
            errno: -16,
            message: `EBUSY: ${image}: in use by node library-mount.mjs ${image} (pid ${library.pid})`,
          }),
        );
        await unmountLibrary();
        mount(server.root, { type: 'pmemfs', device: image }).umount();
      } finally {
        await server.stop();
      }
    },
    SLOW,
  );
});

describe('an image in use by a CLI command', () => {
  it(
    'refuses a library mount, naming the command',
    async () => {
      writeFileSync(join(dir, 'big'), Buffer.alloc(40 << 20, 1));
      const server = await startServer({ zts: 1, channels: 2, filesystems: [PMEMFS_TYPE] });
      try {
        // Catch the put while it holds the image (stop it there), else try again with a fresh put.
        let put: ChildProcess | undefined;
        for (let tries = 0; tries < 5 && !put; tries++) {
          const c = spawn(process.execPath, [BIN, 'put', 'big', `${image}:/big${tries}`], {
            cwd: dir,
            stdio: 'ignore',
          });
          const exited = once(c, 'exit');
          while (c.exitCode === null && readLockHolder(`${image}.lock`)?.pid !== c.pid)
            await new Promise((r) => setTimeout(r, 2));
          c.kill('SIGSTOP');
          if (readLockHolder(`${image}.lock`)?.pid === c.pid) put = c;
          else {
            c.kill('SIGCONT');
            await exited;
          }
        }
        expect(put, 'a put caught holding the image').toBeDefined();
        try {
          expect(() => mount(server.root, { type: 'pmemfs', device: image })).toThrow(
            `EBUSY: ${image}: in use by zufs put (pid ${put!.pid})`,
          );
        } finally {
          const exited = once(put!, 'exit');
          put!.kill('SIGCONT');
          expect((await exited)[0]).toBe(0);
        }
        const fs = mount(server.root, { type: 'pmemfs', device: image });
        expect(fs.readdirSync('/').length).toBeGreaterThan(0);
        fs.umount();
      } finally {
        await server.stop();
      }
    },
    SLOW,
  );
});
