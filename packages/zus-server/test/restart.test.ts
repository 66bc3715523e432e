/**
 * Restart after a crash and live reload, with real server threads: a ZT or the mount thread that
 * dies is replaced, its volumes mounted again under the same superblock ids, and operations go on.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { mountFs, remountFs, STATE_FAILED, STATE_MOUNT_READY } from '@zufs/zuf-core';
import { Errno } from '@zufs/zuf-core/api';
import { type ServerRestart, serveInline, startServer, type ZusServer } from '@zufs/zus-server';
import { afterEach, describe, expect, it } from 'vitest';
import { ioctl, TEST_FS, threadCount } from './helpers.js';

const IOCTL_COUNT = 1;
const IOCTL_EXIT = 4;
const IOCTL_COUNTERS = 9;
const IOCTL_OPTIONS = 11;
const LOOP = new URL('./fixtures/ioctl-loop.mjs', import.meta.url);
const SLOW_IOCTL = new URL('./fixtures/slow-ioctl.mjs', import.meta.url);

const servers: ZusServer[] = [];
const dirs: string[] = [];
async function start(opts: Parameters<typeof startServer>[0] = {}): Promise<ZusServer> {
  const s = await startServer({
    zts: 2,
    channels: 1,
    windowSize: 64 * 1024,
    filesystems: [TEST_FS],
    onLog: () => {},
    ...opts,
  });
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Resolves with each restart the server reports (onRestart), in order. */
function restarts(): {
  list: ServerRestart[];
  next: () => Promise<ServerRestart>;
  on: (r: ServerRestart) => void;
} {
  const list: ServerRestart[] = [];
  let waiting: ((r: ServerRestart) => void) | null = null;
  return {
    list,
    on: (r) => {
      list.push(r);
      waiting?.(r);
      waiting = null;
    },
    next: () => new Promise((resolve) => (waiting = resolve)),
  };
}

interface LoopResult {
  ok: number;
  eio: number;
  other: number[];
  longestMs: number;
}

/** Three app threads calling IOCTL_COUNT in a loop until stop[0] is set; their reports. */
function loopers(s: ZusServer, ii: number): { stop: Int32Array; results: Promise<LoopResult>[] } {
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const results = Array.from({ length: 3 }, () => {
    const w = new Worker(LOOP, { workerData: { root: s.root, ii, stop: stop.buffer } });
    return new Promise<LoopResult>((resolve, reject) => {
      w.on('message', (x) => x !== 'running' && resolve(x));
      w.on('error', reject);
    });
  });
  return { stop, results };
}

