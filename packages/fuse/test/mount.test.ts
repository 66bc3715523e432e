// The kernel mount: a memory pmemfs (and an sqlfs volume on SQLite) served through /dev/fuse by reader workers of this process, used
// by unmodified programs (cp, diff, tar, git, sqlite3, dd, sha256sum, coreutils, attr, df). The test
// runs them with execFileSync: this thread blocks, the reader workers serve the mount.
// Needs root and /dev/fuse: skipped without them, failed instead when ZUFS_REQUIRE_PRIVILEGED_TESTS=1.
import { execFile, execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PMEMFS_TYPE } from '@zufs/example-pmemfs';
import { SQLFS_TYPE, mkfs as sqlfsMkfs } from '@zufs/example-sqlfs';
import { type FuseMount, mountFuse } from '@zufs/fuse';
import { mount, type ZufsMount } from '@zufs/vfs';
import { SharedPool } from '@zufs/zuf-core';
import { startServer, type ZusServer } from '@zufs/zus-server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { itWith, kernelSuite, kernelSuites, mounted, teardown } from './kernel-mount.js';

const VFS_SRC = resolve(new URL('../../vfs/src', import.meta.url).pathname);
const MEMORY = 256 * 1024 * 1024;
const HANDLES_C = new URL('./fixtures/handles.c', import.meta.url).pathname;
const CRASHY = new URL('../../vfs/test/fixtures/crashy-pmemfs.mjs', import.meta.url);

