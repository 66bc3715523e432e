// The kernel mount across crashes: real programs (a `cp -a` of a tree in a loop, a sqlite3 writer
// inserting rows with its rollback journal) run on an image-backed pmemfs while the plugin is made
// to crash a few times (a LOOKUP of `__crash__` calls process.exit in the thread serving it).
// Through the ZT grid that thread is a server ZT: the server restarts under the mount. Inline, it
// is the reader: the session answers its request EIO and starts another reader. Either way: no
// hang, the connection stays, each crash costs each program at most the operation it had in flight
// (EIO), an operation that got EIO did not happen (the server lets the live threads' operations
// finish before it breaks the channels), sqlite3's database passes integrity_check and the image
// checks clean. ZUFS_RESTART_ROUNDS
// sets the number of crashes (default 3; `pnpm test:restart --rounds 200` runs the long version).
// Needs root and /dev/fuse: skipped without them, failed instead when ZUFS_REQUIRE_PRIVILEGED_TESTS=1.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fsck, mkfs, PmemDevice } from '@zufs/example-pmemfs';
import { type FuseMount, mountFuse } from '@zufs/fuse';
import { mount, type ZufsMount } from '@zufs/vfs';
import { startServer, type ZusServer } from '@zufs/zus-server';
import { expect, it } from 'vitest';
import { itWith, kernelSuite, kernelSuites, teardown } from './kernel-mount.js';

const CRASHY = new URL('../../vfs/test/fixtures/crashy-pmemfs.mjs', import.meta.url);
const CRASHES = Number(process.env.ZUFS_RESTART_ROUNDS ?? 3);

/** Programs still running, killed if the test fails (they would keep the mount busy). */
const running = new Set<ChildProcess>();

/** A program run by bash, its exit code and output once it ends. */
function run(script: string, cwd: string): Promise<{ code: number; out: string }> {
  const child = spawn('bash', ['-c', script], { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  running.add(child);
  child.on('exit', () => running.delete(child));
  let out = '';
  child.stdout!.on('data', (b) => (out += b));
  child.stderr!.on('data', (b) => (out += b));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, out })));
}

