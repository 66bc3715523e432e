/**
 * Struct layouts: a C struct described once, as an ordered list of typed fields, laid out with the
 * rules of the C compiler on x86_64 / aarch64 Linux (natural alignment, trailing padding), always
 * little-endian. A layout gives:
 *
 * - `SIZE` and `ALIGN` (what `sizeof` / `_Alignof` say),
 * - `off`: a frozen map of byte offsets, name -> offset, plus `SIZE`; hot paths read and write with
 *   DataView at `at + off.name` and never touch the codec,
 * - `encode(dv, at, obj)`: writes every field (a missing one is written as zero, padding is zeroed),
 * - `decode(dv, at, out?)`: reads every field, into `out` when given (no allocation for numbers),
 * - `create()`: a zeroed object of the right shape.
 *
 * u64 values are JS numbers made of two u32 halves, never BigInt: encoding a value that is not a safe
 * integer throws a RangeError. Decoding never throws (a value past 2^53 comes back rounded).
 */

const TWO16 = 65536;
const TWO32 = 4294967296;
const TWO64 = 2 ** 64;
const NS_PER_S = 1_000_000_000;

// ~~~ 64-bit values as two 32-bit halves ~~~

/**
 * True for an integer in [0, 2^53), by compares alone: the checks of the operation path use it and
 * leave their messages to out-of-line functions. A setter that threw a template string in its own
 * body measured ~100 ns a call inside pmemfs on Node 20, though a loop of it alone is fast (mkdir +
 * rmdir 7.6 -> 6.2 us without it): docs/decisions.md, "No template strings in the body...".
 */
export function isU53(n: number): boolean {
  return n >= 0 && n <= Number.MAX_SAFE_INTEGER && Math.floor(n) === n;
}

/** Reads a u64. Exact below 2^53. */
export function getU64(dv: DataView, at: number): number {
  return dv.getUint32(at + 4, true) * TWO32 + dv.getUint32(at, true);
}

/** Writes a u64; `n` must be a safe non-negative integer (RangeError otherwise). */
export function setU64(dv: DataView, at: number, n: number): void {
  if (n >>> 0 === n) {
    dv.setUint32(at, n, true);
    dv.setUint32(at + 4, 0, true);
    return;
  }
  if (!isU53(n)) badValue('u64', ' >= 0', n); // inode cookies are past 2^32: a hot path too
  const hi = Math.floor(n / TWO32);
  dv.setUint32(at, n - hi * TWO32, true);
  dv.setUint32(at + 4, hi, true);
}

function badValue(what: string, range: string, n: number): never {
  throw new RangeError(`${what} value must be a safe integer${range}, got ${n}`);
}

/** Reads an s64. Exact between -(2^53) and 2^53. */
export function getS64(dv: DataView, at: number): number {
  return dv.getInt32(at + 4, true) * TWO32 + dv.getUint32(at, true);
}

/** Writes an s64; `n` must be a safe integer (RangeError otherwise). */
export function setS64(dv: DataView, at: number, n: number): void {
  if (!(Math.abs(n) <= Number.MAX_SAFE_INTEGER && Math.floor(n) === n)) badValue('s64', '', n);
  let lo = n % TWO32;
  if (lo < 0) lo += TWO32;
  dv.setUint32(at, lo, true);
  dv.setInt32(at + 4, (n - lo) / TWO32, true);
}

/** Reads a 56-bit unsigned value (7 bytes, e.g. the `pos` bit-field of zufs_dir_entry). */
export function getU56(dv: DataView, at: number): number {
  return (dv.getUint16(at + 4, true) + dv.getUint8(at + 6) * TWO16) * TWO32 + dv.getUint32(at, true);
}

/** Writes a 56-bit unsigned value (7 bytes); `n` must be a safe non-negative integer. */
export function setU56(dv: DataView, at: number, n: number): void {
  if (!isU53(n)) badValue('u56', ' >= 0', n);
  const hi = Math.floor(n / TWO32);
  dv.setUint32(at, n - hi * TWO32, true);
  dv.setUint16(at + 4, hi & 0xffff, true);
  dv.setUint8(at + 6, hi >>> 16);
}

