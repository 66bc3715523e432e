// An unmount gives the volume's memory back while the server runs: the mount thread and the ZTs
// that served the mount let go of its SharedArrayBuffers, and collect them (zus-server collect.ts;
// a ZT blocked on its relay allocates nothing, so V8 alone would never). The app side here holds
// no pmem (an InodeClient on the MountInfo only); what this thread held (the supervisor's ledger of
// mounts) it collects itself before each look at the RSS, as an app's own GC would in time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { mkfs, PMEMFS_TYPE, PmemDevice, PmemFs, ROOT_INO } from '@zufs/example-pmemfs';
import { InodeClient } from '@zufs/vfs';
import { mountFs, umountFs } from '@zufs/zuf-core';
import { S_IFREG } from '@zufs/zuf-core/api';
import { startServer, type ZusServer } from '@zufs/zus-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MiB = 2 ** 20;
const dir = mkdtempSync(join(tmpdir(), 'zufs-unmount-memory-'));
const image = join(dir, 'a.img');
let server: ZusServer;

beforeAll(async () => {
  const dev = PmemDevice.createFile(image, 64 * MiB);
  mkfs(dev);
  const fs = PmemFs.mount(dev, { commitIntervalMs: 0 });
  fs.write(fs.newInode(ROOT_INO, 'big', { mode: S_IFREG | 0o644 }), 0, new Uint8Array(32 * MiB).fill(7));
  fs.close();
  server = await startServer({ zts: 2, channels: 2, filesystems: [PMEMFS_TYPE] });
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Mounts (the image is read in: 32 MiB), has every ZT attach (a statfs on each channel), unmounts. */
function cycle(): void {
  const m = mountFs(server.zufRoot, 'pmemfs', `device=${image},commit=0`);
  const c = new InodeClient(server.zufRoot, m);
  for (let i = 0; i < 8; i++) c.statfs();
  umountFs(server.zufRoot, m.sbId);
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** This thread's RSS once its own garbage is collected. */
const rssMiB = () => {
  gc();
  return process.memoryUsage().rss / MiB;
};

/** RSS once below `below` (the threads collect within their idle wake, 1 s), 30 s at most (loaded cores). */
async function settledRss(below: number): Promise<number> {
  let rss = rssMiB();
  for (let i = 0; i < 300 && rss >= below; i++) {
    await new Promise((r) => setTimeout(r, 100));
    rss = rssMiB();
  }
  return rss;
}

describe('unmount', () => {
  it("gives a 64 MiB image's memory (32 MiB used) back over 20 mount/unmount cycles", async () => {
    cycle(); // what the first mount costs once (code, caches) is not what is looked for
    await new Promise((r) => setTimeout(r, 1500)); // the threads' idle wake
    const base = rssMiB();
    for (let i = 0; i < 20; i++) cycle();
    // Kept, each cycle's 32 MiB would be 640 MiB; one volume's worth of slack is allowed.
    expect(await settledRss(base + 48)).toBeLessThan(base + 48);
  }, 120_000);
});
