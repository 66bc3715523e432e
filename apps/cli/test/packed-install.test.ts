/**
 * The packages as a user gets them: every public package of the workspace packed (pnpm pack, which
 * turns workspace: ranges into versions), the tarballs installed with npm into an empty project
 * outside the repository, on this Node, with --engine-strict, and there: the tarballs' contents and
 * package.json fields, require() of every entry point (require of ESM, Node >= 20.19), and every
 * example the installed READMEs mark as runnable (readme-examples.ts), in README order.
 *
 * Third-party dependencies come from npm's cache or the registry; the @zufs packages only from the
 * tarballs (a dependency on a package that is not public fails here, before npm could fetch it).
 */
import { execFile, execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Example, isExample, readmeBlocks } from './readme-examples.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  keywords?: string[];
  homepage?: string;
  bugs?: { url?: string };
  repository?: { url?: string; directory?: string };
  engines?: { node?: string };
  publishConfig?: { access?: string };
  exports?: Record<string, unknown>;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
}

/** Every workspace package that is not private, with its folder (as pnpm lists the workspace). */
function publicPackages(): { dir: string; manifest: Manifest }[] {
  const list = JSON.parse(
    execFileSync('pnpm', ['ls', '-r', '--depth', '-1', '--json'], { cwd: REPO, encoding: 'utf8' }),
  ) as { path: string; private?: boolean }[];
  return list
    .filter((p) => !p.private)
    .map((p) => ({
      dir: relative(REPO, p.path),
      manifest: JSON.parse(readFileSync(join(p.path, 'package.json'), 'utf8')) as Manifest,
    }));
}

