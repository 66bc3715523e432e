/**
 * The few matchers the cases use, with vitest's meaning, so the suite runs without a test framework
 * (a plugin author's `zufs test-plugin`) and under vitest alike. A failed match throws an
 * AssertionError that says what was expected and what came.
 */
import { AssertionError } from 'node:assert';
import { inspect } from 'node:util';

/** vitest's toEqual: recursive equality; own properties that are undefined count as absent. */
export function equals(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Date || b instanceof Date)
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b) || a.constructor !== b.constructor) return false;
    return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    );
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => equals(x, bb[i]));
  }
  if (a instanceof RegExp || b instanceof RegExp) return String(a) === String(b);
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = (r: Record<string, unknown>) => Object.keys(r).filter((k) => r[k] !== undefined);
  const ka = keys(ra);
  const kb = keys(rb);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(rb, k) && equals(ra[k], rb[k]));
}

const show = (v: unknown) => inspect(v, { depth: 6, breakLength: 120 });

export interface Matchers {
  toBe(want: unknown): void;
  toEqual(want: unknown): void;
  toBeUndefined(): void;
  toBeNull(): void;
  toBeGreaterThan(n: number | bigint): void;
  toBeGreaterThanOrEqual(n: number | bigint): void;
  toBeLessThan(n: number | bigint): void;
  toBeInstanceOf(c: abstract new (...args: never[]) => unknown): void;
  toMatch(re: RegExp | string): void;
  toContain(item: unknown): void;
  /** `actual` is a function that must throw. */
  toThrow(): void;
}

function matchers(actual: unknown, negate: boolean): Matchers {
  const check = (ok: boolean, what: string, expected?: unknown) => {
    if (ok !== negate) return;
    throw new AssertionError({
      message: `expected ${show(actual)} ${negate ? 'not ' : ''}${what}`,
      actual,
      expected,
      operator: what,
    });
  };
  const num = actual as number;
  return {
    toBe: (want) => check(Object.is(actual, want), `to be ${show(want)}`, want),
    toEqual: (want) => check(equals(actual, want), `to equal ${show(want)}`, want),
    toBeUndefined: () => check(actual === undefined, 'to be undefined'),
    toBeNull: () => check(actual === null, 'to be null'),
    toBeGreaterThan: (n) => check(num > n, `to be greater than ${n}`),
    toBeGreaterThanOrEqual: (n) => check(num >= n, `to be greater than or equal to ${n}`),
    toBeLessThan: (n) => check(num < n, `to be less than ${n}`),
    toBeInstanceOf: (c) => check(actual instanceof c, `to be an instance of ${c.name}`),
    toMatch: (re) => check(typeof actual === 'string' && new RegExp(re).test(actual), `to match ${re}`),
    toContain: (item) =>
      check(
        (typeof actual === 'string' && actual.includes(item as string)) ||
          (Array.isArray(actual) && actual.includes(item)),
        `to contain ${show(item)}`,
      ),
    toThrow: () => {
      let threw = false;
      try {
        (actual as () => unknown)();
      } catch {
        threw = true;
      }
      check(threw, 'to throw');
    },
  };
}

/** `expect(actual).toBe(...)`, `expect(actual).not.toBe(...)`: as vitest's, for the matchers above. */
export function expect(actual: unknown): Matchers & { not: Matchers } {
  return Object.assign(matchers(actual, false), { not: matchers(actual, true) });
}
