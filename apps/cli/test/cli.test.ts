// The zufs command as a user runs it: the built CLI in a child process, on image files in a temp dir.
import { execFile, spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, zufsIn } from './helpers.js';

const run = promisify(execFile);

let dir: string;
const zufs = (...args: string[]) => zufsIn(dir, ...args);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'zufs-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The one line a failing command prints on stderr (no stack trace). */
function one(r: { err: string }): string {
  const lines = r.err.trim().split('\n');
  expect(lines, r.err).toHaveLength(1);
  expect(r.err).not.toMatch(/\n\s+at /);
  return lines[0];
}

/** A file under the test's directory, made with what it holds. */
function hostTree(): string {
  const src = join(dir, 'tree');
  mkdirSync(join(src, 'sub/deeper'), { recursive: true });
  writeFileSync(join(src, 'a.txt'), 'hello\n');
  chmodSync(join(src, 'a.txt'), 0o600);
  writeFileSync(join(src, 'sub/deeper/big.bin'), Buffer.alloc(300_000, 7));
  symlinkSync('../a.txt', join(src, 'sub/link'));
  return src;
}

// One image, filled once: each test below runs a few commands on it (one behaviour a test, so a
// slow machine times out none of them).
describe('zufs on the files of an image', () => {
  let src: string;
  beforeAll(async () => {
    src = hostTree();
    expect((await zufs('mkfs', 'fs.img', '--size', '32M', '--label', 'docs')).code).toBe(0);
    expect((await zufs('put', 'tree', 'fs.img:/t')).code).toBe(0);
  });

  it('info --json describes the image', async () => {
    const info = JSON.parse((await zufs('info', 'fs.img', '--json')).out);
    expect(info).toMatchObject({ label: 'docs', bytes: 32 * 2 ** 20, blockSize: 4096 });
    expect(info.inodes.used).toBe(7);
  });

  it('ls -R --json lists the tree put in, modes kept', async () => {
    const ls = JSON.parse((await zufs('ls', '-R', 'fs.img:/t', '--json')).out);
    expect(ls.map((e: { name: string }) => e.name)).toEqual([
      'a.txt',
      'sub',
      'sub/deeper',
      'sub/deeper/big.bin',
      'sub/link',
    ]);
    expect(ls.find((e: { name: string }) => e.name === 'a.txt')).toMatchObject({
      type: 'file',
      mode: '0600',
      size: 6,
    });
    expect(ls.find((e: { name: string }) => e.name === 'sub/link')).toMatchObject({ target: '../a.txt' });
  });

  it('ls -l shows mode, links, owner, group, size, time, name and -> target', async () => {
    const { out } = await zufs('ls', '-l', 'fs.img:/t/sub');
    const user = userInfo().username;
    expect(out).toMatch(/^total \d+\n/);
    expect(out).toMatch(
      new RegExp(
        `^drwx[-r][-w][-x][-r][-w][-x] +2 ${user} +\\S+ +\\d+ \\w{3} [ \\d]\\d \\d\\d:\\d\\d deeper$`,
        'm',
      ),
    );
    expect(out).toMatch(/^lrwxrwxrwx +1 .* \d+ \w{3} [ \d]\d (\d\d:\d\d| \d{4}) link -> \.\.\/a\.txt$/m);
  });

  it('ls -l of a file lists that entry', async () => {
    expect((await zufs('ls', '-l', 'fs.img:/t/a.txt')).out).toMatch(
      /^-rw------- +1 .* 6 .* fs\.img:\/t\/a\.txt\n$/,
    );
  });

  it('ls -l of a symlink lists the link and its target; ls of a file prints its name', async () => {
    expect((await zufs('ls', '-l', 'fs.img:/t/sub/link')).out).toMatch(
      /^l.* fs\.img:\/t\/sub\/link -> \.\.\/a\.txt\n$/,
    );
    expect((await zufs('ls', 'fs.img:/t/a.txt')).out).toBe('fs.img:/t/a.txt\n');
  });

  it('ls -a shows . and .. (and names starting with a dot)', async () => {
    expect((await zufs('ls', '-a', 'fs.img:/t')).out.split('\n').filter(Boolean)).toEqual([
      '.',
      '..',
      'a.txt',
      'sub',
    ]);
  });

  it('ls -lh shows sizes in K, M, G', async () => {
    expect((await zufs('ls', '-lh', 'fs.img:/t/sub/deeper')).out).toMatch(/ 293K \w{3} .* big\.bin$/m);
  });

  it('stat shows a symlink with its target and all three times', async () => {
    const j = JSON.parse((await zufs('stat', 'fs.img:/t/sub/link', '--json')).out);
    expect(j).toMatchObject({ type: 'symlink', target: '../a.txt' });
    for (const k of ['atime', 'mtime', 'ctime']) expect(Number.isNaN(Date.parse(j[k])), k).toBe(false);
    const text = (await zufs('stat', 'fs.img:/t/sub/link')).out;
    expect(text).toMatch(/file fs\.img:\/t\/sub\/link -> \.\.\/a\.txt/);
    expect(text).toMatch(/mode 0777 \(lrwxrwxrwx\)/);
    expect(text).toMatch(/^access .*\nmodify .*\nchange .*$/m);
  });

  it('cat prints a file', async () => {
    expect((await zufs('cat', 'fs.img:/t/a.txt')).out).toBe('hello\n');
  });

  it('get copies the tree back identical: contents, modes, symlinks, mtimes', async () => {
    expect((await zufs('get', 'fs.img:/t', 'back')).code).toBe(0);
    expect(readFileSync(join(dir, 'back/sub/deeper/big.bin')).equals(Buffer.alloc(300_000, 7))).toBe(true);
    expect(lstatSync(join(dir, 'back/a.txt')).mode & 0o777).toBe(0o600);
    expect(readlinkSync(join(dir, 'back/sub/link'))).toBe('../a.txt');
    // mtimes kept (to the microsecond: node:fs takes times as float seconds).
    expect(
      Math.abs(lstatSync(join(dir, 'back/a.txt')).mtimeMs - lstatSync(join(src, 'a.txt')).mtimeMs),
    ).toBeLessThan(0.01);
  });

  it('mkdir -p makes parents; rm -r removes a tree', async () => {
    expect((await zufs('mkdir', '-p', 'fs.img:/p/y/z')).code).toBe(0);
    expect((await zufs('rm', '-r', 'fs.img:/p/y')).code).toBe(0);
    expect((await zufs('ls', 'fs.img:/p')).out).toBe('');
  });

  it('mv renames within an image', async () => {
    expect((await zufs('cp', 'fs.img:/t/a.txt', 'fs.img:/t/m.txt')).code).toBe(0);
    expect((await zufs('mv', 'fs.img:/t/m.txt', 'fs.img:/renamed.txt')).code).toBe(0);
    expect((await zufs('cat', 'fs.img:/renamed.txt')).out).toBe('hello\n');
  });

  it('ln makes a hard link, ln -s a symbolic one', async () => {
    expect((await zufs('ln', 'fs.img:/t/a.txt', 'fs.img:/hard')).code).toBe(0);
    expect((await zufs('ln', '-s', 't/a.txt', 'fs.img:/soft')).code).toBe(0);
    expect((await zufs('cat', 'fs.img:/soft', 'fs.img:/hard')).out).toBe('hello\nhello\n');
  });

  it('cp -r copies a tree within an image', async () => {
    expect((await zufs('cp', '-r', 'fs.img:/t/sub', 'fs.img:/sub2')).code).toBe(0);
    expect((await zufs('ls', '-R', 'fs.img:/sub2')).out.split('\n').filter(Boolean)).toEqual([
      'deeper',
      'deeper/big.bin',
      'link',
    ]);
  });

  it('mv into an existing directory moves into it, as mv(1)', async () => {
    await zufs('mkdir', 'fs.img:/into');
    await zufs('cp', 'fs.img:/t/a.txt', 'fs.img:/moved.txt');
    expect((await zufs('mv', 'fs.img:/moved.txt', 'fs.img:/into')).code).toBe(0);
    expect((await zufs('cat', 'fs.img:/into/moved.txt')).out).toBe('hello\n');
    expect((await zufs('ls', 'fs.img:/moved.txt')).code).toBe(1);
  });

  it('fsck after all of it: clean, exit 0', async () => {
    const fsck = await zufs('fsck', 'fs.img', '--json');
    expect(fsck.code).toBe(0);
    expect(JSON.parse(fsck.out)).toMatchObject({ clean: true, problems: [] });
  });
});