// Both ways a reader can serve: operations run in the reader (an inline ZT, the default of
// `zufs mount`), or handed to the ZT grid; and the same programs on sqlfs (an SQLite volume).
kernelSuites(
  'kernel mount through /dev/fuse, operations served $serving',
  ({ inline, sqlfs }) => {
    let dir: string;
    let mnt: string;
    let server: ZusServer | undefined;
    let m: FuseMount | undefined;
    let face: ZufsMount | undefined;
    const logs: string[] = [];

    const freeInodes = () => Number(sh('stat -f -c %d .').trim());
    /** Free inodes once they reach `want` (5 s at most): FORGET comes when the kernel drops the inode. */
    const freeInodesOnceForgotten = async (want: number): Promise<number> => {
      let n = -1;
      for (let i = 0; i < 50 && n !== want; i++) {
        sh('echo 2 > /proc/sys/vm/drop_caches 2>/dev/null || true');
        n = freeInodes();
        if (n !== want) await new Promise((r) => setTimeout(r, 100));
      }
      return n;
    };

    const sh = (cmd: string, cwd = mnt): string =>
      execFileSync('bash', ['-c', `set -euo pipefail; ${cmd}`], {
        cwd,
        encoding: 'utf8',
        timeout: 120_000,
        stdio: ['ignore', 'pipe', 'pipe'],
      });

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'zufs-fuse-'));
      mnt = join(dir, 'mnt');
      mkdirSync(mnt);
      server = await startServer({ zts: 2, channels: 3, filesystems: [sqlfs ? SQLFS_TYPE : PMEMFS_TYPE] });
      // The kernel mount serves a vfs mount this thread also uses (its descriptor).
      if (sqlfs) {
        const vol = join(dir, 'vol.db');
        await sqlfsMkfs(vol);
        face = mount(server.root, { type: 'sqlfs', options: `device=${vol}` });
      } else face = mount(server.root, { type: 'pmemfs', options: `memory=${MEMORY}` });
      m = await mountFuse({
        root: face.descriptor,
        server: inline ? server : undefined,
        mountpoint: mnt,
        readers: 2,
        attrTimeout: 1,
        entryTimeout: 1,
        log: (s) => logs.push(s),
      });
    });

    afterAll(() => teardown({ m, mnt, face, server, dir }));

    it('is a fuse.zufs mount of the right size', () => {
      const line = readFileSync('/proc/mounts', 'utf8')
        .split('\n')
        .find((l) => l.split(' ')[1] === mnt);
      expect(line).toMatch(/^zufs \S+ fuse\.zufs rw,/);
      expect(line).toContain('default_permissions');
      const size = Number(sh('df -B1 --output=size . | tail -1').trim());
      expect(size).toBeGreaterThan(sqlfs ? 2 ** 39 : MEMORY * 0.8); // sqlfs: the database's room, said as 1 TiB
      expect(size).toBeLessThanOrEqual(sqlfs ? 2 ** 40 : MEMORY);
      expect(sh('stat -f -c %T .').trim()).toMatch(/fuse/);
    });

    it('is coherent with a vfs face of the same mount, both ways', () => {
      face!.writeFileSync('/from-vfs.txt', 'written by @zufs/vfs\n');
      expect(sh('cat from-vfs.txt')).toBe('written by @zufs/vfs\n');
      sh('echo written by the kernel > from-kernel.txt && mkdir kdir');
      expect(face!.readFileSync('/from-kernel.txt', 'utf8')).toBe('written by the kernel\n');
      expect(face!.statSync('/kdir').isDirectory()).toBe(true);
    });

    it('cp -a of a source tree, then diff -r against the original', () => {
      sh(`cp -a ${VFS_SRC} tree`);
      sh(`diff -r ${VFS_SRC} tree`);
      expect(statSync(join(mnt, 'tree/index.ts')).size).toBe(statSync(join(VFS_SRC, 'index.ts')).size);
    });

    it('tar c | tar x round trip', () => {
      sh(`mkdir tarx && tar -C ${VFS_SRC} -cf - . | tar -C tarx -xf -`);
      sh(`diff -r ${VFS_SRC} tarx`);
      sh(
        `tar -C tarx -cf ${dir}/back.tar . && mkdir ${dir}/untar && tar -C ${dir}/untar -xf ${dir}/back.tar`,
      );
      sh(`diff -r ${VFS_SRC} ${dir}/untar`);
    });

    itWith(['git'], 'git init, add, commit, log, status', () => {
      sh('mkdir repo && cp -a tree repo/src');
      const g = (args: string) =>
        sh(
          `git -c user.name=t -c user.email=t@example.com -c init.defaultBranch=main ${args}`,
          join(mnt, 'repo'),
        );
      g('init -q');
      g('add -A');
      g('commit -q -m first');
      writeFileSync(join(mnt, 'repo/src/extra.txt'), 'more\n');
      g('add src/extra.txt');
      g('commit -q -m second');
      expect(g('log --format=%s').trim().split('\n')).toEqual(['second', 'first']);
      expect(g('status --porcelain').trim()).toBe('');
      expect(g('fsck --no-progress 2>&1 || true')).not.toMatch(/error|corrupt/i);
    });

    itWith(['sqlite3'], 'sqlite3: 10 000 rows in a transaction', () => {
      const out = sh(
        `sqlite3 db.sqlite "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
           BEGIN;
           WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 10000)
             INSERT INTO t(v) SELECT printf('row-%d', i) FROM c;
           COMMIT;
           SELECT count(*) FROM t;
           PRAGMA integrity_check;"`,
      );
      expect(out.trim().split('\n')).toEqual(['10000', 'ok']);
      expect(sh(`sqlite3 db.sqlite "SELECT v FROM t WHERE id = 9999"`).trim()).toBe('row-9999');
    });

    it('dd of 32 MiB random data: sha256sum equal to the host copy', () => {
      sh(`dd if=/dev/urandom of=${dir}/rand.bin bs=1M count=32 status=none`);
      sh(`dd if=${dir}/rand.bin of=big.bin bs=1M status=none conv=fsync`);
      const sum = (p: string) => sh(`sha256sum ${p}`).split(' ')[0];
      // Drop the page cache so the reads reach the server.
      sh('sync; echo 1 > /proc/sys/vm/drop_caches 2>/dev/null || true');
      expect(sum('big.bin')).toBe(sum(`${dir}/rand.bin`));
      expect(statSync(join(mnt, 'big.bin')).size).toBe(32 * 1024 * 1024);
    });

    it('ln, ln -s, mv across directories, chmod, touch -d', () => {
      sh('mkdir -p a/b c && echo data > a/b/f');
      sh('ln a/b/f c/hard && ln -s ../a/b/f c/soft');
      expect(sh('cat c/soft')).toBe('data\n');
      expect(sh('readlink c/soft').trim()).toBe('../a/b/f');
      expect(sh('stat -c %h a/b/f').trim()).toBe('2');
      sh('mv a/b/f c/moved');
      expect(sh('ls a/b').trim()).toBe('');
      expect(sh('cat c/moved')).toBe('data\n');
      expect(sh('stat -c %i c/moved').trim()).toBe(sh('stat -c %i c/hard').trim());
      sh('mv a/b c/b2'); // a directory across directories
      expect(sh('ls -d c/b2 && stat -c %h c').trim().split('\n')).toEqual(['c/b2', '3']);
      sh('chmod 640 c/moved');
      expect(sh('stat -c %a c/moved').trim()).toBe('640');
      sh("touch -d '2001-02-03 04:05:06 UTC' c/moved");
      expect(sh('TZ=UTC stat -c %y c/moved').trim()).toMatch(/^2001-02-03 04:05:06/);
      expect(sh('ls -a c').trim().split('\n')).toEqual(['.', '..', 'b2', 'hard', 'moved', 'soft']);
    });

    itWith(['setfattr', 'getfattr'], 'setfattr / getfattr of a user.* xattr', () => {
      sh('echo x > xa && setfattr -n user.color -v blue xa');
      expect(sh('getfattr --only-values -n user.color xa')).toBe('blue');
      expect(sh('getfattr -d xa')).toContain('user.color="blue"');
      sh('setfattr -x user.color xa');
      expect(sh('getfattr -d xa').trim()).toBe('');
    });

    // The mount agrees FUSE_HANDLE_KILLPRIV_V2: dropping privileges is the server's job, not the kernel's.
    itWith(['setfattr', 'getfattr'], 'a write drops file capabilities; chown drops suid and sgid', () => {
      // A version 2 capability set: effective, cap_net_bind_service permitted.
      const caps = '0x0100000200040000000000000000000000000000';
      sh(`echo x > capped && setfattr -n security.capability -v ${caps} capped`);
      expect(sh('getfattr -e hex -n security.capability capped')).toContain(caps);
      sh('echo more >> capped');
      expect(sh('getfattr -d -m - capped').trim()).toBe('');
      sh('echo x > suid && chmod 6755 suid && echo y >> suid'); // root writes keep suid (CAP_FSETID)
      expect(sh('stat -c %a suid').trim()).toBe('6755');
      sh('chown 1:1 suid');
      expect(sh('stat -c %a suid').trim()).toBe('755');
      sh('chmod 2745 suid && chown 2:2 suid'); // sgid without group execute stays
      expect(sh('stat -c %a suid').trim()).toBe('2745');
      sh('mkdir sdir && chmod 2755 sdir && chown 1:1 sdir'); // a directory keeps its sgid
      expect(sh('stat -c %a sdir').trim()).toBe('2755');
    });

    it('a setgid directory gives its group to new files, and its setgid bit to new directories', () => {
      sh('mkdir shared && chown 0:4242 shared && chmod 2775 shared');
      sh('cd shared && touch f && mkdir d && mkdir d/e && ln -s f l && mkfifo p');
      expect(sh('cd shared && stat -c "%n %g" f d d/e p && stat -c "%a" d d/e').trim().split('\n')).toEqual([
        'f 4242',
        'd 4242',
        'd/e 4242',
        'p 4242',
        '2755',
        '2755',
      ]);
      expect(sh('stat -c %g plain 2>/dev/null || (mkdir plain && stat -c %g plain)').trim()).toBe('0');
    });

    it('an unlinked file stays readable while open (lookup counts), and is freed after', async () => {
      const before = freeInodes();
      const out = sh('echo kept > open.txt; exec 3<open.txt; rm open.txt; sleep 0.1; cat <&3; exec 3<&-');
      expect(out).toBe('kept\n');
      expect(() => statSync(join(mnt, 'open.txt'))).toThrow(/ENOENT/);
      // The kernel evicts an unlinked inode at its last close and sends FORGET, which frees it
      // (dropping caches only hurries inodes still cached; a container may not allow it).
      expect(await freeInodesOnceForgotten(before)).toBe(before);
    });

    it('a file the kernel holds open stays when a vfs face of the mount unlinks it; freed after', async () => {
      sh('echo held > held.txt');
      const before = freeInodes() + 1;
      // A program keeps the file open while this thread's vfs face removes its last link.
      const reader = spawn('bash', ['-c', 'exec 3<held.txt; echo open; read -r _; cat <&3'], { cwd: mnt });
      let out = '';
      reader.stdout.on('data', (b) => (out += b));
      await new Promise<void>((r) => reader.stdout.once('data', () => r()));
      face!.unlinkSync('/held.txt');
      expect(face!.existsSync('/held.txt')).toBe(false);
      reader.stdin.end('go\n');
      await new Promise((r) => reader.once('exit', r));
      expect(out).toBe('open\nheld\n');
      // The kernel's last FORGET, after the close, frees it.
      expect(await freeInodesOnceForgotten(before)).toBe(before);
    });

    // Export support: a handle outlives the kernel's inode (LOOKUP '.' and '..'), as NFS needs.
    itWith(
      ['gcc'],
      'file handles open after the kernel forgot the inode, and reconnect to their path',
      () => {
        const bin = join(dir, 'handles');
        execFileSync('gcc', ['-O1', '-o', bin, HANDLES_C]);
        sh('mkdir -p exp/a/b && echo handled > exp/a/b/f');
        expect(sh(`${bin} exp/a/b/f exp/a`)).toBe(`handled\n${mnt}/exp/a\n`);
      },
    );

    it('a directory of 2000 names lists whole (readdir resumes across replies)', () => {
      sh('mkdir many && cd many && for i in $(seq 1 2000); do : > "file-$i"; done');
      expect(Number(sh('ls many | wc -l').trim())).toBe(2000);
      expect(Number(sh('find many -type f | wc -l').trim())).toBe(2000);
      sh('rm -r many');
      expect(sh('ls').includes('many')).toBe(false);
    });

    it('unmount: readers exit, nothing left mounted', async () => {
      await m!.unmount();
      await m!.done;
      expect(mounted(mnt)).toBe(false);
      expect(logs.filter((l) => /failed|Error/.test(l))).toEqual([]);
      m = undefined;
      // Every reader served inline (or none did), and said nothing of it.
      expect(logs.some((l) => /inline/.test(l))).toBe(false);
    });
  },
  [
    { serving: 'inline', inline: true, sqlfs: false },
    { serving: 'through the ZT grid', inline: false, sqlfs: false },
    { serving: 'inline, on sqlfs (SQLite)', inline: true, sqlfs: true },
  ],
);

