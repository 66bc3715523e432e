// The face's entry and attribute cache on sqlfs (MountResult.appCache): two app threads of one
// process see each other's changes at once, whatever the TTL; a change made straight in the database
// (as another machine makes it) is seen at once with ttl=0 and once the TTL has passed otherwise.
// Mounts here take a long TTL where the generation words alone must keep the cache honest: a stale
// answer would stand for a minute, so a missed invalidation fails the test.
import { Worker } from 'node:worker_threads';
import { mount, type ZufsMount } from '@zufs/vfs';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appWaits, PG_URL, pgVolume, sqlfsServer, sqliteVolume, tempDir } from './helpers.js';

const FACE_THREAD = new URL('./fixtures/face-thread.mjs', import.meta.url);
const dir = tempDir();

type Reply = { id: number; ok: boolean; value?: unknown; code?: string };
type Summary = { mode: number; size: number; nlink: number; ino: number; mtimeMs: number; uid: number };

/** Another app thread of this process on the mount: node:fs calls run there, synchronously. */
class FaceThread {
  private readonly w: Worker;
  private next = 1;
  private readonly waiting = new Map<number, (r: Reply) => void>();
  readonly ready: Promise<void>;

  constructor(m: ZufsMount, cred?: { uid: number; gid: number }) {
    this.w = new Worker(FACE_THREAD, { workerData: { d: m.descriptor, cred } });
    this.ready = new Promise((resolve, reject) => {
      this.waiting.set(0, () => resolve());
      this.w.once('error', reject);
    });
    this.w.on('message', (r: Reply) => {
      this.waiting.get(r.id)?.(r);
      this.waiting.delete(r.id);
    });
  }

  private run(method: string, args: unknown[]): Promise<Reply> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.w.postMessage({ id, method, args });
    });
  }

  /** The call's value; throws an Error whose message is the errno's code. */
  async call<T = Summary>(method: string, ...args: unknown[]): Promise<T> {
    const r = await this.run(method, args);
    if (!r.ok) throw new Error(r.code);
    return r.value as T;
  }

  /** The errno code the call failed with, or 'ok'. */
  async code(method: string, ...args: unknown[]): Promise<string> {
    const r = await this.run(method, args);
    return r.ok ? 'ok' : (r.code as string);
  }

  stop(): Promise<number> {
    return this.w.terminate();
  }
}

/** What an engine needs for these tests: a fresh volume, and a change made straight in its database. */
interface Engine {
  name: string;
  skip: boolean;
  volume(): Promise<string>;
  /** Sets an inode's mode in the database, behind every server's back (another machine's change). */
  setMode(device: string, ino: number, mode: number): Promise<void>;
}

const engines: Engine[] = [
  {
    name: 'SQLite',
    skip: false,
    volume: () => sqliteVolume(dir),
    async setMode(file, ino, mode) {
      const db = new Database(file, { timeout: 10_000 });
      try {
        db.prepare('UPDATE inode SET mode = ? WHERE ino = ?').run(mode, ino);
      } finally {
        db.close();
      }
    },
  },
  {
    name: 'PostgreSQL',
    skip: !PG_URL,
    volume: pgVolume,
    async setMode(url, ino, mode) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query('UPDATE inode SET mode = $1 WHERE ino = $2', [mode, ino]);
      } finally {
        await c.end();
      }
    },
  },
];

