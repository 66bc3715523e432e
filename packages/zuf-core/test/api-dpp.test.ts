// zu_dpp_t helpers: pool in the low 3 bits, 8-byte aligned offsets (or block numbers) above.
import {
  DPP_POOL_PMEM,
  DPP_POOL_SHARED_FIRST,
  DPP_POOL_SHARED_LAST,
  DPP_POOL_WINDOW,
  dppBn,
  dppOffset,
  dppPool,
  encodeDpp,
  encodeDppBn,
} from '@zufs/zuf-core/api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const MAX = Number.MAX_SAFE_INTEGER;
const offsetArb = fc.integer({ min: 0, max: Math.floor(MAX / 8) }).map((n) => n * 8);
const poolArb = fc.integer({ min: 0, max: 7 });

describe('dpp', () => {
  it('names the pools', () => {
    expect([DPP_POOL_PMEM, DPP_POOL_SHARED_FIRST, DPP_POOL_SHARED_LAST, DPP_POOL_WINDOW]).toEqual([
      0, 1, 6, 7,
    ]);
  });

  it('encodes an offset and a pool, and splits them back', () => {
    expect(encodeDpp(4096, DPP_POOL_WINDOW)).toBe(4103);
    expect(dppPool(4103)).toBe(7);
    expect(dppOffset(4103)).toBe(4096);
    fc.assert(
      fc.property(offsetArb, poolArb, (off, pool) => {
        const dpp = encodeDpp(off, pool);
        expect(dppPool(dpp)).toBe(pool);
        expect(dppOffset(dpp)).toBe(off);
        expect(BigInt(dpp)).toBe(BigInt(off) | BigInt(pool)); // what C's v | pool gives
      }),
    );
  });

  it('works past 2^32 (no 32-bit bit operators)', () => {
    const off = 2 ** 40 + 8 * 3;
    const dpp = encodeDpp(off, 5);
    expect(dppPool(dpp)).toBe(5);
    expect(dppOffset(dpp)).toBe(off);
    expect(dppPool(MAX)).toBe(7);
    expect(dppOffset(MAX)).toBe(MAX - 7);
  });

  it('bn variants hold a block number: bn << 3 | pool', () => {
    expect(encodeDppBn(1, 0)).toBe(8);
    expect(dppBn(encodeDppBn(12345, 3))).toBe(12345);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Math.floor(MAX / 8) }), poolArb, (bn, pool) => {
        const dpp = encodeDppBn(bn, pool);
        expect(BigInt(dpp)).toBe((BigInt(bn) << 3n) | BigInt(pool));
        expect(dppBn(dpp)).toBe(bn);
        expect(dppPool(dpp)).toBe(pool);
      }),
    );
  });

  it('refuses what is not a dpp', () => {
    expect(() => encodeDpp(4, 0)).toThrow(RangeError); // not 8-byte aligned
    expect(() => encodeDpp(-8, 0)).toThrow(RangeError);
    expect(() => encodeDpp(8, 8)).toThrow(RangeError);
    expect(() => encodeDpp(8, -1)).toThrow(RangeError);
    expect(() => encodeDpp(2 ** 53, 0)).toThrow(RangeError);
    expect(() => encodeDppBn(2 ** 50, 0)).toThrow(RangeError);
  });
});
