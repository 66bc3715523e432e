// grabIfFssWaiting under contention: of racing threads exactly one wins each time the channel is free.
import { Relay, RelayWord } from '@zufs/relay';
import { describe, expect, it } from 'vitest';
import { D } from './fixtures/layout.mjs';
import { newShared, type Started, start } from './helpers.js';

interface GrabResult {
  id: number;
  mine: number;
  error: string | null;
}

async function results(ws: Started<GrabResult>[]): Promise<GrabResult[]> {
  const out = await Promise.all(ws.map((w) => w.result));
  expect(await Promise.all(ws.map((w) => w.exited))).toEqual(ws.map(() => 0));
  return out;
}

describe('grabIfFssWaiting', () => {
  it('one winner per fssReady among 3 racing workers', async () => {
    const { sab, words, d } = newShared();
    const relay = Relay.init(sab);
    const ws = await Promise.all(
      [1, 2, 3].map((id) => start<GrabResult>('grabber.mjs', { sab, id, mode: 'race' })),
    );
    const rounds = 1000;
    for (let i = 1; i <= rounds; i++) {
      relay.fssReady();
      // Wait for a winner before offering the channel again.
      const end = performance.now() + 5000;
      while (Atomics.load(words, RelayWord.FSS_WAITING) !== 0) {
        if (performance.now() > end) throw new Error(`no winner in round ${i}`);
        if ((i & 7) === 0) await new Promise((r) => setImmediate(r));
      }
      // The winner counts after its CAS: let it land before the next round.
      while (Atomics.load(d, D.WINS) !== i) {
        if (performance.now() > end) throw new Error(`win of round ${i} not counted`);
      }
    }
    Atomics.store(d, D.STOP, 1);
    const res = await results(ws);
    expect(res.reduce((s, r) => s + r.mine, 0)).toBe(rounds);
    expect(Atomics.load(d, D.WINS)).toBe(rounds);
    expect(relay.grabIfFssWaiting()).toBe(false);
  });

  it('3 app workers share one ZT: each request is served alone and in order', async () => {
    const { sab, d } = newShared();
    const relay = Relay.init(sab);
    const zt = await start<{ handled: number; broken: boolean }>('zt.mjs', { sab });
    const count = 1500;
    const ws = await Promise.all(
      [1, 2, 3].map((id) => start<GrabResult>('grabber.mjs', { sab, id, mode: 'serve', count })),
    );
    const res = await results(ws);
    expect(res.map((r) => r.error)).toEqual([null, null, null]);
    expect(res.map((r) => r.mine)).toEqual([count, count, count]);
    expect(d[D.ERR]).toBe(0); // the ZT saw 1, 2, 3, ... with no gap and no repeat
    expect(d[D.REQ]).toBe(3 * count);
    expect(d[D.HANDLED]).toBe(3 * count);
    const c = relay.counters();
    expect(c.appSpins + c.appParks).toBe(3 * count);
    expect(c.appWakeups).toBe(c.appParks);
    relay.break();
    expect(await zt.result).toMatchObject({ handled: 3 * count, broken: true });
    expect(relay.counters().fssSpins + relay.counters().fssParks).toBeGreaterThanOrEqual(3 * count);
  });
});
