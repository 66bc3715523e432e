// mkfs, the superblock and the mount-time checks.
import {
  BLOCK_SIZE,
  crc32c,
  FORMAT_VERSION,
  MIN_DEVICE_SIZE,
  mkfs,
  PMEMFS_MAGIC,
  PmemDevice,
  PmemFs,
  planLayout,
  ROOT_INO,
} from '@zufs/example-pmemfs';
import { describe, expect, it } from 'vitest';
import { expectClean, expectErrno, names } from './helpers.js';

describe('crc32c', () => {
  it('matches the standard check value', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });
});

describe('mkfs', () => {
  it('lays the regions out in order and makes an empty root', () => {
    const dev = PmemDevice.memory(64 << 20);
    const g = mkfs(dev, { label: 'scratch', inodes: 1000 });
    expect(g.version).toBe(FORMAT_VERSION);
    expect(g.rootIno).toBe(ROOT_INO);
    expect(g.inodeCount).toBe(1024); // rounded up to whole table blocks
    expect(g.journalStart).toBe(2);
    expect(g.journalBlocks).toBe((64 << 20) / BLOCK_SIZE / 64);
    expect(g.bbmStart).toBe(g.journalStart + g.journalBlocks);
    expect(g.ibmStart).toBe(g.bbmStart + g.bbmBlocks);
    expect(g.itableStart).toBe(g.ibmStart + g.ibmBlocks);
    expect(g.dataStart).toBe(g.itableStart + g.itableBlocks);
    expect(g.dataStart + g.dataBlocks).toBe(g.totalBlocks);
    expect(g.bbmBlocks * BLOCK_SIZE * 8).toBeGreaterThanOrEqual(g.dataBlocks);
    expect(g.uuid).toMatch(/^[0-9a-f]{32}$/);
    expect(new DataView(dev.data).getUint32(0, true)).toBe(PMEMFS_MAGIC);
    // The journal region is reserved and zero.
    const j = dev.u8.subarray(g.journalStart * BLOCK_SIZE, (g.journalStart + g.journalBlocks) * BLOCK_SIZE);
    expect(j.every((b) => b === 0)).toBe(true);

    const fs = PmemFs.mount(dev);
    expect(fs.geometry.label).toBe('scratch');
    expect(fs.geometry.hashSeed).toBe(g.hashSeed);
    const root = fs.getattr(ROOT_INO);
    expect(root.mode).toBe(0o40755);
    expect(root.nlink).toBe(2);
    expect(fs.lookup(ROOT_INO, '..')).toBe(ROOT_INO);
    expect(names(fs, ROOT_INO)).toEqual(['.', '..']);
    const st = fs.statfs();
    expect(st).toMatchObject({ type: PMEMFS_MAGIC, bsize: 4096, blocks: g.dataBlocks, bfree: g.dataBlocks });
    expect(st.files).toBe(1023);
    expect(st.ffree).toBe(1022);
    expectClean(fs);
  });

  it('refuses a device too small, absurd inode counts, long labels', () => {
    expectErrno(() => planLayout(MIN_DEVICE_SIZE - BLOCK_SIZE), 'EINVAL');
    expectErrno(() => planLayout(MIN_DEVICE_SIZE + 1), 'EINVAL');
    expectErrno(() => planLayout(2 ** 34 + BLOCK_SIZE), 'EINVAL');
    expect(planLayout(2 ** 34).totalBlocks).toBe(2 ** 22);
    expectErrno(() => planLayout(2 ** 34, { inodes: 2 ** 25 }), 'EINVAL'); // a 4 GiB inode table
    expectErrno(() => planLayout(8 << 20, { inodes: 10 }), 'EINVAL');
    expectErrno(() => planLayout(8 << 20, { inodes: 2 ** 40 }), 'EINVAL');
    expectErrno(() => planLayout(8 << 20, { inodes: 1.5 }), 'EINVAL');
    expectErrno(() => planLayout(2 << 20, { inodes: 16384 }), 'EINVAL'); // the table eats the device
    expectErrno(() => planLayout(8 << 20, { journalBlocks: 1 << 20 }), 'EINVAL');
    expectErrno(() => planLayout(8 << 20, { label: 'x'.repeat(64) }), 'EINVAL');
    expect(planLayout(MIN_DEVICE_SIZE).dataBlocks).toBeGreaterThan(16);
  });

  it('refuses a device that holds no filesystem', () => {
    const dev = PmemDevice.memory(4 << 20);
    expectErrno(() => PmemFs.mount(dev), 'EINVAL');
    expect(() => PmemFs.mount(dev)).toThrow(/no valid pmemfs superblock/);
  });

  it('mounts from copy 1 when copy 0 is damaged, and repairs copy 0', () => {
    const dev = PmemDevice.memory(4 << 20);
    mkfs(dev);
    dev.u8[100] ^= 0xff; // inside the checksummed struct
    const fs = PmemFs.mount(dev);
    expect(fs.lookup(ROOT_INO, '.')).toBe(ROOT_INO);
    expect(dev.u8.subarray(0, 256)).toEqual(dev.u8.subarray(BLOCK_SIZE, BLOCK_SIZE + 256));
    expectClean(fs);
  });

  it('refuses when both copies are damaged', () => {
    const dev = PmemDevice.memory(4 << 20);
    mkfs(dev);
    dev.u8[100] ^= 0xff;
    dev.u8[BLOCK_SIZE + 100] ^= 0xff;
    expect(() => PmemFs.mount(dev)).toThrow(/checksum mismatch/);
  });

  it('refuses a newer format version with a clear error', () => {
    const dev = PmemDevice.memory(4 << 20);
    mkfs(dev);
    for (const at of [0, BLOCK_SIZE]) {
      const dv = new DataView(dev.data, at, 256);
      dv.setUint32(4, FORMAT_VERSION + 1, true);
      dv.setUint32(8, 0, true);
      dv.setUint32(8, crc32c(dev.u8, at, at + 256), true);
    }
    expectErrno(() => PmemFs.mount(dev), 'EINVAL');
    expect(() => PmemFs.mount(dev)).toThrow(new RegExp(`format version ${FORMAT_VERSION + 1} is newer`));
  });
});
