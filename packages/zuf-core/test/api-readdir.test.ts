// Readdir records: the server emits into the app's buffer, the app iterates them back; `more` says
// when the buffer was full.
import {
  DT_DIR,
  DT_REG,
  E_ZDE_HDR_SIZE,
  IocReaddirLayout,
  type ZdeEntry,
  ZufsDirEntry,
  zdeEmit,
  zdeEmitBytes,
  zdeEmitInit,
  zdeIterInit,
  zdeNext,
  zufsDirEntryLen,
} from '@zufs/zuf-core/api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

interface Ent {
  ino: number;
  type: number;
  pos: number;
  name: string;
}

function readAll(dv: DataView, at: number, len: number): Ent[] {
  const it = zdeIterInit(dv, at, len);
  const out: Ent[] = [];
  const e: ZdeEntry = { ino: 0, type: 0, pos: 0, name: '', nameAt: 0, nameLen: 0 };
  for (let r = zdeNext(it, e); r; r = zdeNext(it, e))
    out.push({ ino: r.ino, type: r.type, pos: r.pos, name: r.name });
  return out;
}

describe('zufs_dir_entry', () => {
  it('writes the same records from a string, from bytes and from bytes inside a larger buffer', () => {
    const enc = new TextEncoder();
    const names = ['a', 'entry-42', 'ünïcødé', 'x'.repeat(255)];
    const fill = (how: 'string' | 'bytes' | 'inside') => {
      const dv = new DataView(new ArrayBuffer(2048));
      const it = zdeEmitInit(dv, 0, dv.byteLength);
      names.forEach((n, i) => {
        const b = enc.encode(n);
        const src = new Uint8Array(b.length + 10);
        src.set(b, 3);
        if (how === 'string') expect(zdeEmit(it, i + 1, DT_REG, i + 10, n)).toBe(true);
        else if (how === 'bytes') expect(zdeEmit(it, i + 1, DT_REG, i + 10, b)).toBe(true);
        else expect(zdeEmitBytes(it, i + 1, DT_REG, i + 10, src, 3, b.length)).toBe(true);
      });
      return new Uint8Array(dv.buffer);
    };
    const s = fill('string');
    expect(fill('bytes')).toEqual(s);
    expect(fill('inside')).toEqual(s);
    expect(readAll(new DataView(s.buffer), 0, s.length).map((e) => e.name)).toEqual(names);
    const it = zdeEmitInit(new DataView(new ArrayBuffer(64)), 0, 64);
    expect(() => zdeEmitBytes(it, 1, DT_REG, 2, new Uint8Array(300), 0, 256)).toThrow(RangeError);
    expect(zdeEmitBytes(it, 1, DT_REG, 2, new Uint8Array(300), 0, 60)).toBe(false);
    expect(it.more).toBe(true);
  });

  it('has a 17-byte header and 8-byte aligned records', () => {
    expect(E_ZDE_HDR_SIZE).toBe(ZufsDirEntry.zstr + 1);
    expect([ZufsDirEntry.ino, ZufsDirEntry.type, ZufsDirEntry.pos, ZufsDirEntry.zstr]).toEqual([0, 8, 9, 16]);
    expect(zufsDirEntryLen(1)).toBe(24);
    expect(zufsDirEntryLen(7)).toBe(24);
    expect(zufsDirEntryLen(8)).toBe(32);
    expect(zufsDirEntryLen(255)).toBe(272);
  });

  it('lays type and pos out as the C bit-fields do (type in the low byte of the second u64)', () => {
    const dv = new DataView(new ArrayBuffer(64));
    const it = zdeEmitInit(dv, 0, 64);
    expect(zdeEmit(it, 5, DT_REG, 0x12_3456_789a_bcde, 'a')).toBe(true);
    const word = dv.getBigUint64(8, true);
    expect(word & 0xffn).toBe(BigInt(DT_REG));
    expect(word >> 8n).toBe(0x12_3456_789a_bcden);
  });
});

