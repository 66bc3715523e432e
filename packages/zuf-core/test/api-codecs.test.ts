// Every codec round-trips: for random values (drawn from each layout's own field descriptions),
// decode(encode(v)) gives v back, and re-encoding what was decoded gives the same bytes.
import {
  type FieldImpl,
  IocLookupLayout,
  IocMountLayout,
  type Layout,
  type Prim,
  utf8Length,
  ZUS_API_LAYOUTS,
  ZusInodeLayout,
} from '@zufs/zuf-core/api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

type Obj = Record<string, unknown>;

function primArb(p: Prim): fc.Arbitrary<number> {
  switch (p) {
    case 'u8':
      return fc.integer({ min: 0, max: 0xff });
    case 's8':
      return fc.integer({ min: -0x80, max: 0x7f });
    case 'u16':
      return fc.integer({ min: 0, max: 0xffff });
    case 's16':
      return fc.integer({ min: -0x8000, max: 0x7fff });
    case 'u32':
      return fc.integer({ min: 0, max: 0xffffffff });
    case 's32':
      return fc.integer({ min: -0x80000000, max: 0x7fffffff });
    case 'u56':
    case 'u64':
      return fc.oneof(fc.maxSafeNat(), fc.constantFrom(0, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER));
    case 's64':
      return fc.maxSafeInteger();
    case 'time': // any integer double below 2^64 (times are past 2^53 ns today)
      return fc.oneof(
        fc.maxSafeNat(),
        fc
          .tuple(fc.integer({ min: 0, max: 2 ** 32 - 2 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }))
          .map(([hi, lo]) => hi * 2 ** 32 + lo),
      );
  }
}

const text = (maxBytes: number) =>
  fc
    .oneof(
      fc.string({ unit: 'binary', maxLength: maxBytes >> 2 }),
      fc.string({ unit: 'binary-ascii', maxLength: maxBytes }),
    )
    .filter((s) => !s.includes('\0') && utf8Length(s) <= maxBytes);

/** Arbitrary properties a field adds to its struct's object (unions: one member, at random). */
function fieldArb(f: FieldImpl): fc.Arbitrary<Obj> {
  const d = f.desc;
  const one = (a: fc.Arbitrary<unknown>) => a.map((v) => ({ [f.name]: v }));
  switch (d.kind) {
    case 'prim':
      return one(primArb(d.prim));
    case 'bytes':
      return one(fc.uint8Array({ minLength: d.n, maxLength: d.n }));
    case 'cstr':
      return one(text(d.n - 1));
    case 'zstr':
      return one(text(255));
    case 'struct':
      return one(layoutArb(d.layout));
    case 'inline':
      return layoutArb(d.layout);
    case 'union':
      return fc.oneof(...d.members.map(fieldArb));
    case 'array':
      return one(
        fc.array<unknown>(typeof d.elem === 'string' ? primArb(d.elem) : layoutArb(d.elem), {
          minLength: d.count,
          maxLength: d.count,
        }),
      );
    case 'mark':
      return fc.constant({});
  }
}

function layoutArb(l: Layout): fc.Arbitrary<Obj> {
  return fc.tuple(...l.fields.map(fieldArb)).map((parts) => Object.assign({}, ...parts));
}

function hasUnion(l: Layout): boolean {
  return l.fields.some(
    (f) =>
      f.desc.kind === 'union' ||
      ((f.desc.kind === 'struct' || f.desc.kind === 'inline') && hasUnion(f.desc.layout)) ||
      (f.desc.kind === 'array' && typeof f.desc.elem !== 'string' && hasUnion(f.desc.elem)),
  );
}

