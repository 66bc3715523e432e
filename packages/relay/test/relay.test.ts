// One-thread behaviour: layout, validation, the grab CAS, polls and timeouts, counters.
import {
  PROBE_EVERY,
  RELAY_BROKEN,
  RELAY_BYTES,
  RELAY_INTR,
  RELAY_OK,
  RELAY_TIMEOUT,
  Relay,
  RelayWord,
  relayDefaults,
  spinCalibration,
} from '@zufs/relay';
import { describe, expect, it } from 'vitest';

const zero = { fssSpins: 0, fssParks: 0, fssWakeups: 0, appSpins: 0, appParks: 0, appWakeups: 0 };

describe('Relay basics', () => {
  it('has the contract constants', () => {
    expect(RELAY_BYTES).toBe(64);
    expect([RELAY_OK, RELAY_INTR, RELAY_BROKEN, RELAY_TIMEOUT]).toEqual([0, 1, 2, 4]);
    expect(Object.values(RelayWord).every((i) => i >= 0 && i < RELAY_BYTES / 4)).toBe(true);
    expect(new Set(Object.values(RelayWord)).size).toBe(Object.keys(RelayWord).length);
    expect(spinCalibration()).toBeGreaterThanOrEqual(1);
    expect(PROBE_EVERY).toBeGreaterThan(1);
    expect(relayDefaults.maxSpinUs).toBeLessThanOrEqual(100);
  });

  it('validates its place in the buffer', () => {
    const sab = new SharedArrayBuffer(128);
    expect(() => new Relay(sab, 2)).toThrow(RangeError);
    expect(() => new Relay(sab, -4)).toThrow(RangeError);
    expect(() => new Relay(sab, 68)).toThrow(RangeError);
    expect(() => new Relay(new ArrayBuffer(64) as unknown as SharedArrayBuffer)).toThrow(TypeError);
    expect(() => new Relay(sab, 0, { parkSliceMs: 0 })).toThrow(RangeError);
    expect(() => new Relay(sab, 0, { maxSpinUs: -1 })).toThrow(RangeError);
    expect(new Relay(sab, 64)).toBeInstanceOf(Relay);
  });

  it('init zeroes only its own 64 bytes', () => {
    const sab = new SharedArrayBuffer(192);
    const all = new Int32Array(sab);
    all.fill(-1);
    Relay.init(sab, 64);
    expect(Array.from(all.subarray(0, 16)).every((x) => x === -1)).toBe(true);
    expect(Array.from(all.subarray(16, 32)).every((x) => x === 0)).toBe(true);
    expect(Array.from(all.subarray(32, 48)).every((x) => x === -1)).toBe(true);
  });

  it('grabIfFssWaiting takes the channel once per fssReady/appRelease', () => {
    const sab = new SharedArrayBuffer(64);
    const r = Relay.init(sab);
    expect(r.grabIfFssWaiting()).toBe(false);
    r.fssReady();
    expect(r.grabIfFssWaiting()).toBe(true);
    expect(r.grabIfFssWaiting()).toBe(false);
    r.appRelease();
    const other = new Relay(sab); // a second view, as another thread has
    expect(other.grabIfFssWaiting()).toBe(true);
    expect(r.grabIfFssWaiting()).toBe(false);
  });

  it('a post before the wait is taken while spinning, with no notify', () => {
    const sab = new SharedArrayBuffer(64);
    const r = Relay.init(sab);
    const w = new Int32Array(sab);
    r.fssWakeup();
    expect(w[RelayWord.FSS]).toBe(1);
    expect(r.fssWait()).toBe(RELAY_OK);
    expect(w[RelayWord.FSS]).toBe(0);
    expect(r.counters()).toEqual({ ...zero, fssSpins: 1 });
    r.appWakeup();
    expect(r.waitCont()).toBe(RELAY_OK);
    expect(r.counters()).toEqual({ ...zero, fssSpins: 1, appSpins: 1 });
  });

  it('fssWait(0) polls without parking; fssWait(ms) parks, times out and retracts', () => {
    const sab = new SharedArrayBuffer(64);
    const r = Relay.init(sab, 0, { maxSpinUs: 5 });
    const w = new Int32Array(sab);
    expect(r.fssWait(0)).toBe(RELAY_TIMEOUT);
    expect(r.counters()).toEqual(zero);
    const t0 = performance.now();
    expect(r.fssWait(30)).toBe(RELAY_TIMEOUT);
    const dt = performance.now() - t0;
    expect(dt).toBeGreaterThanOrEqual(29);
    expect(dt).toBeLessThan(1000);
    expect(w[RelayWord.FSS]).toBe(0); // retracted: a later post is not missed
    expect(r.counters()).toEqual({ ...zero, fssParks: 1 });
    r.fssWakeup();
    expect(r.fssWait(30)).toBe(RELAY_OK);
    expect(r.counters()).toEqual({ ...zero, fssSpins: 1, fssParks: 1 });
  });

  it('a short park slice does not end a wait early', () => {
    const r = Relay.init(new SharedArrayBuffer(64), 0, { maxSpinUs: 1, parkSliceMs: 2 });
    const t0 = performance.now();
    expect(r.fssWait(40)).toBe(RELAY_TIMEOUT);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(39);
    expect(r.counters().fssParks).toBe(1); // one park per wait, whatever the slices
  });

  it('counters wrap as uint32 and reset', () => {
    const sab = new SharedArrayBuffer(64);
    const r = Relay.init(sab);
    const w = new Int32Array(sab);
    w[RelayWord.FSS_SPINS] = -1;
    expect(r.counters().fssSpins).toBe(2 ** 32 - 1);
    r.fssWakeup();
    r.fssWait();
    expect(r.counters().fssSpins).toBe(0);
    w[RelayWord.APP_PARKS] = 5;
    r.resetCounters();
    expect(r.counters()).toEqual(zero);
  });

  it('after break every wait returns BROKEN at once, without counting', async () => {
    const sab = new SharedArrayBuffer(64);
    const r = Relay.init(sab, 0, { minSpinUs: 1e6, maxSpinUs: 1e6 }); // a spin would show as ~1 s
    r.fssReady();
    expect(r.isBroken()).toBe(false);
    r.break();
    expect(r.isBroken()).toBe(true);
    const late = new Relay(sab); // a relay attached after the break
    const t0 = performance.now();
    for (const x of [r, late]) {
      expect(x.fssWait()).toBe(RELAY_BROKEN);
      expect(x.fssWait(0)).toBe(RELAY_BROKEN);
      expect(x.fssWait(1000)).toBe(RELAY_BROKEN);
      expect(x.appWakeupAndWait({ timeoutMs: 0 })).toBe(RELAY_BROKEN);
      expect(x.waitCont()).toBe(RELAY_BROKEN);
      expect(await x.fssWaitAsync()).toBe(RELAY_BROKEN);
      expect(await x.appWakeupAndWaitAsync()).toBe(RELAY_BROKEN);
      expect(await x.waitContAsync()).toBe(RELAY_BROKEN);
    }
    expect(performance.now() - t0).toBeLessThan(200);
    expect(r.counters()).toEqual(zero);
  });
});
