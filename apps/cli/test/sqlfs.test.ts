// sqlfs volumes through the CLI: mkfs --type sqlfs, the file commands, fsck (finding and repairing),
// and (root and /dev/fuse) the kernel mount of an SQLite volume, told from pmemfs by its first bytes.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SqliteEngine } from '@zufs/example-sqlfs';
import { afterAll, describe, expect, it } from 'vitest';
import { zufsIn } from './helpers.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'zufs-cli-sqlfs-'));
const mnt = join(dir, 'mnt');
afterAll(async () => {
  if (existsSync(mnt)) await run('umount', ['-l', mnt]).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});
const zufs = (...args: string[]) => zufsIn(dir, ...args);

describe('zufs on sqlfs volumes', { timeout: 120_000 }, () => {
  it('mkfs --type sqlfs makes a volume the file commands use; mkfs refuses to overwrite it', async () => {
    expect(await zufs('mkfs', '--type', 'sqlfs', 'vol.db', '--block-size', '16K')).toMatchObject({
      code: 0,
      out: expect.stringMatching(/made .*vol\.db: sqlfs, 16384-byte blocks/),
    });
    expect((await zufs('mkfs', '--type', 'sqlfs', 'vol.db')).err).toMatch(/vol\.db: exists \(use --force/);
    expect((await zufs('mkfs', '--type', 'sqlfs', 'x.db', '--inodes', '9')).code).toBe(2);
    expect((await zufs('mkfs', '--type', 'sqlfs', 'x.db', '--block-size', '3000')).err).toMatch(
      /block size 3000: a power of two/,
    );
    writeFileSync(join(dir, 'local.txt'), 'from the host\n');
    expect((await zufs('mkdir', 'vol.db:/docs')).code).toBe(0);
    expect((await zufs('put', 'local.txt', 'vol.db:/docs/a.txt')).code).toBe(0);
    expect((await zufs('ls', 'vol.db:/docs')).out).toBe('a.txt\n');
    expect((await zufs('cat', 'vol.db:/docs/a.txt')).out).toBe('from the host\n');
    expect(await zufs('fsck', 'vol.db')).toMatchObject({
      code: 0,
      out: expect.stringMatching(/vol\.db: clean/),
    });
  });

  it('fsck reports damage (exit 4), repairs it with -y (exit 1), then finds it clean (exit 0)', async () => {
    const eng = new SqliteEngine(join(dir, 'vol.db'));
    try {
      eng.db.exec(
        "UPDATE inode SET nlink = 9 WHERE ino = 1; INSERT INTO block (ino, idx, data) VALUES (777, 0, x'00')",
      );
    } finally {
      eng.close();
    }
    const found = await zufs('fsck', 'vol.db');
    expect(found.code).toBe(4);
    expect(found.out).toContain('problem: directory 1: links 9');
    expect(found.out).toContain('problem: 1 blocks of inode 777');
    expect(found.out).toMatch(/damaged \(repair with: zufs fsck -y vol\.db\)/);
    const fixed = await zufs('fsck', '-y', 'vol.db');
    expect(fixed.code).toBe(1);
    expect(fixed.out).toMatch(/vol\.db: repaired/);
    expect((await zufs('fsck', 'vol.db', '--json')).code).toBe(0);
  });

  it('fsck of a volume from a newer sqlfs says so (exit 8)', async () => {
    expect((await zufs('mkfs', '--type', 'sqlfs', 'new.db')).code).toBe(0);
    const eng = new SqliteEngine(join(dir, 'new.db'));
    try {
      eng.db.exec("UPDATE meta SET value = '99' WHERE name = 'version'");
    } finally {
      eng.close();
    }
    const r = await zufs('fsck', 'new.db');
    expect(r.code).toBe(8);
    expect(r.err).toMatch(/new\.db: made by a newer sqlfs \(schema version 99; this one reads up to \d+\)/);
  });
});

const why =
  process.getuid?.() !== 0 ? 'needs root' : !existsSync('/dev/fuse') ? 'needs /dev/fuse' : undefined;
if (why && process.env.ZUFS_REQUIRE_PRIVILEGED_TESTS === '1')
  throw new Error(`the sqlfs mount test must run here (ZUFS_REQUIRE_PRIVILEGED_TESTS=1) but: ${why}`);

describe.skipIf(why !== undefined)(`zufs mount of an sqlfs volume${why ? ` (skipped: ${why})` : ''}`, () => {
  it(
    'mounts vol.db in the kernel; cp -a of a tree comes back whole; umount; fsck clean',
    { timeout: 120_000 },
    async () => {
      mkdirSync(mnt);
      const m = await zufs('mount', '--daemon', 'vol.db', mnt);
      expect(m).toMatchObject({ code: 0, out: expect.stringMatching(/mounted .*vol\.db on .*mnt/) });
      expect(readFileSync('/proc/mounts', 'utf8')).toContain(`${mnt} fuse.zufs`);
      expect(readFileSync(join(mnt, 'docs/a.txt'), 'utf8')).toBe('from the host\n');
      const src = join(dir, 'tree');
      mkdirSync(join(src, 'sub'), { recursive: true });
      writeFileSync(join(src, 'sub', 'big'), Buffer.alloc(300_000, 5));
      writeFileSync(join(src, 'small'), 'x');
      await run('cp', ['-a', src, join(mnt, 'tree')]);
      await run('diff', ['-r', src, join(mnt, 'tree')]);
      expect((await zufs('umount', mnt)).code).toBe(0);
      // fsck runs in one transaction: it needs no lock, and a mount still ending is no damage.
      const r = await zufs('fsck', 'vol.db');
      expect(r.out).toMatch(/vol\.db: clean/);
      expect((await zufs('cat', 'vol.db:/tree/small')).out).toBe('x');
    },
  );
});
