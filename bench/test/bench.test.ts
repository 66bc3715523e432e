// Smoke test of the bench CLI: runs the relay suite in --quick mode on the built dist and checks the
// shape of the JSON. No timing assertions: these VMs are shared and noisy.
import { spawn, spawnSync } from 'node:child_process';
import * as nodeFs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REQUIRED = process.env.ZUFS_REQUIRE_PRIVILEGED_TESTS === '1';
const root = fileURLToPath(new URL('../..', import.meta.url));
const runWithin = (timeout: number, ...args: string[]) =>
  spawnSync(process.execPath, ['bench/dist/run.js', ...args], { cwd: root, encoding: 'utf8', timeout });
const run = (...args: string[]) => runWithin(120_000, ...args);

const RELAY_CASES = [
  'raw-spin-rt',
  'raw-spin-1line-rt',
  'raw-atomics-wait-idle-rt',
  'raw-atomics-wait-rt',
  'postmessage-rt',
  'synckit-rt',
  'relay-hot-rt',
  'relay-parked-rt',
];

describe('pnpm bench', () => {
  it('relay --json --quick prints one JSON object with every case', () => {
    const r = run('relay', '--json', '--quick');
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0]);
    expect(report.suite).toBe('relay');
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(report.machine.node).toBe(process.version);
    expect(report.cases.map((c: { name: string }) => c.name).sort()).toEqual([...RELAY_CASES].sort());
    for (const c of report.cases) {
      expect(c.median_ns, c.name).toBeGreaterThan(0);
      expect(c.p99_ns, c.name).toBeGreaterThanOrEqual(c.median_ns);
      expect(c.ops_per_s, c.name).toBeGreaterThan(0);
      expect(c.samples, c.name).toBeGreaterThan(0);
    }
    const parked = report.cases.find((c: { name: string }) => c.name === 'relay-parked-rt');
    expect(typeof parked.fss_parks_per_op).toBe('number');
    for (const key of ['relay-hot-rt/raw-spin-rt', 'relay-parked-rt/raw-atomics-wait-rt']) {
      expect(report.ratios[key], key).toBeGreaterThan(0);
    }
    // the human table goes to stderr
    expect(r.stderr).toContain('relay-hot-rt/raw-spin-rt');
  });

  it('--filter runs only the matching cases', () => {
    const r = run('relay', '--json', '--quick', '--filter', 'postmessage');
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.cases.map((c: { name: string }) => c.name)).toEqual(['postmessage-rt']);
  });

  it('an unknown suite exits 2 and lists the suites', () => {
    const r = run('no-such-suite');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('relay');
    expect(r.stdout).toBe('');
  });

  it('fs --quick --filter :stat measures stat on the six targets, ratios and no failure', () => {
    const r = run('fs', '--json', '--quick', '--filter', ':stat');
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.cases.map((c: { name: string }) => c.name).sort()).toEqual(
      ['zufs', 'zufs-inline', 'nodefs-tmpfs', 'memfs', 'zenfs-port', 'zenfs-memory']
        .map((t) => `${t}:stat`)
        .sort(),
    );
    for (const c of report.cases) expect(c.median_ns, c.name).toBeGreaterThan(0);
    expect(report.ratios['zufs:stat/nodefs-tmpfs:stat']).toBeGreaterThan(0);
    expect(report.ratios['zufs-inline:stat/zufs:stat']).toBeGreaterThan(0);
    expect(report.ratio_targets['zufs:stat/zenfs-port:stat']).toBe(0.01);
  });

  const fuseWhy =
    process.getuid?.() !== 0 || !nodeFs.existsSync('/dev/fuse') ? 'needs root and /dev/fuse' : null;
  it.skipIf(fuseWhy !== null && !REQUIRED)(
    `fuse --quick --filter zufs-fuse:create-write counts the FUSE requests of each case${fuseWhy ? ` (skipped: ${fuseWhy})` : ''}`,
    () => {
      const r = run('fuse', '--json', '--quick', '--filter', 'zufs-fuse:create-write-4k-close');
      expect(r.status, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout);
      const names = report.cases.map((c: { name: string }) => c.name).sort();
      expect(names).toEqual(['zufs-fuse:create-write-4k-close', 'zufs-fuse:create-write-4k-close-2t']);
      for (const c of report.cases) {
        // OPEN (truncating), WRITE, RELEASE; names whose entry expired add a LOOKUP and GETXATTRs.
        for (const op of ['OPEN', 'WRITE', 'RELEASE'])
          expect(c.requests_by_op, c.name).toMatch(new RegExp(`\\b${op} 1\\b`));
        expect(c.requests_by_op, c.name).not.toContain('FLUSH');
        expect(c.requests_per_op, c.name).toBeGreaterThanOrEqual(3);
      }
    },
    300_000,
  );
});

