// Interrupts, break, async waits and counters, against real worker threads.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import {
  type AppWaitOptions,
  RELAY_BROKEN,
  RELAY_INTR,
  RELAY_OK,
  RELAY_TIMEOUT,
  Relay,
  type RelayOptions,
  RelayWord,
} from '@zufs/relay';
import { describe, expect, it } from 'vitest';
import { absNow, CMD_STOP, D } from './fixtures/layout.mjs';
import { LONG_SLICE, newShared, type Started, sleep, start, until } from './helpers.js';

interface ZtResult {
  handled: number;
  timeouts: number;
  broken: boolean;
}
interface Step {
  op: string;
  r?: number;
  start: number;
  end: number;
}
type Script = (string | number)[][];

/** A relay on a fresh buffer with a ZT worker (fixtures/zt.mjs) serving it. */
async function withZt(appOpts?: RelayOptions, ztOpts?: RelayOptions) {
  const sh = newShared();
  const relay = Relay.init(sh.sab, 0, appOpts);
  const zt = await start<ZtResult>('zt.mjs', { sab: sh.sab, relayOpts: ztOpts });
  let seq = 0;
  return {
    ...sh,
    relay,
    zt,
    /** Grabs, writes the next request and returns its number (the caller waits). */
    post(delayMs = 0, stop = false): number {
      if (!relay.grabIfFssWaiting()) throw new Error('channel not free');
      sh.d[D.DELAY_MS] = delayMs;
      sh.d[D.CMD] = stop ? CMD_STOP : 0;
      sh.d[D.REQ] = ++seq;
      return seq;
    },
    async stop(): Promise<ZtResult> {
      this.post(0, true);
      expect(relay.appWakeupAndWait()).toBe(RELAY_OK);
      relay.appRelease();
      const res = await zt.result;
      expect(await zt.exited).toBe(0);
      return res;
    },
  };
}

/** A worker that runs a script of relay calls (fixtures/actor.mjs). */
function actor(sab: SharedArrayBuffer, steps: Script, relayOpts?: RelayOptions) {
  return start<{ steps: Step[] }>('actor.mjs', { sab, steps, relayOpts });
}

async function finished(a: Started<{ steps: Step[] }>): Promise<Step[]> {
  const { steps } = await a.result;
  expect(await a.exited).toBe(0);
  return steps;
}

describe('interrupted app waits', () => {
  it('timeoutMs: INTR raised, the ZT sees it, the wait goes on until the reply', async () => {
    const p = await withZt();
    let calls = 0;
    let intrAt = 0;
    const opts: AppWaitOptions = {
      timeoutMs: 20,
      onInterrupt: () => {
        calls++;
        intrAt = performance.now() - t0;
      },
    };
    const seq = p.post(150);
    const t0 = performance.now();
    const r = p.relay.appWakeupAndWait(opts);
    const dt = performance.now() - t0;
    expect(r).toBe(RELAY_OK | RELAY_INTR);
    expect(calls).toBe(1);
    expect(intrAt).toBeGreaterThanOrEqual(19);
    expect(intrAt).toBeLessThan(140);
    expect(dt).toBeGreaterThanOrEqual(149); // it waited for the reply
    expect(p.d[D.RESP]).toBe(seq); // and the reply is there
    expect(p.d[D.SAW_INTR]).toBe(1); // the ZT saw the interrupt while it worked
    expect(p.d[D.INTR_AT_MS]).toBeLessThan(140);
    expect(p.relay.isInterrupted()).toBe(true);
    p.relay.appRelease();

    // The next request starts clean.
    p.post(30);
    expect(p.relay.appWakeupAndWait(opts)).toBe(RELAY_OK | RELAY_INTR);
    expect(calls).toBe(2);
    p.relay.appRelease();
    p.post(5);
    expect(p.relay.appWakeupAndWait()).toBe(RELAY_OK);
    expect(p.d[D.SAW_INTR]).toBe(0);
    expect(p.relay.isInterrupted()).toBe(false);
    p.relay.appRelease();
    expect(calls).toBe(2);
    expect((await p.stop()).handled).toBe(4);
  });

  it('an aborted signal interrupts a sync wait between park slices', async () => {
    const p = await withZt();
    let calls = 0;
    const seq = p.post(80);
    const r = p.relay.appWakeupAndWait({ signal: AbortSignal.abort(), onInterrupt: () => calls++ });
    expect(r).toBe(RELAY_INTR);
    expect(calls).toBe(1);
    expect(p.d[D.RESP]).toBe(seq);
    expect(p.d[D.SAW_INTR]).toBe(1);
    expect(p.d[D.INTR_AT_MS]).toBeLessThan(60);
    p.relay.appRelease();
    await p.stop();
  });

  it('an abort during an async wait interrupts it at once', async () => {
    const p = await withZt();
    let calls = 0;
    const ac = new AbortController();
    const seq = p.post(200);
    setTimeout(() => ac.abort(), 20);
    const r = await p.relay.appWakeupAndWaitAsync({ signal: ac.signal, onInterrupt: () => calls++ });
    expect(r).toBe(RELAY_INTR);
    expect(calls).toBe(1);
    expect(p.d[D.RESP]).toBe(seq);
    expect(p.d[D.SAW_INTR]).toBe(1);
    expect(p.d[D.INTR_AT_MS]).toBeLessThan(150); // long before the ZT is done
    p.relay.appRelease();
    // Aborting again after the wait calls nothing.
    expect(calls).toBe(1);
    await p.stop();
  });

  it('timeoutMs interrupts an async wait', async () => {
    const p = await withZt();
    let calls = 0;
    p.post(100);
    const r = await p.relay.appWakeupAndWaitAsync({ timeoutMs: 20, onInterrupt: () => calls++ });
    expect(r).toBe(RELAY_INTR);
    expect(calls).toBe(1);
    expect(p.d[D.SAW_INTR]).toBe(1);
    p.relay.appRelease();
    await p.stop();
  });

  it('an onInterrupt that throws is rethrown once the reply is in; the relay goes on', async () => {
    const p = await withZt();
    const seq = p.post(60);
    expect(() =>
      p.relay.appWakeupAndWait({
        timeoutMs: 5,
        onInterrupt: () => {
          throw new Error('boom');
        },
      }),
    ).toThrow('boom');
    expect(p.d[D.RESP]).toBe(seq);
    expect(p.words[RelayWord.APP]).toBe(0); // the reply was consumed
    p.relay.appRelease();
    const seq2 = p.post(0);
    expect(p.relay.appWakeupAndWait()).toBe(RELAY_OK);
    expect(p.d[D.RESP]).toBe(seq2);
    p.relay.appRelease();
    await p.stop();
  });
});

