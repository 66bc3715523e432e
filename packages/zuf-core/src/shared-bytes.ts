/**
 * Copying and zeroing bytes of shared memory on the operation path.
 *
 * V8 (Node 20) moves SharedArrayBuffer bytes slowly: `fill()` writes a byte at a time (4 KiB
 * ~1.15 us, ~80 ns on private memory), and `set()` does not copy with memcpy (4 KiB out of shared
 * memory ~190 ns, private to private ~100 ns). Node's `Buffer.prototype.fill(bytes, start, end)`
 * copies with memcpy whatever memory the views are over, for ~60 ns more fixed cost: measured in
 * place, it wins from 8 KiB up (a 1 MiB read out of pmem: ~45 us against ~55 us) and loses below.
 */

import { Buffer } from 'node:buffer';

const PAGE = 4096;
const EXACT_MAX = 256;
const ZERO_PAGE = new Uint8Array(PAGE);
const exact: Uint8Array[] = [];

/** Copies from here up go through Buffer.prototype.fill (memcpy); shorter ones through set(). */
export const MEMCPY_MIN = 8192;
const memcpyFill = Buffer.prototype.fill;

/**
 * `dst.set(src, at)`, on shared or private memory; long copies go through memcpy. `src` must not
 * overlap the destination range unless it is the same buffer (then set()'s memmove is used).
 */
export function copyShared(dst: Uint8Array, src: Uint8Array, at: number): void {
  const n = src.length;
  if (n < MEMCPY_MIN || dst.buffer === src.buffer) dst.set(src, at);
  else memcpyFill.call(dst, src, at, at + n);
}

/**
 * Zeroes u8[at, at + len); u8 may be over shared or private memory. Short lengths copy an array of
 * exactly that length (made once: a subarray would cost as much as it saves); from a page up,
 * Buffer.prototype.fill repeats a zero page with memcpy (4 KiB ~100 ns against ~165 ns by set()).
 */
export function zeroShared(u8: Uint8Array, at: number, len: number): void {
  if (len <= EXACT_MAX) {
    if (len <= 0) return;
    let z = exact[len];
    if (z === undefined) z = exact[len] = new Uint8Array(len);
    u8.set(z, at);
  } else if (len < PAGE) u8.set(ZERO_PAGE.subarray(0, len), at);
  else memcpyFill.call(u8, ZERO_PAGE, at, at + len);
}
