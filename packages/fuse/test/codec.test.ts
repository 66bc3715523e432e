// The wire layouts and encoders, byte by byte, against the offsets of the kernel's uapi fuse.h.

import { Worker } from 'node:worker_threads';
import {
  Attr,
  AttrOut,
  CopyFileRangeIn,
  CreateIn,
  Dirent,
  DirentPlus,
  direntPlusSize,
  direntSize,
  EntryOut,
  encodeName,
  FallocateIn,
  finishDirent,
  finishDirentPlus,
  getS64,
  InHeader,
  InitIn,
  InitOut,
  Kstatfs,
  LookupTable,
  LseekIn,
  NameReader,
  OutHeader,
  putTimeout,
  putU64,
  ReadIn,
  ReleaseIn,
  Rename2In,
  recAlign,
  SetattrIn,
  WriteIn,
  writeAttr,
  writeAttrOut,
  writeEntry,
  writeInitOut,
  writeKstatfs,
  writeOutHeader,
} from '@zufs/fuse';
import { describe, expect, it } from 'vitest';
import { u64 } from './helpers.js';

const attr = {
  ino: 0x1_0000_0002,
  mode: 0o100644,
  nlink: 3,
  size: 2 ** 40 + 5,
  blocks: 24,
  uid: 1000,
  gid: 100,
  rdev: 0x1234,
  flags: 0,
  generation: 7,
  xattrs: false,
  atimeNs: 1_600_000_000_123_456_000,
  mtimeNs: 1_700_000_000_000_000_000,
  ctimeNs: 5_000_000_001,
};

describe('struct sizes and offsets (fuse.h)', () => {
  it('headers', () => {
    expect(InHeader.SIZE).toBe(40);
    expect([InHeader.len, InHeader.opcode, InHeader.unique, InHeader.nodeid]).toEqual([0, 4, 8, 16]);
    expect([InHeader.uid, InHeader.gid, InHeader.pid, InHeader.total_extlen]).toEqual([24, 28, 32, 36]);
    expect(OutHeader.SIZE).toBe(16);
    expect([OutHeader.len, OutHeader.error, OutHeader.unique]).toEqual([0, 4, 8]);
  });
  it('attributes and entries', () => {
    expect(Attr.SIZE).toBe(88);
    expect([Attr.atimensec, Attr.mode, Attr.rdev, Attr.blksize, Attr.flags]).toEqual([48, 60, 76, 80, 84]);
    expect(EntryOut.SIZE).toBe(128);
    expect(EntryOut.attr).toBe(40);
    expect(AttrOut.SIZE).toBe(104);
    expect(AttrOut.attr).toBe(16);
  });
  it('operation structs', () => {
    expect(SetattrIn.SIZE).toBe(88);
    expect([SetattrIn.size, SetattrIn.atime, SetattrIn.mode, SetattrIn.uid, SetattrIn.gid]).toEqual([
      16, 32, 68, 76, 80,
    ]);
    expect(InitIn.SIZE).toBe(64);
    expect(InitOut.SIZE).toBe(64);
    expect([InitOut.max_write, InitOut.time_gran, InitOut.max_pages, InitOut.flags2]).toEqual([
      20, 24, 28, 32,
    ]);
    expect(Kstatfs.SIZE).toBe(80);
    expect(ReadIn.SIZE).toBe(40);
    expect(WriteIn.SIZE).toBe(40);
    expect(ReleaseIn.SIZE).toBe(24);
    expect(CreateIn.SIZE).toBe(16);
    expect(Rename2In.SIZE).toBe(16);
    expect(FallocateIn.SIZE).toBe(32);
    expect(LseekIn.SIZE).toBe(24);
    expect(CopyFileRangeIn.SIZE).toBe(56);
    expect(Dirent.name).toBe(24);
    expect(DirentPlus.name).toBe(152);
  });
  it('dirent records align to 8 bytes', () => {
    expect(recAlign(0)).toBe(0);
    expect(recAlign(1)).toBe(8);
    expect(recAlign(8)).toBe(8);
    expect(direntSize(1)).toBe(32);
    expect(direntSize(8)).toBe(32);
    expect(direntSize(9)).toBe(40);
    expect(direntPlusSize(1)).toBe(160);
  });
});