describe('round trip of every codec', () => {
  for (const layout of ZUS_API_LAYOUTS) {
    it(`${layout.name}`, () => {
      const a = new DataView(new SharedArrayBuffer(layout.SIZE + 16));
      const b = new DataView(new ArrayBuffer(layout.SIZE + 16));
      const exact = !hasUnion(layout);
      fc.assert(
        fc.property(layoutArb(layout), fc.integer({ min: 0, max: 2 }), (v, k) => {
          const at = k * 8; // any 8-byte aligned place
          layout.encode(a, at, v);
          const back = layout.decode(a, at) as Obj;
          expect(back).toMatchObject(v);
          if (exact) {
            expect(back).toEqual(v);
            layout.encode(b, at, back);
            expect(new Uint8Array(b.buffer, at, layout.SIZE)).toEqual(
              new Uint8Array(a.buffer, at, layout.SIZE),
            );
          }
          // decoding into the object we got gives the same again
          expect(layout.decode(a, at, back)).toEqual(layout.decode(a, at));
        }),
        { numRuns: 60 },
      );
    });
  }

  it('create() gives zeroed objects that encode to zero bytes', () => {
    for (const layout of ZUS_API_LAYOUTS) {
      const dv = new DataView(new ArrayBuffer(layout.SIZE));
      new Uint8Array(dv.buffer).fill(0x5a);
      layout.encode(dv, 0, layout.create());
      expect(new Uint8Array(dv.buffer).every((x) => x === 0)).toBe(true);
      expect(layout.decode(dv, 0)).toEqual(layout.create());
    }
  });
});

describe('unions', () => {
  it('zus_inode: a short symlink, a device, a directory share the last 32 bytes', () => {
    const dv = new DataView(new ArrayBuffer(128));
    const target = new TextEncoder().encode('../some/where');
    const link = new Uint8Array(32);
    link.set(target);
    ZusInodeLayout.encode(dv, 0, { i_mode: 0o120777, i_size: target.length, i_symlink: link });
    expect(ZusInodeLayout.decode(dv, 0).i_symlink).toEqual(link);
    ZusInodeLayout.encode(dv, 0, { i_mode: 0o020644, i_rdev: 0x1234 });
    const dev = ZusInodeLayout.decode(dv, 0);
    expect(dev.i_rdev).toBe(0x1234);
    expect(dev.i_symlink.subarray(4).every((x) => x === 0)).toBe(true);
    ZusInodeLayout.encode(dv, 0, { i_mode: 0o040755, i_dir: { dir_root: 7, parent: 2 } });
    const dir = ZusInodeLayout.decode(dv, 0);
    expect(dir.i_dir).toEqual({ dir_root: 7, parent: 2 });
    expect(dir.i_sym_dpp).toBe(7);
  });

  it('zufs_ioc_mount: mount info or dynamic debug info', () => {
    const dv = new DataView(new ArrayBuffer(IocMountLayout.SIZE));
    IocMountLayout.encode(dv, 0, { hdr: { operation: 1 }, zus_zfi: 3, mount_flags: 2, mount_options_len: 5 });
    expect(IocMountLayout.decode(dv, 0)).toMatchObject({ zus_zfi: 3, mount_flags: 2, mount_options_len: 5 });
    IocMountLayout.encode(dv, 0, { hdr: { operation: 4 }, zdi: { id: 9, len: 100 } });
    expect(IocMountLayout.decode(dv, 0)).toMatchObject({
      zdi: { id: 9, len: 100 },
      zus_zfi: 9,
      remount_flags: 100,
    });
  });
});

it('a lookup request, as the README shows it', () => {
  const op = new DataView(new SharedArrayBuffer(4096));
  IocLookupLayout.encode(op, 0, {
    hdr: { in_len: IocLookupLayout.off._zi, out_start: IocLookupLayout.off._zi, out_max: 16, operation: 7 },
    dir_ii: 42,
    str: 'hello.txt',
  });
  expect(op.getUint16(4, true)).toBe(288);
  expect(op.getUint8(32)).toBe(9);
  expect(IocLookupLayout.decode(op, 0).str).toBe('hello.txt');
});
