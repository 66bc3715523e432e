// Smoke test of the bench CLI: runs the relay suite in --quick mode on the built dist and checks the
// shape of the JSON. No timing assertions: these VMs are shared and noisy.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, ['bench/dist/run.js', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });

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
    ]);
    expect(byName['server-start-stop'].target_ns).toBe(150e6);
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

describe('zufs bench', () => {
  it('the CLI help names every suite of the registry', async () => {
    const { listSuites } = await import('@zufs/bench');
    const bin = fileURLToPath(new URL('./bin.js', import.meta.resolve('@zufs/cli')));
    const r = spawnSync(process.execPath, [bin, 'bench', '--help'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const listed = /one of: (.*)/.exec(r.stdout)?.[1].split(', ');
    expect(listed?.sort()).toEqual(listSuites().sort());
  });
});