/** `pnpm bench SUITE --json --quick`: the report, its cases by name (exactly `cases`, each timed). */
function quickReport(suite: string, cases: string[]) {
  const r = run(suite, '--json', '--quick');
  expect(r.status, r.stderr).toBe(0);
  const report = JSON.parse(r.stdout);
  const byName = Object.fromEntries(report.cases.map((c: { name: string }) => [c.name, c]));
  expect(Object.keys(byName).sort()).toEqual(cases);
  for (const c of report.cases) expect(c.median_ns, c.name).toBeGreaterThan(0);
  return { report, byName };
}

describe('pnpm bench idle', () => {
  it('--quick measures the idle CPU, a server start-stop, a zufs ls process and node -e 0, with targets', () => {
    const { report, byName } = quickReport('idle', [
      'cli-ls',
      'node-e0',
      'server-idle-cpu',
      'server-start-stop',
      'server-start-stop-zt-thread',
    ]);
    expect(byName['server-start-stop'].target_ns).toBe(150e6);
    expect(byName['server-start-stop-zt-thread'].target_ns).toBeUndefined();
    expect(byName['cli-ls'].target_ns).toBe(Math.round(2 * byName['node-e0'].median_ns + 150e6));
    expect(typeof byName['cli-ls'].met).toBe('boolean');
    expect(report.ratios['cli-ls/node-e0']).toBeGreaterThan(0);
  });
});

describe('pnpm bench image', () => {
  it('--quick mounts a 4 GiB image empty and with 100 MiB, reporting RSS and the targets', () => {
    const { report, byName } = quickReport('image', ['mount-4g-100m', 'mount-4g-empty']);
    for (const c of report.cases) {
      expect(c.target_ns).toBe(300e6);
      expect(typeof c.met).toBe('boolean');
      // The image is 4 GiB; a mount that read it whole would cost that much RSS.
      expect(c.rss_bytes, c.name).toBeLessThan(2 ** 30);
    }
    expect(byName['mount-4g-100m'].used_bytes).toBe(100 * 2 ** 20);
    expect(byName['mount-4g-100m'].rss_mount_bytes).toBeGreaterThan(byName['mount-4g-empty'].rss_mount_bytes);
  });
});

describe('pnpm bench restart', () => {
  it('--quick crashes a ZT and reloads the plugins, reporting the restart and the pause with their targets', () => {
    const { report, byName } = quickReport('restart', [
      'reload-pause',
      'restart-recover',
      'restart-recover-cold',
    ]);
    expect(byName['restart-recover'].target_ns).toBe(150e6);
    expect(byName['restart-recover-cold'].restarts).toBe(3);
    expect(byName['reload-pause'].target_ns).toBe(100e6);
    expect(byName['restart-recover'].restarts).toBe(3);
    expect(byName['reload-pause'].failed_ops).toBe(0); // a reload fails no operation
    for (const c of report.cases) expect(typeof c.met).toBe('boolean');
  });
});

