// Shared-memory locks under real contention: worker threads (test/fixtures/lock-worker.mjs) that
// load the built package, on one SharedArrayBuffer. Word map: see the fixture.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { LockTimeoutError, SharedMutex, SharedRwLock, SharedSeqlock } from '@zufs/zuf-core';
import { describe, expect, it } from 'vitest';

const FIXTURE = new URL('./fixtures/lock-worker.mjs', import.meta.url);
type Result = Record<string, number | boolean | string>;

interface Run {
  ready: Promise<void>;
  result: Promise<Result>;
  worker: Worker;
}

function spawn(sab: SharedArrayBuffer, role: string, opts: Record<string, number> = {}): Run {
  const worker = new Worker(FIXTURE, { workerData: { role, sab, ...opts } });
  let ready!: () => void;
  const readyP = new Promise<void>((r) => {
    ready = r;
  });
  const result = new Promise<Result>((resolve, reject) => {
    worker.on('message', (m) => {
      if (m === 'ready') return ready();
      if (m.ok) resolve(m);
      else reject(new Error(`${role}: ${m.error}`));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`${role} exited (${code}) without a result`)));
  });
  return { ready: readyP, result, worker };
}

/** Starts the workers together: they wait on the gate word until all of them are up. */
async function start(w: Int32Array, runs: Run[]): Promise<void> {
  await Promise.all(runs.map((r) => r.ready));
  Atomics.store(w, 4, 1);
  Atomics.notify(w, 4);
}

async function finish(runs: Run[]): Promise<Result[]> {
  try {
    return await Promise.all(runs.map((r) => r.result));
  } finally {
    await Promise.all(runs.map((r) => r.worker.terminate()));
  }
}

function words(): [SharedArrayBuffer, Int32Array] {
  const sab = new SharedArrayBuffer(64);
  return [sab, new Int32Array(sab)];
}

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** How long `fn` took to throw a LockTimeoutError (fails the test if it did not). */
function timeoutOf(fn: () => unknown): number {
  const t0 = performance.now();
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(LockTimeoutError);
  expect((err as LockTimeoutError).code).toBe('ETIMEDOUT');
  return performance.now() - t0;
}

