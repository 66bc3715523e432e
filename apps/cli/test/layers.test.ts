// The packages' arrows (docs/decisions.md, "Layers are checked"; the design brief's section 2): every
// package.json's dependencies and every import in src/ (and the example plugins) must follow them, so
// a wrong import fails CI. Reads the sources of the whole repository (the CLI's test inputs hold them all, so
// turbo reruns it when any package changes): no build needed.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * What each package may import of ours (its arrows, followed transitively). A plugin (a filesystem
 * type) imports zus-server and zuf-core's layouts (`@zufs/zuf-core/api`) only.
 */
const ALLOWED: Record<string, readonly string[]> = {
  '@zufs/relay': [],
  '@zufs/zuf-core': ['@zufs/relay'],
  '@zufs/zus-server': ['@zufs/zuf-core', '@zufs/relay'],
  '@zufs/vfs': ['@zufs/zuf-core', '@zufs/relay'], // never zus-server: only a zuf-root descriptor
  '@zufs/fuse': ['@zufs/vfs', '@zufs/zuf-core', '@zufs/relay'], // the kernel bridge: no filesystem, no server
  '@zufs/example-pmemfs': ['@zufs/zus-server', '@zufs/zuf-core/api'],
  '@zufs/example-sqlfs': ['@zufs/zus-server', '@zufs/zuf-core/api'],
  // The kit plugin authors run: starts a server with their plugin and drives it through the face.
  '@zufs/conformance': ['@zufs/vfs', '@zufs/zus-server', '@zufs/zuf-core', '@zufs/relay'],
  '@zufs/cli': ['*'],
  '@zufs/bench': ['*'],
};
/** Plugins: their imports may name only these specifiers of ours (exactly; no other subpath). */
const PLUGIN_IMPORTS = ['@zufs/zus-server', '@zufs/zuf-core/api'];
/** Example plugins outside a package's src/. */
const PLUGIN_DIRS = ['packages/zus-server/examples'];

interface Pkg {
  name: string;
  dir: string;
  deps: string[];
}

function packages(): Pkg[] {
  const dirs = ['packages', 'apps'].flatMap((d) =>
    readdirSync(join(ROOT, d), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(d, e.name)),
  );
  dirs.push('bench');
  return dirs.map((dir) => {
    const j = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8'));
    const deps = [j.dependencies, j.peerDependencies, j.optionalDependencies].flatMap((d) =>
      Object.keys(d ?? {}),
    );
    return { name: j.name, dir, deps: deps.filter((d) => d.startsWith('@zufs/')) };
  });
}

function sources(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(join(ROOT, d), { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|mts|js|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** Every `@zufs/...` module a file names: static imports, re-exports, import() and import types. */
function zufsImports(text: string): string[] {
  const found = new Set<string>();
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](@zufs\/[^'"]+)['"]/g;
  for (const m of text.matchAll(re)) found.add(m[1]);
  return [...found];
}

/** `@zufs/zuf-core/api` -> `@zufs/zuf-core`. */
const packageOf = (spec: string) => spec.split('/').slice(0, 2).join('/');

function allows(owner: string, spec: string): boolean {
  const allowed = ALLOWED[owner];
  if (!allowed) return false;
  if (allowed.includes('*')) return true;
  return allowed.includes(spec) || allowed.includes(packageOf(spec));
}

/** Each wrong arrow as a line: `file: imports X`. */
function violations(): string[] {
  const bad: string[] = [];
  for (const p of packages()) {
    if (!ALLOWED[p.name]) {
      bad.push(`${p.dir}/package.json: ${p.name} has no place in the layers (add it to ALLOWED)`);
      continue;
    }
    for (const d of p.deps)
      if (!ALLOWED[p.name].some((a) => a === '*' || packageOf(a) === d))
        bad.push(`${p.dir}/package.json: ${p.name} depends on ${d}`);
    const plugin = p.name.startsWith('@zufs/example-');
    for (const f of sources(join(p.dir, 'src'))) {
      for (const spec of zufsImports(readFileSync(join(ROOT, f), 'utf8'))) {
        if (packageOf(spec) === p.name) continue;
        if (plugin ? !PLUGIN_IMPORTS.includes(spec) : !allows(p.name, spec))
          bad.push(`${f}: ${p.name} imports ${spec}`);
        else if (!p.deps.includes(packageOf(spec)))
          bad.push(`${f}: imports ${spec}, which ${p.dir}/package.json does not list in dependencies`);
      }
    }
  }
  for (const d of PLUGIN_DIRS)
    for (const f of sources(d))
      for (const spec of zufsImports(readFileSync(join(ROOT, f), 'utf8')))
        if (!PLUGIN_IMPORTS.includes(spec)) bad.push(`${f}: a plugin imports ${spec}`);
  return bad;
}

describe('layers', () => {
  it('every dependency and import follows the arrows', () => {
    expect(violations()).toEqual([]);
  });

  it('finds each kind of import', () => {
    const text = [
      "import { a } from '@zufs/vfs';",
      "import type { B } from '@zufs/zuf-core/api';",
      "export { c } from '@zufs/relay';",
      "const m = await import('@zufs/zus-server');",
      "import '@zufs/fuse';",
      "const s = 'not an import of @zufs/bench';",
    ].join('\n');
    expect(zufsImports(text).sort()).toEqual([
      '@zufs/fuse',
      '@zufs/relay',
      '@zufs/vfs',
      '@zufs/zuf-core/api',
      '@zufs/zus-server',
    ]);
    expect(allows('@zufs/fuse', '@zufs/example-pmemfs')).toBe(false);
    expect(allows('@zufs/fuse', '@zufs/zus-server')).toBe(false);
    expect(allows('@zufs/vfs', '@zufs/zus-server')).toBe(false);
    expect(allows('@zufs/fuse', '@zufs/zuf-core/api')).toBe(true);
  });
});