/** `p`, or a failure naming `what` after `ms` (a request the bridge lost would hang it for ever). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Waits until `ready()` (a program's progress, counted in a file); fails naming `what` after 120 s. */
async function until(ready: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 120_000;
  while (!ready()) {
    if (Date.now() > end) throw new Error(`${what}: not within 120 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The number a program last wrote to `file` (0 before it wrote one). */
function counted(file: string): number {
  try {
    return Number(readFileSync(file, 'utf8')) || 0;
  } catch {
    return 0;
  }
}

/** A tree of 12 directories of 20 files, 1 to 96 KiB of random bytes each. */
function sourceTree(at: string): void {
  for (let d = 0; d < 12; d++) {
    mkdirSync(join(at, `d${d}`, 'sub'), { recursive: true });
    for (let f = 0; f < 20; f++) {
      const bytes = randomFillSync(Buffer.alloc(1024 * (1 + ((d * 20 + f) % 96))));
      writeFileSync(join(at, `d${d}`, f % 4 ? `f${f}` : `sub/f${f}`), bytes);
    }
  }
}

kernelSuites('the kernel mount across plugin crashes, operations served $serving', ({ inline }) => {
  itWith(
    ['sqlite3', 'cp', 'diff'],
    `cp -a and a sqlite3 writer across ${CRASHES} crashes: no hang, at most one EIO per crash, integrity_check ok, fsck clean`,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'zufs-fuse-restart-'));
      const t: { m?: FuseMount; mnt?: string; face?: ZufsMount; server?: ZusServer; dir: string } = { dir };
      const logs: string[] = [];
      let restarts = 0;
      let passed = false;
      try {
        const mnt = (t.mnt = join(dir, 'mnt'));
        mkdirSync(mnt);
        sourceTree(join(dir, 'src'));
        const image = join(dir, 'fs.img');
        const dev = PmemDevice.createFile(image, 64 * 1024 * 1024);
        mkfs(dev, { inodes: 8192 });
        dev.flush();
        dev.close();
        t.server = await startServer({
          zts: 2,
          channels: 3,
          filesystems: [CRASHY],
          maxRestarts: CRASHES + 5,
          onLog: (level, message) => logs.push(`server ${level}: ${message}`),
          onRestart: () => restarts++,
        });
        t.face = mount(t.server.root, { type: 'pmemfs', device: image });
        t.m = await mountFuse({
          root: t.face.descriptor,
          server: inline ? t.server : undefined,
          mountpoint: mnt,
          readers: 2,
          log: (s) => logs.push(s),
        });
        // Rounds of cp -a into copy1, copy2... until told to stop; each round's status is printed,
        // and the rounds done counted in ../cp.done.
        const cp = run(
          `i=0; until [ -e ../stop ]; do i=$((i+1)); cp -a ../src copy$i 2>&1; echo "round $i: $?"; echo $i > ../cp.done; done`,
          mnt,
        );
        // Transactions of two rows each; a failed one is counted, the loop goes on; those that
        // succeeded are counted in ../sql.ok.
        const sql = run(
          `sqlite3 db.sqlite 'PRAGMA journal_mode=DELETE; CREATE TABLE t(n INTEGER, pad TEXT);' >/dev/null
         ok=0; failed=0; n=0
         until [ -e ../stop ]; do n=$((n+1))
           if sqlite3 db.sqlite "BEGIN; INSERT INTO t VALUES($n, hex(randomblob(300))); INSERT INTO t VALUES($n, 'b'); COMMIT;" 2>&1; then ok=$((ok+1)); echo $ok > ../sql.ok; else failed=$((failed+1)); fi
         done; echo "ok=$ok failed=$failed"`,
          mnt,
        );
        const served = () => (inline ? logs.filter((l) => / died .* answered EIO/.test(l)).length : restarts);
        const committed = () => counted(join(dir, 'sql.ok'));
        const roundsDone = () => counted(join(dir, 'cp.done'));
        let committedBefore = 0;
        for (let i = 0; i < CRASHES; i++) {
          // The writer commits between two crashes: requests are served again after each.
          await until(() => committed() > committedBefore, `sqlite3's commits before crash ${i + 1}`);
          committedBefore = committed();
          const before = served();
          const stat = await within(run('stat __crash__', mnt), 60_000, `crash ${i + 1}: stat __crash__`);
          expect(stat.out, `the crashing LOOKUP (exit code ${stat.code})`).toMatch(/Input\/output error/);
          // The crash is handled (a restart, or a new reader) before the next one.
          await until(() => served() > before, `crash ${i + 1} handled`);
          expect(served(), `crash ${i + 1} handled once`).toBe(before + 1);
        }
        // Both programs go on after the last crash: a commit, and a cp round ends.
        const roundsBefore = roundsDone();
        await until(() => committed() > committedBefore, "sqlite3's commits after the last crash");
        await until(() => roundsDone() > roundsBefore, 'a cp round after the last crash');
        writeFileSync(join(dir, 'stop'), '');
        const [copies, writes] = await within(
          Promise.all([cp, sql]),
          120_000,
          'cp and sqlite3 after the crashes',
        );
        expect(copies.code).toBe(0);
        expect(writes.code).toBe(0);

        // cp: each round completed, or failed on the files an EIO line names (those in flight at a
        // crash), and differs from the source in those alone.
        const rounds = copies.out.split(/^round \d+: \d+$/m);
        const codes = [...copies.out.matchAll(/^round (\d+): (\d+)$/gm)].map((r) => +r[2]);
        expect(codes.length).toBeGreaterThan(0);
        let eioLines = 0;
        for (const [i, code] of codes.entries()) {
          const lines = rounds[i].split('\n').filter(Boolean);
          expect(lines.filter((l) => !/Input\/output error/.test(l))).toEqual([]);
          eioLines += lines.length;
          expect(code === 0, `round ${i + 1}: ${rounds[i]}`).toBe(lines.length === 0);
          const diff = await run(`diff -r ../src copy${i + 1}`, mnt);
          const why = `round ${i + 1} printed:\n${rounds[i]}\ndiff -r:\n${diff.out}\nlog:\n${logs.join('\n')}`;
          expect(diff.out.split('\n').filter(Boolean).length, why).toBeLessThanOrEqual(lines.length);
        }
        expect(eioLines, copies.out).toBeLessThanOrEqual(CRASHES);

        // sqlite3: each failed transaction is one a crash broke; committed ones are all there.
        const counts = /ok=(\d+) failed=(\d+)/.exec(writes.out);
        expect(counts, writes.out).not.toBeNull();
        const [ok, failed] = [+counts![1], +counts![2]];
        expect(ok).toBeGreaterThan(CRASHES); // one at least before each crash, and after the last
        expect(failed).toBeLessThanOrEqual(CRASHES);
        const check = await run(
          `sqlite3 db.sqlite 'PRAGMA integrity_check; SELECT count(*) FROM t; SELECT count(DISTINCT n) FROM t;'`,
          mnt,
        );
        const [integrity, rows, txs] = check.out.trim().split('\n');
        expect(integrity).toBe('ok');
        expect(+rows).toBe(2 * +txs); // no half transaction
        expect(+txs).toBeGreaterThanOrEqual(ok);
        expect(+txs).toBeLessThanOrEqual(ok + failed);
        expect(inline ? restarts : served()).toBe(inline ? 0 : CRASHES);
        passed = true;
      } finally {
        // A program left waiting on a lost request cannot even be killed: end the connection.
        if (!passed) await t.m?.abort().catch(() => {});
        // Each program's whole group (bash and the cp or sqlite3 it runs).
        for (const c of running)
          try {
            process.kill(-c.pid!, 'SIGKILL');
          } catch {} // gone meanwhile
        await teardown({ ...t, dir: undefined });
      }
      // Unmounted and the server stopped: the image checks clean.
      try {
        const dev = PmemDevice.openFile(join(dir, 'fs.img'), { sparse: true });
        try {
          expect(fsck(dev).problems).toEqual([]);
        } finally {
          dev.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    120_000 + CRASHES * 10_000,
  );
});