describe('SharedRwLock', () => {
  it('keeps a pair of counters equal: 3 writer threads increment, 2 reader threads check', async () => {
    const [sab, w] = words();
    const writers = [0, 1, 2].map(() => spawn(sab, 'rw-writer', { n: 10_000 }));
    const readers = [0, 1].map(() => spawn(sab, 'rw-reader', { n: 1e7 }));
    await start(w, [...writers, ...readers]);
    const done = await finish(writers);
    Atomics.store(w, 5, 1);
    const seen = await finish(readers);
    expect(done.map((d) => d.done)).toEqual([10_000, 10_000, 10_000]);
    // Plain read-modify-writes from three threads: any lost exclusion loses an increment.
    expect([w[8], w[9]]).toEqual([30_000, 30_000]);
    for (const r of seen) {
      expect(r.reads).toBeGreaterThan(0);
      expect(r.torn).toBe(0);
      expect(r.writerSeen).toBe(0);
    }
    const rw = new SharedRwLock(w, 0);
    expect([rw.readers(), rw.writersWaiting(), rw.isWriteLocked()]).toEqual([0, 0, false]);
  });

  it('lets a writer in while readers keep coming (writer preference)', async () => {
    const [sab, w] = words();
    const rw = new SharedRwLock(w, 0);
    // Three threads hold 2 ms read locks back to back: the reader count never drops to 0 by itself.
    const hogs = [0, 1, 2].map(() => spawn(sab, 'rw-hog', { holdMs: 2 }));
    await start(w, hogs);
    while (Atomics.load(w, 6) === 0) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    rw.lockWrite(3000);
    const waited = performance.now() - t0;
    let inside = 0;
    for (let k = 0; k < 100; k++) {
      inside += Atomics.load(w, 6);
      busy(0.1);
    }
    rw.unlockWrite();
    await new Promise((r) => setTimeout(r, 30));
    Atomics.store(w, 5, 1);
    const res = await finish(hogs);
    expect(inside).toBe(0);
    expect(waited).toBeLessThan(1000);
    for (const r of res) expect(r.reads).toBeGreaterThan(2);
  });

  it('tryRead / tryWrite never wait and follow the lock state', () => {
    const [, w] = words();
    const rw = new SharedRwLock(w, 0);
    expect(rw.tryRead()).toBe(true);
    expect(rw.tryRead()).toBe(true);
    expect(rw.readers()).toBe(2);
    expect(rw.tryWrite()).toBe(false);
    rw.unlockRead();
    expect(rw.tryWrite()).toBe(false);
    rw.unlockRead();
    expect(rw.tryWrite()).toBe(true);
    expect(rw.tryRead()).toBe(false);
    expect(rw.tryWrite()).toBe(false);
    rw.unlockWrite();
    expect(() => rw.unlockWrite()).toThrow(/no write hold/);
    expect(() => rw.unlockRead()).toThrow(/no read hold/);
    expect(Atomics.load(w, 0)).toBe(0);
    expect(rw.withRead(() => rw.readers())).toBe(1);
    expect(rw.withWrite(() => rw.isWriteLocked())).toBe(true);
    expect(() => new SharedRwLock(w, w.length - 1)).toThrow(RangeError);
  });

  it('stops new readers while a writer waits, and hands over when the readers leave', async () => {
    const [sab, w] = words();
    const rw = new SharedRwLock(w, 0);
    rw.lockRead();
    const writer = spawn(sab, 'wait-write', { holdMs: 1 });
    await start(w, [writer]);
    const until = performance.now() + 5000;
    while (rw.writersWaiting() === 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 2));
    expect(rw.writersWaiting()).toBe(1);
    expect(rw.tryRead()).toBe(false);
    timeoutOf(() => rw.lockRead(30));
    rw.unlockRead();
    const [res] = await finish([writer]);
    expect(res.waited).toBeGreaterThan(20);
    expect(rw.tryRead()).toBe(true);
    rw.unlockRead();
  });

  it('times out within the bound instead of hanging, and a timed-out writer leaves no trace', () => {
    const [, w] = words();
    const rw = new SharedRwLock(w, 0);
    rw.lockWrite();
    expect(timeoutOf(() => rw.lockRead(100))).toBeGreaterThanOrEqual(99);
    expect(timeoutOf(() => rw.lockWrite(100))).toBeLessThan(1000);
    expect(rw.writersWaiting()).toBe(0);
    rw.unlockWrite();
    rw.lockRead();
    expect(timeoutOf(() => rw.lockWrite(100))).toBeLessThan(1000);
    // The writer that gave up no longer holds readers back.
    expect(rw.tryRead()).toBe(true);
    rw.unlockRead();
    rw.unlockRead();
    expect(Atomics.load(w, 0)).toBe(0);
  });

  it('turns a holder that died into LockTimeoutError', async () => {
    const [sab, w] = words();
    const dead = spawn(sab, 'die-write');
    await start(w, [dead]);
    expect((await finish([dead]))[0].held).toBe(true);
    const rw = new SharedRwLock(w, 0);
    expect(timeoutOf(() => rw.lockRead(150))).toBeLessThan(1500);
    expect(timeoutOf(() => rw.lockWrite(150))).toBeLessThan(1500);
  });
});

