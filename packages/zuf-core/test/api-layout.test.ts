// The struct-layout helper: C alignment rules, u64 halves, times, strings, nested / inline / union /
// array / marker fields, decode into an existing object.
import {
  defineStruct,
  field,
  getS64,
  getTimeMs,
  getTimeNs,
  getTimespec,
  getU56,
  getU64,
  readZstr,
  setS64,
  setTimeMs,
  setTimeNs,
  setTimespec,
  setU56,
  setU64,
  utf8Length,
  writeZstr,
  ZUFS_STR_SIZE,
  ZufsStr,
} from '@zufs/zuf-core/api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const view = (n: number, shared = false) =>
  new DataView(shared ? new SharedArrayBuffer(n) : new ArrayBuffer(n));
const MAX = Number.MAX_SAFE_INTEGER;

describe('u64 as two u32 halves', () => {
  it('round-trips 0, 2^32 - 1, 2^32, 2^53 - 1', () => {
    const dv = view(16);
    for (const n of [0, 1, 0xffffffff, 2 ** 32, 2 ** 32 + 5, 2 ** 40 + 123, MAX]) {
      setU64(dv, 4, n);
      expect(getU64(dv, 4)).toBe(n);
    }
  });

  it('writes little-endian halves', () => {
    const dv = view(8);
    setU64(dv, 0, MAX); // 0x001f_ffff_ffff_ffff
    expect([...new Uint8Array(dv.buffer)]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0]);
    expect(dv.getBigUint64(0, true)).toBe(BigInt(MAX));
  });

  it('throws a RangeError beyond 2^53 - 1, for negatives and fractions', () => {
    const dv = view(8);
    for (const bad of [MAX + 1, 2 ** 60, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => setU64(dv, 0, bad)).toThrow(RangeError);
    }
  });

  it('reads what a u64 writer wrote (BigInt as the oracle)', () => {
    const dv = view(8);
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => {
        dv.setBigUint64(0, BigInt(n), true);
        expect(getU64(dv, 0)).toBe(n);
        setU64(dv, 0, n);
        expect(dv.getBigUint64(0, true)).toBe(BigInt(n));
      }),
    );
  });

  it('s64 round-trips safe integers, negative ones too', () => {
    const dv = view(8);
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        setS64(dv, 0, n);
        expect(dv.getBigInt64(0, true)).toBe(BigInt(n));
        expect(getS64(dv, 0)).toBe(n);
      }),
    );
    for (const n of [-1, -(2 ** 32), -MAX, MAX]) {
      setS64(dv, 0, n);
      expect(getS64(dv, 0)).toBe(n);
    }
    expect(() => setS64(dv, 0, -MAX - 2)).toThrow(RangeError);
  });

  it('u56 keeps the 8th byte untouched', () => {
    const dv = view(8);
    dv.setUint8(7, 0xee);
    setU56(dv, 0, MAX);
    expect(getU56(dv, 0)).toBe(MAX);
    expect(dv.getUint8(7)).toBe(0xee);
    expect(() => setU56(dv, 0, MAX + 1)).toThrow(RangeError);
  });
});

describe('times (u64 nanoseconds)', () => {
  it('timespec helpers are exact past 2^53 ns', () => {
    const dv = view(8);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 18_446_744_072 }),
        fc.integer({ min: 0, max: 999_999_999 }),
        (sec, nsec) => {
          setTimespec(dv, 0, sec, nsec);
          expect(dv.getBigUint64(0, true)).toBe(BigInt(sec) * 1_000_000_000n + BigInt(nsec));
          expect(getTimespec(dv, 0)).toEqual({ sec, nsec });
        },
      ),
    );
  });

  it('setTimespec refuses what does not fit', () => {
    const dv = view(8);
    expect(() => setTimespec(dv, 0, 18_446_744_074, 0)).toThrow(RangeError);
    expect(() => setTimespec(dv, 0, 1, 1e9)).toThrow(RangeError);
    expect(() => setTimespec(dv, 0, -1, 0)).toThrow(RangeError);
    setTimespec(dv, 0, 18_446_744_073, 709_551_615); // 2^64 - 1
    expect(dv.getBigUint64(0, true)).toBe(2n ** 64n - 1n);
  });

  it('ns as a double round-trips any integer double below 2^64', () => {
    const dv = view(8);
    const now = Date.now() * 1e6 + 123; // past 2^53: rounded to a double
    setTimeNs(dv, 0, now);
    expect(getTimeNs(dv, 0)).toBe(now);
    expect(() => setTimeNs(dv, 0, 2 ** 64)).toThrow(RangeError);
    expect(() => setTimeNs(dv, 0, -1)).toThrow(RangeError);
  });

  it('ms helpers keep sub-millisecond digits', () => {
    const dv = view(8);
    setTimeMs(dv, 0, 1_700_000_000_123.456);
    const ts = getTimespec(dv, 0);
    expect(ts.sec).toBe(1_700_000_000);
    expect(Math.abs(ts.nsec - 123_456_000)).toBeLessThan(1000); // a double of ms holds ~0.2 us here
    expect(getTimeMs(dv, 0)).toBeCloseTo(1_700_000_000_123.456, 3);
  });
});