describe('encoders', () => {
  it('u64 as two halves, s64 signed', () => {
    const dv = new DataView(new ArrayBuffer(16));
    putU64(dv, 0, 2 ** 52 + 3);
    expect(dv.getUint32(0, true)).toBe(3);
    expect(dv.getUint32(4, true)).toBe(2 ** 20);
    expect(u64(dv, 0)).toBe(2 ** 52 + 3);
    putU64(dv, 8, -5); // never sent; saturates at 0 instead of throwing
    expect(u64(dv, 8)).toBe(0);
    dv.setInt32(12, -1, true);
    dv.setUint32(8, 0xffffffff, true);
    expect(getS64(dv, 8)).toBe(-1);
  });

  it('timeouts split into seconds and nanoseconds', () => {
    const dv = new DataView(new ArrayBuffer(16));
    putTimeout(dv, 0, 8, 1.5);
    expect(u64(dv, 0)).toBe(1);
    expect(dv.getUint32(8, true)).toBe(500_000_000);
    putTimeout(dv, 0, 8, 0);
    expect(u64(dv, 0)).toBe(0);
    expect(dv.getUint32(8, true)).toBe(0);
  });

  it('fuse_attr', () => {
    const dv = new DataView(new ArrayBuffer(Attr.SIZE + 8));
    writeAttr(dv, 8, attr, 4096);
    expect(u64(dv, 8 + Attr.ino)).toBe(attr.ino);
    expect(u64(dv, 8 + Attr.size)).toBe(attr.size);
    expect(u64(dv, 8 + Attr.blocks)).toBe(24);
    expect(u64(dv, 8 + Attr.atime)).toBe(1_600_000_000);
    expect(dv.getUint32(8 + Attr.atimensec, true)).toBeGreaterThan(123_455_000);
    expect(dv.getUint32(8 + Attr.atimensec, true)).toBeLessThan(123_457_000);
    expect(u64(dv, 8 + Attr.mtime)).toBe(1_700_000_000);
    expect(dv.getUint32(8 + Attr.mtimensec, true)).toBe(0);
    expect(u64(dv, 8 + Attr.ctime)).toBe(5);
    expect(dv.getUint32(8 + Attr.ctimensec, true)).toBe(1);
    expect(dv.getUint32(8 + Attr.mode, true)).toBe(0o100644);
    expect(dv.getUint32(8 + Attr.nlink, true)).toBe(3);
    expect(dv.getUint32(8 + Attr.uid, true)).toBe(1000);
    expect(dv.getUint32(8 + Attr.gid, true)).toBe(100);
    expect(dv.getUint32(8 + Attr.rdev, true)).toBe(0x1234);
    expect(dv.getUint32(8 + Attr.blksize, true)).toBe(4096);
    expect(dv.getUint32(8 + Attr.flags, true)).toBe(0);
  });

  it('fuse_entry_out and fuse_attr_out', () => {
    const dv = new DataView(new ArrayBuffer(EntryOut.SIZE));
    writeEntry(dv, 0, 0x2_0000_0009, attr, { entry: 2, attr: 0.25 }, 512);
    expect(u64(dv, EntryOut.nodeid)).toBe(0x2_0000_0009);
    expect(u64(dv, EntryOut.generation)).toBe(7);
    expect(u64(dv, EntryOut.entry_valid)).toBe(2);
    expect(u64(dv, EntryOut.attr_valid)).toBe(0);
    expect(dv.getUint32(EntryOut.entry_valid_nsec, true)).toBe(0);
    expect(dv.getUint32(EntryOut.attr_valid_nsec, true)).toBe(250_000_000);
    expect(dv.getUint32(EntryOut.attr + Attr.blksize, true)).toBe(512);
    const ao = new DataView(new ArrayBuffer(AttrOut.SIZE));
    writeAttrOut(ao, 0, attr, { entry: 0, attr: 3 }, 4096);
    expect(u64(ao, AttrOut.attr_valid)).toBe(3);
    expect(ao.getUint32(AttrOut.dummy, true)).toBe(0);
    expect(u64(ao, AttrOut.attr + Attr.ino)).toBe(attr.ino);
  });

  it('fuse_kstatfs, init_out and out_header', () => {
    const k = new DataView(new ArrayBuffer(Kstatfs.SIZE));
    new Uint8Array(k.buffer).fill(0xff);
    writeKstatfs(k, 0, {
      type: 0x5a554653,
      blocks: 100,
      bfree: 50,
      bavail: 40,
      files: 10,
      ffree: 5,
      bsize: 4096,
      namelen: 0,
      frsize: 0,
      flags: 0,
    });
    expect([u64(k, 0), u64(k, 8), u64(k, 16), u64(k, 24), u64(k, 32)]).toEqual([100, 50, 40, 10, 5]);
    expect([k.getUint32(40, true), k.getUint32(44, true), k.getUint32(48, true)]).toEqual([4096, 255, 4096]);
    for (let i = 52; i < 80; i++) expect(k.getUint8(i)).toBe(0);
    const io = new DataView(new ArrayBuffer(InitOut.SIZE));
    new Uint8Array(io.buffer).fill(0xee);
    writeInitOut(io, 0, {
      major: 7,
      minor: 31,
      maxReadahead: 131072,
      flags: 0x80000001,
      maxBackground: 64,
      congestionThreshold: 48,
      maxWrite: 1 << 20,
      timeGran: 1,
      maxPages: 256,
    });
    expect(io.getUint32(0, true)).toBe(7);
    expect(io.getUint32(4, true)).toBe(31);
    expect(io.getUint32(8, true)).toBe(131072);
    expect(io.getUint32(12, true)).toBe(0x80000001);
    expect(io.getUint16(16, true)).toBe(64);
    expect(io.getUint16(18, true)).toBe(48);
    expect(io.getUint32(20, true)).toBe(1 << 20);
    expect(io.getUint32(24, true)).toBe(1);
    expect(io.getUint16(28, true)).toBe(256);
    for (let i = 30; i < 64; i++) expect(io.getUint8(i)).toBe(0);
    const oh = new DataView(new ArrayBuffer(16));
    writeOutHeader(oh, 16, -2, 2 ** 40 + 1);
    expect(oh.getUint32(0, true)).toBe(16);
    expect(oh.getInt32(4, true)).toBe(-2);
    expect(u64(oh, 8)).toBe(2 ** 40 + 1);
  });

  it('dirents: name, padding zeroed, 8-byte size', () => {
    const b = new Uint8Array(256).fill(0xaa);
    const dv = new DataView(b.buffer);
    const n = encodeName(b, Dirent.name, 256, 'héllo');
    expect(n).toBe(6);
    const size = finishDirent(dv, b, 0, 42, 7, 8, n);
    expect(size).toBe(32);
    expect(u64(dv, 0)).toBe(42);
    expect(u64(dv, 8)).toBe(7);
    expect(dv.getUint32(16, true)).toBe(6);
    expect(dv.getUint32(20, true)).toBe(8);
    expect(new TextDecoder().decode(b.subarray(24, 30))).toBe('héllo');
    expect([...b.subarray(30, 32)]).toEqual([0, 0]);
    expect(b[32]).toBe(0xaa);
    const p = finishDirentPlus(dv, b, 0, 43, 9, 4, 1);
    expect(p).toBe(160);
    expect(u64(dv, DirentPlus.dirent + Dirent.ino)).toBe(43);
    expect(u64(dv, DirentPlus.dirent + Dirent.off)).toBe(9);
    expect(encodeName(b, 250, 256, 'too long')).toBe(-1);
  });

  it('names: NUL-terminated, inside the body', () => {
    const b = new TextEncoder().encode('abc\0de\0fgh');
    const r = new NameReader();
    expect(r.read(b, 0, b.length)).toBe('abc');
    expect(r.next).toBe(4);
    expect(r.read(b, 4, b.length)).toBe('de');
    expect(r.read(b, 7, b.length)).toBeNull(); // no NUL before the end
    expect(r.read(b, 0, 3)).toBeNull(); // NUL past the body's end
  });
});

