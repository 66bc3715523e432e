import { Worker } from 'node:worker_threads';
import {
  attachZufRoot,
  type Channel,
  dispatcherFor,
  fsTypes,
  mountFs,
  STATE_FAILED,
  STATE_MOUNT_READY,
  STATE_STOPPED,
  umountFs,
  type ZufRoot,
  type ZufsError,
} from '@zufs/zuf-core';
import {
  Errno,
  EZUF_RETRY_DONE,
  getU64,
  IocHdr,
  IocStatfs,
  Statfs64,
  setU64,
  ZUFS_OP_BREAK,
  ZUFS_OP_NOOP,
  ZUFS_OP_NULL,
  ZUFS_OP_STATFS,
} from '@zufs/zuf-core/api';
import { serveInline, startServer, type ZusServer } from '@zufs/zus-server';
import { afterEach, describe, expect, it } from 'vitest';
import { ioctl, TEST_FS, threadCount } from './helpers.js';

const NULL_LOOP = new URL('./fixtures/null-loop.mjs', import.meta.url);
const SLOW_IOCTL = new URL('./fixtures/slow-ioctl.mjs', import.meta.url);

const servers: ZusServer[] = [];
async function start(opts: Parameters<typeof startServer>[0] = {}): Promise<ZusServer> {
  const s = await startServer({
    zts: 2,
    channels: 2,
    windowSize: 64 * 1024,
    filesystems: [TEST_FS],
    ...opts,
  });
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

/** One operation; a failed or stopped server answers EIO (thrown by acquire, or returned by call). */
function nullOp(root: ZufRoot, op = ZUFS_OP_NULL): number {
  let ch: Channel;
  try {
    ch = dispatcherFor(root).acquire();
  } catch (e) {
    return -(e as ZufsError).errno;
  }
  ch.begin(op, IocHdr.SIZE);
  const err = ch.call();
  ch.release();
  return err;
}

describe('startServer / stop', () => {
  it('starts the grid and the mount thread, registers the filesystem types, and stops leaving no thread', async () => {
    const before = threadCount();
    const s = await start({ zts: 2, channels: 3 });
    expect(s.fsTypes).toEqual(['testfs']);
    expect(s.zufRoot.state()).toBe(STATE_MOUNT_READY);
    // supervisor + mount thread + 6 ZTs, each a thread of this process (plus V8 helper threads they bring)
    expect(threadCount()).toBeGreaterThanOrEqual(before + 8);
    const types = fsTypes(s.zufRoot);
    expect(types).toMatchObject([
      { index: 0, name: 'testfs', magic: 0x7e57f5, versionMajor: 1, versionMinor: 2 },
    ]);
    await s.stop();
    await s.stop(); // harmless
    expect(s.zufRoot.state()).toBe(STATE_STOPPED);
    // Worker threads are joined by the time 'exit' fired; give the OS a moment to reap the last ones.
    for (let i = 0; i < 50 && threadCount() > before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(threadCount()).toBe(before);
    expect(nullOp(s.zufRoot)).toBe(-Errno.EIO);
  });

  it('refuses a module that is not a filesystem type, with a message naming it', async () => {
    const bad = new URL('./fixtures/bad-fs.mjs', import.meta.url);
    await expect(startServer({ zts: 1, channels: 1, filesystems: [bad] })).rejects.toThrow(
      /bad-fs\.mjs.*magic|bad-fs\.mjs/,
    );
  });

  it('refuses a module that does not exist', async () => {
    await expect(startServer({ zts: 1, channels: 1, filesystems: ['/nonexistent/fs.mjs'] })).rejects.toThrow(
      /failed to start/,
    );
  });

  it('validates the grid shape', async () => {
    await expect(startServer({ zts: 1, channels: 5 })).rejects.toThrow(RangeError);
  });
});

describe('stop() is prompt', () => {
  // The force timer is set far past anything a clean stop needs: a stop that took it fails here
  // (the assertion), well before the test's own timeout.
  const FORCE_MS = 20_000;

  it('returns as soon as the threads end, a mount and an inline ZT still up, not when the force timer fires', async () => {
    const s = await start({ zts: 2, channels: 2, stopTimeoutMs: FORCE_MS });
    const m = mountFs(s.zufRoot, 'testfs');
    const z = await serveInline(s.root, s.inlinePort());
    expect(ioctl(s.zufRoot, m.rootIi, 1).err).toBe(0);
    const t0 = performance.now();
    await s.stop();
    expect(performance.now() - t0).toBeLessThan(FORCE_MS / 4);
    expect(s.zufRoot.state()).toBe(STATE_STOPPED);
    z.close();
  }, 60_000);

  it('a plugin operation that never returns: stop() ends its thread when the force timer fires', async () => {
    const s = await start({ zts: 1, channels: 2, stopTimeoutMs: 300 });
    const m = mountFs(s.zufRoot, 'testfs');
    const w = new Worker(SLOW_IOCTL, { workerData: { root: s.root, ii: m.rootIi, ms: 60_000 } });
    const done = new Promise<{ err: number }>((resolve) =>
      w.on('message', (x) => x !== 'waiting' && resolve(x)),
    );
    await new Promise<void>((resolve) => w.once('message', () => resolve()));
    await new Promise((r) => setTimeout(r, 50)); // the ZT is in the plugin now
    const t0 = performance.now();
    await s.stop();
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(10_000);
    expect((await done).err).toBe(-Errno.EIO);
    await w.terminate();
  }, 60_000);
});

describe('NULL, NOOP and BREAK', () => {
  it('answers NULL and NOOP from the main thread, many times', async () => {
    const s = await start();
    for (let i = 0; i < 20_000; i++) expect(nullOp(s.zufRoot, i & 1 ? ZUFS_OP_NOOP : ZUFS_OP_NULL)).toBe(0);
  });

  it('NOOP reaches data in the map window; an out-of-window range is EINVAL', async () => {
    const s = await start();
    const ch = dispatcherFor(s.zufRoot).acquire();
    ch.window.fill(7, 0, 4096);
    ch.begin(ZUFS_OP_NOOP, IocHdr.SIZE);
    ch.setData(0, 4096);
    expect(ch.call()).toBe(0);
    ch.begin(ZUFS_OP_NOOP, IocHdr.SIZE);
    ch.setData(ch.window.byteLength - 10, 4096);
    expect(ch.call()).toBe(-Errno.EINVAL);
    ch.release();
  });

  it('an app cannot BREAK a ZT while the server serves', async () => {
    const s = await start();
    expect(nullOp(s.zufRoot, ZUFS_OP_BREAK)).toBe(-Errno.EPERM);
    expect(nullOp(s.zufRoot)).toBe(0);
  });

  it('serves worker threads that attach from the descriptor', async () => {
    const s = await start({ zts: 2, channels: 2 });
    const run = () =>
      new Promise<{ bad: number; home: number }>((resolve, reject) => {
        const w = new Worker(NULL_LOOP, { workerData: { root: s.root, n: 20_000 } });
        w.once('message', resolve);
        w.once('error', reject);
      });
    const results = await Promise.all([run(), run(), run()]);
    expect(results.map((r) => r.bad)).toEqual([0, 0, 0]);
  });
});

describe('the plugin path', () => {
  it('mounts, serves statfs and ioctl in every ZT, and unmounts', async () => {
    const s = await start({ zts: 2, channels: 2 });
    const m = mountFs(s.zufRoot, 'testfs', 'a=1,b');
    expect(m.sbId).toBeGreaterThan(0);
    expect(m.fsType.name).toBe('testfs');
    const ch = dispatcherFor(s.zufRoot).acquire();
    ch.begin(ZUFS_OP_STATFS, IocStatfs.statfs_out, IocStatfs.statfs_out, Statfs64.SIZE);
    setU64(ch.op, IocStatfs.zus_sbi, m.sbId);
    expect(ch.call()).toBe(0);
    const at = IocStatfs.statfs_out;
    expect(getU64(ch.op, at + Statfs64.f_type)).toBe(0x7e57f5);
    expect(getU64(ch.op, at + Statfs64.f_blocks)).toBe(1000);
    expect(getU64(ch.op, at + Statfs64.f_bavail)).toBe(300);
    expect(getU64(ch.op, at + Statfs64.f_namelen)).toBe(255);
    ch.release();

    const r = ioctl(s.zufRoot, m.rootIi, 1);
    expect(r).toMatchObject({ err: 0, outLen: 20 });
    expect(r.words.slice(0, 2)).toEqual([1, 2]); // first call, root inode 2
    expect(r.words[3]).toBe(m.sbId);
    for (let i = 0; i < 100; i++) expect(ioctl(s.zufRoot, m.rootIi, 1).err).toBe(0);
    umountFs(s.zufRoot, m.sbId);
    // After umount the superblock is gone from every ZT.
    expect(ioctl(s.zufRoot, m.rootIi, 1).err).toBe(-Errno.EINVAL);
    expect(() => umountFs(s.zufRoot, m.sbId)).toThrow(/EINVAL/);
  });

  it('serves several mounts at once, each with its own state', async () => {
    const s = await start();
    const a = mountFs(s.zufRoot, 'testfs', 'a');
    const b = mountFs(s.zufRoot, 'testfs', 'b');
    expect(a.sbId).not.toBe(b.sbId);
    for (let i = 0; i < 5; i++) ioctl(s.zufRoot, a.rootIi, 1);
    expect(ioctl(s.zufRoot, b.rootIi, 1).words[0]).toBe(1);
    expect(ioctl(s.zufRoot, a.rootIi, 1).words[0]).toBe(6);
  });

  it('returns mount errors: unknown type, a typed errno, a crash', async () => {
    const s = await start();
    expect(() => mountFs(s.zufRoot, 'nofs')).toThrow(/ENODEV/);
    expect(() => mountFs(s.zufRoot, 'testfs', 'einval')).toThrow(/EINVAL/);
    const logs: string[] = [];
    const s2 = await start({ onLog: (_l, m) => logs.push(m) });
    expect(() => mountFs(s2.zufRoot, 'testfs', 'crash')).toThrow(/EIO/);
    await new Promise((r) => setTimeout(r, 50));
    expect(logs.join('\n')).toMatch(/mount crashed/);
    expect(mountFs(s2.zufRoot, 'testfs').sbId).toBeGreaterThan(0);
  });

  it('a typed errno comes back as that errno; anything else is EIO and a log line; the ZT goes on', async () => {
    const logs: string[] = [];
    const s = await start({ zts: 1, channels: 1, onLog: (_l, m) => logs.push(m) });
    const m = mountFs(s.zufRoot, 'testfs');
    expect(ioctl(s.zufRoot, m.rootIi, 2).err).toBe(-Errno.ENOSPC);
    expect(ioctl(s.zufRoot, m.rootIi, 3).err).toBe(-Errno.EIO);
    expect(ioctl(s.zufRoot, m.rootIi, 99).err).toBe(-Errno.ENOTTY);
    expect(ioctl(s.zufRoot, m.rootIi, 1).err).toBe(0); // same single ZT, still serving
    await new Promise((r) => setTimeout(r, 50));
    expect(logs.join('\n')).toMatch(/IOCTL threw: Error: boom/);
  });

  it('a lock that timed out is ETIMEDOUT, not EIO, and the log names the lock', async () => {
    const logs: string[] = [];
    const s = await start({ zts: 1, channels: 1, onLog: (_l, m) => logs.push(m) });
    const m = mountFs(s.zufRoot, 'testfs');
    expect(ioctl(s.zufRoot, m.rootIi, 10).err).toBe(-Errno.ETIMEDOUT);
    expect(ioctl(s.zufRoot, m.rootIi, 1).err).toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(logs.join('\n')).toMatch(/IOCTL: ETIMEDOUT: testfs lock: not acquired within 20 ms/);
  });

  it('a reply past the operation buffer is EIO (malformed), logged', async () => {
    const logs: string[] = [];
    const s = await start({ zts: 1, channels: 1, onLog: (_l, m) => logs.push(m) });
    const m = mountFs(s.zufRoot, 'testfs');
    expect(ioctl(s.zufRoot, m.rootIi, 8).err).toBe(-Errno.EIO);
    expect(ioctl(s.zufRoot, m.rootIi, 1).err).toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(logs.join('\n')).toMatch(/past the operation buffer/);
  });

  it('a reply larger than out_max goes to the overflow handler, or is EIO without one', async () => {
    const s = await start({ zts: 1, channels: 1 });
    const m = mountFs(s.zufRoot, 'testfs');
    expect(ioctl(s.zufRoot, m.rootIi, 7).err).toBe(-Errno.EIO);
    let seen = 0;
    const r = ioctl(s.zufRoot, m.rootIi, 7, [], {
      overflow: (ch) => {
        seen = ch.outLen;
        return 0;
      },
    });
    expect(r.err).toBe(0);
    expect(seen).toBe(1000);
    expect(r.words[0]).toBe(0xabcd);
  });

  it('EZUFS_RETRY dispatches again until the server answers', async () => {
    const s = await start({ zts: 1, channels: 1 });
    const m = mountFs(s.zufRoot, 'testfs');
    const r = ioctl(s.zufRoot, m.rootIi, 6, [3]);
    expect(r.err).toBe(0);
    expect(r.words[0]).toBe(4); // three retries, then the answer
    // With an overflow handler, EZUFS_RETRY is the handler's to resolve (ZUFS's oh protocol).
    let calls = 0;
    const r2 = ioctl(s.zufRoot, m.rootIi, 6, [6], { overflow: () => (++calls < 2 ? EZUF_RETRY_DONE : 0) });
    expect(r2.err).toBe(0);
    expect(calls).toBe(2);
  });

  it('an interrupted wait sets ZUFS_H_INTR, keeps waiting, and gets the reply', async () => {
    const s = await start({ zts: 1, channels: 1 });
    const m = mountFs(s.zufRoot, 'testfs');
    const t0 = performance.now();
    const r = ioctl(s.zufRoot, m.rootIi, 5, [150], { timeoutMs: 20 });
    const took = performance.now() - t0;
    expect(r.err).toBe(0);
    expect(r.interrupted).toBe(true);
    expect(r.words[0]).toBe(1); // the plugin saw the interrupt
    expect(took).toBeGreaterThanOrEqual(140); // it waited for the reply
    const quick = ioctl(s.zufRoot, m.rootIi, 5, [1], { timeoutMs: 1000 });
    expect(quick).toMatchObject({ err: 0, interrupted: false });
    expect(quick.words[0]).toBe(0);
  });

  it('a piggy-backed PUT rides on the next dispatch', async () => {
    const s = await start({ zts: 1, channels: 1 });
    const m = mountFs(s.zufRoot, 'testfs');
    const d = dispatcherFor(s.zufRoot);
    d.setPigyPut(m.rootIi, 0, 4096);
    expect(ioctl(s.zufRoot, m.rootIi, 1).err).toBe(0);
    expect(ioctl(s.zufRoot, m.rootIi, 1).err).toBe(0);
    expect(ioctl(s.zufRoot, m.rootIi, 9).words[3]).toBe(1); // one put, not two
  });
});

describe('server failure (no restart left: maxRestarts 0)', () => {
  it('a dead ZT turns the blocked caller into EIO within 100 ms, and every later operation into EIO', async () => {
    let reported: (f: { who: string; code: number }) => void = () => {};
    const failure = new Promise<{ who: string; code: number }>((resolve) => (reported = resolve));
    const s = await start({
      zts: 2,
      channels: 1,
      maxRestarts: 0,
      onLog: () => {},
      onFailure: (f) => reported(f),
    });
    const m = mountFs(s.zufRoot, 'testfs');
    const t0 = performance.now();
    // This (the main) thread started the server and now blocks in a synchronous call.
    const r = ioctl(s.zufRoot, m.rootIi, 4);
    const took = performance.now() - t0;
    expect(r.err).toBe(-Errno.EIO);
    expect(took).toBeLessThan(100);
    expect(s.zufRoot.state()).toBe(STATE_FAILED);
    const t1 = performance.now();
    expect(nullOp(s.zufRoot)).toBe(-Errno.EIO);
    expect(() => mountFs(s.zufRoot, 'testfs')).toThrow(/EIO/);
    expect(performance.now() - t1).toBeLessThan(20);
    // Reported when this thread's event loop sees the ZT's exit: the ZT, with its exit code (not
    // the mount thread, whose loop ended because the relays broke).
    expect(await failure).toMatchObject({ who: expect.stringMatching(/^zufs-zt-/), code: 7 });
  });

  it('an app thread waiting on another ZT gets EIO within 100 ms when a ZT dies', async () => {
    const s = await start({ zts: 2, channels: 1, maxRestarts: 0, onLog: () => {} });
    const m = mountFs(s.zufRoot, 'testfs');
    const w = new Worker(SLOW_IOCTL, { workerData: { root: s.root, ii: m.rootIi, ms: 10_000 } });
    const msgs: unknown[] = [];
    const done = new Promise<{ err: number; at: number }>((resolve) =>
      w.on('message', (x) => (x === 'waiting' ? msgs.push(x) : resolve(x))),
    );
    while (msgs.length === 0) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 20));
    // Kill the other ZT from the main thread.
    const t0 = performance.timeOrigin + performance.now();
    const r = ioctl(s.zufRoot, m.rootIi, 4);
    expect(r.err).toBe(-Errno.EIO);
    const res = await done;
    expect(res.err).toBe(-Errno.EIO);
    expect(res.at - t0).toBeLessThan(100);
    await w.terminate();
  });
});