kernelSuite('abort', () => {
  it('ends a mount a file is still open on: unmount() was waiting for it, abort() does not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zufs-fuse-abort-'));
    const server = await startServer({ zts: 1, channels: 2, filesystems: [PMEMFS_TYPE] });
    const logs: string[] = [];
    try {
      const m = await mountFuse({
        root: server.root,
        server,
        type: 'pmemfs',
        options: `memory=${16 * 1024 * 1024}`,
        mountpoint: dir,
        log: (s) => logs.push(s),
      });
      writeFileSync(join(dir, 'kept'), 'open');
      const fd = openSync(join(dir, 'kept'), 'r');
      // Busy: umount fails, the mount is detached lazily and stays served while `fd` is open.
      let unmounted = false;
      const unmounting = m.unmount().then(() => (unmounted = true));
      for (let i = 0; i < 300 && !logs.some((l) => l.includes('target is busy')); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(logs.join('\n')).toContain('target is busy');
      await new Promise((r) => setTimeout(r, 200));
      expect(unmounted).toBe(false); // detached, and still served for `fd`
      await m.abort();
      await unmounting; // the pending unmount() ends with it
      expect(mounted(dir)).toBe(false);
      // The connection is gone: the open file fails, and closes.
      expect(() => readSync(fd, Buffer.alloc(4), 0, 4, 0)).toThrow(/ENOTCONN/);
      closeSync(fd);
    } finally {
      await teardown({ mnt: dir, server, dir });
    }
  });
});

