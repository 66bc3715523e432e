// Commands that fail leave nothing half made: mkfs checks every argument before it creates (or
// truncates) anything; put and cp that run out of space remove the file they cut short and say so
// (or, with --keep-partial, keep it and say how much was written).
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zufsIn } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'zufs-cli-half-'));
const zufs = (...args: string[]) => zufsIn(dir, ...args);
// A test runs the CLI several times, one after the other: under load that takes more than the default.
const SLOW = 180_000;
beforeAll(() => writeFileSync(join(dir, 'big'), Buffer.alloc(3 << 20, 7)));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mkfs checks every argument first', () => {
  it.each([
    [['--label', 'x'.repeat(64)], /--label is 64 bytes; at most 63/],
    [['--inodes', '0'], /--inodes must be a positive integer \(got '0'\)/],
    [['--inodes', 'many'], /--inodes must be a positive integer \(got 'many'\)/],
    [['--inodes', '1.5'], /--inodes must be a positive integer/],
    [['--inodes', '100000', '--size', '1M'], /too small for 100000 inodes|inode count must be/],
    [['--size', '100K'], /device too small/],
    [['--size', '17G'], /--size 17G is larger than the largest image, 16G \(17179869184 bytes\)/],
    [['--size', '1000001'], /not a multiple of 4096/],
    [['--size', 'big'], /bad size 'big'/],
  ])(
    '%j: exit 2, no file made, an existing one untouched',
    async (args, why) => {
      const made = await zufs('mkfs', 'new.img', ...args);
      expect(made.code).toBe(2);
      expect(made.err).toMatch(why);
      expect(existsSync(join(dir, 'new.img'))).toBe(false);
      expect(existsSync(join(dir, 'new.img.lock'))).toBe(false);
      writeFileSync(join(dir, 'old.img'), 'precious');
      const forced = await zufs('mkfs', '-f', 'old.img', ...args);
      expect(forced.code).toBe(2);
      expect(readFileSync(join(dir, 'old.img'), 'utf8')).toBe('precious');
    },
    SLOW,
  );
});

describe('put and cp that run out of space', () => {
  it(
    'remove the partial file and say so; the image has its space back',
    async () => {
      expect((await zufs('mkfs', '-f', 'small.img', '--size', '2M')).code).toBe(0);
      const free = JSON.parse((await zufs('info', '--json', 'small.img')).out).blocks.free;
      const put = await zufs('put', 'big', 'small.img:/big');
      expect(put.code).toBe(1);
      expect(put.err).toMatch(
        /^zufs: put: small\.img:\/big: no space left on device \(the image is full\); removed the partial file \(\d+ of 3145728 bytes written; --keep-partial keeps it\)\n$/,
      );
      expect((await zufs('ls', 'small.img:/')).out).toBe('');
      expect(JSON.parse((await zufs('info', '--json', 'small.img')).out).blocks.free).toBe(free);
      const cp = await zufs('cp', 'big', 'small.img:/copy');
      expect(cp.err).toMatch(/cp: small\.img:\/copy: no space left on device .*removed the partial file/);
      expect((await zufs('fsck', 'small.img')).code).toBe(0);
    },
    SLOW,
  );

  it(
    'with --keep-partial keep it and say how many bytes were written',
    async () => {
      expect((await zufs('mkfs', '-f', 'small.img', '--size', '2M')).code).toBe(0);
      const put = await zufs('put', '--keep-partial', 'big', 'small.img:/big');
      expect(put.code).toBe(1);
      const m =
        /put: small\.img:\/big: no space left on device \(the image is full\); kept the partial file \((\d+) of 3145728 bytes written\)/.exec(
          put.err,
        );
      expect(m, put.err).not.toBeNull();
      const st = JSON.parse((await zufs('stat', '--json', 'small.img:/big')).out);
      expect(st.size).toBe(Number(m![1]));
      expect(st.size).toBeGreaterThan(0);
      expect(statSync(join(dir, 'big')).size).toBe(3 << 20);
    },
    SLOW,
  );
});