describe('zufs_str', () => {
  it('is 256 bytes: a length byte then the name', () => {
    expect(ZUFS_STR_SIZE).toBe(256);
    expect(ZufsStr).toEqual({ SIZE: 256, len: 0, name: 1 });
  });

  it('holds a 255-byte name, and refuses 256 bytes', () => {
    const dv = view(300);
    const name = 'n'.repeat(255);
    expect(writeZstr(dv, 0, name)).toBe(255);
    expect(dv.getUint8(0)).toBe(255);
    expect(readZstr(dv, 0)).toBe(name);
    expect(() => writeZstr(dv, 0, 'n'.repeat(256))).toThrow(RangeError);
    expect(() => writeZstr(dv, 0, new Uint8Array(256))).toThrow(RangeError);
  });

  it('counts UTF-8 bytes, not characters', () => {
    const dv = view(300, true); // shared memory, as on the operation path
    const name = 'é'.repeat(127); // 254 bytes
    expect(writeZstr(dv, 0, name)).toBe(254);
    expect(readZstr(dv, 0)).toBe(name);
    expect(() => writeZstr(dv, 0, 'é'.repeat(128))).toThrow(RangeError); // 256 bytes
    const emoji = `${'x'.repeat(251)}😀`; // 255 bytes
    expect(writeZstr(dv, 0, emoji)).toBe(255);
    expect(readZstr(dv, 0)).toBe(emoji);
  });

  it('round-trips any name of at most 255 bytes', () => {
    const dv = view(256, true);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 63 }),
          fc.string({ unit: 'binary-ascii', maxLength: 255 }),
        ),
        (s) => {
          expect(utf8Length(s)).toBe(Buffer.byteLength(s));
          expect(writeZstr(dv, 0, s)).toBe(Buffer.byteLength(s));
          expect(readZstr(dv, 0)).toBe(s);
        },
      ),
    );
  });
});

