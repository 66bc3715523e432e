// The device: memory and file images, dirty tracking, flush, attach.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_DEVICE_SIZE, mkfs, PAGE_SIZE, PmemDevice, PmemFs } from '@zufs/example-pmemfs';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir> | null = null;
afterEach(() => {
  tmp?.cleanup();
  tmp = null;
});

describe('PmemDevice', () => {
  it('makes a zeroed memory device; persist and flush do nothing', () => {
    const dev = PmemDevice.memory(1 << 20);
    expect(dev.size).toBe(1 << 20);
    expect(dev.u8.every((b) => b === 0)).toBe(true);
    dev.persist(0, 100);
    expect(dev.dirtyRanges()).toEqual([]);
    expect(dev.flush()).toBe(0);
    dev.close();
  });

  it('refuses sizes that are not whole pages or too large', () => {
    expect(() => PmemDevice.memory(1000)).toThrow(RangeError);
    expect(() => PmemDevice.memory(0)).toThrow(RangeError);
    expect(() => PmemDevice.memory(MAX_DEVICE_SIZE + PAGE_SIZE)).toThrow(RangeError);
    tmp = tempDir();
    const path = join(tmp.dir, 'odd.img');
    writeFileSync(path, new Uint8Array(5000));
    expect(() => PmemDevice.openFile(path)).toThrow(RangeError);
  });

  it('coalesces dirty pages into ranges and flushes them to the file', () => {
    tmp = tempDir();
    const path = join(tmp.dir, 'a.img');
    const dev = PmemDevice.createFile(path, 64 * PAGE_SIZE);
    expect(statSync(path).size).toBe(64 * PAGE_SIZE);
    dev.u8[10] = 1;
    dev.persist(10, 1);
    dev.u8.fill(7, PAGE_SIZE, 3 * PAGE_SIZE + 1); // pages 1..3
    dev.persist(PAGE_SIZE, 2 * PAGE_SIZE + 1);
    dev.u8[63 * PAGE_SIZE] = 9;
    dev.persist(63 * PAGE_SIZE, 1);
    expect(dev.dirtyRanges()).toEqual([
      [0, 4 * PAGE_SIZE],
      [63 * PAGE_SIZE, PAGE_SIZE],
    ]);
    expect(dev.flush()).toBe(5 * PAGE_SIZE);
    expect(dev.dirtyRanges()).toEqual([]);
    expect(dev.flush()).toBe(0);
    const file = readFileSync(path);
    expect(file[10]).toBe(1);
    expect(file[3 * PAGE_SIZE]).toBe(7);
    expect(file[63 * PAGE_SIZE]).toBe(9);
    // A change that was not persisted does not reach the file.
    dev.u8[20 * PAGE_SIZE] = 5;
    dev.close();
    expect(readFileSync(path)[20 * PAGE_SIZE]).toBe(0);
    const again = PmemDevice.openFile(path);
    expect(again.u8[3 * PAGE_SIZE]).toBe(7);
    again.close();
  });

  it('persistLocked marks the pages persist would, and skips a page already dirty', () => {
    tmp = tempDir();
    const dev = PmemDevice.createFile(join(tmp.dir, 'l.img'), 4 << 20);
    mkfs(dev);
    const fs = PmemFs.mount(dev, { commitIntervalMs: 0 }); // journaling: the fast path applies
    fs.sync();
    expect(dev.dirtyRanges()).toEqual([]);
    const at = dev.size - 4 * PAGE_SIZE;
    dev.persistLocked(at + 10, 4);
    expect(dev.dirtyRanges()).toEqual([[at, PAGE_SIZE]]);
    dev.persistLocked(at + 20, 4);
    dev.persistLocked(at + 2 * PAGE_SIZE - 2, 4); // across a page boundary
    expect(dev.dirtyRanges()).toEqual([[at, 3 * PAGE_SIZE]]);
    fs.sync(); // the commit takes the bits: the next change marks its page again
    dev.persistLocked(at + 20, 4);
    expect(dev.dirtyRanges()).toEqual([[at, PAGE_SIZE]]);
    fs.close();
    const mem = PmemDevice.memory(64 * PAGE_SIZE);
    mem.persistLocked(0, 100);
    expect(mem.dirtyRanges()).toEqual([]);
  });

  it('shares the image and the dirty map with an attached view', () => {
    tmp = tempDir();
    const path = join(tmp.dir, 'b.img');
    const dev = PmemDevice.createFile(path, 16 * PAGE_SIZE);
    const other = PmemDevice.attach(dev.descriptor());
    other.u8[5 * PAGE_SIZE] = 42;
    other.persist(5 * PAGE_SIZE, 1);
    expect(dev.u8[5 * PAGE_SIZE]).toBe(42);
    expect(dev.dirtyRanges()).toEqual([[5 * PAGE_SIZE, PAGE_SIZE]]);
    expect(dev.flush()).toBe(PAGE_SIZE);
    other.close();
    dev.close();
    expect(readFileSync(path)[5 * PAGE_SIZE]).toBe(42);
    expect(() => dev.flush()).toThrow(/closed/);
  });

  it('tracks every page of a large device', () => {
    const dev = PmemDevice.memory(PAGE_SIZE);
    expect(dev.runtime.length).toBe(16);
    tmp = tempDir();
    const path = join(tmp.dir, 'c.img');
    const big = PmemDevice.createFile(path, 100 * PAGE_SIZE);
    big.persist(0, 100 * PAGE_SIZE);
    expect(big.dirtyRanges()).toEqual([[0, 100 * PAGE_SIZE]]);
    big.close();
  });
});
