// Images of 4 GiB and more. At exactly 4 GiB the client's word view of pmem once had length 0
// (byteLength >>> 2 of 2^32), so every attribute read from pmem decoded as mode 0 and `/` was "not a
// directory". Past 4 GiB no Uint8Array covers the device (Node 20 stops typed arrays at 2^32
// elements): file data there goes through zuf-core's SharedBytes, and pmemfs keeps what it reads
// byte by byte (directories, symlinks, xattrs) in the first 4 GiB. The image files are sparse and
// mounts read only what they use, so these tests cost megabytes, not gigabytes.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  BLOCK_SIZE,
  fsck,
  MAX_DEVICE_SIZE,
  mkfs,
  PMEMFS_TYPE,
  PmemDevice,
  PmemFs,
  ROOT_INO,
} from '@zufs/example-pmemfs';
import { mount } from '@zufs/vfs';
import { S_IFREG } from '@zufs/zuf-core/api';
import { startServer } from '@zufs/zus-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SIZE = 4 * 2 ** 30;
/** The block rotor's runtime word (example-pmemfs super.ts RT_BLOCK_HINT): where a new file's blocks go. */
const RT_BLOCK_HINT = 3;
const TOP_BYTES = 3 << 20;
const RSS_FIXTURE = fileURLToPath(new URL('./fixtures/mount-rss.mjs', import.meta.url));
const run = promisify(execFile);

let dir: string;
let image: string;

function pattern(len: number, seed: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (seed + i * 131 + (i >> 12)) & 0xff;
  return b;
}
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'zufs-big-'));
  image = join(dir, 'fs.img');
  const dev = PmemDevice.createFile(image, SIZE);
  mkfs(dev, { label: 'big' });
  dev.flush();
  dev.close();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('a 4 GiB image', () => {
  it('is not the largest: 16 GiB is, and mkfs refuses more', () => {
    expect(MAX_DEVICE_SIZE).toBe(16 * 2 ** 30);
    expect(() => PmemDevice.memory(MAX_DEVICE_SIZE + BLOCK_SIZE)).toThrow(/up to 17179869184 bytes/);
  });

  it('costs what it uses: a mount in a fresh process adds megabytes of RSS, not the image', async () => {
    const empty = join(dir, 'empty.img');
    const dev = PmemDevice.createFile(empty, SIZE);
    mkfs(dev, {});
    dev.flush();
    dev.close();
    const { stdout } = await run(process.execPath, [RSS_FIXTURE, empty]);
    const r = JSON.parse(stdout) as { before: number; after: number; names: string[] };
    expect(r.names).toEqual([]);
    expect(r.after - r.before).toBeLessThan(64 * 2 ** 20);
    expect(r.after).toBeLessThan(SIZE / 8);
  }, 60_000);

  it('keeps files in its last blocks, read and written through a mount, after remounts; fsck is clean', async () => {
    // 1. A file whose blocks run to the device's last byte and wrap to the start of the data region.
    const dev = PmemDevice.openFile(image, { sparse: true });
    const pfs = PmemFs.mount(dev);
    const g = pfs.geometry;
    expect(g.devSize).toBe(SIZE);
    dev.runtime[RT_BLOCK_HINT] = Math.floor(g.dataBlocks / 32) - 8; // 256 blocks before the end
    const top = pfs.newInode(ROOT_INO, new TextEncoder().encode('top'), { mode: S_IFREG | 0o644 });
    const topData = pattern(TOP_BYTES, 7);
    pfs.write(top, 0, topData);
    const offsets = new Float64Array(TOP_BYTES / BLOCK_SIZE);
    expect(pfs.getMulty(top, 0, TOP_BYTES, offsets)).toBe(offsets.length);
    expect(Math.max(...offsets)).toBe(SIZE - BLOCK_SIZE); // the last block of the device
    expect(offsets[0]).toBeGreaterThan(SIZE - (2 << 20));
    pfs.close();

    // 2. Through the node:fs face (the path that broke at 4 GiB), twice, the image remounted between.
    const server = await startServer({
      zts: 2,
      channels: 2,
      windowSize: 256 * 1024,
      filesystems: [PMEMFS_TYPE],
    });
    const more = pattern(5 << 20, 11);
    try {
      let fs = mount(server.root, { type: 'pmemfs', options: `image=${image}` });
      expect(fs.statSync('/').isDirectory()).toBe(true);
      expect(fs.readdirSync('/')).toEqual(['top']);
      expect(sha(fs.readFileSync('/top'))).toBe(sha(topData));
      fs.mkdirSync('/d');
      fs.writeFileSync('/d/more', more); // its blocks follow the rotor past the top file's
      fs.umount();

      fs = mount(server.root, { type: 'pmemfs', options: `image=${image}` });
      expect(fs.readdirSync('/').sort()).toEqual(['d', 'top']);
      expect(sha(fs.readFileSync('/top'))).toBe(sha(topData));
      expect(sha(fs.readFileSync('/d/more'))).toBe(sha(more));
      const st = fs.statfsSync('/');
      expect(st.blocks * st.bsize).toBeGreaterThan(SIZE - (128 << 20)); // the data region: all but the metadata
      expect(st.blocks * st.bsize).toBeLessThan(SIZE);
      fs.umount();
    } finally {
      await server.stop();
    }

    // 3. fsck (sparse: it reads what the image uses, as a mount does).
    const dev2 = PmemDevice.openFile(image, { sparse: true });
    try {
      const r = fsck(dev2);
      expect(r.problems).toEqual([]);
      expect(r.clean).toBe(true);
    } finally {
      dev2.close();
    }
  }, 120_000);
});