describe('the ZT view', () => {
  it('isAppWaiting is up while the ZT serves, down after appWakeup; waitCont waits without waking', async () => {
    const p = await withZt();
    p.post(0);
    expect(p.relay.appWakeupAndWait()).toBe(RELAY_OK);
    expect(p.d[D.SAW_APP_WAITING]).toBe(1);
    expect(p.relay.isAppWaiting()).toBe(false);
    p.relay.appRelease();
    // The split form: wake by hand, then waitCont (app_waiting is not raised by either).
    const seq = p.post(10);
    p.relay.fssWakeup();
    expect(p.relay.waitCont()).toBe(RELAY_OK);
    expect(p.d[D.RESP]).toBe(seq);
    expect(p.d[D.SAW_APP_WAITING]).toBe(0);
    p.relay.appRelease();
    await p.stop();
  });
});

describe('counters', () => {
  it('count one park and one notify per wait when the peer is slow', async () => {
    const p = await withZt({ maxSpinUs: 20 }, { maxSpinUs: 20 });
    const n = 5;
    for (let i = 0; i < n; i++) {
      await sleep(30); // the ZT parks
      p.post(30); // and answers late: the app parks
      expect(p.relay.appWakeupAndWait()).toBe(RELAY_OK);
      p.relay.appRelease();
    }
    await sleep(30); // the ZT has parked again, in its next wait
    expect(p.relay.counters()).toEqual({
      fssSpins: 0,
      fssParks: n + 1,
      fssWakeups: n,
      appSpins: 0,
      appParks: n,
      appWakeups: n,
    });
    p.relay.resetCounters();
    // The ZT, parked, gets a notify for the stop request; the app's wait is counted once.
    await p.stop();
    const c = p.relay.counters();
    expect(c.fssWakeups).toBe(1);
    expect(c.appSpins + c.appParks).toBe(1);
    expect(c.appWakeups).toBe(c.appParks);
  });
});