describe('restart after a crash', () => {
  it('a dead ZT costs its caller EIO; the next operation waits for the restart and succeeds on the same mount', async () => {
    const r = restarts();
    const s = await start({ onRestart: r.on });
    const m = mountFs(s.zufRoot, 'testfs');
    expect(ioctl(s.zufRoot, m.rootIi, IOCTL_COUNT).err).toBe(0);
    const t0 = performance.now();
    expect(ioctl(s.zufRoot, m.rootIi, IOCTL_EXIT).err).toBe(-Errno.EIO);
    expect(performance.now() - t0).toBeLessThan(100);
    // This thread started the server and blocks here: the supervisor restarts it meanwhile.
    const after = ioctl(s.zufRoot, m.rootIi, IOCTL_COUNT);
    expect(after.err).toBe(0);
    expect(after.words[3]).toBe(m.sbId); // the same superblock, its state kept (testfs keeps it)
    expect(after.words[0]).toBe(2);
    expect(s.zufRoot.state()).toBe(STATE_MOUNT_READY);
    expect(s.restarts).toBe(1);
    expect(ioctl(s.zufRoot, m.rootIi, IOCTL_COUNTERS).words[7]).toBe(1); // mounted again once
    const info = r.list[0] ?? (await r.next());
    expect(info).toMatchObject({ reason: 'crash', epoch: 1, who: expect.stringMatching(/^zufs-zt-/) });
    expect(info.ms).toBeGreaterThan(0);
  });

  it("an operation in flight on another ZT is answered, not EIO: only the dead thread's operations fail", async () => {
    const r = restarts();
    const s = await start({ zts: 2, channels: 1, onRestart: r.on });
    const m = mountFs(s.zufRoot, 'testfs');
    // One ZT sleeps 300 ms in the plugin for another app thread; the other dies meanwhile.
    const w = new Worker(SLOW_IOCTL, { workerData: { root: s.root, ii: m.rootIi, ms: 300 } });
    const slow = new Promise<{ err: number }>((resolve) =>
      w.on('message', (x) => x !== 'waiting' && resolve(x)),
    );
    await new Promise<void>((resolve) => w.once('message', () => resolve()));
    await new Promise((r) => setTimeout(r, 50)); // the ZT is in the plugin now
    const done = r.next();
    expect(ioctl(s.zufRoot, m.rootIi, IOCTL_EXIT).err).toBe(-Errno.EIO);
    expect((await slow).err).toBe(0); // it ran to the end: its app is told so
    await done;
    expect(s.restarts).toBe(1);
    expect(ioctl(s.zufRoot, m.rootIi, IOCTL_COUNT).err).toBe(0);
    await w.terminate();
  });

  it("a remount's options are what a restart mounts the volume again with", async () => {
    const r = restarts();
    const s = await start({ onRestart: r.on });
    // The options testfs was last mounted with (IOCTL_OPTIONS: at most the 32 bytes of the arg).
    const options = (ii: number) => {
      const res = ioctl(s.zufRoot, ii, IOCTL_OPTIONS);
      expect(res.err).toBe(0);
      const bytes = new Uint8Array(new Uint32Array(res.words).buffer, 0, res.outLen);
      return new TextDecoder().decode(bytes);
    };
    const crash = async (ii: number) => {
      const done = r.next();
      expect(ioctl(s.zufRoot, ii, IOCTL_EXIT).err).toBe(-Errno.EIO);
      await done;
    };
    const m = mountFs(s.zufRoot, 'testfs', 'a=1,keep,b=2');
    const own = mountFs(s.zufRoot, 'testfs', 'x=1');
    remountFs(s.zufRoot, m.sbId, 'b=3,c=4');
    // A remount the filesystem refuses changes nothing.
    expect(() => remountFs(s.zufRoot, m.sbId, 'refuse,b=9')).toThrow(/EINVAL/);
    // One that says its own options is taken at its word.
    remountFs(s.zufRoot, own.sbId, 'as:y=2');
    expect(options(m.rootIi)).toBe('a=1,keep,b=2'); // no restart yet: the first mount's
    await crash(m.rootIi);
    expect(options(m.rootIi)).toBe('a=1,keep,b=3,c=4');
    expect(options(own.rootIi)).toBe('y=2');
    // And again at the next restart: the ledger keeps them.
    remountFs(s.zufRoot, m.sbId, 'keep,d');
    await crash(m.rootIi);
    expect(options(m.rootIi)).toBe('a=1,keep,b=3,c=4,d');
    expect(s.restarts).toBe(2);
  });

  it('the mount thread dying in mount() fails that mount only; the server restarts and mounts again', async () => {
    const r = restarts();
    const s = await start({ onRestart: r.on });
    const m = mountFs(s.zufRoot, 'testfs');
    expect(() => mountFs(s.zufRoot, 'testfs', 'die-in-mount')).toThrow(/EIO/);
    const m2 = mountFs(s.zufRoot, 'testfs');
    expect(m2.sbId).toBeGreaterThan(m.sbId);
    expect(ioctl(s.zufRoot, m.rootIi, IOCTL_COUNT).err).toBe(0);
    expect(ioctl(s.zufRoot, m2.rootIi, IOCTL_COUNT).err).toBe(0);
    expect((r.list[0] ?? (await r.next())).who).toBe('zufs-mount');
  });

  it('app threads in a loop across 20 crashes: every operation right or EIO, none waits past the restart wait', async () => {
    const r = restarts();
    const s = await start({ zts: 2, channels: 2, maxRestarts: 1000, restartWaitMs: 5000, onRestart: r.on });
    const m = mountFs(s.zufRoot, 'testfs');
    const { stop, results } = loopers(s, m.rootIi);
    for (let i = 0; i < 20; i++) {
      const done = r.next();
      expect(ioctl(s.zufRoot, m.rootIi, IOCTL_EXIT).err).toBe(-Errno.EIO);
      await done;
      expect(ioctl(s.zufRoot, m.rootIi, IOCTL_COUNT).err).toBe(0);
    }
    Atomics.store(stop, 0, 1);
    const rs = await Promise.all(results);
    for (const x of rs) {
      expect(x.other).toEqual([]);
      expect(x.ok).toBeGreaterThan(0);
      expect(x.longestMs).toBeLessThan(6000); // the restart wait (5 s) bounds every operation
    }
    expect(s.restarts).toBe(20);
    await s.stop();
    expect(threadCount()).toBeLessThan(40); // every generation's threads are gone
  }, 180_000);

  it('past the budget the server fails for good: every waiter EIO within 100 ms, as without restarts', async () => {
    let failed: (f: { who: string }) => void = () => {};
    const failure = new Promise<{ who: string }>((resolve) => (failed = resolve));
    const r = restarts();
    const s = await start({
      maxRestarts: 2,
      restartPeriodMs: 60_000,
      onRestart: r.on,
      onFailure: (f) => failed(f),
    });
    const m = mountFs(s.zufRoot, 'testfs');
    for (let i = 0; i < 2; i++) {
      const done = r.next();
      expect(ioctl(s.zufRoot, m.rootIi, IOCTL_EXIT).err).toBe(-Errno.EIO);
      await done;
    }
    const t0 = performance.now();
    expect(ioctl(s.zufRoot, m.rootIi, IOCTL_EXIT).err).toBe(-Errno.EIO);
    expect(performance.now() - t0).toBeLessThan(100);
    expect(s.zufRoot.state()).toBe(STATE_FAILED);
    const t1 = performance.now();
    expect(ioctl(s.zufRoot, m.rootIi, IOCTL_COUNT).err).toBe(-Errno.EIO);
    expect(performance.now() - t1).toBeLessThan(100);
    expect((await failure).who).toMatch(/^zufs-zt-/);
  });

  it('an operation that arrives during a restart waits at most restartWaitMs, then gets EIO', async () => {
    // A restart that cannot finish: the new mount thread hangs in mount() (testfs's 'hang' option).
    const dir = mkdtempSync(new URL('./fixtures/tmp-', import.meta.url).pathname);
    dirs.push(dir);
    const fsFile = join(dir, 'hang-fs.mjs');
    const base = readFileSync(new URL(TEST_FS), 'utf8');
    writeFileSync(
      fsFile,
      base.replace(
        'if (req.restart) {',
        'if (req.restart) { await new Promise((r) => setTimeout(r, 60_000));',
      ),
    );
    const s = await start({
      filesystems: [pathToFileURL(fsFile)],
      restartWaitMs: 300,
      restartTimeoutMs: 30_000,
    });
    const m = mountFs(s.zufRoot, 'testfs');
    expect(ioctl(s.zufRoot, m.rootIi, IOCTL_EXIT).err).toBe(-Errno.EIO);
    const t0 = performance.now();
    expect(() => ioctl(s.zufRoot, m.rootIi, IOCTL_COUNT)).toThrow(/EIO/); // no channel: acquire throws
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1500);
  });
});

