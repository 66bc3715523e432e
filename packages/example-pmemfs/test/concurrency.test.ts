// Several worker threads on one shared device, churning in shared directories; then fsck is clean.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { mkfs, PmemDevice, PmemFs, ROOT_INO } from '@zufs/example-pmemfs';
import { afterEach, describe, expect, it } from 'vitest';
import { DIR, expectClean, REG, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir> | null = null;
afterEach(() => {
  tmp?.cleanup();
  tmp = null;
});

type Result = { counts?: Record<string, number>; error?: string };

function runWorkers(fs: PmemFs, dirs: number[], workers: number, ops: number): Promise<Result[]> {
  const url = new URL('./fixtures/churn-worker.mjs', import.meta.url);
  return Promise.all(
    Array.from(
      { length: workers },
      (_, id) =>
        new Promise<Result>((resolve, reject) => {
          const w = new Worker(url, {
            workerData: { desc: fs.descriptor(), id, ops, dirs, sync: fs.device.path !== null && id === 0 },
          });
          w.once('message', (m: Result) => resolve(m));
          w.once('error', reject);
          w.once('exit', (code) => code !== 0 && reject(new Error(`worker ${id} exited with ${code}`)));
        }),
    ),
  );
}

function expectNoErrors(results: Result[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const r of results) {
    expect(r.error).toBeUndefined();
    for (const [k, v] of Object.entries(r.counts ?? {})) total[k] = (total[k] ?? 0) + v;
  }
  return total;
}

describe('concurrency', () => {
  it('keeps the filesystem consistent under 4 threads of create/rename/delete', async () => {
    const dev = PmemDevice.memory(32 << 20);
    mkfs(dev, { inodes: 8192 });
    const fs = PmemFs.mount(dev);
    const dirs = [0, 1, 2, 3].map((i) => fs.newInode(ROOT_INO, `shared${i}`, { mode: DIR }));
    const total = expectNoErrors(await runWorkers(fs, dirs, 4, 4000));
    expect(total.ok).toBeGreaterThan(4000);
    expect(total.EEXIST).toBeGreaterThan(0);
    expect(total.ENOENT).toBeGreaterThan(0);
    expectClean(fs);
    expect(dev.mutex.isLocked()).toBe(false);
  });

  it('flushes a file device while other threads write, and the image reopens clean', async () => {
    tmp = tempDir();
    const path = join(tmp.dir, 'shared.img');
    const dev = PmemDevice.createFile(path, 16 << 20);
    mkfs(dev);
    const fs = PmemFs.mount(dev);
    const dirs = [0, 1].map((i) => fs.newInode(ROOT_INO, `d${i}`, { mode: DIR }));
    expectNoErrors(await runWorkers(fs, dirs, 3, 1500));
    expectClean(fs);
    const state = fs.statfs();
    dev.close();
    const again = PmemFs.mount(PmemDevice.openFile(path));
    expectClean(again);
    expect(again.statfs()).toEqual(state);
    again.device.close();
  });

  it('a metadata lock whose holder never lets go is ETIMEDOUT naming the lock, not EIO', () => {
    const dev = PmemDevice.memory(4 << 20);
    mkfs(dev);
    const fs = PmemFs.mount(dev, { lockTimeoutMs: 30 });
    const ino = fs.newInode(ROOT_INO, 'f', { mode: REG });
    dev.mutex.lock(); // a holder that died with the lock
    let err: unknown;
    try {
      fs.write(ino, 0, new Uint8Array(8));
    } catch (e) {
      err = e;
    }
    dev.mutex.unlock();
    expect(err).toMatchObject({ name: 'LockTimeoutError', code: 'ETIMEDOUT', errno: 110 });
    expect((err as Error).message).toBe(
      'ETIMEDOUT: pmemfs metadata lock of a memory device: not acquired within 30 ms (a holder may have died)',
    );
    expect(fs.write(ino, 0, new Uint8Array(8))).toBe(8);
  });
});