const canMount = process.platform === 'linux' && nodeFs.existsSync('/dev/fuse') && process.getuid?.() === 0;
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

describe('pnpm bench workload', () => {
  it('--quick runs every case on every target, each checking its result, with the ratios and targets', () => {
    // One run of the whole suite (a few minutes on loaded cores); a broken case fails the run.
    const r = runWithin(900_000, 'workload', '--json', '--quick');
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.suite).toBe('workload');
    const face = ['zufs', 'zufs-inline', 'nodefs-tmpfs', 'memfs'].flatMap((t) =>
      ['unpack', 'scan', 'churn', 'unpack-4t'].map((op) => `${t}:${op}`),
    );
    let kernel: string[] = [];
    if (canMount) {
      const targets = ['zufs-fuse', 'libfuse-ll', 'tmpfs'];
      // libfuse's example is a peer where libfuse3-dev ships it; required where the machine must be whole.
      if (REQUIRED || nodeFs.existsSync('/usr/share/doc/libfuse3-dev/examples/passthrough_ll.c'))
        targets.push('passthrough-ll');
      const ops = ['tar-x', 'find-stat', 'cat-all', 'rm-rf'];
      if (REQUIRED || have('sqlite3')) ops.push('sqlite-insert');
      kernel = targets.flatMap((t) => ops.map((op) => `${t}:${op}`));
    } else {
      expect(REQUIRED, 'privileged tests are required, but this machine cannot mount FUSE').toBe(false);
      expect(r.stderr).toContain('kernel-mount cases skipped');
    }
    const byName = Object.fromEntries(report.cases.map((c: { name: string }) => [c.name, c]));
    expect(Object.keys(byName).sort()).toEqual([...face, ...kernel].sort());
    for (const c of report.cases) {
      expect(c.median_ns, c.name).toBeGreaterThan(0);
      expect(c.ops_per_s, c.name).toBeGreaterThan(0);
      // A sample is one whole run: per entry of the quick tree, or per row of the 10 000.
      expect(c.batch_ops, c.name).toBeGreaterThanOrEqual(c.name.endsWith('churn') ? 1 : 1000);
    }
    for (const t of ['zufs', 'zufs-inline', 'nodefs-tmpfs', 'memfs']) {
      expect(byName[`${t}:unpack-4t`].threads).toBe(4);
      expect(byName[`${t}:unpack-4t`].speedup).toBeGreaterThan(0);
    }
    expect(byName['zufs:unpack-4t'].batch_ops).toBe(4 * byName['zufs:unpack'].batch_ops);
    expect(report.ratio_targets['zufs:unpack/nodefs-tmpfs:unpack']).toBe(0.5);
    expect(report.ratio_targets['zufs:scan/memfs:scan']).toBeCloseTo(1 / 1.5, 5);
    expect(report.ratio_targets['zufs:unpack-4t/zufs:unpack']).toBe(0.625);
    expect(report.ratios['zufs:churn/memfs:churn']).toBeGreaterThan(0);
    expect(report.ratios['zufs-inline:unpack/nodefs-tmpfs:unpack']).toBeGreaterThan(0);
    if (canMount) {
      expect(report.ratio_targets['zufs-fuse:tar-x/libfuse-ll:tar-x']).toBe(1.2);
      expect(byName['zufs-fuse:sqlite-insert']?.batch_ops ?? 10_000).toBe(10_000);
    }
  }, 1_000_000);

  it('the checks catch a copy of the tree that lost a file or some bytes', async () => {
    const { checkCounts, loadTree, QUICK_FILES, scan, unpack } = await import('@zufs/bench');
    const tree = loadTree(QUICK_FILES);
    expect(tree.files).toBeGreaterThanOrEqual(QUICK_FILES);
    expect(tree.dirs).toBeGreaterThan(0);
    expect(tree.links).toBeGreaterThan(0);
    const full = loadTree();
    expect(full.files).toBeGreaterThan(8000);
    const base = nodeFs.mkdtempSync(join(tmpdir(), 'zufs-bench-tree-'));
    try {
      const fs = nodeFs as unknown as Parameters<typeof unpack>[0];
      unpack(fs, tree, `${base}/t`);
      checkCounts('copy', scan(fs, `${base}/t`), tree);
      const i = tree.kinds.findIndex((k, j) => k === 1 && tree.sizes[j] > 2);
      const file = `${base}/t/${tree.paths[i]}`;
      nodeFs.truncateSync(file, tree.sizes[i] - 1);
      expect(() => scan(fs, `${base}/t`)).toThrow(/wrong bytes/);
      nodeFs.unlinkSync(file);
      expect(() => checkCounts('copy', scan(fs, `${base}/t`), tree)).toThrow(/found/);
    } finally {
      nodeFs.rmSync(base, { recursive: true, force: true });
    }
  });
});

