// One sqlfs volume on SQLite through the node:fs face: counts kept in the same transaction as the
// names, the schema checked at mount, and fsck finding and repairing damage made by hand in the rows.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fsck, mkfs, SCHEMA_VERSION, SQLFS_TYPE, SqliteEngine } from '@zufs/example-sqlfs';
import { mount } from '@zufs/vfs';
import { startServer, type ZusServer } from '@zufs/zus-server';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteVolume, tempDir } from './helpers.js';

const dir = tempDir();
let server: ZusServer;
beforeAll(async () => {
  server = await startServer({ zts: 2, filesystems: [SQLFS_TYPE] });
});
afterAll(() => server.stop());

const mountVol = (vol: string, extra = '') =>
  mount(server.root, { type: 'sqlfs', options: `device=${vol}${extra}` });

async function checkVol(vol: string, repair = false) {
  const eng = new SqliteEngine(vol);
  try {
    return await fsck(eng, { repair });
  } finally {
    eng.close();
  }
}

/** Runs SQL on the volume by hand (what a bug, or another program, could do). */
function tamper(vol: string, ...statements: string[]): void {
  const db = new Database(vol);
  try {
    for (const s of statements) db.exec(s);
  } finally {
    db.close();
  }
}

describe('sqlfs on SQLite', { timeout: 60_000 }, () => {
  it('keeps link counts and directory sizes with the names: mkdir, rename across directories, rmdir', async () => {
    const vol = await sqliteVolume(dir);
    const fs = mountVol(vol);
    try {
      fs.mkdirSync('/a/b/c', { recursive: true });
      fs.mkdirSync('/x');
      fs.writeFileSync('/a/f', 'data');
      fs.linkSync('/a/f', '/x/g');
      expect(fs.statSync('/a')).toMatchObject({ nlink: 3, size: 2 });
      expect(fs.statSync('/a/f').nlink).toBe(2);
      fs.renameSync('/a/b', '/x/b'); // a directory moves: its ".." goes with it
      expect(fs.statSync('/a')).toMatchObject({ nlink: 2, size: 1 });
      expect(fs.statSync('/x')).toMatchObject({ nlink: 3, size: 2 });
      expect(() => fs.renameSync('/x', '/x/b/c/x')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      fs.writeFileSync('/x/h', 'other');
      fs.renameSync('/x/h', '/a/f'); // replaces one name of a two-name file
      expect(fs.statSync('/x/g').nlink).toBe(1);
      expect(fs.readFileSync('/a/f', 'utf8')).toBe('other');
      fs.rmSync('/x/b', { recursive: true });
      expect(fs.statSync('/x')).toMatchObject({ nlink: 2, size: 1 });
      expect(fs.statSync('/')).toMatchObject({ nlink: 4, size: 2 });
    } finally {
      fs.umount();
    }
    expect(await checkVol(vol)).toMatchObject({ clean: true, problems: [] });
  });

  it('holes read as zeros, writes across blocks and truncates keep every byte (4 KiB blocks)', async () => {
    const vol = await sqliteVolume(dir, 4096);
    const fs = mountVol(vol);
    try {
      const fd = fs.openSync('/f', 'w+');
      const model = Buffer.alloc(50_000);
      for (const [pos, len, byte] of [
        [10_000, 9_000, 1],
        [3, 5, 2],
        [40_000, 10_000, 3],
        [4095, 2, 4],
      ]) {
        fs.writeSync(fd, Buffer.alloc(len, byte), 0, len, pos);
        model.fill(byte, pos, pos + len);
      }
      fs.ftruncateSync(fd, 45_001);
      fs.ftruncateSync(fd, 47_000); // the cut bytes come back as zeros
      model.fill(0, 45_001);
      const got = Buffer.alloc(47_000);
      expect(fs.readSync(fd, got, 0, got.length, 0)).toBe(47_000);
      expect(got.equals(model.subarray(0, 47_000))).toBe(true);
      fs.closeSync(fd);
    } finally {
      fs.umount();
    }
    expect((await checkVol(vol)).problems).toEqual([]);
  });

  it('refuses a volume of a newer schema, and a file that is no volume, with the reason', async () => {
    const vol = await sqliteVolume(dir);
    tamper(vol, `UPDATE meta SET value = '${SCHEMA_VERSION + 1}' WHERE name = 'version'`);
    expect(() => mountVol(vol)).toThrow(
      `made by a newer sqlfs (schema version ${SCHEMA_VERSION + 1}; this one reads up to ${SCHEMA_VERSION})`,
    );
    const empty = join(dir, 'plain.db');
    tamper(empty, 'CREATE TABLE t (x)');
    expect(() => mountVol(empty)).toThrow('not an sqlfs volume');
    const text = join(dir, 'text.db');
    writeFileSync(text, 'hello');
    expect(() => mountVol(text)).toThrow(/EIO|not a database/);
    await expect(mkfs(vol)).rejects.toThrow('already holds an sqlfs volume');
    expect(() => mountVol(vol, ',ttl=x')).toThrow('sqlfs: ttl=x: not a number');
  });

  it('fsck finds wrong link counts, orphans, stray blocks and dangling names, and repairs them', async () => {
    const vol = await sqliteVolume(dir);
    const fs = mountVol(vol);
    let fileIno = 0;
    try {
      fs.mkdirSync('/d');
      fs.writeFileSync('/d/f', Buffer.alloc(200_000, 9));
      fileIno = fs.statSync('/d/f').ino;
    } finally {
      fs.umount();
    }
    expect((await checkVol(vol)).clean).toBe(true);
    tamper(
      vol,
      `UPDATE inode SET nlink = 5 WHERE ino = ${fileIno}`,
      'UPDATE inode SET nlink = 7, size = 3 WHERE ino = 1',
      `INSERT INTO inode (mode, uid, gid, nlink, atime, mtime, ctime) VALUES (${0o100644}, 0, 0, 0, 0, 0, 0)`, // an orphan
      `INSERT INTO inode (mode, uid, gid, nlink, atime, mtime, ctime) VALUES (${0o100644}, 0, 0, 1, 0, 0, 0)`, // no name
      "INSERT INTO block (ino, idx, data) VALUES (9999, 0, x'00')", // no inode owns it
      `INSERT INTO block (ino, idx, data) VALUES (${fileIno}, 99, x'01')`, // past the end
      "INSERT INTO dentry (parent, name, ino, type) VALUES (1, x'7a', 8888, 8)", // names nothing
    );
    const found = await checkVol(vol);
    expect(found.clean).toBe(false);
    const all = found.problems.join('\n');
    for (const p of [
      `inode ${fileIno}: 5 links, 1 names`,
      'directory 1: links 7, size 3',
      'orphan inode',
      'links and no name',
      'blocks of inode 9999',
      `inode ${fileIno}: 1 blocks past its end`,
      'names inode 8888',
    ])
      expect(all).toContain(p);
    const fixed = await checkVol(vol, true);
    expect(fixed.repairs.length).toBe(found.problems.length);
    expect(fixed.remaining).toEqual([]);
    expect(await checkVol(vol)).toMatchObject({ clean: true, problems: [] });
    const again = mountVol(vol);
    try {
      expect(again.readdirSync('/').sort()).toEqual(['d', 'lost+found']);
      expect(again.readdirSync('/lost+found')).toHaveLength(1);
      expect(again.statSync('/d/f')).toMatchObject({ nlink: 1, size: 200_000 });
      expect(again.readFileSync('/d/f').equals(Buffer.alloc(200_000, 9))).toBe(true);
    } finally {
      again.umount();
    }
  });

  it('an inode unlinked while open lives until closed; a session that dies leaves it to the next mount', async () => {
    const vol = await sqliteVolume(dir);
    const fs = mountVol(vol);
    try {
      fs.writeFileSync('/tmp', 'open while unlinked');
      const fd = fs.openSync('/tmp', 'r');
      fs.unlinkSync('/tmp');
      expect((await checkVol(vol)).clean).toBe(true); // held by a live session: not an orphan
      expect(fs.readFileSync(fd, 'utf8')).toBe('open while unlinked');
      fs.closeSync(fd);
    } finally {
      fs.umount();
    }
    const db = new Database(vol, { readonly: true });
    try {
      expect(db.prepare('SELECT count(*) AS n FROM inode').get()).toEqual({ n: 1 });
      expect(db.prepare('SELECT count(*) AS n FROM session').get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  });
});
