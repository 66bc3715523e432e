// A full device: ENOSPC with nothing damaged, and the space comes back after deletes.
import { BLOCK_SIZE, ROOT_INO } from '@zufs/example-pmemfs';
import { S_IFLNK } from '@zufs/zuf-core/api';
import { describe, expect, it } from 'vitest';
import { DIR, enc, expectClean, expectErrno, memFs, names, REG } from './helpers.js';

const R = ROOT_INO;

describe('ENOSPC', () => {
  it('fills the blocks, fails cleanly, reclaims on delete, writes again', () => {
    const fs = memFs(2 << 20, { inodes: 256 });
    const big = fs.newInode(R, 'big', { mode: REG });
    const total = fs.statfs().bfree; // the root's first entry took a table block and a bucket
    const chunk = new Uint8Array(64 * 1024).fill(0xab);
    let written = 0;
    for (;;) {
      try {
        const n = fs.write(big, written, chunk);
        written += n;
        if (n < chunk.length) continue; // short write: the next one fails
      } catch (e) {
        expect((e as { code: string }).code).toBe('ENOSPC');
        break;
      }
    }
    expect(fs.statfs().bfree).toBe(0);
    expect(fs.getattr(big).size).toBe(written);
    expect(written % BLOCK_SIZE).toBe(0);
    expect(written / BLOCK_SIZE).toBe(total - 1); // all but the one pointer block
    expectClean(fs);

    // Everything that needs a block fails, and changes nothing.
    const other = fs.newInode(R, 'small', { mode: REG }); // the root's bucket still has room
    expectErrno(() => fs.write(other, 0, enc('x')), 'ENOSPC');
    expectErrno(
      () => fs.newInode(R, 'l', { mode: S_IFLNK | 0o777, symlinkTarget: 'y'.repeat(40) }),
      'ENOSPC',
    );
    expectErrno(() => fs.setxattr(other, 'user.x', enc('1')), 'ENOSPC');
    const d = fs.newInode(R, 'd', { mode: DIR }); // an empty directory costs no block...
    expectErrno(() => fs.newInode(d, 'x', { mode: REG }), 'ENOSPC'); // ...its first entry does
    expectErrno(() => fs.rename(R, 'small', d, 'moved'), 'ENOSPC');
    expect(fs.lookup(R, 'small')).toBe(other);
    expect(names(fs, d)).toEqual(['.', '..']);
    expectErrno(() => fs.fallocate(other, 0, 0, BLOCK_SIZE), 'ENOSPC');
    expect(fs.getattr(other).size).toBe(0);
    expectClean(fs);

    // Delete, and the space is back.
    fs.evict(fs.removeDentry(R, 'big'));
    expect(fs.statfs().bfree).toBe(total);
    const again = fs.newInode(R, 'again', { mode: REG });
    expect(fs.write(again, 0, new Uint8Array(256 * 1024).fill(1))).toBe(256 * 1024);
    fs.newInode(d, 'x', { mode: REG });
    fs.rename(R, 'small', d, 'moved');
    expectClean(fs);
  });

  it('fills the directory buckets until a split finds no block', () => {
    const fs = memFs(2 << 20, { inodes: 4096 });
    const filler = fs.newInode(R, 'filler', { mode: REG });
    const free = fs.statfs().bfree;
    fs.fallocate(filler, 0, 0, (free - 3) * BLOCK_SIZE); // one pointer block; two blocks left
    expect(fs.statfs().bfree).toBe(2); // for d's table and first bucket: the first split fails
    const d = fs.newInode(R, 'd', { mode: DIR });
    let made = 0;
    let err = '';
    for (let i = 0; i < 4000 && !err; i++) {
      try {
        fs.newInode(d, `name-number-${i}`, { mode: REG });
        made++;
      } catch (e) {
        err = (e as { code: string }).code;
      }
    }
    expect(err).toBe('ENOSPC');
    expect(made).toBeGreaterThan(0);
    expect(names(fs, d).length).toBe(made + 2);
    expectClean(fs); // the inode of the failed create was given back
    expect(fs.statfs().ffree).toBe(fs.statfs().files - 2 - 1 - made);
    fs.evict(fs.removeDentry(R, 'filler'));
    for (let i = made; i < made + 200; i++) fs.newInode(d, `name-number-${i}`, { mode: REG });
    expectClean(fs);
  });

  it('runs out of inodes', () => {
    const fs = memFs(2 << 20, { inodes: 32 });
    const made: number[] = [];
    for (;;) {
      try {
        made.push(fs.newInode(R, `f${made.length}`, { mode: REG }));
      } catch (e) {
        expect((e as { code: string }).code).toBe('ENOSPC');
        break;
      }
    }
    expect(made.length).toBe(32 - 2); // slot 0 and the root
    expect(fs.statfs().ffree).toBe(0);
    expectClean(fs);
    fs.evict(fs.removeDentry(R, 'f3'));
    expect(fs.newInode(R, 'new', { mode: REG })).toBe(made[3]);
    expectClean(fs);
  });
});
