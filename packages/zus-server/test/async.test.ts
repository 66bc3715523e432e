// Asynchronous plugin operations: a plugin's Promise keeps its operation pending while the other
// channels serve; deadlines, aborts, rejections and a dying server end pending operations.
import { Worker } from 'node:worker_threads';
import { type Channel, dispatcherFor, fsTypes, mountFs, STATE_FAILED, type ZufRoot } from '@zufs/zuf-core';
import { Errno, IocIoctl, setU64, ZUFS_OP_IOCTL } from '@zufs/zuf-core/api';
import { serveInline, startServer, type ZusServer } from '@zufs/zus-server';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEADLINE_MS,
  IOCTL_ECHO,
  IOCTL_EXIT,
  IOCTL_REJECT,
  IOCTL_REJECT_ERRNO,
  IOCTL_SLEEP,
  IOCTL_STATE,
  IOCTL_STUCK,
  IOCTL_UNTIL_ABORT,
} from './fixtures/async-fs.mjs';
import { ioctl, TEST_FS } from './helpers.js';

const ASYNC_FS = new URL('./fixtures/async-fs.mjs', import.meta.url);
const REMOTE_FS = new URL('./fixtures/remote-fs.mjs', import.meta.url);
const ASYNC_APP = new URL('./fixtures/async-app.mjs', import.meta.url);

const servers: ZusServer[] = [];
async function start(opts: Parameters<typeof startServer>[0]): Promise<ZusServer> {
  const s = await startServer({ windowSize: 64 * 1024, filesystems: [ASYNC_FS], ...opts });
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

/** Runs `threads` app workers of `count` operations each; resolves with their reports. */
async function apps(s: ZusServer, rootIi: number, threads: number, count: number) {
  const reports = await Promise.all(
    Array.from({ length: threads }, (_, t) => {
      const w = new Worker(ASYNC_APP, { workerData: { root: s.root, rootIi, count, shift: t * 12_345 } });
      return new Promise<{ done: number; bad: string | null }>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      }).finally(() => w.terminate());
    }),
  );
  return reports;
}

/** The plugin's shared words: inside now, most at once, stuck aborts, their reason. */
function pluginState(root: ZufRoot, rootIi: number): number[] {
  return ioctl(root, rootIi, IOCTL_STATE).words.slice(0, 4);
}

/** An ioctl dispatched with callAsync (this thread's event loop goes on), on a channel of its own. */
async function ioctlAsync(
  root: ZufRoot,
  ii: number,
  cmd: number,
  a0 = 0,
  opts?: { signal?: AbortSignal; timeoutMs?: number },
): Promise<{ err: number; words: number[]; at: number; interrupted: boolean }> {
  const ch: Channel = dispatcherFor(root).acquire(5000);
  try {
    ch.begin(ZUFS_OP_IOCTL, IocIoctl.arg + 8, IocIoctl.arg, 8);
    setU64(ch.op, IocIoctl.zus_ii, ii);
    ch.op.setUint32(IocIoctl.cmd, cmd, true);
    ch.op.setUint32(IocIoctl.arg, a0, true);
    ch.op.setUint32(IocIoctl.arg + 4, 0, true);
    const err = await ch.callAsync(opts);
    const words = [ch.op.getUint32(IocIoctl.arg, true), ch.op.getUint32(IocIoctl.arg + 4, true)];
    return { err, words, at: performance.now(), interrupted: ch.interrupted };
  } finally {
    ch.release();
  }
}

