// Random data operations on files, checked against a plain byte array (the model) after each one.
import { BLOCK_SIZE, ROOT_INO } from '@zufs/example-pmemfs';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE } from '@zufs/zuf-core/api';
import { describe, expect, it } from 'vitest';
import { expectBytes, expectClean, memFs, REG } from './helpers.js';

const SPAN = 6 << 20; // past 4 MiB, so trees grow to height 2

function prng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

class Model {
  bytes = new Uint8Array(SPAN + (1 << 20));
  size = 0;
  write(off: number, src: Uint8Array) {
    this.bytes.set(src, off);
    this.size = Math.max(this.size, off + src.length);
  }
  truncate(n: number) {
    if (n < this.size) this.bytes.fill(0, n, this.size);
    this.size = n;
  }
  zero(off: number, len: number, keep: boolean) {
    this.bytes.fill(0, off, off + len);
    if (!keep) this.size = Math.max(this.size, off + len);
  }
}

describe('file data against a model', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: 400 random writes, truncates, punches, zero ranges and copies`, () => {
      const fs = memFs(48 << 20);
      const rand = prng(seed * 2654435761);
      const files = [0, 1].map((i) => fs.newInode(ROOT_INO, `f${i}`, { mode: REG }));
      const models = [new Model(), new Model()];
      const near = () =>
        rand(4) === 0 ? rand(SPAN) : rand(8) * BLOCK_SIZE + rand(3) * (BLOCK_SIZE / 2) - rand(2);
      for (let step = 0; step < 400; step++) {
        const k = rand(2);
        const f = files[k];
        const m = models[k];
        const off = Math.max(0, near());
        const len = 1 + (rand(3) === 0 ? rand(300_000) : rand(3 * BLOCK_SIZE));
        switch (rand(6)) {
          case 0:
          case 1: {
            const src = new Uint8Array(len).fill(1 + rand(255));
            expect(fs.write(f, off, src)).toBe(len);
            m.write(off, src);
            break;
          }
          case 2: {
            const n = rand(3) === 0 ? 0 : rand(m.size + 2 * BLOCK_SIZE);
            fs.truncate(f, n);
            m.truncate(n);
            break;
          }
          case 3:
            fs.fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
            m.zero(off, Math.max(0, Math.min(len, m.size - off)), true);
            break;
          case 4: {
            const keep = rand(2) === 0;
            fs.fallocate(f, FALLOC_FL_ZERO_RANGE | (keep ? FALLOC_FL_KEEP_SIZE : 0), off, len);
            m.zero(off, keep ? Math.max(0, Math.min(len, m.size - off)) : len, keep);
            break;
          }
          default: {
            const other = 1 - k;
            const srcOff = rand(models[other].size + 1);
            const n = fs.copyRange(files[other], srcOff, f, off, len);
            const want = Math.min(len, models[other].size - srcOff);
            expect(n).toBe(want);
            if (n > 0) m.write(off, models[other].bytes.slice(srcOff, srcOff + n));
          }
        }
        expect(fs.getattr(f).size).toBe(m.size);
        if (step % 20 === 19 || step === 399) {
          for (let j = 0; j < 2; j++) {
            const got = new Uint8Array(models[j].size);
            fs.read(files[j], 0, got);
            expectBytes(got, models[j].bytes.subarray(0, models[j].size));
          }
          expectClean(fs);
        }
      }
    });
  }
});
