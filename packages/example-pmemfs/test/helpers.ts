// Shared test helpers: a fresh filesystem, errno assertions, readdir into a list.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIR_POS_END, type MkfsOptions, mkfs, PmemDevice, PmemFs } from '@zufs/example-pmemfs';
import { S_IFDIR, S_IFREG } from '@zufs/zuf-core/api';
import { expect } from 'vitest';

export const REG = S_IFREG | 0o644;
export const DIR = S_IFDIR | 0o755;
export const enc = (s: string) => new TextEncoder().encode(s);
export const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** A formatted, mounted memory device. */
export function memFs(size = 16 << 20, opts: MkfsOptions = {}): PmemFs {
  const dev = PmemDevice.memory(size);
  mkfs(dev, opts);
  return PmemFs.mount(dev);
}

/** Expects `fn` to throw a ZufsError with errno code `code` (e.g. 'ENOENT'). */
export function expectErrno(fn: () => unknown, code: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${code}`).toBeInstanceOf(Error);
  expect((err as { code?: string }).code).toBe(code);
}

export interface Entry {
  ino: number;
  type: number;
  name: string;
  next: number;
}

/** Every entry of a directory, in `batch`-sized readdir calls. */
export function listDir(fs: PmemFs, dir: number, batch = Infinity): Entry[] {
  const out: Entry[] = [];
  let pos = 0;
  while (pos !== DIR_POS_END) {
    let n = 0;
    pos = fs.readdir(dir, pos, (ino, type, next, name) => {
      if (n++ >= batch) return false;
      out.push({ ino, type, name: dec(name), next });
      return true;
    });
  }
  return out;
}

export function names(fs: PmemFs, dir: number): string[] {
  return listDir(fs, dir)
    .map((e) => e.name)
    .sort();
}

/** A temporary directory, removed by the returned function. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'pmemfs-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** check() must find nothing (orphans allowed when asked). */
export function expectClean(fs: PmemFs, allowOrphans = false): void {
  expect(fs.check({ allowOrphans })).toEqual([]);
}

/** Byte-exact comparison that stays fast on megabytes (toEqual walks arrays element by element). */
export function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  const b = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (a.equals(b)) return;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  expect({ length: a.length, firstDiff: i, got: a[i] }).toEqual({
    length: b.length,
    firstDiff: -1,
    got: b[i],
  });
}
