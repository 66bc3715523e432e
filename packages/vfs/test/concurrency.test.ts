// Concurrency: four worker threads (fixtures/fs-worker.mjs, each its own node:fs face on the volume
// the main thread mounted, attached with the posted zuf-root descriptor) create, write, rename, link
// and delete in shared directories for a few seconds while the main thread does the same. Afterwards
// the tree is consistent through the face (every listed name stats, link counts add up, contents are
// whole) and pmemfs's own fsck (PmemFs.check on the image after unmount) finds nothing. A ping-pong
// checks that a rename/unlink/write in one thread is seen by the very next call in another.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { mkfs, PMEMFS_TYPE, PmemDevice, PmemFs } from '@zufs/example-pmemfs';
import { mount, type ZufsMount } from '@zufs/vfs';
import { startServer, type ZusServer } from '@zufs/zus-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { code, pingpong } from './pingpong.js';

const WORKER = new URL('./fixtures/fs-worker.mjs', import.meta.url);
const DIRS = ['/shared/d0', '/shared/d1', '/shared/d2', '/shared/d0/sub1', '/shared/d1/sub2'];
/** Operations each thread of the churn test does at least. */
const CHURN_OPS = 400;

let dir: string;
let image: string;
let server: ZusServer | undefined;
let fs: ZufsMount | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'zufs-conc-'));
  image = join(dir, 'fs.img');
  const dev = PmemDevice.createFile(image, 64 * 1024 * 1024);
  mkfs(dev, { inodes: 8192, label: 'conc' });
  dev.flush();
  dev.close();
  server = await startServer({ zts: 2, channels: 4, windowSize: 256 * 1024, filesystems: [PMEMFS_TYPE] });
  fs = mount(server.root, { type: 'pmemfs', options: `image=${image}` });
});
afterAll(async () => {
  try {
    fs?.umount();
  } catch {}
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function runWorker(data: Record<string, unknown>): Promise<Record<string, unknown>> {
  const w = new Worker(WORKER, { workerData: { descriptor: fs!.descriptor, ...data } });
  return new Promise((resolve, reject) => {
    w.once('message', (m) => {
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
    w.once('exit', (c) => c !== 0 && c !== 1 && reject(new Error(`worker exited ${c}`)));
  });
}

describe('concurrency', () => {
  it('a rename, unlink or write in one thread is seen by the very next call in another', async () => {
    const f = fs!;
    const rounds = 150;
    const bad = await pingpong(f, rounds, (flag) => runWorker({ mode: 'pingpong', flag, rounds }));
    expect(bad).toEqual([]);
    expect(f.readdirSync('/pp').length).toBe(3 * rounds);
  });

  // Found by the churn test below ('append' on a file another worker unlinked): each thread's fd
  // table alone freed the inode. The mount's shared open counts (src/fs/open-counts.ts) keep it.
  it('a file open in one thread stays usable after another thread unlinks it', async () => {
    const f = fs!;
    const free0 = f.statfsSync('/').ffree;
    f.writeFileSync('/held', 'still here');
    const fd = f.openSync('/held', 'r+');
    try {
      expect((await runWorker({ mode: 'unlink', path: '/held' })).result).toBe('ok');
      const buf = Buffer.alloc(10);
      expect(f.readSync(fd, buf, 0, 10, 0)).toBe(10);
      expect(buf.toString()).toBe('still here');
      expect(f.writeSync(fd, 'more', 10)).toBe(4);
      expect(f.fstatSync(fd).nlink).toBe(0);
      expect(f.statfsSync('/').ffree, 'the inode lives while open').toBe(free0 - 1);
    } finally {
      f.closeSync(fd);
    }
    expect(f.statfsSync('/').ffree, 'the last close freed it').toBe(free0);
  });

  it('four workers and the main thread churning shared directories leave a consistent tree', async () => {
    const f = fs!;
    f.mkdirSync('/shared');
    for (const d of DIRS) f.mkdirSync(d);
    // Every thread goes on until all five have done CHURN_OPS operations (slot 0: the main thread),
    // so they overlap however late a worker starts on a loaded machine; the deadline is a safety net.
    const progress = new Int32Array(new SharedArrayBuffer(5 * 4));
    const deadline = Date.now() + 45_000;
    const everyoneDone = () => progress.every((_, i) => Atomics.load(progress, i) >= CHURN_OPS);
    const workers = [1, 2, 3, 4].map((id) =>
      runWorker({
        mode: 'churn',
        id,
        slot: id,
        progress: progress.buffer,
        ops: CHURN_OPS,
        deadline,
        dirs: DIRS,
        seed: (Date.now() * 7919 + id * 104_729) >>> 0,
      }),
    );
    // The main thread works too, yielding now and then so the workers' messages are taken.
    let mainOps = 0;
    const mainErrors: string[] = [];
    while (!everyoneDone() && Date.now() < deadline) {
      for (let i = 0; i < 50; i++, mainOps++) {
        const d = DIRS[mainOps % DIRS.length];
        const p = `${d}/f${mainOps % 12}`;
        const ops = [
          () => f.writeFileSync(p, `m.${mainOps}|`.repeat(1 + (mainOps % 50)), { flag: 'wx' }),
          () => f.renameSync(p, `${DIRS[(mainOps + 1) % DIRS.length]}/g${mainOps % 12}`),
          () => f.unlinkSync(`${d}/g${mainOps % 12}`),
          () => {
            for (const x of f.readdirSync(d)) code(() => f.lstatSync(`${d}/${x}`));
          },
        ];
        const r = code(ops[(mainOps * 7) % 4]);
        // ENOTEMPTY: the workers make directories named f* and g* too, and renaming one over a
        // non-empty directory is ENOTEMPTY on Linux as well.
        if (
          !['ok', 'ENOENT', 'EEXIST', 'EISDIR', 'ENOTDIR', 'ENOTEMPTY'].includes(r) &&
          mainErrors.length < 20
        )
          mainErrors.push(r);
      }
      Atomics.store(progress, 0, mainOps);
      await new Promise((r) => setImmediate(r));
    }
    const results = await Promise.all(workers);
    for (const r of results) {
      expect(r.error).toBeUndefined();
      expect(r.unexpected).toEqual([]);
      expect(r.ops as number).toBeGreaterThanOrEqual(CHURN_OPS);
    }
    expect(mainErrors).toEqual([]);
    console.log(
      `churn: main ${mainOps} ops; workers ${results.map((r) => `${r.ops} ${JSON.stringify(r.counts)}`).join('; ')}`,
    );

    // Consistency through the face: every listed name stats; a file's nlink is its number of names,
    // a directory's is 2 + its subdirectories; a file's contents are one tag repeated.
    const names = new Map<number, string[]>();
    const nlinks = new Map<number, number>();
    const problems: string[] = [];
    const walk = (d: string) => {
      const st = f.statSync(d);
      const list = f.readdirSync(d, { withFileTypes: true });
      const subdirs = list.filter((e) => e.isDirectory()).length;
      if (st.nlink !== 2 + subdirs) problems.push(`${d}: nlink ${st.nlink}, ${subdirs} subdirectories`);
      for (const e of list) {
        const p = `${d}/${e.name}`;
        const s = f.lstatSync(p);
        if (s.isDirectory() !== e.isDirectory()) problems.push(`${p}: dirent type differs from lstat`);
        if (s.isDirectory()) walk(p);
        else {
          names.set(s.ino, [...(names.get(s.ino) ?? []), p]);
          nlinks.set(s.ino, s.nlink);
          const text = f.readFileSync(p, 'utf8');
          const tags = new Set(text.split('|').filter(Boolean));
          if (tags.size !== 1 || !text.endsWith('|') || s.size !== Buffer.byteLength(text))
            problems.push(`${p}: torn contents (${tags.size} tags, size ${s.size})`);
        }
      }
    };
    walk('/shared');
    for (const [ino, ps] of names)
      if (nlinks.get(ino) !== ps.length) problems.push(`ino ${ino}: nlink ${nlinks.get(ino)}, names ${ps}`);
    expect(problems).toEqual([]);
    expect(names.size).toBeGreaterThan(0);

    // pmemfs's own invariants, on the image after unmount and server stop.
    f.umount();
    fs = undefined;
    await server!.stop();
    server = undefined;
    const pm = PmemFs.mount(PmemDevice.openFile(image));
    expect(pm.check()).toEqual([]);
  });
});