describe('live reload', () => {
  it('replaces the modules under app threads in a loop: no operation fails, the new code serves', async () => {
    const dir = mkdtempSync(new URL('./fixtures/tmp-', import.meta.url).pathname);
    dirs.push(dir);
    const fsFile = join(dir, 'test-fs.mjs');
    copyFileSync(new URL(TEST_FS), fsFile);
    const r = restarts();
    const s = await start({ zts: 2, channels: 2, filesystems: [pathToFileURL(fsFile)], onRestart: r.on });
    const m = mountFs(s.zufRoot, 'testfs');
    const { stop, results } = loopers(s, m.rootIi);
    for (let i = 0; i < 10; i++) await s.reload();
    // New code: IOCTL_COUNT now reports its ino as 4242.
    writeFileSync(
      fsFile,
      readFileSync(fsFile, 'utf8').replace('arg.setUint32(4, ino, true);', 'arg.setUint32(4, 4242, true);'),
    );
    await s.reload();
    expect(ioctl(s.zufRoot, m.rootIi, IOCTL_COUNT).words[1]).toBe(4242);
    Atomics.store(stop, 0, 1);
    const rs = await Promise.all(results);
    for (const x of rs) expect(x).toMatchObject({ eio: 0, other: [] });
    expect(rs.reduce((n, x) => n + x.ok, 0)).toBeGreaterThan(0);
    expect(r.list.filter((x) => x.reason === 'reload')).toHaveLength(11);
    expect(s.restarts).toBe(11);
  }, 180_000);

  it('an incompatible reload is refused with a clear error and the old code keeps serving', async () => {
    const dir = mkdtempSync(new URL('./fixtures/tmp-', import.meta.url).pathname);
    dirs.push(dir);
    const fsFile = join(dir, 'test-fs.mjs');
    const base = readFileSync(new URL(TEST_FS), 'utf8');
    writeFileSync(fsFile, base);
    const s = await start({ filesystems: [pathToFileURL(fsFile)] });
    const m = mountFs(s.zufRoot, 'testfs');
    writeFileSync(fsFile, base.replace('version: { major: 1, minor: 2 }', 'version: { major: 2, minor: 0 }'));
    await expect(s.reload()).rejects.toThrow(
      /testfs: format version 2\.x cannot take over volumes of version 1\.x/,
    );
    writeFileSync(fsFile, 'export default 42;');
    await expect(s.reload()).rejects.toThrow(/the new modules do not load/);
    expect(ioctl(s.zufRoot, m.rootIi, IOCTL_COUNT).err).toBe(0);
    expect(s.restarts).toBe(0);
  });

  it('an inline ZT serves across a reload, attached to the mount made again', async () => {
    const s = await start();
    const m = mountFs(s.zufRoot, 'testfs');
    const inline = await serveInline(s.zufRoot, s.inlinePort(), { log: () => {} });
    try {
      expect(ioctl(s.zufRoot, m.rootIi, IOCTL_COUNT).words[2]).toBe(0xffffffff); // zt -1: inline
      await s.reload();
      const before = inline.served;
      const c = ioctl(s.zufRoot, m.rootIi, IOCTL_COUNTERS);
      expect(c.err).toBe(0);
      expect(inline.served).toBe(before + 1);
      expect(c.words[7]).toBe(1); // mounted again once
      expect(c.words[4]).toBeGreaterThanOrEqual(1); // the inline ZT detached from the old mount
    } finally {
      inline.close();
    }
  });
});