describe('operations that return Promises', () => {
  it('answer 10 000 operations from 8 app threads, every result right (2 threads serve 8 channels)', async () => {
    const s = await start({ zts: 2, channels: 4, ztThreads: 2 });
    const m = mountFs(s.zufRoot, 'asyncfs');
    const reports = await apps(s, m.rootIi, 8, 1250);
    expect(reports.map((r) => r.bad)).toEqual(Array(8).fill(null));
    expect(reports.reduce((n, r) => n + r.done, 0)).toBe(10_000);
    // More operations were pending at once than there are threads: a pending one held nobody up.
    const [inside, most] = pluginState(s.zufRoot, m.rootIi);
    expect(inside).toBe(0);
    expect(most).toBeGreaterThan(2);
  });

  it('are served by one thread per channel too (a synchronous filesystem type’s threads), and by a remote type’s', async () => {
    const s = await start({ zts: 2, channels: 2, filesystems: [ASYNC_FS, REMOTE_FS] });
    for (const type of ['asyncfs', 'remotefs']) {
      const m = mountFs(s.zufRoot, type);
      const reports = await apps(s, m.rootIi, 4, 300);
      expect(reports.map((r) => r.bad)).toEqual(Array(4).fill(null));
      expect(pluginState(s.zufRoot, m.rootIi)[1]).toBeGreaterThan(1);
    }
  });

  it('a synchronous filesystem is served the same by one thread waiting on several channels', async () => {
    const s = await start({ zts: 2, channels: 2, ztThreads: 1, filesystems: [TEST_FS] });
    const m = mountFs(s.zufRoot, 'testfs');
    for (let i = 1; i <= 2000; i++) {
      const r = ioctl(s.zufRoot, m.rootIi, 1);
      expect(r.err).toBe(0);
      expect(r.words[0]).toBe(i); // the plugin's shared counter: every call served once
    }
    expect(ioctl(s.zufRoot, m.rootIi, 2).err).toBe(-Errno.ENOSPC);
  });

  it('a rejection with a ZusError gives its errno; any other gives EIO and a log line; the server goes on', async () => {
    const logs: string[] = [];
    const s = await start({ zts: 1, channels: 2, onLog: (_l, msg) => logs.push(msg) });
    const m = mountFs(s.zufRoot, 'asyncfs');
    expect(ioctl(s.zufRoot, m.rootIi, IOCTL_REJECT_ERRNO).err).toBe(-Errno.ENOSPC);
    expect(logs).toEqual([]);
    expect(ioctl(s.zufRoot, m.rootIi, IOCTL_REJECT).err).toBe(-Errno.EIO);
    const said = (l: string) => l.includes('IOCTL') && l.includes('the network broke');
    for (let i = 0; i < 200 && !logs.some(said); i++) await new Promise((r) => setTimeout(r, 10));
    expect(logs.some(said)).toBe(true);
    expect(ioctl(s.zufRoot, m.rootIi, IOCTL_ECHO, [20]).words[0]).toBe(41);
  });
});

describe('nothing waits forever', () => {
  it('a stuck operation answers EIO at its deadline, its signal aborted, while the others go on', async () => {
    const logs: string[] = [];
    const s = await start({ zts: 1, channels: 4, ztThreads: 1, onLog: (_l, msg) => logs.push(msg) });
    const m = mountFs(s.zufRoot, 'asyncfs');
    const t0 = performance.now();
    const stuck = ioctlAsync(s.zufRoot, m.rootIi, IOCTL_STUCK, 0);
    // Meanwhile, on the same thread's other channels, operations come and go.
    let others = 0;
    let stuckDone = false;
    void stuck.then(() => (stuckDone = true));
    while (!stuckDone) {
      const r = await ioctlAsync(s.zufRoot, m.rootIi, IOCTL_ECHO, others);
      expect(r.err).toBe(0);
      expect(r.words[0]).toBe(2 * others + 1);
      others++;
    }
    const r = await stuck;
    expect(r.err).toBe(-Errno.EIO);
    expect(r.at - t0).toBeGreaterThanOrEqual(DEADLINE_MS - 5);
    expect(r.at - t0).toBeLessThan(DEADLINE_MS + 1000);
    // The others went on: several round trips while the stuck one waited (thousands on a quiet
    // machine, under ten on one loaded past its cores, where each waits for a core).
    expect(others).toBeGreaterThan(2);
    const [, , aborts, reason] = pluginState(s.zufRoot, m.rootIi);
    expect([aborts, reason]).toEqual([1, 1]); // one abort, a TimeoutError
    // The log line travels through the supervisor's port: wait for it (bounded).
    const said = (l: string) => l.includes(`IOCTL of asyncfs did not settle within ${DEADLINE_MS} ms`);
    for (let i = 0; i < 200 && !logs.some(said); i++) await new Promise((res) => setTimeout(res, 10));
    expect(logs.some(said)).toBe(true);
  });

  it('a channel whose operation outlived its deadline serves nobody until its Promise settles', async () => {
    const s = await start({ zts: 1, channels: 2, ztThreads: 1, onLog: () => {} });
    const m = mountFs(s.zufRoot, 'asyncfs');
    // Settles at 2.5 deadlines, writing 0xdead into its channel's buffer as it does.
    const late = ioctlAsync(s.zufRoot, m.rootIi, IOCTL_STUCK, DEADLINE_MS * 2.5);
    expect((await late).err).toBe(-Errno.EIO);
    const d = dispatcherFor(s.zufRoot);
    // One channel is left: a second acquire waits for the retired one.
    const a = d.acquire();
    expect(() => d.acquire(DEADLINE_MS / 3)).toThrow(/ETIMEDOUT/);
    a.release();
    // Once the plugin is done with it, it serves again, and the late write hit no one's reply.
    const t0 = performance.now();
    const held = [d.acquire(5000), d.acquire(5000)];
    expect(performance.now() - t0).toBeGreaterThan(DEADLINE_MS / 2);
    for (const ch of held) ch.release();
    const rs = await Promise.all([0, 1].map((k) => ioctlAsync(s.zufRoot, m.rootIi, IOCTL_ECHO, k)));
    expect(rs.map((r) => r.words[0])).toEqual([1, 3]);
  });

  it('an app’s timeout and an app’s AbortSignal reach the plugin as its signal’s abort', async () => {
    const s = await start({ zts: 1, channels: 2 });
    const m = mountFs(s.zufRoot, 'asyncfs');
    // A synchronous call with a timeout: its wait is interrupted, the plugin stops, the reply comes.
    const t0 = performance.now();
    const r = ioctl(s.zufRoot, m.rootIi, IOCTL_UNTIL_ABORT, [], { timeoutMs: 30 });
    expect(performance.now() - t0).toBeLessThan(DEADLINE_MS);
    expect(r).toMatchObject({ err: 0, interrupted: true });
    expect(r.words.slice(0, 2)).toEqual([1, 1]);
    // An asynchronous call aborted by its caller.
    const ac = new AbortController();
    const p = ioctlAsync(s.zufRoot, m.rootIi, IOCTL_UNTIL_ABORT, 0, { signal: ac.signal });
    await new Promise((res) => setTimeout(res, 30));
    const t1 = performance.now();
    ac.abort();
    const a = await p;
    // Answered, not EIO at the operation's deadline: the abort reached the plugin (a second covers
    // a loaded machine's scheduling).
    expect(a.at - t1).toBeLessThan(1000);
    expect(a).toMatchObject({ err: 0, interrupted: true, words: [1, 1] });
  });

  it('a server failure turns every pending operation into EIO at once', async () => {
    const s = await start({ zts: 2, channels: 4, ztThreads: 2, maxRestarts: 0, onLog: () => {} });
    const m = mountFs(s.zufRoot, 'asyncfs');
    const pending = Array.from({ length: 6 }, () => ioctlAsync(s.zufRoot, m.rootIi, IOCTL_SLEEP, 60_000));
    await new Promise((res) => setTimeout(res, 50));
    const t0 = performance.now();
    expect(ioctl(s.zufRoot, m.rootIi, IOCTL_EXIT).err).toBe(-Errno.EIO);
    const rs = await Promise.all(pending);
    expect(rs.map((r) => r.err)).toEqual(Array(6).fill(-Errno.EIO));
    // At once: not when their 60 s sleeps end (a second covers a loaded machine's scheduling).
    expect(Math.max(...rs.map((r) => r.at)) - t0).toBeLessThan(1000);
    expect(s.zufRoot.state()).toBe(STATE_FAILED);
  });
});

