// Many handoffs between this thread (the app) and a ZT worker, with sequence numbers written by
// both sides: a lost wakeup hangs (the watchdog breaks the relay after 10 s), a doubled or early one
// shows as a wrong number on one side or the other.
import { RELAY_OK, Relay, type RelayCounters, type RelayOptions, RelayWord } from '@zufs/relay';
import { describe, expect, it } from 'vitest';
import { busyUs, CMD_STOP, D, rng, sleepSync } from './fixtures/layout.mjs';
import { newShared, start } from './helpers.js';

interface ZtResult {
  handled: number;
  timeouts: number;
  broken: boolean;
}

interface RunOptions {
  appOpts?: RelayOptions;
  ztOpts?: RelayOptions;
  random?: { seed: number };
  pollMs?: number;
  /** With random: half of the requests nudge the ZT, then take 0-60 us before they post. */
  nudge?: boolean;
}

async function run(n: number, o: RunOptions = {}) {
  const { sab, words, d } = newShared();
  const relay = Relay.init(sab, 0, o.appOpts);
  const zt = await start<ZtResult>('zt.mjs', {
    sab,
    relayOpts: o.ztOpts,
    random: o.random,
    pollMs: o.pollMs,
  });
  const watchdog = { timeoutMs: 10_000, onInterrupt: () => relay.break() };
  const rand = o.random ? rng(o.random.seed + 1) : null;
  let failure = '';
  let nudged = 0;
  const t0 = performance.now();
  for (let seq = 1; seq <= n; seq++) {
    if (rand) {
      const x = rand();
      if (x < 0.003) sleepSync(1 + 2 * rand());
      else if (x < 0.3) busyUs(40 * rand());
    }
    if (!relay.grabIfFssWaiting()) {
      failure = `channel not free at request ${seq}`;
      break;
    }
    if (o.nudge && rand && rand() < 0.5) {
      if (relay.fssNudge()) nudged++;
      busyUs(60 * rand());
    }
    d[D.REQ] = seq;
    if (seq === n) d[D.CMD] = CMD_STOP;
    const r = relay.appWakeupAndWait(watchdog);
    if (r !== RELAY_OK) {
      failure = `appWakeupAndWait returned ${r} at request ${seq} (ZT expected ${d[D.ERR]}, saw ${d[D.GOT]})`;
      break;
    }
    if (d[D.RESP] !== seq) {
      failure = `reply ${d[D.RESP]} to request ${seq}`;
      break;
    }
    relay.appRelease();
  }
  const ms = performance.now() - t0;
  if (process.env.RELAY_DEBUG) console.log(n, ms.toFixed(0), relay.counters());
  if (failure) relay.break();
  const res = await zt.result;
  expect(await zt.exited).toBe(0);
  return { failure, ms, res, c: relay.counters(), words: Array.from(words), err: d[D.ERR], nudged };
}

/** Exact bookkeeping of a run: every wait either spun or parked, and every park got one notify. */
function expectBalanced(n: number, c: RelayCounters, timeouts: number): void {
  expect(c.appSpins + c.appParks).toBe(n);
  expect(c.appWakeups).toBe(c.appParks);
  // The ZT waits n times with an answer, plus once per timeout (each of those parked, then retracted).
  expect(c.fssSpins + c.fssParks).toBe(n + timeouts);
  expect(c.fssWakeups).toBe(c.fssParks - timeouts);
}

function expectIdleWords(words: number[]): void {
  expect(words[RelayWord.FSS]).toBe(0);
  expect(words[RelayWord.APP]).toBe(0);
  expect(words[RelayWord.FSS_WAITING]).toBe(1);
  expect(words[RelayWord.APP_WAITING]).toBe(0);
  expect(words[RelayWord.BROKEN]).toBe(0);
  expect(words[RelayWord.INTR]).toBe(0);
}

// On an oversubscribed machine most handoffs park (~100 us each) instead of spinning: allow for it.
// A lost wakeup still fails fast, through the 10 s watchdog.
const SLOW_OK = 120_000;

describe('handoffs with a ZT worker', () => {
  it(
    '200k hot handoffs, none lost or doubled',
    async () => {
      const n = 200_000;
      const { failure, res, c, words, err } = await run(n);
      expect(failure).toBe('');
      expect(err).toBe(0);
      expect(res).toEqual({ handled: n, timeouts: 0, broken: false });
      expectBalanced(n, c, 0);
      expect(c.appSpins).toBeGreaterThan(0);
      expectIdleWords(words);
    },
    SLOW_OK,
  );

  it(
    'random delays: both sides spin and park, in every order',
    async () => {
      const n = 30_000;
      // Small spin budgets, so that the 0-40 us delays land on both sides of them.
      const opts = { minSpinUs: 0.5, maxSpinUs: 10 };
      const { failure, res, c, words, err } = await run(n, {
        appOpts: opts,
        ztOpts: opts,
        random: { seed: 7 },
      });
      expect(failure).toBe('');
      expect(err).toBe(0);
      expect(res).toEqual({ handled: n, timeouts: 0, broken: false });
      expectBalanced(n, c, 0);
      expect(c.appSpins).toBeGreaterThan(0);
      expect(c.appParks).toBeGreaterThan(0);
      expect(c.fssSpins).toBeGreaterThan(0);
      expect(c.fssParks).toBeGreaterThan(0);
      expectIdleWords(words);
    },
    SLOW_OK,
  );

  it(
    'random delays with nudges: a nudged ZT takes the post while spinning or parks again',
    async () => {
      const n = 20_000;
      const opts = { minSpinUs: 0.5, maxSpinUs: 10 };
      const { failure, res, c, words, err, nudged } = await run(n, {
        appOpts: opts,
        ztOpts: opts,
        random: { seed: 13 },
        nudge: true,
      });
      expect(failure).toBe('');
      expect(err).toBe(0);
      expect(res).toEqual({ handled: n, timeouts: 0, broken: false });
      expect(nudged).toBeGreaterThan(0);
      // Every park (a re-park after a nudge included) ended by exactly one notify: the nudge's or
      // the post's.
      expect(c.fssWakeups).toBe(c.fssParks);
      expect(c.appWakeups).toBe(c.appParks);
      expect(c.appSpins + c.appParks).toBe(n);
      expectIdleWords(words);
    },
    SLOW_OK,
  );

  it(
    'random delays with a polling ZT: timeouts race with posts',
    async () => {
      const n = 20_000;
      const opts = { minSpinUs: 0.5, maxSpinUs: 10 };
      const { failure, res, c, words, err } = await run(n, {
        appOpts: opts,
        ztOpts: opts,
        random: { seed: 11 },
        pollMs: 0.1,
      });
      expect(failure).toBe('');
      expect(err).toBe(0);
      expect(res.handled).toBe(n);
      expect(res.broken).toBe(false);
      expect(res.timeouts).toBeGreaterThan(0);
      expectBalanced(n, c, res.timeouts);
      expectIdleWords(words);
    },
    SLOW_OK,
  );

  it(
    'a spinning peer gets no notify at all',
    async () => {
      // Budgets of 2 s: every wait is answered while spinning, so nothing parks and nothing notifies.
      const n = 2000;
      const opts = { minSpinUs: 2e6, maxSpinUs: 2e6 };
      const { failure, res, c } = await run(n, { appOpts: opts, ztOpts: opts });
      expect(failure).toBe('');
      expect(res.handled).toBe(n);
      expect(c).toEqual({ fssSpins: n, fssParks: 0, fssWakeups: 0, appSpins: n, appParks: 0, appWakeups: 0 });
    },
    SLOW_OK,
  );
});