describe('a server with no ZT thread (ztThreads 0: the mount thread serves the grid)', () => {
  it('serves app threads in a loop across crashes and reloads, then stops with no thread left', async () => {
    const r = restarts();
    const s = await start({ zts: 1, channels: 2, ztThreads: 0, maxRestarts: 100, onRestart: r.on });
    const m = mountFs(s.zufRoot, 'testfs');
    // zt 0: the grid's ZT, in the mount thread
    expect(ioctl(s.zufRoot, m.rootIi, IOCTL_COUNT).words[2]).toBe(0);
    const { stop, results } = loopers(s, m.rootIi);
    for (let i = 0; i < 3; i++) {
      const done = r.next();
      expect(ioctl(s.zufRoot, m.rootIi, IOCTL_EXIT).err).toBe(-Errno.EIO);
      const info = await done;
      // One thread held both roles: whichever end the supervisor heard first names it.
      expect(info.who).toMatch(/^zufs-(zt-0-1|mount)$/);
      expect(ioctl(s.zufRoot, m.rootIi, IOCTL_COUNT).err).toBe(0);
    }
    // Each crash mounted the volume again (the same sbId, its state kept): the counters say so.
    expect(ioctl(s.zufRoot, m.rootIi, IOCTL_COUNTERS).words[7]).toBe(3);
    for (let i = 0; i < 3; i++) await s.reload();
    // Past the standby's delay, a crash takes the standby generation over.
    await new Promise((res) => setTimeout(res, 1500));
    const done = r.next();
    expect(ioctl(s.zufRoot, m.rootIi, IOCTL_EXIT).err).toBe(-Errno.EIO);
    await done;
    Atomics.store(stop, 0, 1);
    const rs = await Promise.all(results);
    for (const x of rs) {
      expect(x.other).toEqual([]);
      expect(x.ok).toBeGreaterThan(0);
    }
    expect(s.restarts).toBe(7);
    expect(ioctl(s.zufRoot, m.rootIi, IOCTL_COUNT).err).toBe(0);
    const before = threadCount();
    const t0 = performance.now();
    await s.stop();
    expect(performance.now() - t0).toBeLessThan(1500); // not the 2 s force timer
    expect(threadCount()).toBeLessThan(before);
  }, 120_000);
});
