// Large writes through a grid ZT that the app copies straight into pmem (ZUFS_RW_APP_COPY): what
// lands where, that the data never passes through a window, that the filesystem stays locked while
// the app copies, and a ZT that gives up on an app that does not copy.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { mkfs, PMEMFS_TYPE, PmemDevice } from '@zufs/example-pmemfs';
import { mount, type ZufsMount } from '@zufs/vfs';
import { attachZufRoot, type Channel, dispatcherFor, type ZufRoot } from '@zufs/zuf-core';
import {
  APP_COPY_ABANDONED,
  APP_COPY_COPYING,
  APP_COPY_DONE,
  APP_COPY_REQUESTED,
  Errno,
  IocIO,
  setU64,
  ZUFS_OP_WRITE,
  ZUFS_RET_APP_COPY,
  ZUFS_RW_APP_COPY,
} from '@zufs/zuf-core/api';
import { startServer, type ZusServer } from '@zufs/zus-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raceRewriter } from './rewriter.js';

const WINDOW = 256 * 1024;
let dir: string;
let image: string;
let server: ZusServer;
let root: ZufRoot;
let fs: ZufsMount;

/** Bytes from a small PRNG: no two 64-byte pieces of a run alike. */
function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'zufs-app-copy-'));
  image = join(dir, 'fs.img');
  const dev = PmemDevice.createFile(image, 64 * 1024 * 1024);
  mkfs(dev, {});
  dev.flush();
  dev.close();
  server = await startServer({
    zts: 2,
    channels: 2,
    windowSize: WINDOW,
    filesystems: [PMEMFS_TYPE],
    appCopyWaitMs: 1000,
    onLog: () => {},
  });
  root = attachZufRoot(server.root);
  fs = mount(server.root, { type: 'pmemfs', device: image });
});
afterAll(async () => {
  fs?.umount();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Puts a WRITE of `len` bytes at 0 of inode `ii` with ZUFS_RW_APP_COPY in the channel's buffer. */
function rawAppCopyWrite(ch: Channel, ii: number, len: number): void {
  ch.begin(ZUFS_OP_WRITE, IocIO.SIZE, IocIO.last_pos, 8);
  ch.opBytes.fill(0, IocIO.zus_ii, IocIO.SIZE);
  setU64(ch.op, IocIO.zus_ii, ii);
  setU64(ch.op, IocIO.filepos, 0);
  ch.op.setUint32(IocIO.rw, ZUFS_RW_APP_COPY, true);
  ch.setData(0, len);
}

describe('writes the app copies into pmem', () => {
  it('land exactly, over old blocks, holes and new ones, in one piece or several', () => {
    const model = new Uint8Array(3 << 20);
    let size = 0;
    const fd = fs.openSync('/f', 'w+');
    const other = fs.openSync('/g', 'w');
    const writes: [number, number][] = [
      [0, 32 * 1024],
      [5, 32 * 1024 + 1],
      [3 * 4096 + 7, 100_000],
      [600_000, WINDOW], // past the end: a hole before it
      [1000, WINDOW + 4097], // two pieces (the window is the largest)
      [1_200_000, (1 << 20) + 123],
      [64, 20_000], // small: through the window, between the others
    ];
    writes.forEach(([at, len], i) => {
      const data = noise(len, i + 1);
      // Another file grows meanwhile, so that this one's blocks do not all lie in a row.
      fs.writeSync(other, noise(8192, 99), 0, 8192, i * 8192);
      expect(fs.writeSync(fd, data, 0, len, at)).toBe(len);
      model.set(data, at);
      size = Math.max(size, at + len);
      expect(fs.fstatSync(fd).size).toBe(size);
    });
    fs.closeSync(fd);
    fs.closeSync(other);
    const back = fs.readFileSync('/f');
    expect(back.length).toBe(size);
    expect(Buffer.compare(back, Buffer.from(model.buffer, 0, size))).toBe(0);
  });

  it('never pass through a window', () => {
    const data = noise(1 << 20, 42);
    fs.writeFileSync('/big', data);
    for (const slot of root.slots) {
      const win = Buffer.from(slot.window.buffer, slot.window.byteOffset, slot.window.byteLength);
      for (const at of [0, 4096, 500_000, (1 << 20) - 64]) {
        expect(win.indexOf(Buffer.from(data.subarray(at, at + 64)))).toBe(-1);
      }
    }
    expect(Buffer.compare(fs.readFileSync('/big'), data)).toBe(0);
  });

  it('a copy never lands in blocks a racing truncate freed and another file took', async () => {
    // A worker rewrites /x with large (app-copied) writes; this thread truncates /x and writes
    // /victim, whose new blocks are likely the ones /x just gave up (a block freed since the last
    // commit is the next one allocated): contents under that race. (A copy made outside the lock
    // would show here only when it lost a narrow race; the next test pins the lock itself.)
    const size = 192 * 1024;
    fs.writeFileSync('/x', Buffer.alloc(size, 1));
    let bad = 0;
    let seed = 1000;
    const { versions, rounds } = await raceRewriter(fs, '/x', size, 20, () => {
      fs.truncateSync('/x', 0);
      const data = noise(size, seed++);
      fs.writeFileSync('/victim', data);
      if (Buffer.compare(fs.readFileSync('/victim'), data) !== 0) bad++;
    });
    expect(versions, 'the writer made versions').toBeGreaterThanOrEqual(20);
    expect(rounds, 'rounds while the writer wrote').toBeGreaterThanOrEqual(20);
    expect(bad).toBe(0);
  });

  it('keeps the filesystem locked while the app copies: a truncate from another thread waits', async () => {
    fs.writeFileSync('/held', noise(100_000, 8));
    const flag = new SharedArrayBuffer(8);
    const f = new Int32Array(flag);
    const w = new Worker(new URL('./fixtures/truncate-worker.mjs', import.meta.url), {
      workerData: { descriptor: fs.descriptor, path: '/held', flag },
    });
    const done = once(w, 'message');
    const ready = Date.now() + 10_000;
    while (Atomics.load(f, 0) === 0 && Date.now() < ready) await new Promise((r) => setTimeout(r, 5));
    expect(Atomics.load(f, 0), 'the worker is ready').toBe(1);
    const data = noise(64 * 1024, 9);
    const ch = dispatcherFor(root).acquire();
    try {
      rawAppCopyWrite(ch, fs.client.lookup(fs.mount.rootIi, 'held').ii, data.length);
      expect(ch.call()).toBe(0);
      expect(ch.op.getUint32(IocIO.ret_flags, true) & ZUFS_RET_APP_COPY).toBe(ZUFS_RET_APP_COPY);
      // The filesystem waits for our copy, its lock held: the worker's truncate cannot get in.
      Atomics.store(f, 1, 1);
      Atomics.notify(f, 1);
      const end = Date.now() + 150;
      while (Date.now() < end) {}
      expect(Atomics.load(f, 0), 'the truncate waited').toBe(1);
      expect(ch.copyRuns(data, new Uint8Array(fs.descriptor.pmem!))).toBe(0);
    } finally {
      ch.release();
    }
    await done;
    await w.terminate();
    expect(Atomics.load(f, 0)).toBe(2);
    expect(fs.statSync('/held').size).toBe(0);
  });

  it('leave the change window while the app copies: stats from pmem go on meanwhile', () => {
    fs.writeFileSync('/being-written', noise(4096, 12));
    fs.writeFileSync('/other', noise(777, 13));
    // Both names and inodes are known from here on.
    expect(fs.statSync('/other').size).toBe(777);
    expect(fs.statSync('/being-written').size).toBe(4096);
    const data = noise(96 * 1024, 14);
    const ch = dispatcherFor(root).acquire();
    try {
      rawAppCopyWrite(ch, fs.client.lookup(fs.mount.rootIi, 'being-written').ii, data.length);
      expect(ch.call()).toBe(0);
      // The ZT holds the filesystem's lock and waits for our copy: a stat that needed a dispatch
      // would wait for that lock until the ZT gave up on us (1 s), and our copy would then fail.
      const t0 = performance.now();
      expect(fs.statSync('/other').size).toBe(777);
      expect(fs.statSync('/being-written').size).toBe(4096);
      expect(performance.now() - t0).toBeLessThan(500);
      expect(ch.copyRuns(data, new Uint8Array(fs.descriptor.pmem!))).toBe(0);
    } finally {
      ch.release();
    }
    expect(fs.statSync('/being-written').size).toBe(data.length);
    expect(Buffer.compare(fs.readFileSync('/being-written'), data)).toBe(0);
  });

  it('a ZT gives up on an app that does not copy: EIO, the file as it was, the channel usable', () => {
    fs.writeFileSync('/slow', noise(5000, 3));
    const ii = fs.client.lookup(fs.mount.rootIi, 'slow').ii;
    const ch = dispatcherFor(root).acquire();
    try {
      rawAppCopyWrite(ch, ii, 64 * 1024);
      // The mid-operation reply: the runs to fill. The app lets the ZT's wait (1 s) run out.
      expect(ch.call()).toBe(0);
      expect(ch.op.getUint32(IocIO.ret_flags, true) & ZUFS_RET_APP_COPY).toBe(ZUFS_RET_APP_COPY);
      const end = Date.now() + 5000;
      while (ch.op.getUint32(IocIO.cookie, true) !== APP_COPY_ABANDONED && Date.now() < end) {}
      expect(ch.op.getUint32(IocIO.cookie, true)).toBe(APP_COPY_ABANDONED);
      // Too late: copyRuns copies nothing and takes the final reply.
      const pmem = new Uint8Array(64 << 20);
      expect(ch.copyRuns(noise(64 * 1024, 4), pmem)).toBe(-Errno.EIO);
      expect(pmem.every((b) => b === 0)).toBe(true);
    } finally {
      ch.release();
    }
    expect(fs.statSync('/slow').size).toBe(5000);
    expect(Buffer.compare(fs.readFileSync('/slow'), noise(5000, 3))).toBe(0);
    // The channels still serve, large writes included.
    const data = noise(200_000, 5);
    fs.writeFileSync('/slow', data);
    expect(Buffer.compare(fs.readFileSync('/slow'), data)).toBe(0);
  });

  it('an app thread that ends mid-copy costs other threads a wait, not an error', async () => {
    fs.writeFileSync('/ends', noise(5000, 15));
    const w = new Worker(new URL('./fixtures/copy-then-hang-worker.mjs', import.meta.url), {
      workerData: { descriptor: fs.descriptor, root: server.root, path: '/ends', len: 200_000 },
    });
    const [taken] = await once(w, 'message');
    expect(taken).toEqual({ mid: 0, took: true });
    await w.terminate();
    // Another thread's write needs the lock the dead copy holds: it waits for the ZT to give up
    // (two waits of 1 s here), not past its own lock timeout (10 s), and succeeds.
    const t0 = performance.now();
    const data = noise(70_000, 16);
    fs.writeFileSync('/innocent', data);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(Buffer.compare(fs.readFileSync('/innocent'), data)).toBe(0);
    expect(fs.statSync('/ends').size).toBe(5000);
  });

  it('survive a stopped and continued process: a ZT waits by the time it waited, not by the pause', () => {
    // A separate process (a SIGSTOP would stop these tests too), with appCopyWaitMs 1200: stopped
    // for 2.5 s while its ZT waits for the copy, it copies 50 ms after SIGCONT. By the wall clock
    // the ZT's wait ran out long before; the pause counts as two park slices (500 ms).
    const out = execFileSync(
      process.execPath,
      [fileURLToPath(new URL('./fixtures/stopped-copy.mjs', import.meta.url))],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(JSON.parse(out.trim())).toEqual({ mid: 0, paused: true, copied: 0, contents: true });
  });

  it('a copy that lands after its ZT gave up (the app held still mid-copy) reaches no other file', () => {
    const old = noise(3 * 4096, 6);
    fs.writeFileSync('/late', old);
    const ii = fs.client.lookup(fs.mount.rootIi, 'late').ii;
    const ch = dispatcherFor(root).acquire();
    const pmem = new Uint8Array(fs.descriptor.pmem!);
    const victim = noise(2 << 20, 7);
    const late = new Uint8Array(64 * 1024).fill(0xee);
    try {
      rawAppCopyWrite(ch, ii, late.length);
      expect(ch.call()).toBe(0);
      expect(ch.op.getUint32(IocIO.ret_flags, true) & ZUFS_RET_APP_COPY).toBe(ZUFS_RET_APP_COPY);
      // The app takes the copy (as copyRuns does first), then is held still past both waits (1 s each).
      expect(Atomics.compareExchange(ch.slot.appCopyState, 0, APP_COPY_REQUESTED, APP_COPY_COPYING)).toBe(
        APP_COPY_REQUESTED,
      );
      const end = Date.now() + 8000;
      while (ch.op.getUint32(IocIO.cookie, true) !== APP_COPY_ABANDONED && Date.now() < end) {}
      expect(ch.op.getUint32(IocIO.cookie, true), 'the ZT gave up').toBe(APP_COPY_ABANDONED);
      // Meanwhile another file takes free blocks: were the write's blocks freed, it would get them.
      fs.writeFileSync('/victim', victim);
      // The app resumes: its copy lands where it was told, then it takes the ZT's reply.
      const wv = ch.windowView;
      const n = Number(ch.op.getBigUint64(IocIO.last_pos, true));
      expect(n).toBeGreaterThan(0);
      for (let i = 0; i < n; i++) {
        const at = wv.getFloat64(i * 24, true);
        const from = wv.getFloat64(i * 24 + 8, true);
        pmem.set(late.subarray(from, from + wv.getFloat64(i * 24 + 16, true)), at);
      }
      expect(Atomics.compareExchange(ch.slot.appCopyState, 0, APP_COPY_COPYING, APP_COPY_DONE)).toBe(
        APP_COPY_ABANDONED,
      );
      expect(ch.copyRuns(late, pmem), 'the final reply').toBe(-Errno.EIO);
    } finally {
      ch.release();
    }
    expect(Buffer.compare(fs.readFileSync('/victim'), victim), 'the other file is intact').toBe(0);
    // The failed write's range reads zeros; the size is as it was.
    const back = fs.readFileSync('/late');
    expect(back.length).toBe(old.length);
    expect(back.every((b) => b === 0)).toBe(true);
    fs.writeFileSync('/late', noise(100_000, 8));
    expect(Buffer.compare(fs.readFileSync('/late'), noise(100_000, 8))).toBe(0);
  });
});
