/**
 * zu_dpp_t, the "dual port pointer": a u64 that both sides resolve to memory they share. The low
 * 3 bits name a pool, the rest is a byte offset in it (8-byte aligned):
 *   pool 0     the filesystem's pmem device,
 *   pools 1-6  shared buffer pools (the ALLOC_BUFFER analog),
 *   pool 7     the ZT's map window (where the app's data is bounced).
 * The "bn" variants hold a block number instead of an offset: dpp = bn << 3 | pool.
 * dpps are JS numbers (below 2^53), never BigInt. Arithmetic, not bit operators: offsets pass 2^32.
 */

import { isU53 } from './layout.js';

export const DPP_POOL_BITS = 3;
export const DPP_POOL_MASK = 7;
export const DPP_POOL_PMEM = 0;
export const DPP_POOL_SHARED_FIRST = 1;
export const DPP_POOL_SHARED_LAST = 6;
export const DPP_POOL_WINDOW = 7;

/** The pool of a dpp (zu_dpp_t_pool). */
export function dppPool(dpp: number): number {
  return dpp % 8;
}

/** The byte offset of a dpp in its pool (zu_dpp_t_val). */
export function dppOffset(dpp: number): number {
  return dpp - (dpp % 8);
}

/** Makes a dpp from an 8-byte aligned offset and a pool 0..7 (zu_enc_dpp_t). RangeError otherwise. */
export function encodeDpp(offset: number, pool: number): number {
  if (!(isU53(offset) && offset % 8 === 0 && pool >= 0 && pool <= 7 && Math.floor(pool) === pool))
    badDpp(offset, pool);
  return offset + pool;
}

function badDpp(offset: number, pool: number): never {
  if (!(pool >= 0 && pool <= 7) || !Number.isInteger(pool))
    throw new RangeError(`dpp pool must be 0..7, got ${pool}`);
  throw new RangeError(`dpp offset must be a safe integer >= 0, multiple of 8, got ${offset}`);
}

/** The block number of a "bn" dpp (zu_dpp_t_bn: dpp >> 3). */
export function dppBn(dpp: number): number {
  return Math.floor(dpp / 8);
}

/** Makes a "bn" dpp from a block number and a pool (zu_enc_dpp_t_bn). */
export function encodeDppBn(bn: number, pool: number): number {
  if (!isU53(bn * 8)) badBn(bn);
  return encodeDpp(bn * 8, pool);
}

function badBn(bn: number): never {
  throw new RangeError(`dpp block number out of range: ${bn}`);
}
