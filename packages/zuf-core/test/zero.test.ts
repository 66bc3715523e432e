// zeroShared: zeroes exactly the range asked, short or long, on shared and private memory.
import { zeroShared } from '@zufs/zuf-core';
import { describe, expect, it } from 'vitest';

describe('zeroShared', () => {
  for (const shared of [true, false]) {
    it(`zeroes exactly [at, at + len) of ${shared ? 'shared' : 'private'} memory`, () => {
      const size = 3 * 4096 + 100;
      const u8 = new Uint8Array(shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size));
      for (const [at, len] of [
        [0, 0],
        [5, 1],
        [7, 200],
        [3, 256],
        [11, 257],
        [4096, 4096],
        [1, 2 * 4096 + 33],
      ]) {
        u8.fill(0xa5);
        zeroShared(u8, at, len);
        const zeros = u8.subarray(at, at + len).every((b) => b === 0);
        const before = u8.subarray(0, at).every((b) => b === 0xa5);
        const after = u8.subarray(at + len).every((b) => b === 0xa5);
        expect({ at, len, zeros, before, after }).toEqual({
          at,
          len,
          zeros: true,
          before: true,
          after: true,
        });
      }
    });
  }
});
