// The node:fs face of @zufs/vfs on a real server (pmemfs in memory): what the conformance suite does
// not reach: mounting, fds shared across users, inodes kept alive by open fds, symlink limits, streams.
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { mkfs, PMEMFS_TYPE, PmemDevice, PmemFs } from '@zufs/example-pmemfs';
import { mount, Resolver, uvError, type ZufsMount, ZufsSync } from '@zufs/vfs';
import { attachZufRoot } from '@zufs/zuf-core';
import { startServer, type ZusServer } from '@zufs/zus-server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

let server: ZusServer;
let fs: ZufsMount;

beforeAll(async () => {
  server = await startServer({ zts: 2, channels: 2, windowSize: 256 * 1024, filesystems: [PMEMFS_TYPE] });
});
afterAll(async () => {
  await server?.stop();
});
beforeEach(() => {
  fs = mount(server.root, { type: 'pmemfs', options: `memory=${16 * 1024 * 1024}` });
});
afterEach(() => {
  fs.umount();
});

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as NodeJS.ErrnoException).code;
  }
  return undefined;
}

describe('mount', () => {
  it('mounts a device (an image file) and finds its files again at the next mount', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zufs-dev-'));
    try {
      const image = join(dir, 'fs.img');
      const dev = PmemDevice.createFile(image, 8 * 1024 * 1024);
      mkfs(dev, { inodes: 256 });
      dev.flush();
      dev.close();
      const a = mount(server.root, { type: 'pmemfs', device: image });
      a.writeFileSync('/kept', 'on the device');
      a.umount();
      const b = mount(server.root, { type: 'pmemfs', device: image });
      expect(b.readFileSync('/kept', 'utf8')).toBe('on the device');
      b.umount();
      expect(() => mount(server.root, { type: 'pmemfs', device: '/a,b' })).toThrow(/without commas/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('remounts: a background commit turned on later writes the image without an fsync', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zufs-remount-'));
    try {
      const image = join(dir, 'fs.img');
      const dev = PmemDevice.createFile(image, 8 * 1024 * 1024);
      mkfs(dev, { inodes: 256 });
      dev.flush();
      dev.close();
      const a = mount(server.root, { type: 'pmemfs', device: image, options: 'commit=0' });
      // What the image file holds now, mounted in this thread from a copy of it.
      const onDisk = (name: string) => {
        copyFileSync(image, join(dir, 'copy.img'));
        const copy = PmemFs.mount(PmemDevice.openFile(join(dir, 'copy.img')), { commitIntervalMs: 0 });
        try {
          return copy.lookup(copy.rootIno, name) !== 0;
        } finally {
          copy.close();
        }
      };
      a.writeFileSync('/first', 'x');
      await new Promise((r) => setTimeout(r, 300));
      expect(onDisk('first')).toBe(false); // commit=0: nothing written until an fsync or umount
      a.remount('commit=0.1');
      let seen = false;
      for (let i = 0; i < 50 && !seen; i++) {
        await new Promise((r) => setTimeout(r, 100));
        seen = onDisk('first');
      }
      expect(seen).toBe(true);
      expect(() => a.remount('memory=1024')).toThrow(/EINVAL/);
      expect(() => a.remount('commit=soon')).toThrow(/EINVAL/);
      expect(a.readFileSync('/first', 'utf8')).toBe('x');
      a.umount();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('mounts from a descriptor or an attached root, acting as the process user by default', () => {
    const other = mount(attachZufRoot(server.root), {
      type: 'pmemfs',
      options: 'memory=4194304',
      uid: 5,
      gid: 6,
    });
    try {
      // A fresh volume's root is root's (0755): uid 5 may not create there.
      expect(code(() => other.writeFileSync('/f', 'x'))).toBe('EACCES');
      const root = other.asUser({ uid: 0, gid: 0 });
      root.mkdirSync('/home');
      root.chownSync('/home', 5, 6);
      other.writeFileSync('/home/f', 'x');
      expect([other.statSync('/home/f').uid, other.statSync('/home/f').gid]).toEqual([5, 6]);
      fs.writeFileSync('/g', 'y');
      expect(fs.statSync('/g').uid).toBe(process.getuid?.());
      expect(fs.existsSync('/home')).toBe(false); // two volumes
    } finally {
      other.umount();
    }
  });

  it('resolves relative paths against the mount root, which is its own parent', () => {
    fs.mkdirSync('a/b', { recursive: true });
    fs.writeFileSync('a/b/f', 'hi');
    expect(fs.readFileSync('/a/b/f', 'utf8')).toBe('hi');
    expect(fs.readFileSync('/../../a/./b/../b/f', 'utf8')).toBe('hi');
    expect(fs.readdirSync('/')).toEqual(['a']);
    expect(fs.realpathSync('a/b/..')).toBe('/a');
  });
});

describe('owners', () => {
  it('a setgid directory gives its group to what is made in it, and its setgid bit to directories', () => {
    fs.mkdirSync('/sg');
    fs.chownSync('/sg', 0, 4242);
    fs.chmodSync('/sg', 0o2775);
    fs.writeFileSync('/sg/f', 'x');
    fs.mkdirSync('/sg/d/e', { recursive: true });
    fs.symlinkSync('f', '/sg/l');
    for (const p of ['/sg/f', '/sg/d', '/sg/d/e']) expect(fs.statSync(p).gid, p).toBe(4242);
    expect(fs.lstatSync('/sg/l').gid).toBe(4242);
    expect(fs.statSync('/sg/d/e').mode & 0o7777).toBe(0o2000 | (0o777 & ~process.umask()));
    fs.mkdirSync('/plain');
    expect(fs.statSync('/plain').gid).toBe(process.getgid!());
  });
});

describe('Stats', () => {
  it('makes its dates when first read; JSON and inspect show them as Node 20 does', () => {
    fs.writeFileSync('/s', 'x');
    fs.utimesSync('/s', 1_000_000_000.25, 1_000_000_001.5);
    const host = statSync(tmpdir());
    const st = fs.statSync('/s');
    expect(Object.keys(st)).not.toContain('mtime'); // not made yet
    expect(st.mtime).toBeInstanceOf(Date);
    expect(st.mtime.getTime()).toBe(1_000_000_001_500);
    expect(st.mtime).toBe(st.mtime); // made once, then an own property
    expect(st.atime.toISOString()).toBe('2001-09-09T01:46:40.250Z');
    expect(st.birthtime.getTime()).toBe(Math.trunc(st.ctimeMs));
    const when = new Date(0);
    st.ctime = when;
    expect(st.ctime).toBe(when);
    // JSON and console.log list every field in Node's order, dates included.
    const fresh = fs.statSync('/s');
    expect(Object.keys(JSON.parse(JSON.stringify(fresh)))).toEqual(Object.keys(host));
    expect(Object.keys(JSON.parse(JSON.stringify(st)))).toEqual(Object.keys(host)); // mtime read first
    expect(JSON.parse(JSON.stringify(fresh)).mtime).toBe('2001-09-09T01:46:41.500Z');
    expect(inspect(fs.statSync('/s'))).toMatch(/^Stats \{[\s\S]*mtime: 2001-09-09T01:46:41\.500Z/);
    const big = fs.statSync('/s', { bigint: true });
    expect(big.mtime.getTime()).toBe(1_000_000_001_500);
    expect(Object.keys(JSON.parse(JSON.stringify(big, (_k, v) => (typeof v === 'bigint' ? 0 : v))))).toEqual(
      Object.keys(statSync(tmpdir(), { bigint: true })),
    );
  });
});

describe('ESTALE', () => {
  it('a path operation that meets ESTALE runs once more on a fresh walk; a second ESTALE is the answer', () => {
    fs.writeFileSync('/st', 'x');
    const real = ZufsSync.prototype.linkSync;
    let stale = 1;
    let calls = 0;
    const spy = vi.spyOn(ZufsSync.prototype, 'linkSync').mockImplementation(function (
      this: ZufsSync,
      ...args: unknown[]
    ) {
      calls++;
      if (stale-- > 0) throw uvError(116, 'link', args[0] as string, args[1] as string);
      return real.apply(this, args as Parameters<typeof real>);
    });
    const drop = vi.spyOn(Resolver.prototype, 'drop');
    try {
      const u = fs.asUser({ uid: 0, gid: 0 }); // a face made now, with the spy in place
      drop.mockClear();
      u.linkSync('/st', '/st2');
      expect(calls).toBe(2);
      expect(drop).toHaveBeenCalled(); // the retry walks without the name cache
      expect(fs.statSync('/st').nlink).toBe(2);
      stale = 2;
      calls = 0;
      // As Node says it: libuv has no name for ESTALE.
      expect(() => u.linkSync('/st', '/st3')).toThrow(
        expect.objectContaining({ code: 'UNKNOWN', errno: -116 }),
      );
      expect(calls).toBe(2); // once more, not for ever
      expect(fs.existsSync('/st3')).toBe(false);
    } finally {
      spy.mockRestore();
      drop.mockRestore();
    }
  });
});

describe('umask', () => {
  it("applies the face's mask to new files and directories; umask() reads and changes it", () => {
    const m = mount(server.root, { type: 'pmemfs', options: `memory=${4 * 1024 * 1024}`, umask: 0o027 });
    try {
      m.writeFileSync('/f', 'x');
      m.mkdirSync('/d');
      expect(m.statSync('/f').mode & 0o777).toBe(0o640);
      expect(m.statSync('/d').mode & 0o777).toBe(0o750);
      expect(m.umask(0o077)).toBe(0o027);
      expect(m.umask()).toBe(0o077);
      m.mkdirSync('/e/f', { recursive: true });
      m.closeSync(m.openSync('/g', 'w', 0o666));
      expect(m.statSync('/e').mode & 0o777).toBe(0o700);
      expect(m.statSync('/e/f').mode & 0o777).toBe(0o700);
      expect(m.statSync('/g').mode & 0o777).toBe(0o600);
      // A user of the same face with a mask of its own; chmod is not masked.
      const other = m.asUser({ uid: 0, gid: 0, umask: 0 });
      other.writeFileSync('/h', 'x');
      expect(m.statSync('/h').mode & 0o777).toBe(0o666);
      m.chmodSync('/g', 0o666);
      expect(m.statSync('/g').mode & 0o777).toBe(0o666);
      expect(m.umask('022')).toBe(0o077);
      expect(m.umask()).toBe(0o022);
      expect(() => m.umask(0o1000)).toThrow(RangeError);
      expect(() => m.umask('9')).toThrow(RangeError);
      expect(m.umask()).toBe(0o022);
    } finally {
      m.umount();
    }
  });

  it("defaults to the process's mask when the face is made", () => {
    expect(fs.umask()).toBe(process.umask());
  });
});

describe('paths', () => {
  it('follows 40 symlinks in a chain and gives ELOOP at 41', () => {
    fs.writeFileSync('/t', 'end');
    fs.symlinkSync('t', '/l0');
    for (let i = 1; i <= 40; i++) fs.symlinkSync(`l${i - 1}`, `/l${i}`);
    expect(fs.readFileSync('/l39', 'utf8')).toBe('end');
    expect(code(() => fs.readFileSync('/l40'))).toBe('ELOOP');
    expect(fs.lstatSync('/l40').isSymbolicLink()).toBe(true);
  });

  it('gives ENAMETOOLONG for a 256-byte name and ENOTDIR through a file', () => {
    expect(code(() => fs.writeFileSync(`/${'n'.repeat(256)}`, ''))).toBe('ENAMETOOLONG');
    fs.writeFileSync(`/${'n'.repeat(255)}`, '');
    fs.writeFileSync('/f', '');
    expect(code(() => fs.statSync('/f/x'))).toBe('ENOTDIR');
    expect(code(() => fs.statSync('/f/'))).toBe('ENOTDIR');
  });
});

describe('file descriptors', () => {
  it('keeps an unlinked file readable through its fd and frees it on close', () => {
    const before = fs.statfsSync('/').ffree;
    fs.writeFileSync('/f', 'still here');
    const fd = fs.openSync('/f', 'r');
    fs.unlinkSync('/f');
    expect(fs.existsSync('/f')).toBe(false);
    const buf = Buffer.alloc(10);
    expect(fs.readSync(fd, buf, 0, 10, 0)).toBe(10);
    expect(buf.toString()).toBe('still here');
    expect(fs.fstatSync(fd).nlink).toBe(0);
    fs.closeSync(fd);
    expect(fs.statfsSync('/').ffree).toBe(before);
    expect(code(() => fs.closeSync(fd))).toBe('EBADF');
  });

  it('shares one fd table between the users of a mount, each checked by its own ids', () => {
    fs.writeFileSync('/secret', 's', { mode: 0o600 });
    fs.writeFileSync('/open', 'o', { mode: 0o644 });
    const nobody = fs.asUser({ uid: 1000, gid: 1000 });
    expect(code(() => nobody.readFileSync('/secret'))).toBe('EACCES');
    expect(code(() => nobody.writeFileSync('/open', 'x'))).toBe('EACCES');
    expect(code(() => nobody.chmodSync('/open', 0o777))).toBe('EPERM');
    const fd = nobody.openSync('/open', 'r');
    expect(fs.readFileSync(fd, 'utf8')).toBe('o');
    fs.closeSync(fd);
    if (process.getuid?.() === 0) expect(fs.readFileSync('/secret', 'utf8')).toBe('s');
  });
});

describe('forms', () => {
  it('callback forms call back later and throw argument errors at once', async () => {
    let called = false;
    // Awaited, not bounded by a tick: on a loaded machine a LOOKUP may outlive the spin, and then
    // the call waits for it without holding the loop (soon mode) and calls back later still.
    const written = new Promise<unknown>((r) =>
      fs.writeFile('/f', 'cb', (err) => {
        called = true;
        r(err);
      }),
    );
    expect(called).toBe(false);
    expect(await written).toBeNull();
    expect(fs.readFileSync('/f', 'utf8')).toBe('cb');
    expect(code(() => fs.stat('/x\0', () => {}))).toBe('ERR_INVALID_ARG_VALUE');
    const err = await new Promise<NodeJS.ErrnoException | null>((r) => fs.stat('/missing', (e) => r(e)));
    expect(err?.message).toBe("ENOENT: no such file or directory, stat '/missing'");
    await expect(fs.promises.readFile('/missing')).rejects.toMatchObject({ code: 'ENOENT', errno: -2 });
  });

  it('streams a file in and out through Node streams', async () => {
    const data = Buffer.alloc(300_000, 'abcdefg');
    const ws = fs.createWriteStream('/big');
    ws.end(data);
    await once(ws, 'close');
    const chunks: Buffer[] = [];
    for await (const c of fs.createReadStream('/big', { highWaterMark: 64 * 1024 })) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });
});