/** The environment of a user's shell: none of the npm_* variables pnpm sets for the test run. */
function userEnv(binDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(npm_|pnpm_)/i.test(k) || /^npm_config_(registry|cache)$/i.test(k)) env[k] = v;
  // The packages' bins, then this Node (their #!/usr/bin/env node finds the Node the test runs on).
  env.PATH = `${binDir}:${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
  return env;
}

const exec = promisify(execFile);

/** Runs a command; a failure throws with what was run and its whole stderr and stdout. */
async function run(
  cmd: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
  what = `${cmd} ${args.join(' ')}`,
) {
  try {
    return await exec(cmd, args, {
      cwd,
      env: userEnv(join(project, 'node_modules/.bin')),
      timeout: timeoutMs,
      maxBuffer: 1 << 26,
    });
  } catch (e) {
    const x = e as {
      code?: number | string;
      signal?: string;
      killed?: boolean;
      stdout?: string;
      stderr?: string;
    };
    const how = x.killed
      ? `killed after ${timeoutMs} ms`
      : x.signal
        ? `signal ${x.signal}`
        : `exit ${x.code}`;
    throw new Error(
      `${what} failed (${how}) in ${cwd}\n--- stderr\n${x.stderr ?? ''}\n--- stdout\n${x.stdout ?? ''}`,
    );
  }
}

// Kernel mounts (examples marked `root`) need root and /dev/fuse: skipped without them, failed
// instead when ZUFS_REQUIRE_PRIVILEGED_TESTS=1.
const notPrivileged =
  process.getuid?.() !== 0 ? 'needs root' : !existsSync('/dev/fuse') ? 'needs /dev/fuse' : undefined;
if (notPrivileged && process.env.ZUFS_REQUIRE_PRIVILEGED_TESTS === '1')
  throw new Error(
    `README examples for root must run here (ZUFS_REQUIRE_PRIVILEGED_TESTS=1) but: ${notPrivileged}`,
  );

const packages = publicPackages();
let scratch: string;
let project: string;
/** package name -> its tarball's path */
const tarballs = new Map<string, string>();

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'zufs-packed-'));
  project = join(scratch, 'project');
  const packDir = join(scratch, 'tarballs');
  mkdirSync(project);
  mkdirSync(packDir);
  const filters = packages.flatMap((p) => ['--filter', p.manifest.name]);
  await run('pnpm', ['-r', ...filters, 'pack', '--pack-destination', packDir], REPO, 120_000);
  for (const f of readdirSync(packDir)) {
    const { stdout } = await run('tar', ['xzOf', join(packDir, f), 'package/package.json'], packDir, 10_000);
    tarballs.set((JSON.parse(stdout) as Manifest).name, join(packDir, f));
  }
  // Every @zufs package comes from its tarball, also where one depends on another (overrides); one
  // that is not packed (private) would be looked up in the registry instead: refused here.
  for (const { manifest } of packages)
    for (const dep of Object.keys(manifest.dependencies ?? {}))
      if (dep.startsWith('@zufs/') && !tarballs.has(dep))
        throw new Error(`${manifest.name} depends on ${dep}, which is not a public package`);
  const deps = Object.fromEntries([...tarballs].map(([name, file]) => [name, `file:${file}`]));
  const manifest = { name: 'zufs-user', private: true, type: 'module', dependencies: deps, overrides: deps };
  writeFileSync(join(project, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await run(
    'npm',
    ['install', '--engine-strict', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'],
    project,
    // better-sqlite3 (sqlfs's) builds from source where no prebuilt binary can be fetched: ~80 s on
    // an idle 2-core machine, several minutes on a loaded one.
    900_000,
  );
}, 1_100_000);

afterAll(async () => {
  if (!scratch) return;
  // A kernel mount an example left behind (it failed before its umount) is detached first.
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const at = line.split(' ')[1];
    if (at?.startsWith(scratch)) await exec('umount', ['-l', at]).catch(() => {});
  }
  rmSync(scratch, { recursive: true, force: true });
});

describe.each(packages.map((p) => [p.manifest.name, p] as const))('%s, packed', (name, { dir }) => {
  const installed = () => join(project, 'node_modules', name);
  const manifest = () => JSON.parse(readFileSync(join(installed(), 'package.json'), 'utf8')) as Manifest;

  it('its tarball holds dist with types, README, CHANGELOG and LICENSE, no build cache, maps with their sources', async () => {
    const { stdout } = await run('tar', ['tzf', tarballs.get(name)!], scratch, 10_000);
    const files = new Set(
      stdout
        .split('\n')
        .filter(Boolean)
        .map((f) => f.replace(/^package\//, '')),
    );
    for (const f of [
      'package.json',
      'README.md',
      'CHANGELOG.md',
      'LICENSE',
      'dist/index.js',
      'dist/index.d.ts',
    ])
      expect(files, f).toContain(f);
    expect([...files].filter((f) => f.includes('tsbuildinfo'))).toEqual([]);
    const missing: string[] = [];
    for (const map of [...files].filter((f) => f.endsWith('.map'))) {
      const { sources } = JSON.parse(readFileSync(join(installed(), map), 'utf8')) as { sources: string[] };
      for (const s of sources) {
        const source = posix.normalize(posix.join(posix.dirname(map), s));
        if (!files.has(source)) missing.push(`${map} -> ${source}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('its package.json says where it comes from, its licence, its Node and its access', () => {
    const m = manifest();
    expect(m.license).toBe('MIT');
    expect(m.repository?.directory).toBe(dir);
    expect(m.repository?.url).toMatch(/^git\+https:\/\//);
    expect(m.homepage).toMatch(/^https:\/\//);
    expect(m.bugs?.url).toMatch(/^https:\/\//);
    expect(m.keywords?.length).toBeGreaterThan(0);
    expect(m.engines?.node).toBe('>=20.19');
    expect(m.publishConfig?.access).toBe('public');
    for (const [dep, range] of Object.entries(m.dependencies ?? {})) {
      expect(range, dep).not.toMatch(/^workspace:/);
      if (dep.startsWith('@zufs/')) expect(tarballs.has(dep), `${dep} is not a public package`).toBe(true);
    }
  });

  it('every entry point loads with require() (require of ESM) as well as import', async () => {
    const m = manifest();
    const entries = Object.keys(m.exports ?? { '.': null }).map((k) =>
      k === '.' ? name : `${name}/${k.slice(2)}`,
    );
    const script = `for (const e of ${JSON.stringify(entries)}) {
      const m = require(e);
      if (Object.keys(m).length === 0) throw new Error(e + ': require() gave no exports');
    }`;
    writeFileSync(join(project, 'require.cjs'), script);
    const { stderr } = await run(
      process.execPath,
      ['require.cjs'],
      project,
      60_000,
      `require() of ${entries}`,
    );
    expect(stderr).toBe('');
    const imports = entries.map((e) => `await import(${JSON.stringify(e)});`).join('\n');
    await run(
      process.execPath,
      ['--input-type=module', '-e', imports],
      project,
      60_000,
      `import() of ${entries}`,
    );
  });

  // Each README in a project folder of its own, whose node_modules are the installed ones.
  const work = () => join(scratch, `readme-${name.replace(/^@zufs\//, '')}`);
  const examples = () => readmeBlocks(readFileSync(join(installed(), 'README.md'), 'utf8'));

  it('every example its README marks runs as shown', async () => {
    const blocks = examples();
    const unmarked = blocks.filter((b) => b.mark === null && isExample(b)).map((b) => `README.md:${b.line}`);
    expect(unmarked, 'examples neither marked `test` nor `no-test`').toEqual([]);
    mkdirSync(work());
    symlinkSync(join(project, 'node_modules'), join(work(), 'node_modules'));
    const tested = blocks.filter((b) => b.mark === 'test');
    for (const b of tested) if (b.file) writeFileSync(join(work(), b.file), b.code);
    for (const b of tested.filter((t) => !t.file && !t.root)) await runExample(b, work(), name);
  }, 300_000);

  it.skipIf(notPrivileged !== undefined)(
    `every example its README marks for root runs as shown${notPrivileged ? ` (skipped: ${notPrivileged})` : ''}`,
    async () => {
      for (const b of examples().filter((t) => t.mark === 'test' && !t.file && t.root))
        await runExample(b, work(), name);
    },
    300_000,
  );
});

async function runExample(b: Example, work: string, name: string): Promise<void> {
  const where = `${name} README.md:${b.line}`;
  if (b.lang === 'sh') {
    await run('sh', ['-e', '-c', b.code], work, 120_000, `${where} (sh)`);
  } else if (b.lang === 'js') {
    const file = join(work, `example-${b.line}.mjs`);
    writeFileSync(file, b.code);
    await run(process.execPath, [file], work, 120_000, `${where} (node)`);
  } else {
    throw new Error(`${where}: a runnable example must be js or sh, not '${b.lang}'`);
  }
}
