// The app-side cache contract (MountResult.appCache, zuf-core's InodeGens) on a filesystem other
// than sqlfs: tiny-fs with one generation word bumped by every change (fixtures/cached-tiny-fs.mjs).
// The face then answers a cached stat with no crossing, and the ping-pong of concurrency.test.ts
// (each thread checks the other's renames, unlinks and writes with its very next call) holds with a
// TTL of a minute, so only the words can keep it honest.
import { Worker } from 'node:worker_threads';
import { mount, type ZufsMount } from '@zufs/vfs';
import { ZUFS_FSC_APP_CACHE } from '@zufs/zuf-core/api';
import { startServer, type ZusServer } from '@zufs/zus-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pingpong } from './pingpong.js';

const CACHED_TINY_FS = new URL('./fixtures/cached-tiny-fs.mjs', import.meta.url);
const WORKER = new URL('./fixtures/fs-worker.mjs', import.meta.url);
const OPTIONS = 'inodes=1024,slot=16384';

let server: ZusServer;
beforeAll(async () => {
  server = await startServer({ zts: 2, channels: 2, filesystems: [CACHED_TINY_FS.href] });
});
afterAll(async () => {
  await server?.stop();
});

/** Calls the app threads of this process made to the ZTs (each waits once on its channel's relay). */
const appWaits = (m: ZufsMount) =>
  m.root.slots.reduce((n, s) => {
    const c = s.relay.counters();
    return n + c.appSpins + c.appParks;
  }, 0);

describe('a filesystem that lets the app cache', { timeout: 60_000 }, () => {
  it('hands the face its words: a cached stat makes no crossing, a change voids it', () => {
    const fs = mount(server.root, { type: 'cachedtinyfs', options: OPTIONS });
    try {
      expect(fs.mount.caps & ZUFS_FSC_APP_CACHE).toBe(ZUFS_FSC_APP_CACHE);
      expect(fs.descriptor.appCache?.ttlMs).toBe(60_000);
      fs.mkdirSync('/d');
      fs.writeFileSync('/d/f', 'x');
      expect(fs.statSync('/d/f').size).toBe(1);
      expect(fs.existsSync('/d/none')).toBe(false); // a name known absent is kept too
      const before = appWaits(fs);
      for (let i = 0; i < 50; i++) {
        fs.statSync('/d/f');
        fs.existsSync('/d/none');
      }
      expect(appWaits(fs) - before).toBe(0);
      fs.appendFileSync('/d/f', 'yz');
      expect(fs.statSync('/d/f').size).toBe(3);
      expect(appWaits(fs) - before).toBeGreaterThan(0);
    } finally {
      fs.umount();
    }
  });

  it('a rename, unlink or write in one thread is seen by the very next call in another', async () => {
    const f = mount(server.root, { type: 'cachedtinyfs', options: OPTIONS });
    try {
      const bad = await pingpong(f, 40, (flag, rounds) => {
        const w = new Worker(WORKER, {
          workerData: { descriptor: f.descriptor, mode: 'pingpong', flag, rounds },
        });
        return new Promise((resolve, reject) => {
          w.once('message', (m) => {
            resolve(m);
            void w.terminate();
          });
          w.once('error', reject);
        });
      });
      expect(bad).toEqual([]);
    } finally {
      f.umount();
    }
  });

  it('a filesystem that describes its words wrongly fails its mount, clearly', () => {
    expect(() => mount(server.root, { type: 'cachedtinyfs', options: `${OPTIONS},words=3` })).toThrow(
      /appCache: .*3 is not a power of two/,
    );
    const fs = mount(server.root, { type: 'cachedtinyfs', options: OPTIONS });
    fs.umount();
  });
});