describe('SharedSeqlock', () => {
  it('readers in other threads never see a torn 8-word record over 100k reads', async () => {
    const [sab, w] = words();
    const writer = spawn(sab, 'seq-writer');
    const readers = [0, 1].map(() => spawn(sab, 'seq-reader', { n: 50_000 }));
    await start(w, [writer, ...readers]);
    const seen = await finish(readers);
    Atomics.store(w, 5, 1);
    const [wrote] = await finish([writer]);
    expect(wrote.writes).toBeGreaterThan(0);
    for (const r of seen) {
      expect(r.torn).toBe(0);
      expect(r.reads).toBeGreaterThanOrEqual(50_000);
      // The reads overlapped the writes: each reader saw the record change many times.
      expect(r.changes).toBeGreaterThanOrEqual(20);
    }
  });

  it('serializes writers: 3 threads increment a plain word under writeBegin/writeEnd', async () => {
    const [sab, w] = words();
    const runs = [0, 1, 2].map(() => spawn(sab, 'seq-incr', { n: 10_000 }));
    await start(w, runs);
    await finish(runs);
    expect(w[8]).toBe(30_000);
    // Every write moves the sequence by 2 and leaves it even.
    expect(new SharedSeqlock(w, 2).sequence()).toBe(60_000);
  });

  it('readBegin / readRetry / tryWriteBegin follow the sequence', () => {
    const [, w] = words();
    const sl = new SharedSeqlock(w, 2);
    const s0 = sl.readBegin();
    expect(s0 % 2).toBe(0);
    expect(sl.readRetry(s0)).toBe(false);
    expect(sl.tryWriteBegin()).toBe(true);
    expect(sl.sequence() % 2).toBe(1);
    expect(sl.readRetry(s0)).toBe(true);
    expect(sl.tryWriteBegin()).toBe(false);
    sl.writeEnd();
    expect(() => sl.writeEnd()).toThrow(/no write in progress/);
    const s1 = sl.readBegin();
    expect(s1).toBe(s0 + 2);
    expect(sl.readRetry(s1)).toBe(false);
  });

  it('read(fn) retries torn snapshots, even when fn throws on one, and gives up after maxTries', () => {
    const [, w] = words();
    const sl = new SharedSeqlock(w, 2);
    let calls = 0;
    // A write lands during every call: never consistent.
    const churn = () => {
      calls++;
      sl.writeBegin();
      sl.writeEnd();
    };
    expect(() => sl.read(churn, 10)).toThrow(/no consistent snapshot in 10 tries/);
    expect(calls).toBe(10);
    calls = 0;
    const v = sl.read(() => {
      if (++calls === 1) {
        churn();
        throw new RangeError('torn');
      }
      return 42;
    });
    expect([v, calls]).toEqual([42, 3]);
    // Thrown without a write in between: the error is real.
    expect(() =>
      sl.read(() => {
        throw new TypeError('real');
      }),
    ).toThrow(TypeError);
  });

  it('turns a writer that died into LockTimeoutError for readers and writers', async () => {
    const [sab, w] = words();
    const dead = spawn(sab, 'die-seq');
    await start(w, [dead]);
    await finish([dead]);
    const sl = new SharedSeqlock(w, 2);
    expect(timeoutOf(() => sl.readBegin(100))).toBeGreaterThanOrEqual(99);
    expect(timeoutOf(() => sl.writeBegin(100))).toBeLessThan(1000);
    expect(timeoutOf(() => sl.read(() => 0, 5, 50))).toBeLessThan(1000);
  });
});

describe('lock waits in a process that is stopped and continued', () => {
  it('count the time they waited, not the pause: a 2.5 s SIGSTOP does not time out 1 s waits', () => {
    // A separate process (a SIGSTOP would stop these tests too): its main thread holds a mutex and
    // a write hold, two workers wait for them, it stops itself, lets go 50 ms after SIGCONT.
    const out = execFileSync(
      process.execPath,
      [fileURLToPath(new URL('./fixtures/stopped-lock.mjs', import.meta.url))],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(JSON.parse(out.trim())).toEqual({ paused: true, mutex: 'acquired', rwlock: 'acquired' });
  });
});

describe('SharedMutex', () => {
  it('times out on a held mutex and tryLock follows the state', () => {
    const [, w] = words();
    const m = new SharedMutex(w, 0);
    expect(m.tryLock()).toBe(true);
    expect(m.tryLock()).toBe(false);
    expect(timeoutOf(() => m.lock(50))).toBeGreaterThanOrEqual(49);
    m.unlock();
    expect(m.isLocked()).toBe(false);
  });
});
