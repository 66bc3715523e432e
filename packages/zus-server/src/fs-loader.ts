/** register_fs: load filesystem types by module specifier, the same way in every worker. */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FsType } from './plugin.js';

export const MAX_FS_NAME = 15;

/**
 * Turns what the user passed into something every worker can import(): URLs stay, paths become
 * file URLs (relative to the current directory), bare package names stay bare.
 */
export function normalizeSpecifier(spec: string | URL): string {
  if (spec instanceof URL) return spec.href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(spec) && !/^[a-z]:[\\/]/i.test(spec)) return spec;
  if (spec.startsWith('.') || isAbsolute(spec)) return pathToFileURL(resolve(spec)).href;
  return spec;
}

/** Checks the shape of a module's default export; the message names the module and what is wrong. */
export function checkFsType(t: unknown, spec: string): FsType {
  const f = t as FsType;
  const bad = (why: string) => new TypeError(`filesystem module ${spec}: ${why}`);
  if (!f || typeof f !== 'object') throw bad('the default export must be a filesystem type object');
  if (typeof f.name !== 'string' || f.name.length === 0 || Buffer.byteLength(f.name) > MAX_FS_NAME) {
    throw bad(`name must be a string of 1..${MAX_FS_NAME} bytes`);
  }
  if (!Number.isInteger(f.magic) || f.magic < 0 || f.magic > 0xffffffff) throw bad('magic must be a u32');
  if (typeof f.mount !== 'function') throw bad('mount() is missing');
  if (typeof f.attach !== 'function') throw bad('attach() is missing');
  if (f.remote !== undefined && typeof f.remote !== 'boolean') throw bad('remote must be a boolean');
  if (f.opDeadlineMs !== undefined && !(Number.isFinite(f.opDeadlineMs) && f.opDeadlineMs > 0)) {
    throw bad(`opDeadlineMs must be a number of milliseconds above 0, got ${f.opDeadlineMs}`);
  }
  return f;
}

export async function loadFsTypes(specs: readonly string[]): Promise<FsType[]> {
  const types: FsType[] = [];
  for (const spec of specs) {
    const mod = (await import(spec)) as { default?: unknown };
    const t = checkFsType(mod.default, spec);
    if (types.some((x) => x.name === t.name))
      throw new TypeError(`filesystem type "${t.name}" registered twice`);
    types.push(t);
  }
  return types;
}
