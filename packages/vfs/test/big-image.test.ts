// A 4 GiB image: the largest the device holds (MAX_DEVICE_SIZE). At exactly 4 GiB the client's
// word view of pmem once had length 0 (byteLength >>> 2 of 2^32), so every attribute read from pmem
// decoded as mode 0 and `/` was "not a directory". The image file is sparse and mounts read only
// what it uses, so this test costs megabytes, not gigabytes.
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
  it('is the largest size the device takes', () => {
    expect(MAX_DEVICE_SIZE).toBe(SIZE);
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