// Through the grid a ZT that dies mid-change is a restart that rolls the volume back to its last
// commit: inodes made since are gone, and their numbers are free for new files. The kernel may still
// hold such an inode (an open file, a cached name) by its node id, which is the inode's number.
kernelSuite('the kernel mount after a restart that rolled the volume back', () => {
  it("a node id whose inode the rollback lost answers ESTALE, also once its number is another file's", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zufs-fuse-rollback-'));
    const t: { m?: FuseMount; mnt?: string; face?: ZufsMount; server?: ZusServer; dir: string } = { dir };
    try {
      const mnt = (t.mnt = join(dir, 'mnt'));
      mkdirSync(mnt);
      const image = join(dir, 'fs.img');
      const dev = PmemDevice.createFile(image, 16 * 1024 * 1024);
      mkfs(dev, { inodes: 256 });
      dev.flush();
      dev.close();
      let restarted: (() => void) | null = null;
      t.server = await startServer({
        zts: 1,
        channels: 2,
        filesystems: [CRASHY],
        onLog: () => {},
        onRestart: () => restarted?.(),
      });
      // commit=0: nothing reaches the image but an fsync.
      t.face = mount(t.server.root, { type: 'pmemfs', device: image, options: 'commit=0' });
      // No kernel caches: every stat and read below is a request.
      t.m = await mountFuse({
        root: t.face.descriptor,
        mountpoint: mnt,
        readers: 2,
        attrTimeout: 0,
        entryTimeout: 0,
      });
      await fsp.writeFile(join(mnt, 'kept'), 'fsynced');
      const kept = await fsp.open(join(mnt, 'kept'), 'r+');
      await kept.sync();
      await kept.close();
      await fsp.writeFile(join(mnt, 'lost'), 'never committed');
      const lost = await fsp.open(join(mnt, 'lost'), 'r'); // nothing read yet: no page cache
      const lostIno = (await lost.stat()).ino;
      // A ZT dies holding pmemfs's lock: the restart mounts the image's last commit again.
      const done = new Promise<void>((r) => (restarted = r));
      expect(() => t.face!.statSync('/__crash_locked__')).toThrow(expect.objectContaining({ code: 'EIO' }));
      await done;
      // A new file takes the lost one's slot (a later generation).
      t.face.writeFileSync('/new', 'another file, not yours');
      expect(t.face.statSync('/new').ino).toBe(lostIno);
      // The kernel's node of /lost is stale: neither its attributes nor its bytes are the new file's.
      // ESTALE (Node 20's libuv has no name for it: errno -116).
      await expect(lost.stat()).rejects.toMatchObject({ errno: -116 });
      await expect(lost.read(Buffer.alloc(64), 0, 64, 0)).rejects.toMatchObject({ errno: -116 });
      await lost.close();
      await expect(fsp.stat(join(mnt, 'lost'))).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await fsp.readFile(join(mnt, 'new'), 'utf8')).toBe('another file, not yours');
      expect(await fsp.readFile(join(mnt, 'kept'), 'utf8')).toBe('fsynced');
      // The kernel takes the number for the new file: a fresh node, served as any other.
      const again = await fsp.open(join(mnt, 'new'), 'r+');
      await again.write('ANOTHER', 0);
      expect((await again.stat()).size).toBe(23);
      await again.close();
      expect(t.face.readFileSync('/new', 'utf8')).toBe('ANOTHER file, not yours');
    } finally {
      await teardown(t);
    }
  }, 60_000);
});