describe('remote filesystem types', () => {
  it('are published as remote; serveInline refuses a server with one: the grid serves its operations', async () => {
    const s = await start({ zts: 1, channels: 1, filesystems: [ASYNC_FS, REMOTE_FS] });
    expect(fsTypes(s.zufRoot).map((t) => [t.name, t.remote])).toEqual([
      ['asyncfs', false],
      ['remotefs', true],
    ]);
    await expect(serveInline(s.root, s.inlinePort())).rejects.toThrow(/remotefs is a remote filesystem/);
    expect(dispatcherFor(s.zufRoot).servesInline).toBe(false);
  });

  it('an inline ZT answers EIO, and logs why, when a type not declared remote returns a Promise', async () => {
    const s = await start({ zts: 1, channels: 1 });
    const m = mountFs(s.zufRoot, 'asyncfs');
    const logs: string[] = [];
    const inline = await serveInline(s.root, s.inlinePort(), { log: (_l, msg) => logs.push(msg) });
    try {
      expect(ioctl(s.zufRoot, m.rootIi, IOCTL_ECHO, [1]).err).toBe(-Errno.EIO);
      expect(logs).toEqual([
        'ZT -1: ZUFS_OP_IOCTL of asyncfs returned a Promise to an inline ZT (declare the type remote): EIO',
      ]);
    } finally {
      inline.close();
    }
    // The grid serves it.
    expect(ioctl(s.zufRoot, m.rootIi, IOCTL_ECHO, [1]).words[0]).toBe(3);
  });

  it('a type’s remote and opDeadlineMs are checked when it loads', async () => {
    const type = (extra: string) =>
      `data:text/javascript,export default { name: 'x', magic: 1, mount() {}, attach() {}, ${extra} }`;
    await expect(
      startServer({ zts: 1, channels: 1, filesystems: [type('opDeadlineMs: -5')] }),
    ).rejects.toThrow(/opDeadlineMs must be a number of milliseconds above 0, got -5/);
    await expect(startServer({ zts: 1, channels: 1, filesystems: [type("remote: 'yes'")] })).rejects.toThrow(
      /remote must be a boolean/,
    );
  });

  it('validates ztThreads against the grid', async () => {
    await expect(startServer({ zts: 1, channels: 2, ztThreads: 3 })).rejects.toThrow(
      /ztThreads must be 0..2/,
    );
  });
});
