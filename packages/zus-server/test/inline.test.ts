// Inline ZTs: an app thread serving its own operations (serveInline), with the server's mounts
// reaching it through the port the server gives, in the main thread and in a worker.
import { Worker } from 'node:worker_threads';
import { dispatcherFor, mountFs, umountFs } from '@zufs/zuf-core';
import { Errno } from '@zufs/zuf-core/api';
import { serveInline, startServer, type ZusServer } from '@zufs/zus-server';
import { afterEach, describe, expect, it } from 'vitest';
import { ioctl, TEST_FS } from './helpers.js';

const INLINE_WORKER = new URL('./fixtures/inline-worker.mjs', import.meta.url);
const IOCTL_COUNT = 1;
const IOCTL_THROW = 3;
const INLINE = 0xffffffff; // the ZT index an inline ZT reports (-1), as the u32 the ioctl returns

const servers: ZusServer[] = [];
async function start(onLog?: (level: string, message: string) => void): Promise<ZusServer> {
  const s = await startServer({ zts: 2, channels: 2, windowSize: 64 * 1024, filesystems: [TEST_FS], onLog });
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

describe('serveInline', () => {
  it('serves the thread’s operations in the thread, mounts made before and after, until close()', async () => {
    const s = await start();
    const a = mountFs(s.zufRoot, 'testfs', 'a');
    expect(ioctl(s.zufRoot, a.rootIi, IOCTL_COUNT).words[2]).toBeLessThan(4); // a grid ZT
    const logs: string[] = [];
    const z = await serveInline(s.root, s.inlinePort(), { log: (_l, m) => logs.push(m) });
    try {
      expect(dispatcherFor(s.zufRoot).servesInline).toBe(true);
      const r = ioctl(s.zufRoot, a.rootIi, IOCTL_COUNT);
      expect(r.err).toBe(0);
      expect(r.words[2]).toBe(INLINE);
      expect(r.words[0]).toBe(2); // the same mount state as the grid's: second call
      expect(z.served).toBe(1);
      expect(r.words[4]).toBe(1); // OpContext.seq: the channel's first operation, then its second
      expect(ioctl(s.zufRoot, a.rootIi, IOCTL_COUNT).words[4]).toBe(2);

      // A mount made now reaches the inline ZT as it reaches the grid's; so does its umount.
      const b = mountFs(s.zufRoot, 'testfs', 'b');
      expect(ioctl(s.zufRoot, b.rootIi, IOCTL_COUNT).words.slice(0, 3)).toEqual([1, 2, INLINE]);
      umountFs(s.zufRoot, b.sbId);
      expect(ioctl(s.zufRoot, b.rootIi, IOCTL_COUNT).err).toBe(-Errno.EINVAL);

      // A plugin that throws: EIO and a log line, and the thread goes on.
      expect(ioctl(s.zufRoot, a.rootIi, IOCTL_THROW).err).toBe(-Errno.EIO);
      expect(logs.join('\n')).toMatch(/ZT -1: (ZUFS_OP_)?IOCTL threw: Error: boom/);
      expect(ioctl(s.zufRoot, a.rootIi, IOCTL_COUNT).err).toBe(0);
      await expect(serveInline(s.root, s.inlinePort())).rejects.toThrow(/already serves/);
    } finally {
      z.close();
    }
    expect(dispatcherFor(s.zufRoot).servesInline).toBe(false);
    const served = z.served;
    expect(ioctl(s.zufRoot, a.rootIi, IOCTL_COUNT).words[2]).toBeLessThan(4); // the grid again
    expect(z.served).toBe(served);
  });

  it('serves a worker thread given the port', async () => {
    const s = await start();
    const m = mountFs(s.zufRoot, 'testfs');
    const port = s.inlinePort();
    const w = new Worker(INLINE_WORKER, {
      workerData: { root: s.root, port, rootIi: m.rootIi },
      transferList: [port],
    });
    const out = await new Promise<{ zts: number[]; served: number }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    expect(out).toEqual({ zts: [-1], served: 50 });
    expect(ioctl(s.zufRoot, m.rootIi, IOCTL_COUNT).words[0]).toBe(51); // the worker's calls, on shared state
  });

  it('gives up on a server that stopped; a stopped server fails inline operations with EIO', async () => {
    const s = await start();
    const m = mountFs(s.zufRoot, 'testfs');
    const z = await serveInline(s.root, s.inlinePort());
    await s.stop();
    expect(ioctl(s.zufRoot, m.rootIi, IOCTL_COUNT).err).toBe(-Errno.EIO);
    z.close();
    const t0 = performance.now();
    await expect(serveInline(s.root, s.inlinePort(), { timeoutMs: 2000 })).rejects.toThrow(/no answer/);
    expect(performance.now() - t0).toBeLessThan(1000); // it sees the server is not serving
  });
});
