// How many FUSE requests a system call costs on the kernel mount, counted by the readers
// (FuseMount.requests()), and the guarantees the fewer requests keep: a write drops setuid (by a
// caller without CAP_FSETID) and file capabilities, whichever way the file was opened.
// The system calls are made by this thread (node:fs's sync calls are one system call each); the
// reader workers serve them meanwhile.
// Needs root and /dev/fuse: skipped without them, failed instead when ZUFS_REQUIRE_PRIVILEGED_TESTS=1.
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PMEMFS_TYPE } from '@zufs/example-pmemfs';
import { type FuseMount, type FuseMountOptions, mountFuse } from '@zufs/fuse';
import { startServer, type ZusServer } from '@zufs/zus-server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { itWith, kernelSuite, teardown } from './kernel-mount.js';

const PAGE = new Uint8Array(4096).fill(7);
/** How long the kernel's background requests (RELEASE after close) may take to arrive. */
const SETTLE_MS = 5_000;

/** A mount of pmemfs in memory, readers serving inline, with `opts`. */
async function open(opts: Partial<FuseMountOptions>) {
  const dir = mkdtempSync(join(tmpdir(), 'zufs-fuse-req-'));
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  const server: ZusServer = await startServer({ zts: 1, channels: 2, filesystems: [PMEMFS_TYPE] });
  let m: FuseMount | undefined;
  try {
    m = await mountFuse({
      root: server.root,
      server,
      type: 'pmemfs',
      options: `memory=${64 * 1024 * 1024}`,
      mountpoint: mnt,
      readers: 2,
      ...opts,
    });
  } catch (e) {
    await server.stop();
    throw e;
  }
  const fuse = m;
  return {
    mnt,
    fuse,
    close: () => teardown({ m: fuse, mnt, server, dir }),
  };
}

type Mount = Awaited<ReturnType<typeof open>>;

/**
 * Requests per run of `op`, by opcode: `op(i)` runs for i = 0..n-1 after `warm` runs (i = -warm..-1)
 * that fill the kernel's caches, then the counts settle (RELEASE is sent in the background after
 * close: waited for until `settle` of each opcode per run arrived, or SETTLE_MS). FORGET, which the
 * kernel sends when it drops an inode (an unlinked file), has no reply and is left out.
 */
async function perOp(
  m: Mount,
  op: (i: number) => void,
  settle: Record<string, number> = {},
  warm = 1,
  n = 16,
): Promise<Record<string, number>> {
  for (let i = -warm; i < 0; i++) op(i);
  await settled(m, {});
  const before = m.fuse.requests();
  for (let i = 0; i < n; i++) op(i);
  const want = Object.fromEntries(Object.entries(settle).map(([k, v]) => [k, (before[k] ?? 0) + v * n]));
  const after = await settled(m, want);
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    if (k === 'FORGET' || k === 'BATCH_FORGET') continue;
    const d = (v - (before[k] ?? 0)) / n;
    if (d > 0) out[k] = d;
  }
  return out;
}

/** The counts once each opcode of `want` reached its number (or SETTLE_MS passed), and a beat more. */
async function settled(m: Mount, want: Record<string, number>): Promise<Record<string, number>> {
  const end = Date.now() + SETTLE_MS;
  for (;;) {
    const c = m.fuse.requests();
    if (Object.entries(want).every(([k, v]) => (c[k] ?? 0) >= v) || Date.now() > end) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 50));
  return m.fuse.requests();
}

const total = (c: Record<string, number>) => Object.values(c).reduce((s, v) => s + v, 0);