const server = sqlfsServer();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const engine of engines) {
  describe.skipIf(engine.skip)(`the face's cache on sqlfs, ${engine.name}`, { timeout: 120_000 }, () => {
    let device: string;
    let fs: ZufsMount;
    let other: FaceThread;
    beforeAll(async () => {
      device = await engine.volume();
      fs = mount(server().root, { type: 'sqlfs', options: `device=${device},ttl=60` });
      other = new FaceThread(fs);
      await other.ready;
    });
    afterAll(async () => {
      await other?.stop();
      fs?.umount();
    });

    it('offers the face its words: a cached stat asks the server nothing', () => {
      expect(fs.descriptor.appCache?.ttlMs).toBe(30_000);
      fs.mkdirSync('/quiet');
      fs.writeFileSync('/quiet/f', 'x');
      fs.statSync('/quiet/f');
      const before = appWaits(fs);
      for (let i = 0; i < 100; i++) fs.statSync('/quiet/f');
      expect(appWaits(fs) - before).toBe(0);
      fs.chmodSync('/quiet/f', 0o600); // a change is a crossing, and so is the stat after it
      fs.statSync('/quiet/f');
      expect(appWaits(fs) - before).toBeGreaterThanOrEqual(2);
    });

    it("another thread's chmod, write, truncate, utimes and link are seen at once", async () => {
      fs.writeFileSync('/attrs', 'one');
      const p = '/attrs';
      const was = await other.call('statSync', p);
      expect(await other.call('statSync', p)).toEqual(was); // now cached there
      fs.chmodSync(p, 0o600);
      expect((await other.call('statSync', p)).mode & 0o777).toBe(0o600);
      fs.appendFileSync(p, 'more');
      expect((await other.call('statSync', p)).size).toBe(7);
      fs.truncateSync(p, 2);
      expect((await other.call('statSync', p)).size).toBe(2);
      fs.utimesSync(p, 1000, 2000);
      expect((await other.call('statSync', p)).mtimeMs).toBe(2_000_000);
      fs.linkSync(p, '/attrs-link');
      expect((await other.call('statSync', p)).nlink).toBe(2);
      // The other way round, and through a descriptor (getattr of the inode, no path).
      const fd = fs.openSync(p, 'r');
      try {
        expect(fs.fstatSync(fd).size).toBe(2);
        await other.call('writeFileSync', p, 'longer now');
        expect(fs.fstatSync(fd).size).toBe(10);
        expect(fs.statSync(p).size).toBe(10);
      } finally {
        fs.closeSync(fd);
      }
    });

    it("another thread's unlink, rename, symlink, mkdir and rmdir are seen at once, names absent too", async () => {
      fs.writeFileSync('/a', 'a');
      expect((await other.call('statSync', '/a')).size).toBe(1);
      expect(await other.code('statSync', '/b')).toBe('ENOENT'); // known absent there now
      fs.renameSync('/a', '/b');
      expect(await other.code('statSync', '/a')).toBe('ENOENT');
      expect((await other.call('statSync', '/b')).size).toBe(1);
      fs.unlinkSync('/b');
      expect(await other.code('statSync', '/b')).toBe('ENOENT');
      expect(await other.code('lstatSync', '/s')).toBe('ENOENT');
      fs.symlinkSync('/target', '/s');
      expect(await other.code('lstatSync', '/s')).toBe('ok');
      expect(await other.code('statSync', '/d')).toBe('ENOENT');
      fs.mkdirSync('/d');
      expect(await other.code('statSync', '/d')).toBe('ok');
      fs.rmdirSync('/d');
      expect(await other.code('statSync', '/d')).toBe('ENOENT');
      // A file made by the other thread in a directory this thread knows empty.
      fs.mkdirSync('/made');
      expect(fs.existsSync('/made/x')).toBe(false);
      await other.call('writeFileSync', '/made/x', 'x');
      expect(fs.existsSync('/made/x')).toBe(true);
    });

    it('a directory renamed or made unsearchable on the way voids the cached paths through it', async () => {
      fs.mkdirSync('/d1/sub', { recursive: true });
      fs.writeFileSync('/d1/sub/f', 'f');
      fs.chmodSync('/d1', 0o755);
      const user = new FaceThread(fs, { uid: 1000, gid: 1000 });
      try {
        await user.ready;
        expect((await user.call('statSync', '/d1/sub/f')).size).toBe(1);
        fs.chmodSync('/d1', 0o700); // root's own: no search for the user now
        expect(await user.code('statSync', '/d1/sub/f')).toBe('EACCES');
        fs.chmodSync('/d1', 0o755);
        expect(await user.code('statSync', '/d1/sub/f')).toBe('ok');
        fs.renameSync('/d1', '/d2');
        expect(await user.code('statSync', '/d1/sub/f')).toBe('ENOENT');
        expect(await user.code('statSync', '/d2/sub/f')).toBe('ok');
        fs.renameSync('/d2/sub', '/d2/moved');
        expect(await user.code('statSync', '/d2/sub/f')).toBe('ENOENT');
      } finally {
        await user.stop();
      }
    });

    it('a thread stats while another changes: every answer is one the file had, the last is the last', async () => {
      fs.writeFileSync('/race', '');
      const sizes: number[] = [];
      const watcher = (async () => {
        for (let i = 0; i < 200; i++) sizes.push((await other.call('statSync', '/race')).size);
      })();
      for (let i = 1; i <= 50; i++) {
        fs.appendFileSync('/race', 'x');
        await sleep(0);
      }
      await watcher;
      // A file that only grows: an answer smaller than one before it was stale.
      for (let i = 1; i < sizes.length; i++) expect(sizes[i]).toBeGreaterThanOrEqual(sizes[i - 1]);
      expect((await other.call('statSync', '/race')).size).toBe(50);
    });

    it('ttl=0: nothing is kept, a change made in the database is seen at once', async () => {
      const strict = mount(server().root, { type: 'sqlfs', options: `device=${device},ttl=0` });
      try {
        expect(strict.descriptor.appCache).toBeUndefined();
        strict.writeFileSync('/strict', 'x', { mode: 0o644 });
        const { ino } = strict.statSync('/strict');
        strict.statSync('/strict');
        await engine.setMode(device, ino, 0o100600);
        expect(strict.statSync('/strict').mode & 0o777).toBe(0o600);
      } finally {
        strict.umount();
      }
    });

    it("ttl=0: a stat crosses once for its path (LOOKUP_PATH); another user's walk gets the root's x bits with it", () => {
      const strict = mount(server().root, { type: 'sqlfs', options: `device=${device},ttl=0` });
      try {
        strict.mkdirSync('/s1/s2', { recursive: true });
        strict.writeFileSync('/s1/s2/f', 'x', { mode: 0o644 });
        let before = appWaits(strict);
        expect(strict.statSync('/s1/s2/f').size).toBe(1);
        expect(appWaits(strict) - before).toBe(1); // every component in one LOOKUP_PATH
        const user = strict.asUser({ uid: 1000, gid: 1000 });
        before = appWaits(strict);
        expect(user.statSync('/s1/s2/f').size).toBe(1);
        expect(appWaits(strict) - before).toBe(1); // the root's attributes in the same request
        strict.chmodSync('/', 0o700);
        expect(() => user.statSync('/s1/s2/f')).toThrow(expect.objectContaining({ code: 'EACCES' }));
        expect(strict.statSync('/s1/s2/f').size).toBe(1);
        strict.chmodSync('/', 0o755);
      } finally {
        strict.umount();
      }
    });

    it('a change made in the database is seen once the TTL has passed, not before', async () => {
      const long = mount(server().root, { type: 'sqlfs', options: `device=${device},ttl=60` });
      const short = mount(server().root, { type: 'sqlfs', options: `device=${device},ttl=0.3` });
      try {
        long.writeFileSync('/elsewhere', 'x', { mode: 0o644 });
        const { ino } = long.statSync('/elsewhere');
        short.statSync('/elsewhere');
        await engine.setMode(device, ino, 0o100640);
        // Within the TTL the cached answer stands (the cache is used at all).
        expect(long.statSync('/elsewhere').mode & 0o777).toBe(0o644);
        await sleep(350); // past ttl=0.3: the face's half and the ZTs' half both expired
        expect(short.statSync('/elsewhere').mode & 0o777).toBe(0o640);
      } finally {
        long.umount();
        short.umount();
      }
    });
  });
}
