// copyShared and zeroShared: exactly the range asked, short or long (both copy paths), on shared
// and private memory.
import { copyShared, MEMCPY_MIN, zeroShared } from '@zufs/zuf-core';
import { describe, expect, it } from 'vitest';

const SIZE = 3 * MEMCPY_MIN + 100;
const memory = (shared: boolean) =>
  new Uint8Array(shared ? new SharedArrayBuffer(SIZE) : new ArrayBuffer(SIZE));
/** [at, len] pairs: empty, tiny, around the exact-array and page sizes, both sides of MEMCPY_MIN. */
const RANGES = [
  [0, 0],
  [5, 1],
  [7, 200],
  [3, 256],
  [11, 257],
  [4096, 4096],
  [9, MEMCPY_MIN - 1],
  [MEMCPY_MIN, MEMCPY_MIN],
  [1, 2 * MEMCPY_MIN + 33],
];

/** What changed in u8 outside [at, at + len), and whether the range holds what `want` says. */
function check(u8: Uint8Array, at: number, len: number, want: (i: number) => number) {
  let inside = true;
  for (let i = 0; i < len; i++) if (u8[at + i] !== want(i)) inside = false;
  const before = u8.subarray(0, at).every((b) => b === 0xa5);
  const after = u8.subarray(at + len).every((b) => b === 0xa5);
  return { at, len, inside, before, after };
}

describe('zeroShared', () => {
  for (const shared of [true, false]) {
    it(`zeroes exactly [at, at + len) of ${shared ? 'shared' : 'private'} memory`, () => {
      const u8 = memory(shared);
      for (const [at, len] of RANGES) {
        u8.fill(0xa5);
        zeroShared(u8, at, len);
        expect(check(u8, at, len, () => 0)).toEqual({ at, len, inside: true, before: true, after: true });
      }
    });
  }
});

describe('copyShared', () => {
  for (const [from, to] of [
    [true, false],
    [false, true],
    [true, true],
    [false, false],
  ]) {
    it(`copies exactly len bytes from ${from ? 'shared' : 'private'} to ${to ? 'shared' : 'private'} memory`, () => {
      const src = memory(from);
      for (let i = 0; i < SIZE; i++) src[i] = (i * 7 + 3) & 0xff;
      const dst = memory(to);
      for (const [at, len] of RANGES) {
        dst.fill(0xa5);
        copyShared(dst, src.subarray(13, 13 + len), at);
        const want = (i: number) => ((13 + i) * 7 + 3) & 0xff;
        expect(check(dst, at, len, want)).toEqual({ at, len, inside: true, before: true, after: true });
      }
    });
  }

  it('copies overlapping ranges of one buffer as set() does (memmove)', () => {
    const u8 = memory(true);
    for (let i = 0; i < SIZE; i++) u8[i] = i & 0xff;
    const len = 2 * MEMCPY_MIN;
    copyShared(u8, u8.subarray(0, len), 100);
    expect(u8.subarray(100, 100 + len).every((b, i) => b === (i & 0xff))).toBe(true);
  });
});