describe('emit and iterate', () => {
  it('reads back what was emitted, in order', () => {
    const dv = new DataView(new SharedArrayBuffer(4096));
    const it = zdeEmitInit(dv, 0, 4096);
    const ents: Ent[] = [
      { ino: 1, type: DT_DIR, pos: 1, name: '.' },
      { ino: 2, type: DT_DIR, pos: 2, name: '..' },
      { ino: 2 ** 40, type: DT_REG, pos: 2 ** 52, name: 'fichier-été.txt' },
      { ino: 9, type: DT_REG, pos: 77, name: 'x'.repeat(255) },
    ];
    for (const e of ents) expect(zdeEmit(it, e.ino, e.type, e.pos, e.name)).toBe(true);
    expect(it.more).toBe(false);
    expect(readAll(dv, 0, 4096)).toEqual(ents);
  });

  it('sets `more` when the buffer is full, and the entries that fit are intact', () => {
    const len = 100;
    const dv = new DataView(new ArrayBuffer(len));
    const it = zdeEmitInit(dv, 0, len);
    const names = ['one', 'two', 'three', 'four', 'five'];
    let n = 0;
    for (const name of names) {
      if (!zdeEmit(it, n + 1, DT_REG, n + 1, name)) break;
      n++;
    }
    // 24-byte records must end strictly before the end: 4 fit in 100 bytes (96 < 100)
    expect(n).toBe(4);
    expect(it.more).toBe(true);
    expect(readAll(dv, 0, len).map((e) => e.name)).toEqual(names.slice(0, 4));
  });

  it('a record never ends exactly at the buffer end (as in zus_api.h)', () => {
    const dv = new DataView(new ArrayBuffer(48));
    const it = zdeEmitInit(dv, 0, 48);
    expect(zdeEmit(it, 1, DT_REG, 1, 'a')).toBe(true); // 0..24
    expect(zdeEmit(it, 2, DT_REG, 2, 'b')).toBe(false); // would end at 48
    expect(it.more).toBe(true);
    expect(readAll(dv, 0, 48)).toHaveLength(1);
  });

  it('needs no clean buffer: a zero length ends the list', () => {
    const dv = new DataView(new ArrayBuffer(1024));
    new Uint8Array(dv.buffer).fill(0xff);
    const it = zdeEmitInit(dv, 16, 1000);
    zdeEmit(it, 3, DT_REG, 1, 'only');
    expect(readAll(dv, 16, 1000)).toEqual([{ ino: 3, type: DT_REG, pos: 1, name: 'only' }]);
    expect(new Uint8Array(dv.buffer, 0, 16).every((b) => b === 0xff)).toBe(true);
  });

  it('an empty directory reads back empty from a dirty buffer', () => {
    const dv = new DataView(new ArrayBuffer(256));
    new Uint8Array(dv.buffer).fill(0x41);
    zdeEmitInit(dv, 0, 256);
    expect(readAll(dv, 0, 256)).toEqual([]);
  });

  it('takes names as bytes, and refuses empty or too long names', () => {
    const dv = new DataView(new ArrayBuffer(1024));
    const it = zdeEmitInit(dv, 0, 1024);
    expect(zdeEmit(it, 1, DT_REG, 1, new Uint8Array([0x61, 0x62]))).toBe(true);
    expect(() => zdeEmit(it, 1, DT_REG, 1, '')).toThrow(RangeError);
    expect(() => zdeEmit(it, 1, DT_REG, 1, 'é'.repeat(128))).toThrow(RangeError);
    const e = readAll(dv, 0, 1024);
    expect(e.map((x) => x.name)).toEqual(['ab']);
  });

  it('random directories: what fits is read back, `more` is set exactly when something did not fit', () => {
    const entArb = fc.record({
      ino: fc.maxSafeNat(),
      type: fc.integer({ min: 0, max: 15 }),
      pos: fc.maxSafeNat(),
      name: fc
        .oneof(
          fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }),
          fc.string({ minLength: 1, maxLength: 255 }),
        )
        .filter((s) => Buffer.byteLength(s) <= 255),
    });
    fc.assert(
      fc.property(fc.array(entArb, { maxLength: 40 }), fc.integer({ min: 0, max: 3000 }), (ents, len) => {
        const dv = new DataView(new ArrayBuffer(len + 8));
        new Uint8Array(dv.buffer).fill(0xa5);
        const it = zdeEmitInit(dv, 8, len);
        let n = 0;
        for (const e of ents) {
          if (!zdeEmit(it, e.ino, e.type, e.pos, e.name)) break;
          n++;
        }
        expect(it.more).toBe(n < ents.length);
        expect(readAll(dv, 8, len)).toEqual(ents.slice(0, n));
      }),
    );
  });

  it('IocReaddir carries dir_ii, pos and more', () => {
    expect(IocReaddirLayout.off).toMatchObject({ SIZE: 48, dir_ii: 24, pos: 32, more: 40 });
  });
});
