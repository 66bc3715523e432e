// The mount's shared open counts (open-counts.ts): counts, orphans, and a table that stays quick after
// many more inodes than it has slots went through it (slots are emptied by shifting back, not marked).
import { OpenCounts, openCountsBytes } from '@zufs/vfs';
import { describe, expect, it } from 'vitest';

const SLOTS = 64;
const table = () => new OpenCounts(new SharedArrayBuffer(openCountsBytes(SLOTS)), 0, SLOTS);

describe('OpenCounts', () => {
  it('counts opens per inode; the last close of an orphan says to free it', () => {
    const c = table();
    c.open(7);
    c.open(7);
    c.open(9);
    expect([c.count(7), c.count(9), c.count(8)]).toEqual([2, 1, 0]);
    expect(c.keepIfOpen(7)).toBe(true); // last link gone while open: kept, marked
    expect(c.keepIfOpen(8)).toBe(false); // not open: free it now
    expect(c.close(7)).toBe(false);
    expect(c.close(7)).toBe(true); // the last close frees the orphan
    expect(c.close(9)).toBe(false); // not an orphan
    expect([c.count(7), c.count(9)]).toEqual([0, 0]);
  });

  it('keeps every entry findable and probe runs short after 100 times its size in churn', () => {
    const c = table();
    const live = new Set<number>();
    let x = 12345;
    for (let i = 0; i < SLOTS * 100; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      const ii = 1 + (x % 5000);
      if (live.has(ii)) {
        c.close(ii);
        live.delete(ii);
      } else if (live.size < SLOTS / 2) {
        c.open(ii);
        live.add(ii);
      }
    }
    for (const ii of live) expect(c.count(ii)).toBe(1);
    // A miss in a half-full table stops at the first empty slot; marked deletions would have filled
    // every slot by now, and each miss would look at all 64.
    c.probes = 0;
    for (let ii = 100_000; ii < 101_000; ii++) expect(c.count(ii)).toBe(0);
    expect(c.probes / 1000).toBeLessThan(8);
  });

  it('fills up to its size less one slot, then ENFILE; a close makes room', () => {
    const c = table();
    for (let ii = 1; ii < SLOTS; ii++) c.open(ii);
    expect(() => c.open(SLOTS)).toThrow(expect.objectContaining({ errno: 23 }));
    c.open(5); // one more open of an inode already counted needs no slot
    expect(c.close(5)).toBe(false);
    expect(c.close(5)).toBe(false);
    c.open(SLOTS);
    for (let ii = 1; ii <= SLOTS; ii++) expect(c.count(ii)).toBe(ii === 5 ? 0 : 1);
  });
});