const GiB4 = 2 ** 32;

describe.each([
  ['4 GiB + 1 block', GiB4 + BLOCK_SIZE],
  ['16 GiB (the largest)', 16 * 2 ** 30],
])('a %s image', (_, size) => {
  let img: string;
  beforeAll(() => {
    img = join(dir, `big-${size}.img`);
    const dev = PmemDevice.createFile(img, size);
    mkfs(dev, { label: 'bigger' });
    dev.flush();
    dev.close();
  });
  afterAll(() => rmSync(img, { force: true }));

  it('puts file data past 4 GiB and names below it; a run across 4 GiB reads whole; fsck is clean', () => {
    const dev = PmemDevice.openFile(img, { sparse: true });
    const pfs = PmemFs.mount(dev);
    const enc = new TextEncoder();
    try {
      expect(pfs.geometry.devSize).toBe(size);
      // A new file's data goes to the blocks past 4 GiB first (the low ones are left to metadata).
      const offs = new Float64Array(256);
      const high = pfs.newInode(ROOT_INO, enc.encode('high'), { mode: S_IFREG | 0o644 });
      const highData = pattern(1 << 20, 3);
      pfs.write(high, 0, highData);
      expect(pfs.getMulty(high, 0, 1 << 20, offs)).toBe(256);
      if (size - GiB4 >= 64 << 20) expect(Math.min(...offs)).toBeGreaterThanOrEqual(GiB4);
      // A file whose blocks run across the 4 GiB line (the rotor set 128 blocks below it) and, on
      // the smaller image, through its one block past the line and around to the first data block.
      dev.runtime[RT_BLOCK_HINT] = (GiB4 / BLOCK_SIZE - pfs.geometry.dataStart) / 32 - 4;
      const across = pfs.newInode(ROOT_INO, enc.encode('across'), { mode: S_IFREG | 0o644 });
      const acrossData = pattern(1 << 20, 5);
      pfs.write(across, 0, acrossData);
      expect(pfs.getMulty(across, 0, 1 << 20, offs)).toBe(256);
      expect(Math.min(...offs)).toBeLessThan(GiB4);
      expect(Math.max(...offs)).toBeGreaterThanOrEqual(GiB4);
      const back = new Uint8Array(1 << 20);
      expect(pfs.read(across, 0, back)).toBe(back.length);
      expect(sha(back)).toBe(sha(acrossData));
      // With the rotor high, a directory's, a symlink's and xattrs' blocks still go low.
      dev.runtime[RT_BLOCK_HINT] = (size / BLOCK_SIZE - pfs.geometry.dataStart) / 32 - 8;
      const d = pfs.newInode(ROOT_INO, enc.encode('d'), { mode: 0o40755 });
      for (let i = 0; i < 300; i++) pfs.newInode(d, enc.encode(`name-${i}`), { mode: S_IFREG | 0o644 });
      pfs.newInode(ROOT_INO, enc.encode('ln'), {
        mode: 0o120777,
        symlinkTarget: enc.encode('x'.repeat(200)),
      });
      pfs.setxattr(high, enc.encode('user.big'), pattern(3000, 9));
      expect(pfs.lookup(d, enc.encode('name-299'))).toBeGreaterThan(0);
      expect(pfs.fsync(high)).toBeGreaterThanOrEqual(0);
    } finally {
      pfs.close();
    }
    const dev2 = PmemDevice.openFile(img, { sparse: true });
    try {
      const r = fsck(dev2);
      expect(r.problems).toEqual([]);
    } finally {
      dev2.close();
    }
  }, 120_000);

  it('serves every byte through the face (NIO reads, app-copied writes) across remounts', async () => {
    const server = await startServer({
      zts: 2,
      channels: 2,
      windowSize: 256 * 1024,
      filesystems: [PMEMFS_TYPE],
    });
    const big = pattern(6 << 20, 13); // large writes: copied by the app straight into pmem
    const small = pattern(4096, 17);
    try {
      let fs = mount(server.root, { type: 'pmemfs', options: `image=${img}` });
      fs.writeFileSync('/big', big);
      const fd = fs.openSync('/big', 'r+');
      fs.writeSync(fd, small, 0, small.length, 1 << 20); // a small write through the window
      fs.closeSync(fd);
      big.set(small, 1 << 20);
      fs.mkdirSync('/dir');
      fs.writeFileSync('/dir/note', 'past four gigabytes');
      fs.symlinkSync('dir/note', '/link');
      expect(sha(fs.readFileSync('/big'))).toBe(sha(big));
      const st = fs.statfsSync('/');
      expect(st.blocks * st.bsize).toBeGreaterThan(size - (512 << 20));
      fs.umount();

      fs = mount(server.root, { type: 'pmemfs', options: `image=${img}` });
      expect(sha(fs.readFileSync('/big'))).toBe(sha(big));
      expect(sha(fs.readFileSync('/across'))).toBe(sha(pattern(1 << 20, 5)));
      expect(sha(fs.readFileSync('/high'))).toBe(sha(pattern(1 << 20, 3)));
      expect(fs.readFileSync('/link', 'utf8')).toBe('past four gigabytes');
      expect(fs.readdirSync('/d').length).toBe(300);
      expect(fs.getxattrSync('/high', 'user.big').length).toBe(3000);
      fs.umount();
    } finally {
      await server.stop();
    }
    const dev = PmemDevice.openFile(img, { sparse: true });
    try {
      expect(fsck(dev).problems).toEqual([]);
    } finally {
      dev.close();
    }
  }, 120_000);
});