kernelSuite('FUSE requests per system call', () => {
  // As `pnpm bench fuse` mounts it (every stat reaches the server, the server checks permissions)
  // and as mountFuse does by default (attributes cached, the kernel checks permissions). Names
  // (and the default's attributes) are cached for a minute, not 1 s: a cache expiring in the
  // middle of a slow run would add a request to the count.
  let bench: Mount;
  let dflt: Mount;

  beforeAll(async () => {
    bench = await open({ attrTimeout: 0, entryTimeout: 60, defaultPermissions: false });
    dflt = await open({ attrTimeout: 60, entryTimeout: 60, allowOther: true });
    for (const m of [bench, dflt]) {
      mkdirSync(join(m.mnt, 'd/e'), { recursive: true });
      writeFileSync(join(m.mnt, 'd/e/f'), PAGE);
    }
  });

  afterAll(async () => {
    await bench?.close();
    await dflt?.close();
  });

  const createWriteCloseUnlink = (m: Mount) => () => {
    const p = join(m.mnt, 'd/new');
    const fd = openSync(p, 'w');
    writeSync(fd, PAGE);
    closeSync(fd);
    unlinkSync(p);
  };

  it('create + 4 KiB write + close + unlink: LOOKUP, CREATE, WRITE, RELEASE, UNLINK (no GETXATTR)', async () => {
    // A created file is written past the page cache (FOPEN_DIRECT_IO), where the kernel asks no GETXATTR.
    const c = await perOp(bench, createWriteCloseUnlink(bench), { RELEASE: 1 });
    expect(c).toEqual({ LOOKUP: 1, CREATE: 1, WRITE: 1, RELEASE: 1, UNLINK: 1 });
  });

  it('the same with default_permissions: two GETATTRs more (the directory the kernel changed), no GETXATTR', async () => {
    const c = await perOp(dflt, createWriteCloseUnlink(dflt), { RELEASE: 1 });
    expect(c.GETXATTR).toBeUndefined();
    expect(total(c)).toBeLessThanOrEqual(7);
  });

  it('create-write-4k-close of an existing file (O_TRUNC): OPEN, WRITE, RELEASE', async () => {
    const c = await perOp(
      bench,
      (i) => {
        const fd = openSync(join(bench.mnt, `d/cw${i & 3}`), 'w');
        writeSync(fd, PAGE);
        closeSync(fd);
      },
      { RELEASE: 1 },
      8, // each name created, then rewritten once: its inode is NOSEC from then on
    );
    expect(c).toEqual({ OPEN: 1, WRITE: 1, RELEASE: 1 });
  });

  it('stat: one GETATTR; pwrite-4k: one WRITE; mkdir + rmdir: LOOKUP, MKDIR, RMDIR', async () => {
    expect(await perOp(bench, () => statSync(join(bench.mnt, 'd/e/f')))).toEqual({ GETATTR: 1 });
    const fd = openSync(join(bench.mnt, 'd/e/f'), 'r+');
    try {
      expect(await perOp(bench, (i) => writeSync(fd, PAGE, 0, 4096, (i & 7) * 4096))).toEqual({
        WRITE: 1,
      });
    } finally {
      closeSync(fd);
    }
    const md = await perOp(bench, () => {
      mkdirSync(join(bench.mnt, 'd/x'));
      rmdirSync(join(bench.mnt, 'd/x'));
    });
    expect(md).toEqual({ LOOKUP: 1, MKDIR: 1, RMDIR: 1 });
  });

  // The guarantees behind the missing GETXATTR: the server drops privileges (KILLPRIV_V2) on the
  // direct path (a file just created, write-only) and on the cached path (any other open) alike.
  const shell = (cmd: string) =>
    execFileSync('bash', ['-c', cmd], {
      cwd: dflt.mnt,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  /** Runs `cmd` as uid/gid 1000: not the owner of root's files, no CAP_FSETID. */
  const asUser = (cmd: string[]) =>
    execFileSync('setpriv', ['--reuid=1000', '--regid=1000', '--clear-groups', ...cmd], {
      cwd: dflt.mnt,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const mode = (name: string) => (statSync(join(dflt.mnt, name)).mode & 0o7777).toString(8);

  itWith(['setpriv'], 'a write without CAP_FSETID clears setuid and setgid, on either path', () => {
    // Cached path: root's file, written by another user through a write-only and a read-write open.
    for (const [name, redirect] of [
      ['wo', '>>'],
      ['rw', '1<>'],
    ]) {
      shell(`echo x > ${name} && chmod 6777 ${name}`);
      expect(mode(name)).toBe('6777');
      asUser(['bash', '-c', `printf y ${redirect} ${name}`]);
      expect(mode(name)).toBe('777');
      expect(readFileSync(join(dflt.mnt, name), 'utf8')).toBe(redirect === '>>' ? 'x\ny' : 'y\n');
    }
    // Direct path: a file the user creates write-only, makes setuid and setgid, then writes.
    shell('mkdir -p pub && chmod 1777 pub');
    const script = `const fs = require('node:fs'); const fd = fs.openSync('pub/made', 'wx', 0o600);
        fs.fchmodSync(fd, 0o6777); fs.writeSync(fd, 'y'); fs.closeSync(fd);`;
    asUser([process.execPath, '-e', script]);
    expect(mode('pub/made')).toBe('777');
    expect(readFileSync(join(dflt.mnt, 'pub/made'), 'utf8')).toBe('y');
  });

  itWith(['setfattr', 'getfattr'], 'a write removes security.capability, on either path', () => {
    // A version 2 capability set: effective, cap_net_bind_service permitted.
    const caps = '0x0100000200040000000000000000000000000000';
    const capped = (name: string) => shell(`getfattr -e hex -n security.capability ${name} || true`);
    for (const [name, redirect] of [
      ['capwo', '>>'],
      ['caprw', '1<>'],
    ]) {
      shell(`echo x > ${name} && setfattr -n security.capability -v ${caps} ${name}`);
      expect(capped(name)).toContain(caps);
      shell(`printf y ${redirect} ${name}`);
      expect(shell(`getfattr -d -m - ${name}`).trim()).toBe('');
    }
    // Direct path: capabilities set between the create and the first write.
    const fd = openSync(join(dflt.mnt, 'capnew'), 'wx');
    try {
      shell(`setfattr -n security.capability -v ${caps} capnew`);
      expect(capped('capnew')).toContain(caps);
      writeSync(fd, PAGE);
    } finally {
      closeSync(fd);
    }
    expect(shell('getfattr -d -m - capnew').trim()).toBe('');
  });
});
