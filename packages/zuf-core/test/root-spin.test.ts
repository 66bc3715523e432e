// A thread that attaches to a zuf-root spins by the calibration of the thread that created it
// instead of measuring its own (each of a server's threads would pay 3-5 ms of CPU as it starts).
import { Worker } from 'node:worker_threads';
import { spinCalibration, useSpinCalibration } from '@zufs/relay';
import { createZufRoot } from '@zufs/zuf-core';
import { afterEach, describe, expect, it } from 'vitest';

const FIXTURE = new URL('./fixtures/attach-spin.mjs', import.meta.url);
const measured = spinCalibration();
afterEach(() => useSpinCalibration(measured));

function attachedCalibration(d: unknown): Promise<number> {
  const w = new Worker(FIXTURE, { workerData: d });
  return new Promise<number>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  }).finally(() => w.terminate());
}

describe('spin calibration through the zuf-root', () => {
  it('an attaching thread takes the creator calibration, not one of its own', async () => {
    // A figure no thread would measure on this machine: the worker can only have it from the root.
    const odd = measured < 1000 ? 1234.5 : 3.25;
    useSpinCalibration(odd);
    const d = createZufRoot({ zts: 1, channels: 1 });
    expect(await attachedCalibration(d)).toBe(odd);
  });

  it('refuses a figure out of range', () => {
    for (const bad of [0, 0.5, 2001, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => useSpinCalibration(bad)).toThrow(RangeError);
    expect(spinCalibration()).toBe(measured);
  });
});