describe('lookup-count table', () => {
  it('adds, forgets, removes with backward shift', () => {
    const t = new LookupTable(LookupTable.create(64));
    const ids = Array.from({ length: 50 }, (_, i) => 2 ** 32 * (1 + (i % 3)) + i * 7919);
    for (const id of ids) expect(t.add(id)).toBe(1);
    for (const id of ids) expect(t.add(id, 2)).toBe(3);
    expect(t.size).toBe(50);
    for (let i = 0; i < ids.length; i += 2) expect(t.forget(ids[i], 3)).toBe(0);
    for (let i = 1; i < ids.length; i += 2) expect(t.get(ids[i])).toBe(3);
    for (let i = 0; i < ids.length; i += 2) expect(t.get(ids[i])).toBe(0);
    expect(t.size).toBe(25);
    expect(t.forget(12345, 1)).toBe(-1);
    for (let i = 1; i < ids.length; i += 2) expect(t.forget(ids[i], 1)).toBe(2);
    expect(t.entries().length).toBe(25);
  });

  it('after a rollback marks stale the entries whose inode is gone or has another generation, once per epoch', () => {
    const t = new LookupTable(LookupTable.create(64));
    const ids = Array.from({ length: 40 }, (_, i) => 2 ** 32 * (i % 2) + 100 + i * 13);
    for (const [i, id] of ids.entries()) t.add(id, 1, 2 ** 33 + i); // generations past 32 bits
    expect(t.checked(0)).toBe(false);
    const asked: number[] = [];
    // Even entries' inodes survived; odd ones were lost (another generation, or gone).
    const alive = (id: number, gen: number) => {
      asked.push(id);
      const i = ids.indexOf(id);
      expect(gen).toBe(2 ** 33 + i);
      return i % 2 === 0;
    };
    t.revalidate(0, alive);
    expect(asked.sort()).toEqual([...ids].sort());
    expect(t.checked(0)).toBe(true);
    expect(t.staleCount).toBe(20);
    for (const [i, id] of ids.entries()) expect(t.isStale(id)).toBe(i % 2 === 1);
    t.revalidate(0, alive); // checked: nobody asked again
    expect(asked.length).toBe(ids.length);
    // The next rollback asks only of the live entries.
    t.revalidate(1, () => true);
    expect(t.staleCount).toBe(20);
    // The kernel takes a new entry for a stale number with the new inode's generation: live again.
    expect(t.add(ids[1], 1, 7)).toBe(2);
    expect(t.isStale(ids[1])).toBe(false);
    // The same generation again is not a new inode: still stale.
    t.add(ids[3], 1, 2 ** 33 + 3);
    expect(t.isStale(ids[3])).toBe(true);
    // Forgotten stale entries leave the count, whatever moved in the table meanwhile.
    for (let i = 3; i < ids.length; i += 2) expect(t.forget(ids[i], i === 3 ? 2 : 1)).toBe(0);
    expect(t.staleCount).toBe(0);
    expect(t.isStale(ids[5])).toBe(false);
    expect(t.size).toBe(21);
  });

  it('a failed check leaves the epoch to be checked again', () => {
    const t = new LookupTable(LookupTable.create(64));
    t.add(5, 1, 1);
    t.add(6, 1, 1);
    expect(() =>
      t.revalidate(3, (id) => {
        if (id === 6) throw new Error('server away');
        return false;
      }),
    ).toThrow('server away');
    expect(t.checked(3)).toBe(false);
    expect(t.add(7, 1, 1)).toBe(1); // the lock was let go
  });

  it('refuses past capacity instead of looping', () => {
    const t = new LookupTable(LookupTable.create(64));
    let refused = 0;
    for (let i = 1; i <= 70; i++) if (t.add(i) < 0) refused++;
    expect(refused).toBe(7); // one entry stays free so probes end
    expect(t.get(70)).toBe(0);
  });

  it('keeps counts exact under threads adding and forgetting at once', async () => {
    const sab = LookupTable.create(4096);
    const ids = Array.from({ length: 200 }, (_, i) => 2 ** 32 + i * 31);
    const churn = Array.from({ length: 200 }, (_, i) => 2 * 2 ** 32 + i * 37);
    const rounds = 200;
    const workers = Array.from(
      { length: 3 },
      () =>
        new Worker(new URL('./fixtures/lookups-worker.mjs', import.meta.url), {
          workerData: { sab, ids, churn, rounds },
        }),
    );
    await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
    await Promise.all(workers.map((w) => w.terminate()));
    const t = new LookupTable(sab);
    for (const id of ids) expect(t.get(id)).toBe(3 * rounds);
    for (const id of churn) expect(t.get(id)).toBe(0);
    expect(t.size).toBe(ids.length);
  });
});