kernelSuite('a reader that dies', () => {
  it('gives its buffers in the shared pool back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zufs-fuse-reader-dies-'));
    const mnt = join(dir, 'mnt');
    mkdirSync(mnt);
    const server = await startServer({ zts: 1, channels: 2, filesystems: [CRASHY], maxRestarts: 10 });
    const face = mount(server.root, { type: 'pmemfs', options: `memory=${16 * 1024 * 1024}` });
    const logs: string[] = [];
    let m: FuseMount | undefined;
    try {
      const pool = new SharedPool(face.descriptor.root.pools[1]!);
      const free = pool.freeBytes;
      // Served inline: the LOOKUP of __crash__ ends the reader thread serving it.
      m = await mountFuse({
        root: face.descriptor,
        server,
        mountpoint: mnt,
        readers: 1,
        log: (s) => logs.push(s),
      });
      expect(pool.freeBytes).toBeLessThan(free); // the readers' buffers are in the pool
      for (let i = 1; i <= 3; i++) {
        // Not execFileSync: the dead reader's request is answered EIO by the session, on this thread.
        const stat = await new Promise<string>((res) =>
          execFile('stat', [join(mnt, '__crash__')], (err, _out, stderr) => res(err ? stderr : 'no error')),
        );
        expect(stat).toMatch(/Input\/output error/);
        for (let t = 0; t < 200 && logs.filter((l) => / died /.test(l)).length < i; t++)
          await new Promise((r) => setTimeout(r, 50));
        expect(logs.filter((l) => / died /.test(l))).toHaveLength(i);
        // The mount still answers, from another reader.
        writeFileSync(join(mnt, `after${i}`), 'x');
      }
      await m.unmount();
      m = undefined;
      // Every reader's buffers, the dead ones' too (2 MiB each), are back.
      expect(pool.freeBytes).toBe(free);
    } finally {
      await teardown({ mnt, m, face, server, dir });
    }
  }, 120_000);
});
