// The name cache of @zufs/vfs: a path resolved once costs no LOOKUP until the namespace changes, and
// the namespace generation is shared by every thread of the mount, so a rename or unlink in a worker
// is seen by the main thread's very next call.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { PMEMFS_TYPE } from '@zufs/example-pmemfs';
import { attachMount, mount, NS_ADD, NS_GEN, type ZufsMount } from '@zufs/vfs';
import { startServer, type ZusServer } from '@zufs/zus-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opsDuring } from './ops-during.js';

const WORKER = new URL('./fixtures/rename-worker.mjs', import.meta.url);

let server: ZusServer;
let fs: ZufsMount;

beforeAll(async () => {
  server = await startServer({ zts: 2, channels: 2, windowSize: 256 * 1024, filesystems: [PMEMFS_TYPE] });
  fs = mount(server.root, { type: 'pmemfs', options: `memory=${16 * 1024 * 1024},inodes=8192` });
});
afterAll(async () => {
  fs?.umount();
  await server?.stop();
});

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as NodeJS.ErrnoException).code;
  }
  return undefined;
}

describe('name cache', () => {
  it('bumps the shared namespace generation on every namespace change', () => {
    const gen = () => Atomics.load(new Int32Array(fs.descriptor.shared), NS_GEN);
    const add = () => Atomics.load(new Int32Array(fs.descriptor.shared), NS_ADD);
    const a0 = add();
    const g1 = gen();
    fs.mkdirSync('/g');
    expect(add()).toBeGreaterThan(a0);
    expect(gen()).toBe(g1);
    fs.statSync('/g');
    expect(gen()).toBe(g1);
    fs.chmodSync('/g', 0o700);
    expect(gen()).toBeGreaterThan(g1);
    const a1 = add();
    fs.writeFileSync('/g/f', 'x');
    expect(add()).toBeGreaterThan(a1);
    fs.linkSync('/g/f', '/g/l');
    expect(add()).toBeGreaterThan(a1 + 1);
    fs.unlinkSync('/g/l');
    const g3 = gen();
    fs.writeFileSync('/g/f', 'yy');
    expect(gen()).toBe(g3);
    fs.renameSync('/g/f', '/g/h');
    expect(gen()).toBeGreaterThan(g3);
  });

  it('sees a name another face adds after a miss (no negative entries)', () => {
    const other = attachMount(fs.descriptor);
    fs.mkdirSync('/n');
    expect(other.existsSync('/n/x')).toBe(false);
    fs.writeFileSync('/n/x', 'hi');
    expect(other.readFileSync('/n/x', 'utf8')).toBe('hi');
    other.symlinkSync('x', '/n/s');
    expect(fs.readFileSync('/n/s', 'utf8')).toBe('hi');
  });

  it('knows a name it just removed is absent until anything else changes', () => {
    fs.mkdirSync('/v');
    fs.writeFileSync('/v/a', 'A');
    fs.renameSync('/v/a', '/v/b');
    // Back and forth: '/v/a' was just vacated and '/v/b' just made: one RENAME each, no LOOKUP.
    const back = opsDuring(fs, () => {
      fs.renameSync('/v/b', '/v/a');
      fs.renameSync('/v/a', '/v/b');
    });
    expect(back).toEqual({ ZUFS_OP_RENAME: 2 });
    fs.unlinkSync('/v/b');
    const again = opsDuring(fs, () => fs.writeFileSync('/v/b', 'B'));
    expect(again.ZUFS_OP_LOOKUP ?? 0).toBe(0);
    // Another face adds the vacated name: this face looks it up again and sees it.
    fs.renameSync('/v/b', '/v/c');
    const other = attachMount(fs.descriptor);
    other.writeFileSync('/v/b', 'other');
    fs.renameSync('/v/c', '/v/b'); // replaces the other face's file
    expect(fs.readFileSync('/v/b', 'utf8')).toBe('B');
    fs.renameSync('/v/b', '/v/d');
    other.mkdirSync('/v/b');
    expect(code(() => fs.renameSync('/v/d', '/v/b'))).toBe('EISDIR');
    expect(fs.readdirSync('/v').sort()).toEqual(['b', 'd']);
  });

  it('keeps a tree of 6 000 names: a second scan of it costs no LOOKUP', () => {
    // At 4 096 names the cache used to be dropped whole when full, so every scan of a tree larger
    // than that walked each path from the root again.
    for (let d = 0; d < 60; d++) {
      fs.mkdirSync(`/tree/d${d}`, { recursive: true });
      for (let f = 0; f < 100; f++) fs.writeFileSync(`/tree/d${d}/f${f}`, '');
    }
    const scan = () => {
      for (const d of fs.readdirSync('/tree'))
        for (const f of fs.readdirSync(`/tree/${d}`)) fs.statSync(`/tree/${d}/${f}`);
    };
    scan();
    const again = opsDuring(fs, scan);
    expect(again.ZUFS_OP_LOOKUP ?? 0).toBe(0);
  });

  it('sees changes made through another face of the same mount in the same thread', () => {
    fs.mkdirSync('/a/b/c', { recursive: true });
    fs.writeFileSync('/a/b/c/f', 'one');
    const other = attachMount(fs.descriptor);
    expect(other.statSync('/a/b/c/f').size).toBe(3);
    fs.renameSync('/a/b', '/a/B');
    expect(code(() => other.statSync('/a/b/c/f'))).toBe('ENOENT');
    expect(other.readFileSync('/a/B/c/f', 'utf8')).toBe('one');
    fs.appendFileSync('/a/B/c/f', 'two');
    expect(other.statSync('/a/B/c/f').size).toBe(6);
  });

  it("checks a cached directory's permissions as they are now (chmod, chown, a new directory in its place)", () => {
    const user = fs.asUser({ uid: 1000, gid: 1000 });
    // Twice each time: the first call after a change walks the path, the second finds the
    // directory cached (a write resolves the file's directory, parent()).
    const read = () => [0, 1].map(() => code(() => user.writeFileSync('/perm/d/f', 'x')) ?? 'ok');
    fs.mkdirSync('/perm');
    fs.chmodSync('/perm', 0o777); // (mkdir's mode goes through the umask)
    fs.mkdirSync('/perm/d', 0o755);
    fs.writeFileSync('/perm/d/f', 'x');
    fs.chmodSync('/perm/d/f', 0o666);
    fs.chownSync('/perm/d', 1000, 1000);
    expect(read()).toEqual(['ok', 'ok']);
    // The user's own chmod of the directory, then another face's: each is seen at the next call.
    user.chmodSync('/perm/d', 0o600);
    expect(read()).toEqual(['EACCES', 'EACCES']);
    fs.chmodSync('/perm/d', 0o755);
    expect(read()).toEqual(['ok', 'ok']);
    fs.chownSync('/perm/d', 0, 0);
    fs.chmodSync('/perm/d', 0o750);
    expect(read()).toEqual(['EACCES', 'EACCES']);
    fs.chmodSync('/perm/d', 0o777);
    expect(read()).toEqual(['ok', 'ok']);
    // The user removes the directory and makes one of the same name (the freed inode number is
    // the next one given out) that it may not enter: checks go by the new one, every time.
    user.unlinkSync('/perm/d/f');
    const old = fs.statSync('/perm/d').ino;
    user.rmdirSync('/perm/d');
    user.mkdirSync('/perm/d', 0o600);
    expect(fs.statSync('/perm/d').ino).toBe(old);
    expect(code(() => user.writeFileSync('/perm/d/g', 'y'))).toBe('EACCES');
    expect(code(() => user.writeFileSync('/perm/d/g', 'y'))).toBe('EACCES');
    expect(fs.existsSync('/perm/d/g')).toBe(false);
  });

  it('sees a rename and an unlink done in a worker at the next call', async () => {
    fs.mkdirSync('/w/x', { recursive: true });
    fs.writeFileSync('/w/x/old', 'moved');
    fs.writeFileSync('/w/x/gone', 'bye');
    // Warm this thread's cache on the paths the worker is about to change.
    for (let i = 0; i < 3; i++) {
      expect(fs.statSync('/w/x/old').size).toBe(5);
      expect(fs.readFileSync('/w/x/gone', 'utf8')).toBe('bye');
      expect(fs.existsSync('/w/x/new')).toBe(false);
    }
    const w = new Worker(WORKER, {
      workerData: { mount: fs.descriptor, from: '/w/x/old', to: '/w/x/new', gone: '/w/x/gone' },
    });
    // Listen for exit first: a worker that exits right after posting gets its message delivered
    // and its 'exit' emitted in one turn, before an `await once(w, 'exit')` written after would listen.
    const exited = once(w, 'exit');
    const [out] = await once(w, 'message');
    await exited;
    expect(out.error).toBeUndefined();
    expect(out.before).toBe('moved');
    expect(fs.statSync('/w/x/new').size).toBe(5);
    expect(fs.readFileSync('/w/x/new', 'utf8')).toBe('moved');
    expect(code(() => fs.statSync('/w/x/gone'))).toBe('ENOENT');
    expect(code(() => fs.readFileSync('/w/x/gone'))).toBe('ENOENT');
    expect(fs.readFileSync('/w/x/old', 'utf8')).toBe('new file');
    expect(fs.statSync('/w/x/old').ino).not.toBe(fs.statSync('/w/x/new').ino);
  });

  it('makes a new name with one dispatch: no LOOKUP before the create, no walk from the root', () => {
    fs.mkdirSync('/u/a/b/c', { recursive: true });
    // A directory this thread just made, and names in it the cache has never seen: open(O_CREAT),
    // mkdir and symlink each send their NEW_INODE first (it answers EEXIST itself).
    const made = opsDuring(fs, () => {
      fs.mkdirSync('/u/a/b/c/d');
      fs.writeFileSync('/u/a/b/c/d/f', 'x');
      fs.symlinkSync('f', '/u/a/b/c/d/l');
      fs.mkdirSync('/u/a/b/c/d/e');
      fs.writeFileSync('/u/a/b/c/d/e/g', '');
    });
    expect(made).toEqual({ ZUFS_OP_NEW_INODE: 5, ZUFS_OP_WRITE: 1 });
    expect(fs.readlinkSync('/u/a/b/c/d/l')).toBe('f');
    expect(fs.readFileSync('/u/a/b/c/d/l', 'utf8')).toBe('x');
  });

  it('opens a name it did not know is there: O_CREAT keeps it, O_EXCL and symlink fail, as node:fs', () => {
    fs.mkdirSync('/k');
    fs.writeFileSync('/k/f', 'kept');
    fs.chmodSync('/k/f', 0o666);
    // Another face of the same thread knows nothing of /k/f: its create is answered EEXIST, then
    // the name is looked up and opened (appended to, not replaced).
    const other = attachMount(fs.descriptor);
    other.appendFileSync('/k/f', '+more');
    expect(fs.readFileSync('/k/f', 'utf8')).toBe('kept+more');
    expect(attachMount(fs.descriptor).statSync('/k/f').nlink).toBe(1);
    expect(code(() => attachMount(fs.descriptor).openSync('/k/f', 'wx'))).toBe('EEXIST');
    const sym = (() => {
      try {
        attachMount(fs.descriptor).symlinkSync('t', '/k/f');
      } catch (e) {
        return e as NodeJS.ErrnoException;
      }
      return null;
    })();
    expect(sym?.code).toBe('EEXIST');
    expect(sym?.message).toBe("EEXIST: file already exists, symlink 't' -> '/k/f'");
    // A user who may not write the directory still opens a file there it may write.
    fs.chmodSync('/k', 0o755);
    const user = attachMount(fs.descriptor).asUser({ uid: 1000, gid: 1000 });
    user.writeFileSync('/k/f', 'user');
    expect(fs.readFileSync('/k/f', 'utf8')).toBe('user');
    expect(code(() => user.writeFileSync('/k/new', 'no'))).toBe('EACCES');
    expect(code(() => user.symlinkSync('t', '/k/new'))).toBe('EACCES');
    expect(fs.readdirSync('/k')).toEqual(['f']);
  });

  it('a first scan by a face that knows nothing costs a LOOKUP a name, not one a component', () => {
    fs.mkdirSync('/deep/a/b/c/d/e', { recursive: true });
    for (let f = 0; f < 50; f++) fs.writeFileSync(`/deep/a/b/c/d/e/f${f}`, 'x');
    const other = attachMount(fs.descriptor);
    let names = 0;
    const scan = opsDuring(fs, () => {
      const walk = (d: string): void => {
        for (const e of other.readdirSync(d, { withFileTypes: true })) {
          const p = `${d}/${e.name}`;
          names++;
          if (other.lstatSync(p).isDirectory()) walk(p);
          else expect(other.readFileSync(p, 'utf8')).toBe('x');
        }
      };
      walk('/deep');
    });
    expect(names).toBe(55);
    // One a name, and /deep's own; the walk from the root for every path was 7 a file here.
    expect(scan.ZUFS_OP_LOOKUP).toBe(names + 1);
  });
});
