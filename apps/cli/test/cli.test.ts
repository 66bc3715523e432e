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
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const run = promisify(execFile);
let dir: string;

async function zufs(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { cwd: dir, timeout: 60_000, maxBuffer: 1 << 26 });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, out: x.stdout ?? '', err: x.stderr ?? '' };
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'zufs-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('zufs image commands', () => {
  it('mkfs, info, put a tree, ls/stat/cat, get it back identical, change it, fsck', async () => {
    expect((await zufs('mkfs', 'fs.img', '--size', '32M', '--label', 'docs')).code).toBe(0);
    const info = JSON.parse((await zufs('info', 'fs.img', '--json')).out);
    expect(info).toMatchObject({ label: 'docs', bytes: 32 * 2 ** 20, blockSize: 4096 });
    expect(info.inodes.used).toBe(1);

    const src = join(dir, 'tree');
    mkdirSync(join(src, 'sub/deeper'), { recursive: true });
    writeFileSync(join(src, 'a.txt'), 'hello\n');
    chmodSync(join(src, 'a.txt'), 0o600);
    writeFileSync(join(src, 'sub/deeper/big.bin'), Buffer.alloc(300_000, 7));
    symlinkSync('../a.txt', join(src, 'sub/link'));
    expect((await zufs('put', 'tree', 'fs.img:/t')).code).toBe(0);

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
    expect(JSON.parse((await zufs('stat', 'fs.img:/t/sub/link', '--json')).out).type).toBe('symlink');
    expect((await zufs('cat', 'fs.img:/t/a.txt')).out).toBe('hello\n');
    expect((await zufs('ls', '-l', 'fs.img:/t')).out).toMatch(/^-rw------- +1 +6 .* a\.txt$/m);

    expect((await zufs('get', 'fs.img:/t', 'back')).code).toBe(0);
    expect(readFileSync(join(dir, 'back/sub/deeper/big.bin')).equals(Buffer.alloc(300_000, 7))).toBe(true);
    expect(lstatSync(join(dir, 'back/a.txt')).mode & 0o777).toBe(0o600);
    expect(readlinkSync(join(dir, 'back/sub/link'))).toBe('../a.txt');
    // mtimes kept (to the microsecond: node:fs takes times as float seconds).
    expect(
      Math.abs(lstatSync(join(dir, 'back/a.txt')).mtimeMs - lstatSync(join(src, 'a.txt')).mtimeMs),
    ).toBeLessThan(0.01);

    expect((await zufs('mkdir', '-p', 'fs.img:/x/y/z')).code).toBe(0);
    expect((await zufs('mv', 'fs.img:/t/a.txt', 'fs.img:/x/a.txt')).code).toBe(0);
    expect((await zufs('ln', 'fs.img:/x/a.txt', 'fs.img:/x/hard')).code).toBe(0);
    expect((await zufs('ln', '-s', 'a.txt', 'fs.img:/x/soft')).code).toBe(0);
    expect((await zufs('cat', 'fs.img:/x/soft', 'fs.img:/x/hard')).out).toBe('hello\nhello\n');
    expect((await zufs('rm', '-r', 'fs.img:/x/y')).code).toBe(0);
    expect((await zufs('ls', 'fs.img:/x')).out.split('\n').filter(Boolean)).toEqual([
      'a.txt',
      'hard',
      'soft',
    ]);
    expect((await zufs('cp', '-r', 'fs.img:/x', 'fs.img:/x2')).code).toBe(0);
    expect((await zufs('cat', 'fs.img:/x2/a.txt')).out).toBe('hello\n');

    const fsck = await zufs('fsck', 'fs.img', '--json');
    expect(fsck.code).toBe(0);
    expect(JSON.parse(fsck.out)).toMatchObject({ clean: true, problems: [] });
  });

  it('says what is wrong in one line, with exit codes scripts can use', async () => {
    const one = (r: { err: string }) => {
      const lines = r.err.trim().split('\n');
      expect(lines, r.err).toHaveLength(1);
      expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
      return lines[0];
    };
    expect(one(await zufs('ls', 'missing.img:/'))).toMatch(/missing\.img: no such image/);
    writeFileSync(join(dir, 'junk.img'), Buffer.alloc(65536, 0x41));
    expect(one(await zufs('info', 'junk.img'))).toMatch(/junk\.img: not a zufs image/);
    await zufs('mkfs', 'new.img', '--size', '8M');
    const fd = openSync(join(dir, 'new.img'), 'r+');
    writeSync(fd, Buffer.from([99, 0, 0, 0]), 0, 4, 4); // the superblock's format version word
    closeSync(fd);
    expect(one(await zufs('ls', 'new.img:/'))).toMatch(/newer zufs \(format version 99/);
    await zufs('mkfs', 'ok.img', '--size', '8M');
    expect(one(await zufs('cat', 'ok.img:/none'))).toBe('zufs: cat: /none: no such file or directory');
    const usage = await zufs('mkfs');
    expect(usage.code).toBe(2);
    expect((await zufs('ls', 'ok.img')).code).toBe(2);
    const e = await zufs('mkfs', 'ok.img');
    expect(e.code).toBe(1);
    expect(one(e)).toMatch(/exists \(use --force/);
  });

  it('a full image is ENOSPC, and the image stays consistent', async () => {
    await zufs('mkfs', 'small.img', '--size', '2M');
    writeFileSync(join(dir, 'big.bin'), Buffer.alloc(4 * 2 ** 20, 1));
    const r = await zufs('put', 'big.bin', 'small.img:/big.bin');
    expect(r.code).toBe(1);
    expect(r.err.trim()).toMatch(/no space left on device \(the image is full\); removed the partial file/);
    expect((await zufs('fsck', 'small.img')).code).toBe(0);
  });

  it('fsck finds damage (exit 1) and --repair fixes it and says what it did', async () => {
    await zufs('mkfs', 'hurt.img', '--size', '8M');
    const bbm = JSON.parse((await zufs('info', 'hurt.img', '--json')).out).layout.blockBitmap[0];
    const fd = openSync(join(dir, 'hurt.img'), 'r+');
    writeSync(fd, Buffer.from([0xff]), 0, 1, bbm * 4096 + 100); // 8 blocks marked used, owned by nobody
    closeSync(fd);
    const found = await zufs('fsck', 'hurt.img');
    expect(found.code).toBe(1);
    expect(found.out).toMatch(/problem: 8 blocks marked used but owned by nobody/);
    expect(found.out).toMatch(/hurt\.img: damaged/);
    const fixed = await zufs('fsck', '--repair', 'hurt.img');
    expect(fixed.code).toBe(0);
    expect(fixed.out).toMatch(/repaired: block bitmap/);
    expect((await zufs('fsck', 'hurt.img')).out).toMatch(/hurt\.img: clean/);
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