describe('nudge', () => {
  // The ZT's first wait spins ~1 us, then parks in 10 s slices: only a notify wakes it in time.
  const parksAtOnce = (maxSpinUs: number): RelayOptions => ({
    ...LONG_SLICE,
    minSpinUs: 1,
    initialSpinUs: 1,
    maxSpinUs,
  });

  it('wakes a parked ZT, which spins and takes the post that follows without a notify', async () => {
    const p = await withZt(undefined, parksAtOnce(2e6));
    await until(() => Atomics.load(p.words, RelayWord.FSS) === 2);
    expect(p.relay.fssNudge()).toBe(true);
    await sleep(20); // the app "copies"; the ZT spins meanwhile
    expect(Atomics.load(p.words, RelayWord.FSS)).toBe(3);
    p.post();
    expect(p.relay.appWakeupAndWait()).toBe(RELAY_OK);
    p.relay.appRelease();
    expect(p.relay.counters()).toMatchObject({ fssParks: 1, fssWakeups: 1 });
    // Not parked (spinning, or serving): a nudge does nothing.
    p.post(30);
    p.relay.fssWakeup();
    await sleep(5);
    expect(p.relay.fssNudge()).toBe(false);
    expect(p.relay.waitCont()).toBe(RELAY_OK);
    p.relay.appRelease();
    expect((await p.stop()).handled).toBe(3);
  });

  it('a ZT whose spin runs out parks again; the post then notifies it', async () => {
    const p = await withZt(undefined, parksAtOnce(1000));
    await until(() => Atomics.load(p.words, RelayWord.FSS) === 2);
    expect(p.relay.fssNudge()).toBe(true);
    // ~1 ms of spinning, then NUDGED -> PARKED, counted as a second park.
    await until(() => p.relay.counters().fssParks === 2);
    expect(Atomics.load(p.words, RelayWord.FSS)).toBe(2);
    expect(p.relay.counters().fssWakeups).toBe(1);
    const t0 = performance.now();
    p.post();
    expect(p.relay.appWakeupAndWait()).toBe(RELAY_OK);
    expect(performance.now() - t0).toBeLessThan(500); // the park slice is 10 s
    p.relay.appRelease();
    // (fssParks may already count the ZT's next wait.)
    expect(p.relay.counters().fssWakeups).toBe(2);
    await p.stop();
  });

  it('fssWait(ms) still times out after a nudge that no post followed', async () => {
    const { sab, words } = newShared();
    const relay = Relay.init(sab);
    const a = await actor(sab, [['fssWait', 200]], { minSpinUs: 1, initialSpinUs: 1, maxSpinUs: 1000 });
    await until(() => Atomics.load(words, RelayWord.FSS) === 2);
    expect(relay.fssNudge()).toBe(true);
    const [s] = await finished(a);
    expect(s.r).toBe(RELAY_TIMEOUT);
    expect(Atomics.load(words, RelayWord.FSS)).toBe(0);
  });
});

describe('break', () => {
  it('wakes a parked fss waiter at once', async () => {
    const { sab, words } = newShared();
    const relay = Relay.init(sab);
    const a = await actor(sab, [['fssWait']], LONG_SLICE);
    await until(() => Atomics.load(words, RelayWord.FSS) === 2);
    const t = absNow();
    relay.break();
    const [s] = await finished(a);
    expect(s.r).toBe(RELAY_BROKEN);
    expect(s.end - t).toBeLessThan(500); // the park slice is 10 s: only the notify can do this
    expect(relay.counters().fssParks).toBe(1);
  });

  it('wakes a parked async fss waiter at once', async () => {
    const { sab, words } = newShared();
    const relay = Relay.init(sab);
    const a = await actor(sab, [['fssWaitAsync']], LONG_SLICE);
    await until(() => Atomics.load(words, RelayWord.FSS) === 2);
    const t = absNow();
    relay.break();
    const [s] = await finished(a);
    expect(s.r).toBe(RELAY_BROKEN);
    expect(s.end - t).toBeLessThan(500);
  });

  it('wakes a parked app, with INTR kept', async () => {
    const { sab } = newShared();
    const relay = Relay.init(sab, 0, LONG_SLICE);
    relay.fssReady();
    // The "server" takes the request, never answers, and breaks the relay after 60 ms.
    const a = await actor(sab, [['fssWait'], ['sleep', 60], ['break']]);
    expect(relay.grabIfFssWaiting()).toBe(true);
    let calls = 0;
    const t0 = performance.now();
    const r = relay.appWakeupAndWait({ timeoutMs: 10, onInterrupt: () => calls++ });
    const dt = performance.now() - t0;
    expect(r).toBe(RELAY_BROKEN | RELAY_INTR);
    expect(calls).toBe(1);
    expect(dt).toBeGreaterThanOrEqual(55);
    expect(dt).toBeLessThan(2000);
    const steps = await finished(a);
    expect(steps[0].r).toBe(RELAY_OK);
    expect(relay.counters().appParks).toBe(1);
    expect(relay.counters().appWakeups).toBe(0);
  });

  it('stops a spinning app', async () => {
    const { sab } = newShared();
    // A 5 s spin budget: the app does not park before the break comes.
    const relay = Relay.init(sab, 0, { minSpinUs: 5e6, maxSpinUs: 5e6 });
    const a = await actor(sab, [['fssWait'], ['sleep', 40], ['break']]);
    const t0 = performance.now();
    const r = relay.appWakeupAndWait();
    const dt = performance.now() - t0;
    expect(r).toBe(RELAY_BROKEN);
    expect(dt).toBeGreaterThanOrEqual(35);
    expect(dt).toBeLessThan(2000);
    expect(relay.counters()).toMatchObject({ appSpins: 1, appParks: 0 });
    await finished(a);
  });

  it('stops a parked async app wait and a waitCont', async () => {
    const { sab } = newShared();
    const relay = Relay.init(sab, 0, { ...LONG_SLICE, maxSpinUs: 5 });
    const a = await actor(sab, [['fssWait'], ['sleep', 40], ['break']]);
    const [r1, r2] = await Promise.all([relay.appWakeupAndWaitAsync(), sleep(0)]);
    expect(r1).toBe(RELAY_BROKEN);
    expect(r2).toBeUndefined();
    expect(relay.waitCont()).toBe(RELAY_BROKEN);
    await finished(a);
  });
});