// ~~~ times: u64 nanoseconds since the epoch ~~~
// zus_inode keeps times as one u64 of nanoseconds (ZUFS's "mt" format). Today's times are past 2^53 ns,
// so as a single JS number they are rounded (to 256 ns). The timespec helpers are exact.

/** Reads a time as a number of nanoseconds (rounded to the nearest double past 2^53). */
export function getTimeNs(dv: DataView, at: number): number {
  return dv.getUint32(at + 4, true) * TWO32 + dv.getUint32(at, true);
}

/** Writes a number of nanoseconds (any integer-valued double in [0, 2^64); exact for the double given). */
export function setTimeNs(dv: DataView, at: number, ns: number): void {
  if (!(ns >= 0 && ns < TWO64 && Math.floor(ns) === ns)) badTime(ns); // see isU53
  const hi = Math.floor(ns / TWO32);
  dv.setUint32(at, ns - hi * TWO32, true);
  dv.setUint32(at + 4, hi, true);
}

function badTime(ns: number): never {
  throw new RangeError(`time must be an integer number of ns in [0, 2^64), got ${ns}`);
}

export interface Timespec {
  sec: number;
  nsec: number;
}

/** Reads a time exactly as seconds + nanoseconds (long division in 16-bit digits, no BigInt). */
export function getTimespec(dv: DataView, at: number, out: Timespec = { sec: 0, nsec: 0 }): Timespec {
  const hi = dv.getUint32(at + 4, true);
  const lo = dv.getUint32(at, true);
  let r = hi >>> 16;
  let q = Math.floor(r / NS_PER_S);
  r -= q * NS_PER_S;
  let sec = q;
  const digits = [hi & 0xffff, lo >>> 16, lo & 0xffff];
  for (let i = 0; i < 3; i++) {
    const cur = r * TWO16 + digits[i];
    q = Math.floor(cur / NS_PER_S);
    r = cur - q * NS_PER_S;
    sec = sec * TWO16 + q;
  }
  out.sec = sec;
  out.nsec = r;
  return out;
}

/** Writes a time exactly from seconds + nanoseconds (sec >= 0, 0 <= nsec < 1e9). */
export function setTimespec(dv: DataView, at: number, sec: number, nsec: number): void {
  if (
    !Number.isSafeInteger(sec) ||
    sec < 0 ||
    sec > 18446744073 ||
    !Number.isInteger(nsec) ||
    nsec < 0 ||
    nsec >= NS_PER_S
  ) {
    throw new RangeError(`bad timespec ${sec}.${nsec}`);
  }
  const s1 = Math.floor(sec / TWO16);
  const s0 = sec - s1 * TWO16;
  const x = s1 * NS_PER_S; // value = x * 2^16 + y
  const y = s0 * NS_PER_S + nsec;
  const yHi = Math.floor(y / TWO32);
  const xHi = Math.floor(x / TWO16);
  let lo = y - yHi * TWO32 + (x - xHi * TWO16) * TWO16;
  let hi = yHi + xHi;
  if (lo >= TWO32) {
    lo -= TWO32;
    hi += 1;
  }
  if (hi >= TWO32) throw new RangeError(`timespec ${sec}.${nsec} does not fit in u64 ns`);
  dv.setUint32(at, lo, true);
  dv.setUint32(at + 4, hi, true);
}

const scratchTs: Timespec = { sec: 0, nsec: 0 };

/** Reads a time as milliseconds since the epoch (like `Stats.mtimeMs`), computed from the exact timespec. */
export function getTimeMs(dv: DataView, at: number): number {
  const ts = getTimespec(dv, at, scratchTs);
  return ts.sec * 1000 + ts.nsec / 1e6;
}

/** Writes a time given in milliseconds since the epoch (fractions kept to the nanosecond). */
export function setTimeMs(dv: DataView, at: number, ms: number): void {
  if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`time in ms must be >= 0, got ${ms}`);
  const sec = Math.floor(ms / 1000);
  const nsec = Math.min(NS_PER_S - 1, Math.round((ms - sec * 1000) * 1e6));
  setTimespec(dv, at, sec, nsec);
}

// ~~~ strings ~~~

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

