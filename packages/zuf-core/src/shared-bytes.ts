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

/** Where consecutive views of a SharedBytes begin, and how long each is. */
const VIEW_STEP = 2 ** 31;
const VIEW_BYTES = 2 ** 32;

/**
 * The bytes of a SharedArrayBuffer of any size. Node 20's typed arrays stop at 2^32 elements, so a
 * Uint8Array cannot cover a device past 4 GiB (Uint32Array and DataView reach 16 GiB). This holds
 * overlapping Uint8Array views instead: view k covers [k * 2 GiB, k * 2 GiB + 4 GiB), so a range of
 * up to 2 GiB that starts at `off` lies whole in `view(off)`, from index `off - base(off)`. A buffer
 * of up to 4 GiB is one view at base 0, and finding it costs a division and a compare.
 */
export class SharedBytes {
  readonly buffer: SharedArrayBuffer | ArrayBuffer;
  readonly byteOffset: number;
  readonly byteLength: number;
  private readonly views: Uint8Array[] = [];
  private readonly last: number;

  constructor(
    buffer: SharedArrayBuffer | ArrayBuffer,
    byteOffset = 0,
    byteLength = buffer.byteLength - byteOffset,
  ) {
    this.buffer = buffer;
    this.byteOffset = byteOffset;
    this.byteLength = byteLength;
    for (let at = 0; ; at += VIEW_STEP) {
      this.views.push(new Uint8Array(buffer, byteOffset + at, Math.min(VIEW_BYTES, byteLength - at)));
      if (at + VIEW_BYTES >= byteLength) break;
    }
    this.last = this.views.length - 1;
  }

  /** Over a Uint8Array's bytes (a view of up to 4 GiB). */
  static of(u8: Uint8Array): SharedBytes {
    return new SharedBytes(u8.buffer, u8.byteOffset, u8.byteLength);
  }

  /** The view holding [off, off + len) for any len up to 2 GiB. */
  view(off: number): Uint8Array {
    const k = Math.floor(off / VIEW_STEP);
    return this.views[k < this.last ? k : this.last]!;
  }

  /** Where view(off) begins: byte off is view(off)[off - base(off)]. */
  base(off: number): number {
    const k = Math.floor(off / VIEW_STEP);
    return (k < this.last ? k : this.last) * VIEW_STEP;
  }

  /** Copies src (up to 2 GiB) to [at, at + src.length), as copyShared does. */
  write(src: Uint8Array, at: number): void {
    copyShared(this.view(at), src, at - this.base(at));
  }

  /** Copies [at, at + dst.length) into dst (up to 2 GiB), as copyShared does. */
  read(at: number, dst: Uint8Array, to = 0, len = dst.length - to): void {
    const b = this.base(at);
    const src = this.view(at).subarray(at - b, at - b + len);
    copyShared(dst, src, to);
  }

  /** Zeroes [at, at + len) (up to 2 GiB). */
  zero(at: number, len: number): void {
    zeroShared(this.view(at), at - this.base(at), len);
  }
}
