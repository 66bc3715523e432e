// The kernel mount serves requests concurrently: with a plugin whose READ takes seconds (slow-tiny-fs)
// and one reader, `ls` still answers while a `cat` waits (a standby reader joins), and a read whose
// process takes a signal gets EINTR, the plugin seeing the abort (FUSE_INTERRUPT raises the
// channel's abort flag). Both ways a reader serves: inline, and through the ZT grid.
// Needs root and /dev/fuse: skipped without them, failed instead when ZUFS_REQUIRE_PRIVILEGED_TESTS=1.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FuseMount, mountFuse } from '@zufs/fuse';
import { mount, type ZufsMount } from '@zufs/vfs';
import { startServer, type ZusServer } from '@zufs/zus-server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { kernelSuites, teardown } from './kernel-mount.js';

const SLOW_FS = new URL('../../zus-server/test/fixtures/slow-tiny-fs.mjs', import.meta.url);
/** How long the plugin's READ takes. */
const SLOW_MS = 5000;

/** Runs a command; resolves with its exit code, output and how long it took (ms). */
function timed(cmd: string, args: string[]): Promise<{ code: number | null; out: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((res) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    child.on('close', (code) => res({ code, out, ms: performance.now() - t0 }));
  });
}

kernelSuites('kernel mount serving concurrently, $serving', ({ inline }) => {
  let dir: string;
  let mnt: string;
  let aborts: string;
  let server: ZusServer | undefined;
  let m: FuseMount | undefined;
  let face: ZufsMount | undefined;
  const logs: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zufs-fuse-conc-'));
    mnt = join(dir, 'mnt');
    aborts = join(dir, 'aborts');
    mkdirSync(mnt);
    server = await startServer({ zts: 2, channels: 2, filesystems: [SLOW_FS] });
    face = mount(server.root, {
      type: 'slowtinyfs',
      options: `inodes=64,slot=4096,slow_ms=${SLOW_MS},aborts=${aborts}`,
    });
    face.writeFileSync('/slow', 'slow data\n');
    face.mkdirSync('/d');
    for (const n of ['a', 'b', 'c']) face.writeFileSync(`/d/${n}`, n);
    m = await mountFuse({
      root: face.descriptor,
      server: inline ? server : undefined,
      mountpoint: mnt,
      readers: 1,
      maxReaders: 4,
      attrTimeout: 0,
      entryTimeout: 0,
      log: (s) => logs.push(s),
    });
  });

  afterAll(() => teardown({ m, mnt, face, server, dir }));

  it('answers ls while a cat of a slow file waits, with one reader', async () => {
    let catDone = false;
    const cat = timed('cat', [join(mnt, 'slow')]).then((r) => {
      catDone = true;
      return r;
    });
    // Let the cat's READ reach the plugin first.
    await new Promise((r) => setTimeout(r, 300));
    const ls = await timed('ls', [join(mnt, 'd')]);
    expect(ls.code).toBe(0);
    expect(ls.out.split('\n').filter(Boolean).sort()).toEqual(['a', 'b', 'c']);
    // ls answered while the READ was pending, well before it ended (a loose bound: the machine may
    // be loaded; a stalled reader would make ls wait for the READ's whole 5 s).
    expect(catDone).toBe(false);
    expect(ls.ms).toBeLessThan(SLOW_MS / 2);
    const c = await cat;
    expect(c.out).toBe('slow data\n');
    expect(c.ms).toBeGreaterThanOrEqual(SLOW_MS - 50);
  }, 30_000);

  it('a read whose process takes a signal gets EINTR, and the plugin sees the abort', async () => {
    const before = existsSync(aborts) ? readFileSync(aborts, 'utf8') : '';
    // perl: a handler without SA_RESTART, so the read returns what the filesystem answered; O_DIRECT,
    // so the READ is the process's own request (a page-cache read is the kernel's readahead, which
    // a signal does not interrupt).
    const t0 = performance.now();
    const reader = spawn(
      'perl',
      [
        '-e',
        'use Fcntl; $SIG{USR1} = sub {}; sysopen(F, $ARGV[0], O_RDONLY | O_DIRECT) or die "open: $!"; ' +
          '$n = sysread(F, $b, 4096); ' +
          'print defined $n ? "read $n\\n" : "errno " . ($! + 0) . "\\n"',
        join(mnt, 'slow'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    reader.stdout.on('data', (b) => (out += b));
    reader.stderr.on('data', (b) => (out += b));
    const closed = new Promise((r) => reader.on('close', r));
    await new Promise((r) => setTimeout(r, 500));
    reader.kill('SIGUSR1');
    await closed;
    expect(out).toBe('errno 4\n'); // EINTR
    // Answered at the abort, not when the READ would have ended.
    expect(performance.now() - t0).toBeLessThan(SLOW_MS);
    expect(readFileSync(aborts, 'utf8').slice(before.length)).toBe('read started\nread aborted\n');
    expect(logs.filter((l) => !/reply write/.test(l))).toEqual([]);
  }, 30_000);
});