function bytesAt(dv: DataView, at: number, len: number): Uint8Array {
  return new Uint8Array(dv.buffer, dv.byteOffset + at, len);
}

/** Bytes `s` takes in UTF-8. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/**
 * Writes `s` as UTF-8 at `at`, at most `max` bytes; returns the byte count. Throws a RangeError (and
 * may have written part of it) when it does not fit.
 */
export function writeUtf8(dv: DataView, at: number, s: string, max: number): number {
  const n = s.length;
  if (n <= max) {
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      dv.setUint8(at + i, c);
    }
    if (i === n) return n;
  }
  const r = encoder.encodeInto(s, bytesAt(dv, at, max));
  if (r.read !== n) tooLong('string takes more than', max, 'bytes in UTF-8');
  return r.written;
}

/** Out of line: the name writers run on every named operation (see isU53). */
function tooLong(what: string, n: number, tail: string): never {
  throw new RangeError(`${what} ${n} ${tail}`);
}

/** Reads `len` bytes of UTF-8 at `at` (malformed sequences become U+FFFD). */
export function readUtf8(dv: DataView, at: number, len: number): string {
  if (len <= 32) {
    let s = '';
    for (let i = 0; i < len; i++) {
      const c = dv.getUint8(at + i);
      if (c >= 0x80) return decoder.decode(bytesAt(dv, at, len));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return decoder.decode(bytesAt(dv, at, len));
}

/** struct zufs_str: a u8 length and 255 bytes of name, not NUL terminated. */
export const ZUFS_STR_SIZE = 256;
export const ZUFS_STR_NAME_MAX = 255;
export const ZufsStr = Object.freeze({ SIZE: 256, len: 0, name: 1 });
const ZSTR_TOO_LONG = `bytes (max ${ZUFS_STR_NAME_MAX})`;

/**
 * Writes a zufs_str (length byte + name bytes; the rest of the 255 bytes is left alone). `name` is a
 * string (UTF-8) or raw bytes. Returns the length. RangeError past 255 bytes.
 */
export function writeZstr(dv: DataView, at: number, name: string | Uint8Array): number {
  let len: number;
  if (typeof name === 'string') len = writeUtf8(dv, at + 1, name, ZUFS_STR_NAME_MAX);
  else {
    len = name.length;
    if (len > ZUFS_STR_NAME_MAX) tooLong('zufs_str name of', len, ZSTR_TOO_LONG);
    bytesAt(dv, at + 1, len).set(name);
  }
  dv.setUint8(at, len);
  return len;
}

/** Reads a zufs_str as a string (UTF-8). */
export function readZstr(dv: DataView, at: number): string {
  return readUtf8(dv, at + 1, dv.getUint8(at));
}

/** A view (no copy) of a zufs_str's name bytes. */
export function zstrBytes(dv: DataView, at: number): Uint8Array {
  return bytesAt(dv, at + 1, dv.getUint8(at));
}

function zeroBytes(dv: DataView, at: number, n: number): void {
  if (n <= 16) for (let i = 0; i < n; i++) dv.setUint8(at + i, 0);
  else bytesAt(dv, at, n).fill(0);
}

// ~~~ fields ~~~

type Obj = Record<string, unknown>;

/** What a field is (for tools that walk a layout: generators, printers). */
export type FieldDesc =
  | { readonly kind: 'prim'; readonly prim: Prim }
  | { readonly kind: 'bytes' | 'cstr'; readonly n: number }
  | { readonly kind: 'zstr' | 'mark' }
  | { readonly kind: 'struct' | 'inline'; readonly layout: Layout }
  | { readonly kind: 'union'; readonly members: readonly FieldImpl[] }
  | { readonly kind: 'array'; readonly elem: Prim | Layout; readonly count: number };

/** How a field is laid out and coded. Build fields with the `field` helpers. */
export interface FieldImpl {
  /** The field's name ('' for an anonymous union). */
  readonly name: string;
  readonly desc: FieldDesc;
  readonly size: number;
  readonly align: number;
  /** Offset keys this field adds, relative to its own start. */
  readonly keys: ReadonlyArray<readonly [string, number]>;
  /** Whether `obj` (the enclosing object) carries a value for this field. */
  readonly present: (obj: Obj) => boolean;
  readonly enc: (dv: DataView, at: number, obj: Obj) => void;
  readonly dec: (dv: DataView, at: number, obj: Obj) => void;
  readonly init: (obj: Obj) => void;
}

/** A field adding the properties `T` to its struct's objects and the keys `K` to its offsets. */
export interface Field<T extends object, K extends string> extends FieldImpl {
  readonly __t?: T;
  readonly __k?: K;
}

type AnyField = Field<object, string>;
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void
  ? I
  : never;
type Simplify<T> = { [P in keyof T]: T[P] } & {};
type FieldT<F> = F extends Field<infer T, string> ? T : never;
type FieldK<F> = F extends Field<object, infer K> ? K : never;
/** The object type of a struct made of the fields `F`. */
export type StructOf<F extends readonly AnyField[]> = Simplify<UnionToIntersection<FieldT<F[number]>>>;
/** The offset keys of a struct made of the fields `F`. */
export type KeysOf<F extends readonly AnyField[]> = FieldK<F[number]>;

/** What encode accepts: any field may be left out (it is written as zero). */
export type Input<T> = T extends number | string | boolean | Uint8Array
  ? T
  : T extends readonly (infer E)[]
    ? readonly Input<E>[]
    : { [P in keyof T]?: Input<T[P]> };

/** The byte offsets of a layout, name -> offset, with the total `SIZE`. */
export type Offsets<K extends string> = { readonly SIZE: number } & { readonly [P in K]: number };

export interface Layout<T extends object = object, K extends string = string> {
  /** The C name of the struct. */
  readonly name: string;
  readonly SIZE: number;
  readonly ALIGN: number;
  /** Frozen byte offsets: `off.SIZE` and one key per field (nested fields as `outer.inner`). */
  readonly off: Offsets<K>;
  readonly fields: readonly FieldImpl[];
  /** Writes `obj` at `at`. Missing fields and padding are written as zero. */
  encode(dv: DataView, at: number, obj: Input<T>): void;
  /** Reads the struct at `at` into `out` (reused when given) or a new object. */
  decode(dv: DataView, at: number, out?: T): T;
  /** A new zeroed object. */
  create(): T;
}

export type Prim = 'u8' | 's8' | 'u16' | 's16' | 'u32' | 's32' | 'u56' | 'u64' | 's64' | 'time';

interface PrimInfo {
  size: number;
  align: number;
  get: (dv: DataView, at: number) => number;
  set: (dv: DataView, at: number, v: number) => void;
}

function checked(kind: string, min: number, max: number, set: (dv: DataView, at: number, v: number) => void) {
  return (dv: DataView, at: number, v: number) => {
    if (!(v >= min && v <= max) || !Number.isInteger(v))
      throw new RangeError(`${kind} value out of range: ${v}`);
    set(dv, at, v);
  };
}

const PRIMS: Record<Prim, PrimInfo> = {
  u8: {
    size: 1,
    align: 1,
    get: (d, a) => d.getUint8(a),
    set: checked('u8', 0, 0xff, (d, a, v) => d.setUint8(a, v)),
  },
  s8: {
    size: 1,
    align: 1,
    get: (d, a) => d.getInt8(a),
    set: checked('s8', -0x80, 0x7f, (d, a, v) => d.setInt8(a, v)),
  },
  u16: {
    size: 2,
    align: 2,
    get: (d, a) => d.getUint16(a, true),
    set: checked('u16', 0, 0xffff, (d, a, v) => d.setUint16(a, v, true)),
  },
  s16: {
    size: 2,
    align: 2,
    get: (d, a) => d.getInt16(a, true),
    set: checked('s16', -0x8000, 0x7fff, (d, a, v) => d.setInt16(a, v, true)),
  },
  u32: {
    size: 4,
    align: 4,
    get: (d, a) => d.getUint32(a, true),
    set: checked('u32', 0, 0xffffffff, (d, a, v) => d.setUint32(a, v, true)),
  },
  s32: {
    size: 4,
    align: 4,
    get: (d, a) => d.getInt32(a, true),
    set: checked('s32', -0x80000000, 0x7fffffff, (d, a, v) => d.setInt32(a, v, true)),
  },
  u56: { size: 7, align: 1, get: getU56, set: setU56 },
  u64: { size: 8, align: 8, get: getU64, set: setU64 },
  s64: { size: 8, align: 8, get: getS64, set: setS64 },
  time: { size: 8, align: 8, get: getTimeNs, set: setTimeNs },
};

const has = (name: string) => (obj: Obj) => obj[name] !== undefined;

function prim<N extends string>(kind: Prim, name: N): Field<{ [P in N]: number }, N> {
  const { size, align, get, set } = PRIMS[kind];
  return {
    name,
    desc: { kind: 'prim', prim: kind },
    size,
    align,
    keys: [[name, 0]],
    present: has(name),
    enc: (dv, at, obj) => set(dv, at, (obj[name] as number | undefined) ?? 0),
    dec: (dv, at, obj) => {
      obj[name] = get(dv, at);
    },
    init: (obj) => {
      obj[name] = 0;
    },
  };
}

function bytes<N extends string>(name: N, n: number): Field<{ [P in N]: Uint8Array }, N> {
  return {
    name,
    desc: { kind: 'bytes', n },
    size: n,
    align: 1,
    keys: [[name, 0]],
    present: has(name),
    enc: (dv, at, obj) => {
      const v = obj[name] as Uint8Array | undefined;
      if (v === undefined) return zeroBytes(dv, at, n);
      if (v.length > n) throw new RangeError(`${name}: ${v.length} bytes do not fit in ${n}`);
      bytesAt(dv, at, n).fill(0, v.length).set(v);
    },
    dec: (dv, at, obj) => {
      const cur = obj[name];
      const out = cur instanceof Uint8Array && cur.length === n ? cur : new Uint8Array(n);
      out.set(bytesAt(dv, at, n));
      obj[name] = out;
    },
    init: (obj) => {
      obj[name] = new Uint8Array(n);
    },
  };
}

function cstr<N extends string>(name: N, n: number): Field<{ [P in N]: string }, N> {
  return {
    name,
    desc: { kind: 'cstr', n },
    size: n,
    align: 1,
    keys: [[name, 0]],
    present: has(name),
    enc: (dv, at, obj) => {
      const len = writeUtf8(dv, at, (obj[name] as string | undefined) ?? '', n - 1);
      zeroBytes(dv, at + len, n - len);
    },
    dec: (dv, at, obj) => {
      let len = 0;
      while (len < n && dv.getUint8(at + len) !== 0) len++;
      obj[name] = readUtf8(dv, at, len);
    },
    init: (obj) => {
      obj[name] = '';
    },
  };
}

function zstr<N extends string>(name: N): Field<{ [P in N]: string }, N | `${N}.len` | `${N}.name`> {
  return {
    name,
    desc: { kind: 'zstr' },
    size: ZUFS_STR_SIZE,
    align: 1,
    keys: [
      [name, 0],
      [`${name}.len`, 0],
      [`${name}.name`, 1],
    ],
    present: has(name),
    enc: (dv, at, obj) => {
      const len = writeZstr(dv, at, (obj[name] as string | undefined) ?? '');
      zeroBytes(dv, at + 1 + len, ZUFS_STR_NAME_MAX - len);
    },
    dec: (dv, at, obj) => {
      obj[name] = readZstr(dv, at);
    },
    init: (obj) => {
      obj[name] = '';
    },
  };
}

function nested<N extends string, T extends object, K extends string>(
  name: N,
  layout: Layout<T, K>,
): Field<{ [P in N]: T }, N | `${N}.${K}`> {
  return {
    name,
    desc: { kind: 'struct', layout },
    size: layout.SIZE,
    align: layout.ALIGN,
    keys: [[name, 0], ...keyEntries(layout).map(([k, o]) => [`${name}.${k}`, o] as const)],
    present: has(name),
    enc: (dv, at, obj) => {
      const v = obj[name] as Input<T> | undefined;
      if (v === undefined) zeroBytes(dv, at, layout.SIZE);
      else layout.encode(dv, at, v);
    },
    dec: (dv, at, obj) => {
      const cur = obj[name];
      obj[name] = layout.decode(dv, at, cur !== null && typeof cur === 'object' ? (cur as T) : undefined);
    },
    init: (obj) => {
      obj[name] = layout.create();
    },
  };
}

/**
 * A struct whose members are hoisted into the enclosing struct (an anonymous struct in C, or a named
 * one we chose to flatten): its fields' names become the parent's keys and properties. When `name` is
 * given, it is also an offset key (the start of the inner struct).
 */
function inline<T extends object, K extends string, N extends string = never>(
  layout: Layout<T, K>,
  name?: N,
): Field<T, K | N> {
  const keys: (readonly [string, number])[] = name === undefined ? [] : [[name, 0]];
  keys.push(...keyEntries(layout));
  return {
    name: name ?? '',
    desc: { kind: 'inline', layout },
    size: layout.SIZE,
    align: layout.ALIGN,
    keys,
    present: (obj) => layout.fields.some((f) => f.present(obj)),
    enc: (dv, at, obj) => layout.encode(dv, at, obj as Input<T>),
    dec: (dv, at, obj) => {
      layout.decode(dv, at, obj as T);
    },
    init: (obj) => {
      for (const f of layout.fields) f.init(obj);
    },
  };
}

/**
 * An anonymous union: every member starts at the union's offset and is hoisted into the parent.
 * encode writes the members present in the object, in order (a later one overwrites an earlier
 * one's bytes); when none is present the union's bytes are zeroed. decode reads every member.
 */
function union<const M extends readonly AnyField[]>(...members: M): Field<StructOf<M>, KeysOf<M>> {
  const size = Math.max(...members.map((m) => m.size));
  const align = Math.max(...members.map((m) => m.align));
  return {
    name: '',
    desc: { kind: 'union', members },
    size,
    align,
    keys: members.flatMap((m) => m.keys),
    present: (obj) => members.some((m) => m.present(obj)),
    enc: (dv, at, obj) => {
      let any = false;
      for (const m of members) {
        if (!m.present(obj)) continue;
        if (!any && m.size < size) zeroBytes(dv, at, size);
        any = true;
        m.enc(dv, at, obj);
      }
      if (!any) zeroBytes(dv, at, size);
    },
    dec: (dv, at, obj) => {
      for (const m of members) m.dec(dv, at, obj);
    },
    init: (obj) => {
      for (const m of members) m.init(obj);
    },
  };
}

/** A fixed array of primitives (JS number[]). */
function array<N extends string>(name: N, elem: Prim, count: number): Field<{ [P in N]: number[] }, N>;
/** A fixed array of structs. */
function array<N extends string, T extends object>(
  name: N,
  elem: Layout<T, string>,
  count: number,
): Field<{ [P in N]: T[] }, N>;
function array(name: string, elem: Prim | Layout, count: number): AnyField {
  const base = {
    name,
    desc: { kind: 'array', elem, count } as const,
    keys: [[name, 0] as const],
    present: has(name),
  };
  if (typeof elem === 'string') {
    const { size, align, get, set } = PRIMS[elem];
    return {
      ...base,
      size: size * count,
      align,
      enc: (dv, at, obj) => {
        const v = (obj[name] as readonly number[] | undefined) ?? [];
        if (v.length > count) throw new RangeError(`${name}: ${v.length} elements do not fit in ${count}`);
        for (let i = 0; i < count; i++) set(dv, at + i * size, v[i] ?? 0);
      },
      dec: (dv, at, obj) => {
        const cur = obj[name];
        const out = Array.isArray(cur) ? (cur as number[]) : [];
        out.length = count;
        for (let i = 0; i < count; i++) out[i] = get(dv, at + i * size);
        obj[name] = out;
      },
      init: (obj) => {
        obj[name] = new Array<number>(count).fill(0);
      },
    };
  }
  const size = elem.SIZE;
  return {
    ...base,
    size: size * count,
    align: elem.ALIGN,
    enc: (dv, at, obj) => {
      const v = (obj[name] as readonly object[] | undefined) ?? [];
      if (v.length > count) throw new RangeError(`${name}: ${v.length} elements do not fit in ${count}`);
      for (let i = 0; i < count; i++) {
        const e = v[i];
        if (e === undefined) zeroBytes(dv, at + i * size, size);
        else elem.encode(dv, at + i * size, e);
      }
    },
    dec: (dv, at, obj) => {
      const cur = obj[name];
      const out = Array.isArray(cur) ? (cur as object[]) : [];
      out.length = count;
      for (let i = 0; i < count; i++) out[i] = elem.decode(dv, at + i * size, out[i]);
      obj[name] = out;
    },
    init: (obj) => {
      obj[name] = Array.from({ length: count }, () => elem.create());
    },
  };
}

/**
 * A zero-size member marking where variable-length data starts (a C flexible array member such as
 * `char buf[0]` or `__u64 iom_e[0]`): it only adds an offset key. `align` is its element alignment.
 */
function mark<N extends string>(name: N, align = 1): Field<object, N> {
  return {
    name,
    desc: { kind: 'mark' },
    size: 0,
    align,
    keys: [[name, 0]],
    present: () => false,
    enc: () => {},
    dec: () => {},
    init: () => {},
  };
}

/** Field builders, in C order: `defineStruct('name', [field.u64('a'), field.zstr('b'), ...])`. */
export const field = {
  u8: <N extends string>(name: N) => prim('u8', name),
  s8: <N extends string>(name: N) => prim('s8', name),
  u16: <N extends string>(name: N) => prim('u16', name),
  s16: <N extends string>(name: N) => prim('s16', name),
  u32: <N extends string>(name: N) => prim('u32', name),
  s32: <N extends string>(name: N) => prim('s32', name),
  /** 56 bits in 7 bytes, alignment 1 (a bit-field's storage). */
  u56: <N extends string>(name: N) => prim('u56', name),
  u64: <N extends string>(name: N) => prim('u64', name),
  s64: <N extends string>(name: N) => prim('s64', name),
  /** A u64 of nanoseconds since the epoch (JS number; see getTimeNs / getTimespec). */
  time: <N extends string>(name: N) => prim('time', name),
  /** A cookie: a pointer-sized value one side hands to the other and gets back (u64). */
  cookie: <N extends string>(name: N) => prim('u64', name),
  /** A zu_dpp_t (u64): see dpp.ts. */
  dpp: <N extends string>(name: N) => prim('u64', name),
  bytes,
  cstr,
  zstr,
  struct: nested,
  inline,
  union,
  array,
  mark,
};

function keyEntries(layout: Layout): (readonly [string, number])[] {
  return Object.entries(layout.off).filter(([k]) => k !== 'SIZE');
}

const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

/** Lays out `fields` in order with C rules and returns the struct's layout. */
export function defineStruct<const F extends readonly AnyField[]>(
  name: string,
  fields: F,
): Layout<StructOf<F>, KeysOf<F>> {
  type T = StructOf<F>;
  const at: number[] = [];
  const gaps: [number, number][] = [];
  let off = 0;
  let align = 1;
  for (const f of fields) {
    const o = alignUp(off, f.align);
    if (o > off) gaps.push([off, o - off]);
    at.push(o);
    off = o + f.size;
    align = Math.max(align, f.align);
  }
  const size = alignUp(off, align);
  if (size > off) gaps.push([off, size - off]);

  const offsets: Record<string, number> = { SIZE: size };
  fields.forEach((f, i) => {
    for (const [k, o] of f.keys) {
      if (k in offsets) throw new Error(`${name}: duplicate offset key '${k}'`);
      offsets[k] = at[i] + o;
    }
  });
  Object.freeze(offsets);

  const n = fields.length;
  const layout: Layout<T, KeysOf<F>> = {
    name,
    SIZE: size,
    ALIGN: align,
    off: offsets as Offsets<KeysOf<F>>,
    fields,
    encode(dv, base, obj) {
      const o = obj as Obj;
      for (let i = 0; i < n; i++) fields[i].enc(dv, base + at[i], o);
      for (const [g, len] of gaps) zeroBytes(dv, base + g, len);
    },
    decode(dv, base, out) {
      const o = (out ?? {}) as Obj;
      for (let i = 0; i < n; i++) fields[i].dec(dv, base + at[i], o);
      return o as T;
    },
    create() {
      const o: Obj = {};
      for (const f of fields) f.init(o);
      return o as T;
    },
  };
  return Object.freeze(layout);
}