describe('defineStruct', () => {
  const Inner = defineStruct('inner', [field.u8('a'), field.u32('b')]);

  it('aligns each field naturally and pads the end to the largest alignment', () => {
    const S = defineStruct('s', [
      field.u8('c'),
      field.u64('q'),
      field.u16('h'),
      field.struct('in', Inner),
      field.u8('t'),
    ]);
    expect(Inner.SIZE).toBe(8);
    expect(Inner.off).toEqual({ SIZE: 8, a: 0, b: 4 });
    expect(S.off).toEqual({ SIZE: 32, c: 0, q: 8, h: 16, in: 20, 'in.a': 20, 'in.b': 24, t: 28 });
    expect(S.ALIGN).toBe(8);
    expect(Object.isFrozen(S.off)).toBe(true);
  });

  it('lays out arrays, zufs_str, markers and unions like C', () => {
    const S = defineStruct('s', [
      field.u16('n'),
      field.array('v', 'u32', 3),
      field.zstr('name'),
      field.mark('tail', 8),
      field.union(field.u8('x'), field.array('y', 'u16', 3)),
      field.array('ins', Inner, 2),
    ]);
    // n 0, v 4..16, name 16..272, tail 272, union 272..278, ins 280..296
    expect(S.off).toEqual({
      SIZE: 296,
      n: 0,
      v: 4,
      name: 16,
      'name.len': 16,
      'name.name': 17,
      tail: 272,
      x: 272,
      y: 272,
      ins: 280,
    });
  });

  it('inline structs hoist their members', () => {
    const S = defineStruct('s', [field.u32('k'), field.inline(Inner, 'inner')]);
    expect(S.off).toEqual({ SIZE: 12, k: 0, inner: 4, a: 4, b: 8 });
    const dv = view(12);
    S.encode(dv, 0, { k: 1, a: 2, b: 3 });
    expect(S.decode(dv, 0)).toEqual({ k: 1, a: 2, b: 3 });
  });

  it('refuses two fields with the same key', () => {
    expect(() => defineStruct('bad', [field.u8('a'), field.inline(Inner)])).toThrow(/duplicate/);
  });

  it('encode writes missing fields and padding as zero', () => {
    const S = defineStruct('s', [field.u8('c'), field.u64('q'), field.zstr('s'), field.struct('in', Inner)]);
    const dv = view(S.SIZE + 8);
    new Uint8Array(dv.buffer).fill(0xaa);
    S.encode(dv, 4, { q: 7 });
    const b = new Uint8Array(dv.buffer);
    expect(b.subarray(0, 4).every((x) => x === 0xaa)).toBe(true);
    expect(b.subarray(4 + S.SIZE).every((x) => x === 0xaa)).toBe(true);
    expect(S.decode(dv, 4)).toEqual({ c: 0, q: 7, s: '', in: { a: 0, b: 0 } });
    const nonZero = b.subarray(4, 4 + S.SIZE).filter((x) => x !== 0).length;
    expect(nonZero).toBe(1); // only q's low byte
  });

  it('encode checks ranges', () => {
    const S = defineStruct('s', [field.u8('a'), field.u16('b'), field.s32('c'), field.bytes('d', 2)]);
    const dv = view(S.SIZE);
    expect(() => S.encode(dv, 0, { a: 256 })).toThrow(RangeError);
    expect(() => S.encode(dv, 0, { b: -1 })).toThrow(RangeError);
    expect(() => S.encode(dv, 0, { c: 2 ** 31 })).toThrow(RangeError);
    expect(() => S.encode(dv, 0, { d: new Uint8Array(3) })).toThrow(RangeError);
  });

  it('decode reuses the object, nested objects and arrays it is given', () => {
    const S = defineStruct('s', [
      field.u64('q'),
      field.struct('in', Inner),
      field.array('v', 'u16', 2),
      field.bytes('raw', 4),
    ]);
    const dv = view(S.SIZE);
    S.encode(dv, 0, { q: 2 ** 40, in: { a: 1, b: 2 }, v: [3, 4], raw: new Uint8Array([5, 6, 7, 8]) });
    const out = S.create();
    const { in: inner, v, raw } = out;
    expect(S.decode(dv, 0, out)).toBe(out);
    expect(out.in).toBe(inner);
    expect(out.v).toBe(v);
    expect(out.raw).toBe(raw);
    expect(out).toEqual({ q: 2 ** 40, in: { a: 1, b: 2 }, v: [3, 4], raw: new Uint8Array([5, 6, 7, 8]) });
  });

  it('a union writes the members given and zeroes the rest of its bytes', () => {
    const S = defineStruct('s', [field.union(field.u8('small'), field.u64('big'))]);
    const dv = view(8);
    S.encode(dv, 0, { big: 2 ** 40 + 3 });
    S.encode(dv, 0, { small: 9 });
    expect(getU64(dv, 0)).toBe(9);
    S.encode(dv, 0, {});
    expect(getU64(dv, 0)).toBe(0);
  });

  it('cstr fields are NUL terminated', () => {
    const S = defineStruct('s', [field.cstr('name', 8)]);
    const dv = view(8);
    S.encode(dv, 0, { name: 'toyfs' });
    expect([...new Uint8Array(dv.buffer)]).toEqual([116, 111, 121, 102, 115, 0, 0, 0]);
    expect(S.decode(dv, 0)).toEqual({ name: 'toyfs' });
    expect(() => S.encode(dv, 0, { name: '12345678' })).toThrow(RangeError);
  });
});
