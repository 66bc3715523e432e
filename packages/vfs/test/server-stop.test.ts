// server.stop() with pmemfs on an image is prompt: it returns when the server's threads have ended,
// not when its force timer fires (set here far past anything a clean stop needs, so a stop that
// took it fails the assertion long before the test's timeout).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkfs, PMEMFS_TYPE, PmemDevice } from '@zufs/example-pmemfs';
import { mount } from '@zufs/vfs';
import { startServer } from '@zufs/zus-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const FORCE_MS = 20_000;
let dir: string;
let image: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'zufs-stop-'));
  image = join(dir, 'fs.img');
  const dev = PmemDevice.createFile(image, 64 * 1024 * 1024);
  mkfs(dev);
  dev.flush();
  dev.close();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Starts pmemfs, runs `use` on the image mounted, and returns how long stop() took. */
async function timedStop(use: (fs: ReturnType<typeof mount>) => void): Promise<number> {
  const server = await startServer({
    zts: 1,
    channels: 2,
    filesystems: [PMEMFS_TYPE],
    stopTimeoutMs: FORCE_MS,
  });
  try {
    use(mount(server.root, { type: 'pmemfs', device: image }));
  } catch (e) {
    await server.stop();
    throw e;
  }
  const t0 = performance.now();
  await server.stop();
  return performance.now() - t0;
}

describe('stop() with pmemfs on an image', () => {
  it('returns at once after an umount', async () => {
    const took = await timedStop((fs) => {
      fs.writeFileSync('/a', 'unmounted first');
      fs.umount();
    });
    expect(took).toBeLessThan(FORCE_MS / 4);
  }, 60_000);

  it('returns at once with the image still mounted, which it unmounts (the image keeps the file)', async () => {
    const took = await timedStop((fs) => fs.writeFileSync('/b', 'left mounted'));
    expect(took).toBeLessThan(FORCE_MS / 4);
    await timedStop((fs) => {
      expect(fs.readFileSync('/b', 'utf8')).toBe('left mounted');
      fs.umount();
    });
  }, 60_000);
});
