// A directory of 100 000 entries: lookups stay fast (one table read and one bucket scan).
import { DIR_POS_END, ROOT_INO } from '@zufs/example-pmemfs';
import { describe, expect, it } from 'vitest';
import { DIR, enc, expectClean, memFs, REG } from './helpers.js';

const N = 100_000;

describe('a hashed directory of 100k entries', () => {
  it('creates, looks up, lists and removes 100k names', () => {
    const fs = memFs(64 << 20, { inodes: N + 1000 });
    const d = fs.newInode(ROOT_INO, 'big', { mode: DIR });
    const names = Array.from({ length: N }, (_, i) => enc(`file-${i.toString(36)}-${i}`));
    const inos = new Uint32Array(N);
    let t = performance.now();
    for (let i = 0; i < N; i++) inos[i] = fs.newInode(d, names[i], { mode: REG });
    const createMs = performance.now() - t;

    t = performance.now();
    for (let i = 0; i < N; i++) if (fs.lookup(d, names[i]) !== inos[i]) throw new Error(`lookup ${i}`);
    const lookupMs = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < N; i++) if (fs.lookup(d, `missing-${i}`) !== 0) throw new Error(`phantom ${i}`);
    const missMs = performance.now() - t;

    const seen = new Set<number>();
    let pos = 0;
    while (pos !== DIR_POS_END) {
      let room = 1000; // entries per call, like a readdir buffer
      pos = fs.readdir(d, pos, (ino) => {
        if (room-- === 0) return false;
        seen.add(ino);
        return true;
      });
    }
    expect(seen.size).toBe(N + 2);
    expect(fs.getattr(d).size).toBe((N + 2) * 32);
    expectClean(fs);

    console.log(
      `100k dir: create ${((N / createMs) * 1000).toFixed(0)}/s, ` +
        `lookup ${((N / lookupMs) * 1000).toFixed(0)}/s, miss ${((N / missMs) * 1000).toFixed(0)}/s, ` +
        `${fs.getattr(d).blocks / 8} blocks`,
    );

    for (let i = 0; i < N; i += 2) fs.evict(fs.removeDentry(d, names[i]));
    for (let i = 1; i < N; i += 2) expect(fs.lookup(d, names[i])).toBe(inos[i]);
    expect(fs.lookup(d, names[0])).toBe(0);
    expectClean(fs);
    for (let i = 1; i < N; i += 2) fs.evict(fs.removeDentry(d, names[i]));
    expect(fs.getattr(d).blocks).toBe(0);
    expect(fs.statfs().bfree).toBe(fs.statfs().blocks - fs.getattr(ROOT_INO).blocks / 8);
    expectClean(fs);
  });
});