/** Mount points under `base` in this machine's mount table. */
const mountsUnder = (base: string) =>
  nodeFs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((dir) => dir?.startsWith(base));

describe('a killed bench', () => {
  // The signal lands while libfuse-ll is coming up, every time: its mount is up, its undo not yet
  // registered (ZUFS_BENCH_TEST_SETUP_HOLD_MS holds a server program's setup there, cleanup.ts).
  // The run must wait for that setup and take its mount down too, and still exit 143.
  it.skipIf(!canMount && !REQUIRED)(
    `SIGTERM during workload's kernel half, libfuse-ll still coming up, unmounts zufs-fuse and libfuse-ll, removes its directories, exits 143${canMount ? '' : ' (skipped: needs root and /dev/fuse)'}`,
    async () => {
      expect(canMount, 'privileged tests are required, but this machine cannot mount FUSE').toBe(true);
      // A TMPDIR of its own: the mounts found under it are this run's, whatever else runs here.
      const tmp = nodeFs.mkdtempSync(join(tmpdir(), 'zufs-bench-killed-'));
      const child = spawn(
        process.execPath,
        ['bench/dist/run.js', 'workload', '--quick', '--filter', 'tar-x'],
        {
          cwd: root,
          env: { ...process.env, TMPDIR: tmp, ZUFS_BENCH_TEST_SETUP_HOLD_MS: '5000' },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      try {
        // Both FUSE servers mounted (the tree's tarball first: a few seconds), libfuse-ll held.
        for (let i = 0; i < 1200 && mountsUnder(tmp).length < 2; i++)
          await new Promise((r) => setTimeout(r, 50));
        expect(mountsUnder(tmp).length, stderr).toBeGreaterThanOrEqual(2);
        child.kill('SIGTERM');
        expect(await exited, stderr).toBe(143);
        expect(stderr).toContain('bench: SIGTERM: undoing');
        expect(stderr, 'the signal landed while a setup was under way').toContain('(and 1 under way)');
        expect(mountsUnder(tmp)).toEqual([]);
        expect(nodeFs.readdirSync(tmp)).toEqual([]);
      } finally {
        child.kill('SIGKILL');
        for (const dir of mountsUnder(tmp)) spawnSync('umount', ['-l', dir]);
        nodeFs.rmSync(tmp, { recursive: true, force: true });
      }
    },
    180_000,
  );
});

describe('zufs bench', () => {
  it('the CLI help names every suite of the registry', async () => {
    const { listSuites } = await import('@zufs/bench');
    const bin = fileURLToPath(new URL('./bin.js', import.meta.resolve('@zufs/cli')));
    const r = spawnSync(process.execPath, [bin, 'bench', '--help'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    // commander wraps the list at 80 columns: join its lines first.
    const listed = /one of: ([\s\S]*?)\n\n/.exec(r.stdout)?.[1].split(/,\s+/);
    expect(listed?.sort()).toEqual(listSuites().sort());
  });
});

describe('pnpm bench remote', () => {
  const PG = process.env.ZUFS_TEST_PG_URL;
  const OPS = [
    'stat',
    'stat-strict',
    'create-write-4k-close',
    'read-1m-seq',
    'write-1m-seq',
    'readdir-1000',
    'mkdir-rmdir',
    'rename',
  ];

  it('--quick measures sqlfs on SQLite, and on PostgreSQL with its floors when there is one', () => {
    // CI starts a PostgreSQL (.ci/postgres) and sets ZUFS_TEST_PG_URL: there the PG cases are required.
    expect(PG || process.env.CI !== 'true', 'ZUFS_TEST_PG_URL is not set under CI').toBeTruthy();
    const r = runWithin(600_000, 'remote', '--json', '--quick');
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.suite).toBe('remote');
    const engines = PG ? ['sqlite', 'pg'] : ['sqlite'];
    const cases = engines.flatMap((e) => OPS.map((op) => `sqlfs-${e}:${op}`));
    if (PG) cases.push('pg-roundtrip', 'pg-read-1m', 'sqlfs-pg:create-1proc', 'sqlfs-pg:create-2proc');
    else expect(r.stderr).toContain('PostgreSQL cases skipped');
    const byName = Object.fromEntries(report.cases.map((c: { name: string }) => [c.name, c]));
    expect(Object.keys(byName).sort()).toEqual(cases.sort());
    for (const c of report.cases) {
      expect(c.median_ns, c.name).toBeGreaterThan(0);
      expect(c.p99_ns, c.name).toBeGreaterThanOrEqual(c.median_ns);
      expect(c.ops_per_s, c.name).toBeGreaterThan(0);
    }
    for (const e of engines) {
      expect(byName[`sqlfs-${e}:stat`].target_ns).toBe(2000);
      expect(typeof byName[`sqlfs-${e}:stat`].met).toBe('boolean');
      for (const op of ['read-1m-seq', 'write-1m-seq'])
        expect(byName[`sqlfs-${e}:${op}`].bytes_per_s, op).toBeGreaterThan(0);
    }
    expect(report.ratio_targets['sqlfs-pg:stat-strict/pg-roundtrip']).toBe(1.5);
    expect(report.ratio_targets['sqlfs-pg:create-write-4k-close/pg-roundtrip']).toBe(4);
    expect(report.ratio_targets['sqlfs-pg:read-1m-seq/pg-read-1m']).toBe(1.5);
    expect(report.ratio_targets['sqlfs-pg:create-2proc/sqlfs-pg:create-1proc']).toBe(1);
    if (PG) {
      expect(report.ratios['sqlfs-pg:stat-strict/pg-roundtrip']).toBeGreaterThan(0);
      expect(report.ratios['sqlfs-pg:stat/sqlfs-sqlite:stat']).toBeGreaterThan(0);
      expect(byName['pg-read-1m'].bytes_per_s).toBeGreaterThan(0);
      const two = byName['sqlfs-pg:create-2proc'];
      expect(two).toMatchObject({ processes: 2, threads: 8 });
      expect(two.ops_per_s_1proc).toBe(byName['sqlfs-pg:create-1proc'].ops_per_s);
      expect(two.speedup).toBeGreaterThan(0);
    }
  }, 700_000);

  it("sqlfs's README has a figures row, with what limits it, for every case", () => {
    const readme = nodeFs.readFileSync(join(root, 'packages/example-sqlfs/README.md'), 'utf8');
    const figures = readme.slice(readme.indexOf('## Figures'));
    for (const op of [...OPS, 'pg-roundtrip', 'pg-read-1m', 'create-2proc']) {
      const row = figures.split('\n').find((l) => l.startsWith(`| ${op} `));
      expect(row, op).toBeDefined();
      const cells = (row as string).split('|').slice(1, -1);
      expect(cells, op).toHaveLength(4);
      expect(cells[3].trim(), `${op}: what limits it`).not.toBe('');
    }
  });
});