describe('channels', () => {
  it('parks for a free channel when every channel is busy, and gets one when it is released', async () => {
    const s = await start({ zts: 1, channels: 1 });
    const m = mountFs(s.zufRoot, 'testfs');
    const root = attachZufRoot(s.root);
    const held = dispatcherFor(root).acquire();
    const w = new Worker(NULL_LOOP, { workerData: { root: s.root, n: 1 } });
    let released = false;
    const done = new Promise<{ bad: number; afterRelease: boolean }>((resolve) =>
      w.once('message', (m) => resolve({ ...m, afterRelease: released })),
    );
    await new Promise((r) => setTimeout(r, 300));
    released = true;
    held.release();
    const r = await done;
    expect(r).toMatchObject({ bad: 0, afterRelease: true });
    expect(ioctl(s.zufRoot, m.rootIi, 1).err).toBe(0);
    await w.terminate();
  });

  it('acquire with a timeout fails with ETIMEDOUT when no channel frees up', async () => {
    const s = await start({ zts: 1, channels: 1 });
    const d = dispatcherFor(s.zufRoot);
    const held = d.acquire();
    expect(() => d.acquire(30)).toThrow(/ETIMEDOUT/);
    held.release();
    expect(nullOp(s.zufRoot)).toBe(0);
  });
});
