/**
 * The directory name hash: 32 bits, seeded with the filesystem's random hash seed (kept in the
 * superblock) so that nobody can prepare names that collide on every image. Its order is readdir's
 * order, and a name's position derives from it, so it is part of the on-pmem format: changing it
 * needs a new format version.
 *
 * A multiply-xorshift mix over 4-byte little-endian words, then a final avalanche.
 */

const M1 = 0xcc9e2d51;
const M2 = 0x1b873593;

function mix(h: number, k: number): number {
  k = Math.imul(k, M1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, M2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Hash of `bytes[off, off + len)` under `seed`, as an unsigned 32-bit number. */
export function nameHash(seed: number, bytes: Uint8Array, off: number, len: number): number {
  let h = seed | 0;
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const p = off + i;
    h = mix(h, bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24));
  }
  let k = 0;
  for (let s = 0; i < len; i++, s += 8) k |= bytes[off + i] << s;
  h = mix(h, k ^ len);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