describe('zufs says what is wrong in one line, the path as typed, the errno in words', () => {
  beforeAll(async () => {
    await zufs('mkfs', 'e.img', '--size', '8M');
    await zufs('mkdir', 'e.img:/d');
  });

  it.each([
    [['cat', 'e.img:/none'], 'zufs: cat: e.img:/none: no such file or directory'],
    [['cat', 'e.img:/d'], 'zufs: cat: e.img:/d: is a directory'],
    [['ls', 'e.img:/none'], 'zufs: ls: e.img:/none: no such file or directory'],
    [['stat', 'e.img:/none/x'], 'zufs: stat: e.img:/none/x: no such file or directory'],
    [['rm', 'e.img:/d'], 'zufs: rm: e.img:/d: is a directory (use -r)'],
    [['rm', 'e.img:/none'], 'zufs: rm: e.img:/none: no such file or directory'],
    [['mkdir', 'e.img:/d'], 'zufs: mkdir: e.img:/d: file exists (use -p)'],
    [['mkdir', 'e.img:/a/b'], 'zufs: mkdir: e.img:/a/b: no such file or directory'],
    [['mv', 'e.img:/none', 'e.img:/x'], 'zufs: mv: e.img:/none -> e.img:/x: no such file or directory'],
    [['ln', 'e.img:/none', 'e.img:/x'], 'zufs: ln: e.img:/none -> e.img:/x: no such file or directory'],
    [['ln', '-s', 'anything', 'e.img:/d'], 'zufs: ln: e.img:/d: file exists'],
    [['cp', 'e.img:/d', 'e.img:/d2'], 'zufs: cp: e.img:/d: is a directory (use -r)'],
    [['get', 'e.img:/none', 'out'], 'zufs: get: e.img:/none: no such file or directory'],
    [['put', 'no-such-host-file', 'e.img:/x'], 'zufs: put: no-such-host-file: no such file or directory'],
  ])('%j', async (args, line) => {
    const r = await zufs(...args);
    expect(r.code).toBe(1);
    expect(one(r)).toBe(line);
  });

  it('an image that is missing, not an image, or too new', async () => {
    expect(one(await zufs('ls', 'missing.img:/'))).toMatch(/missing\.img: no such image/);
    writeFileSync(join(dir, 'junk.img'), Buffer.alloc(65536, 0x41));
    expect(one(await zufs('info', 'junk.img'))).toMatch(/junk\.img: not a zufs image/);
    await zufs('mkfs', 'new.img', '--size', '8M');
    const fd = openSync(join(dir, 'new.img'), 'r+');
    writeSync(fd, Buffer.from([99, 0, 0, 0]), 0, 4, 4); // the superblock's format version word
    closeSync(fd);
    expect(one(await zufs('ls', 'new.img:/'))).toMatch(/newer zufs \(format version 99/);
  });

  it('mkfs over an existing image is refused (exit 1)', async () => {
    const e = await zufs('mkfs', 'e.img');
    expect(e.code).toBe(1);
    expect(one(e)).toMatch(/exists \(use --force/);
  });
});

describe('usage errors exit 2, on every command', () => {
  it.each([
    [[], /Usage: zufs/],
    [['bogus'], /^zufs: unknown command 'bogus'/],
    [['mkfs'], /^zufs: mkfs: missing required argument 'image'/],
    [['fsck'], /^zufs: fsck: missing required argument 'image'/],
    [['fsck', '-n', '-y', 'x.img'], /^zufs: fsck: -n \(check only\) and -y \(repair\) exclude each other/],
    [['info', '--bogus', 'x.img'], /^zufs: info: unknown option '--bogus'/],
    [['mount', 'x.img'], /^zufs: mount: missing required argument 'mountpoint'/],
    [['mount', '-o', 'bogus', 'x.img', '/mnt'], /^zufs: mount: unknown mount option 'bogus'/],
    [
      ['mount', '--readers', 'many', 'x.img', '/mnt'],
      /^zufs: mount: option '--readers <n>' argument 'many' is invalid/,
    ],
    [['umount'], /^zufs: umount: missing required argument 'mountpoint'/],
    [['ls', 'ok.img'], /^zufs: ls: ok\.img: write paths in an image as IMAGE:\/path/],
    [['ls', '-x', 'ok.img:/'], /^zufs: ls: unknown option '-x'/],
    [['stat'], /^zufs: stat: missing required argument 'spec'/],
    [['cat'], /^zufs: cat: missing required argument 'specs'/],
    [['cp', 'a'], /^zufs: cp: missing required argument 'dst'/],
    [['get', 'x.img', 'out'], /^zufs: get: x\.img: write paths in an image/],
    [['put', 'a'], /^zufs: put: missing required argument 'spec'/],
    [['rm', 'host-path'], /^zufs: rm: host-path: write paths in an image/],
    [['mkdir'], /^zufs: mkdir: missing required argument 'specs'/],
    [['mv', 'a.img:/x', 'b.img:/x'], /^zufs: mv: both paths must be in the same image/],
    [['ln', 'a.img:/x', 'b.img:/y'], /^zufs: ln: a hard link needs IMAGE:\/path in the same image/],
    [['bench'], /^zufs: bench: missing required argument 'suite'/],
    [['demo', '--bogus'], /^zufs: demo: unknown option '--bogus'/],
  ])('%j', async (args, message) => {
    const r = await zufs(...args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it('on an image that exists: the server started for it early is stopped, the process ends', async () => {
    expect((await zufs('mkfs', 'early.img', '--size', '4M')).code).toBe(0);
    for (const args of [
      ['ls', '-x', 'early.img:/'],
      ['cp', 'early.img:/a'],
    ]) {
      const r = await zufs(...args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/unknown option '-x'|missing required argument 'dst'/);
    }
    expect((await zufs('ls', 'early.img:/')).code).toBe(0); // nothing left holding the image
  });

  it('--version and -V print the version of the package', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    for (const flag of ['--version', '-V']) {
      const r = await zufs(flag);
      expect(r.code).toBe(0);
      expect(r.out).toBe(`${version}\n`);
    }
  });
});

describe('zufs image commands', () => {
  it('a full image is ENOSPC, and the image stays consistent', async () => {
    await zufs('mkfs', 'small.img', '--size', '2M');
    writeFileSync(join(dir, 'big.bin'), Buffer.alloc(4 * 2 ** 20, 1));
    const r = await zufs('put', 'big.bin', 'small.img:/big.bin');
    expect(r.code).toBe(1);
    expect(r.err.trim()).toMatch(/no space left on device \(the image is full\); removed the partial file/);
    expect((await zufs('fsck', 'small.img')).code).toBe(0);
  });

  /** A fresh image with 8 blocks marked used that nobody owns. */
  async function hurtImage(name: string): Promise<string> {
    await zufs('mkfs', '-f', name, '--size', '8M');
    const bbm = JSON.parse((await zufs('info', name, '--json')).out).layout.blockBitmap[0];
    const fd = openSync(join(dir, name), 'r+');
    writeSync(fd, Buffer.from([0xff]), 0, 1, bbm * 4096 + 100);
    closeSync(fd);
    return join(dir, name);
  }

  it('fsck finds damage: exit 4 (left uncorrected), and -n writes nothing', async () => {
    const path = await hurtImage('hurt.img');
    const before = readFileSync(path);
    utimesSync(path, 1e9, 1e9);
    for (const args of [['hurt.img'], ['-n', 'hurt.img'], ['-nf', 'hurt.img']]) {
      const found = await zufs('fsck', ...args);
      expect(found.code, args.join(' ')).toBe(4);
      expect(found.out).toMatch(/problem: 8 blocks marked used but owned by nobody/);
      expect(found.out).toMatch(/hurt\.img: damaged \(repair with: zufs fsck -y hurt\.img\)/);
    }
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(statSync(path).mtimeMs).toBe(1e12);
  });

  it('fsck -y (and --repair) fixes damage: exit 1 (corrected), then 0 (clean)', async () => {
    for (const flag of ['-y', '--repair', '-fy']) {
      await hurtImage('fix.img');
      const fixed = await zufs('fsck', flag, 'fix.img');
      expect(fixed.code, flag).toBe(1);
      expect(fixed.out).toMatch(/repaired: block bitmap/);
      expect(fixed.out).toMatch(/fix\.img: repaired/);
      const again = await zufs('fsck', '-f', 'fix.img');
      expect(again.code).toBe(0);
      expect(again.out).toMatch(/fix\.img: clean/);
    }
  });

  it('fsck that cannot check exits 8: no such image, not an image, in use', async () => {
    expect(await zufs('fsck', 'nowhere.img')).toMatchObject({
      code: 8,
      err: expect.stringMatching(/no such image/),
    });
    writeFileSync(join(dir, 'notimg.img'), Buffer.alloc(65536, 0x41));
    expect(await zufs('fsck', 'notimg.img')).toMatchObject({
      code: 8,
      err: expect.stringMatching(/not a zufs image/),
    });
    await zufs('mkfs', 'held.img', '--size', '8M');
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, 'held.img.lock'), `${holder.pid}\n`);
      expect(await zufs('fsck', 'held.img')).toMatchObject({ code: 8, err: expect.stringMatching(/in use/) });
    } finally {
      holder.kill();
      await new Promise((res) => holder.once('exit', res));
    }
  });

  it('shows progress bars on fsck and on copies (forced here with ZUFS_PROGRESS=1, stderr is no terminal)', async () => {
    await zufs('mkfs', 'prog.img', '--size', '16M');
    const env = { ...process.env, ZUFS_PROGRESS: '1' };
    const f = await run(process.execPath, [BIN, 'fsck', 'prog.img'], { cwd: dir, env });
    expect(f.stderr).toMatch(/fsck \[=+\] 100% done/);
    mkdirSync(join(dir, 'many'));
    for (let i = 0; i < 5; i++) writeFileSync(join(dir, 'many', `f${i}`), String(i));
    const c = await run(process.execPath, [BIN, 'put', 'many', 'prog.img:/many'], { cwd: dir, env });
    expect(c.stderr).toMatch(/put \[=+\] 6\/6 files/);
  });

  it('an image in use by another process is refused until that process is gone', async () => {
    await zufs('mkfs', 'busy.img', '--size', '8M');
    // A process holding the image: `zufs cat` of a FIFO-like slow read is awkward; hold the lock file.
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, 'busy.img.lock'), `${holder.pid}\n`);
      const r = await zufs('ls', 'busy.img:/');
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/busy\.img: in use by another program \(pid \d+\)/); // the first CLI's lock format
    } finally {
      holder.kill();
      await new Promise((res) => holder.once('exit', res));
    }
    // The holder is gone: its lock is stale and taken over.
    expect((await zufs('ls', 'busy.img:/')).code).toBe(0);
  });

  it('every command has --help with an example', async () => {
    for (const c of [
      'mkfs',
      'fsck',
      'info',
      'mount',
      'umount',
      'ls',
      'stat',
      'cat',
      'cp',
      'get',
      'put',
      'rm',
      'mkdir',
      'mv',
      'ln',
    ]) {
      const r = await zufs(c, '--help');
      expect(r.code, c).toBe(0);
      expect(r.out, c).toMatch(/Examples?:\n\s+zufs /);
    }
  });
});
