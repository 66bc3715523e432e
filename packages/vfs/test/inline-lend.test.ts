// An app thread that serves its own operations (an inline ZT) lends its buffers to them: a write or
// read of a plain (not shared) buffer is one operation with one copy, whatever the window's size.
import { randomBytes } from 'node:crypto';
import { PMEMFS_TYPE } from '@zufs/example-pmemfs';
import { mount, type ZufsMount } from '@zufs/vfs';
import { dispatcherFor } from '@zufs/zuf-core';
import { serveInline, startServer, type ZusServer } from '@zufs/zus-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const WINDOW = 64 * 1024;
let server: ZusServer;
let fs: ZufsMount;

beforeAll(async () => {
  server = await startServer({ zts: 1, channels: 1, windowSize: WINDOW, filesystems: [PMEMFS_TYPE] });
  fs = mount(server.root, { type: 'pmemfs', options: `memory=${32 * 1024 * 1024}` });
});
afterAll(async () => {
  fs?.umount();
  await server?.stop();
});

describe('inline ZT: lent buffers', () => {
  it('writes and reads a buffer 16 windows long in one operation each, bytes intact', async () => {
    const data = randomBytes(16 * WINDOW + 123);
    const grid = dispatcherFor(server.zufRoot).acquire();
    try {
      expect(grid.lend(data)).toBe(false); // another thread cannot see our memory
    } finally {
      grid.release();
    }
    const z = await serveInline(server.root, server.inlinePort());
    try {
      const fd = fs.openSync('/big', 'w+');
      const before = z.served;
      // A view at an odd offset of a larger buffer: the ZT must honour byteOffset.
      const host = Buffer.alloc(data.length + 7);
      data.copy(host, 7);
      expect(fs.writeSync(fd, host.subarray(7), 0, data.length, 5)).toBe(data.length);
      expect(z.served - before).toBe(1);

      // READ, not the NIO path: the ZT copies pmem straight into our buffer.
      const client = fs.client as unknown as { nio: boolean };
      const nio = client.nio;
      client.nio = false;
      try {
        const back = Buffer.alloc(data.length + 3);
        const at = z.served;
        expect(fs.readSync(fd, back, 3, data.length, 5)).toBe(data.length);
        expect(z.served - at).toBe(1);
        expect(back.subarray(3).equals(data)).toBe(true);
        // A read past the end is short, and leaves the rest of our buffer alone.
        back.fill(0xee);
        expect(fs.readSync(fd, back, 0, 100, 5 + data.length - 10)).toBe(10);
        expect(back.subarray(0, 10).equals(data.subarray(data.length - 10))).toBe(true);
        expect(back[10]).toBe(0xee);
      } finally {
        client.nio = nio;
      }
      fs.closeSync(fd);
    } finally {
      z.close();
    }
    // Back on the grid: the same bytes, bounced through the window.
    expect(fs.readFileSync('/big').subarray(5).equals(data)).toBe(true);
    const again = randomBytes(3 * WINDOW);
    fs.writeFileSync('/big2', again);
    expect(fs.readFileSync('/big2').equals(again)).toBe(true);
  });
});