describe('async waits keep the event loop running', () => {
  it('fssWaitAsync: timers fire while it waits', async () => {
    const { sab } = newShared();
    const relay = Relay.init(sab, 0, { maxSpinUs: 5 });
    const a = await actor(sab, [['sleep', 120], ['fssWakeup']]);
    let ticks = 0;
    const iv = setInterval(() => ticks++, 5);
    const r = await relay.fssWaitAsync();
    clearInterval(iv);
    expect(r).toBe(RELAY_OK);
    expect(ticks).toBeGreaterThanOrEqual(3);
    expect(relay.counters()).toMatchObject({ fssParks: 1, fssWakeups: 1 });
    await finished(a);
  });

  it('fssWaitAsync(ms) times out with TIMEOUT', async () => {
    const { sab, words } = newShared();
    const relay = Relay.init(sab, 0, { maxSpinUs: 5 });
    let ticks = 0;
    const iv = setInterval(() => ticks++, 5);
    const t0 = performance.now();
    const r = await relay.fssWaitAsync(60);
    clearInterval(iv);
    expect(r).toBe(RELAY_TIMEOUT);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(59);
    expect(ticks).toBeGreaterThanOrEqual(3);
    expect(words[RelayWord.FSS]).toBe(0);
    expect(await relay.fssWaitAsync(0)).toBe(RELAY_TIMEOUT);
  });

  it('appWakeupAndWaitAsync: timers fire while the ZT works', async () => {
    const p = await withZt({ maxSpinUs: 5 });
    let ticks = 0;
    const iv = setInterval(() => ticks++, 5);
    const seq = p.post(120);
    const r = await p.relay.appWakeupAndWaitAsync();
    clearInterval(iv);
    expect(r).toBe(RELAY_OK);
    expect(p.d[D.RESP]).toBe(seq);
    expect(ticks).toBeGreaterThanOrEqual(3);
    expect(p.relay.counters()).toMatchObject({ appParks: 1, appWakeups: 1, appSpins: 0 });
    p.relay.appRelease();
    await p.stop();
  });

  it('a thread with nothing but a pending async wait stays alive until the post', async () => {
    const { sab } = newShared();
    const relay = Relay.init(sab);
    const worker = new Worker(new URL('./fixtures/async-wait.mjs', import.meta.url), { workerData: { sab } });
    const msgs: unknown[] = [];
    worker.on('message', (m) => msgs.push(m));
    const exited = once(worker, 'exit');
    await until(() => msgs.length === 1);
    await sleep(150);
    relay.fssWakeup();
    const [code] = await exited;
    expect(code).toBe(0);
    expect(msgs).toEqual(['parked', RELAY_OK]);
  });
});

describe('idle', () => {
  it('parked ZTs cost next to no CPU', async () => {
    const zts = await Promise.all([0, 1].map(() => withZt()));
    await sleep(100); // past their first spin
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(1000);
    const c = process.cpuUsage(c0);
    const share = (c.user + c.system) / 1000 / (performance.now() - t0);
    // The whole test process, both ZTs included; a ZT spinning while idle would be ~1 core.
    expect(share).toBeLessThan(0.1);
    for (const p of zts) {
      expect(p.relay.counters()).toMatchObject({ fssSpins: 0, fssParks: 1 });
      await p.stop();
    }
  });
});
