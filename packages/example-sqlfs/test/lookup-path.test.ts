// LOOKUP_PATH on sqlfs through the face: a path's names in one crossing and one statement, and the
// face's answers (values, errors and their messages) the same as its walk of one LOOKUP a name. The
// walk to compare with is a face on the same mount whose MountInfo lacks ZUFS_FSC_LOOKUP_PATH (the
// face of a filesystem without the operation). The server's operation buffer is the smallest allowed
// (4 KiB), so long paths take several requests.
import { attachMount, mount, type ZufsFs, type ZufsMount } from '@zufs/vfs';
import { dispatcherFor } from '@zufs/zuf-core';
import { ZUFS_FSC_LOOKUP_PATH } from '@zufs/zuf-core/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { appWaits, PG_URL, pgVolume, sqlfsServer, sqliteVolume, tempDir } from './helpers.js';

const dir = tempDir();

const engines = [
  { name: 'SQLite', skip: false, volume: () => sqliteVolume(dir) },
  {
    name: 'PostgreSQL',
    skip: !PG_URL,
    volume: pgVolume,
  },
];

const server = sqlfsServer({ maxCommand: 4096 });

/** The face of `m` as on a filesystem without LOOKUP_PATH: one LOOKUP a name. */
function walkingFace(m: ZufsMount): ZufsMount {
  const d = m.descriptor;
  return attachMount({ ...d, mount: { ...d.mount, caps: d.mount.caps & ~ZUFS_FSC_LOOKUP_PATH } });
}

const LONG = Array.from({ length: 12 }, (_, i) => `${String(i).padStart(2, '0')}${'L'.repeat(240)}`);
/** A name of bytes SQL arrays and JSON quote: space, comma, quotes, braces, a backslash, UTF-8. */
const ODD = 'o d,"{q}"\\é日本';
const DEEP = Array.from({ length: 40 }, (_, i) => `n${i}`);

/** The tree every path below is asked of (made as root). */
function makeTree(fs: ZufsFs): void {
  fs.mkdirSync('/t/a/b/d', { recursive: true });
  fs.mkdirSync(`/t/${ODD}/${ODD}`, { recursive: true });
  fs.writeFileSync(`/t/${ODD}/${ODD}/f`, 'odd');
  fs.writeFileSync('/t/a/b/f', 'hello');
  fs.symlinkSync('../..', '/t/a/b/up');
  fs.symlinkSync('a/b', '/t/ln');
  fs.symlinkSync('/t/a', '/t/abs');
  fs.symlinkSync('a/b/f', '/t/fl');
  fs.symlinkSync('nowhere', '/t/dangling');
  fs.symlinkSync('loop', '/t/loop');
  fs.mkdirSync('/t/locked/in', { recursive: true });
  fs.writeFileSync('/t/locked/in/f', 'locked');
  fs.chmodSync('/t/locked', 0o700);
  fs.mkdirSync('/t/nox');
  fs.writeFileSync('/t/nox/g', 'g');
  fs.chmodSync('/t/nox', 0o666);
  fs.mkdirSync('/t/grp/sub', { recursive: true });
  fs.writeFileSync('/t/grp/sub/h', 'h');
  fs.chownSync('/t/grp', 0, 1000);
  fs.chmodSync('/t/grp', 0o710);
  fs.mkdirSync('/t/own/sub', { recursive: true });
  fs.writeFileSync('/t/own/sub/k', 'k');
  fs.chownSync('/t/own', 1000, 0);
  fs.chmodSync('/t/own', 0o100);
  fs.mkdirSync(`/t/long/${LONG.join('/')}`, { recursive: true });
  fs.writeFileSync(`/t/long/${LONG.join('/')}/f`, 'long');
  fs.mkdirSync(`/t/deep/${DEEP.join('/')}`, { recursive: true });
  fs.writeFileSync(`/t/deep/${DEEP.join('/')}/f`, 'deep');
}

const PATHS = [
  '/t/a/b/f',
  `/t/${ODD}/${ODD}/f`,
  `/t/${ODD}/nope/f`,
  '/t/a/b/d',
  '/t/a/b/d/',
  '/t//a///b/./f',
  '/t/a/b/f/',
  '/t/a/b/f/.',
  '/t/a/b/f/..',
  '/t/a/b/f/x/y',
  '/t/a/b/nope',
  '/t/a/nope/y/z',
  '/t/nope/a/b',
  '/t/a/b/../b/f',
  '/t/a/../a/b/d/../f',
  '/t/a/b/d/..',
  '/t/a/b/up/a/b/f',
  '/t/a/b/up/ln/d/../f',
  '/t/ln/f',
  '/t/ln/d/',
  '/t/ln',
  '/t/abs/b/f',
  '/t/fl',
  '/t/fl/',
  '/t/dangling',
  '/t/dangling/x',
  '/t/loop',
  '/t/loop/x/y',
  '/t/locked/in/f',
  '/t/locked/nope/f',
  '/t/locked',
  '/t/nox/g',
  '/t/nox/nope/x',
  '/t/grp/sub/h',
  '/t/own/sub/k',
  `/t/a/${'x'.repeat(256)}/f`,
  `/t/long/${LONG.join('/')}/f`,
  `/t/long/${LONG.slice(0, 6).join('/')}/nope/${LONG.slice(7).join('/')}`,
  `/t/deep/${DEEP.join('/')}/f`,
  `/t/deep/${DEEP.slice(0, 30).join('/')}/f/${DEEP.slice(31).join('/')}`,
];

const CALLS = ['statSync', 'lstatSync', 'readFileSync', 'readdirSync', 'existsSync', 'realpathSync'] as const;

/** What a call answers, as comparable data: the value (a Stats' fields), or the error and its message. */
function outcome(fs: ZufsFs, call: (typeof CALLS)[number], path: string): unknown {
  try {
    const v = (fs[call] as (p: string, o?: unknown) => unknown)(
      path,
      call === 'readFileSync' ? 'utf8' : undefined,
    );
    if (v && typeof v === 'object' && 'mtimeMs' in v) {
      const s = v as unknown as {
        mode: number;
        size: number;
        ino: number;
        nlink: number;
        uid: number;
        gid: number;
      };
      return { mode: s.mode, size: s.size, ino: s.ino, nlink: s.nlink, uid: s.uid, gid: s.gid };
    }
    return v;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { code: err.code, message: err.message, syscall: err.syscall, path: err.path };
  }
}

const USERS = [
  { uid: 0, gid: 0 },
  { uid: 1000, gid: 1000 },
  { uid: 2000, gid: 2000 },
];

for (const engine of engines) {
  describe.skipIf(engine.skip)(`LOOKUP_PATH on sqlfs, ${engine.name}`, { timeout: 120_000 }, () => {
    let device: string;
    beforeAll(async () => {
      device = await engine.volume();
      const fs = mount(server().root, { type: 'sqlfs', options: `device=${device}` });
      try {
        makeTree(fs);
      } finally {
        fs.umount();
      }
    });

    it('ttl=0: a stat is one crossing for the whole path (4 with a LOOKUP a name)', () => {
      const fs = mount(server().root, { type: 'sqlfs', options: `device=${device},ttl=0` });
      const walk = walkingFace(fs);
      try {
        expect(fs.mount.caps & ZUFS_FSC_LOOKUP_PATH).toBe(ZUFS_FSC_LOOKUP_PATH);
        const crossings = (m: ZufsMount, f: ZufsFs, path: string) => {
          const before = appWaits(m);
          f.statSync(path);
          return appWaits(m) - before;
        };
        expect(crossings(fs, fs, '/t/a/b/f')).toBe(1);
        expect(crossings(walk, walk, '/t/a/b/f')).toBe(4);
        expect(crossings(fs, fs, `/t/${ODD}/${ODD}/f`)).toBe(1);
        // Another user needs the root's attributes too (its x bits): they come in the same request.
        const user = { uid: 1000, gid: 1000 };
        expect(crossings(fs, fs.asUser(user), '/t/a/b/f')).toBe(1);
        expect(crossings(walk, walk.asUser(user), '/t/a/b/f')).toBe(5);
        // An open: the directory's names and the file's in one request too (parent() asks its tail).
        const opens = (m: ZufsMount, f: ZufsFs, path: string) => {
          const before = appWaits(m);
          f.closeSync(f.openSync(path, 'r'));
          return appWaits(m) - before;
        };
        expect(opens(fs, fs, '/t/a/b/f')).toBe(1);
        expect(opens(walk, walk, '/t/a/b/f')).toBe(4);
        // realpath's own walk too (it reads the root's attributes, as it always did).
        const real = (m: ZufsMount, f: ZufsFs, path: string) => {
          const before = appWaits(m);
          expect(f.realpathSync(path)).toBe('/t/a/b/f');
          return appWaits(m) - before;
        };
        expect(real(fs, fs, '/t/a/b/f')).toBe(2);
        expect(real(walk, walk, '/t/a/b/f')).toBe(5);
        // A symlink on the way: the walk stops at it, the face reads it and goes on from there.
        expect(crossings(fs, fs, '/t/ln/f')).toBe(3); // LOOKUP_PATH, READ of the link, LOOKUP_PATH
        // A path longer than one request carries (4 KiB buffers: 20 short names) takes several.
        const deep = `/t/deep/${DEEP.join('/')}/f`;
        expect(crossings(fs, fs, deep)).toBe(3); // 43 names
        expect(crossings(walk, walk, deep)).toBe(43);
        expect(crossings(fs, fs, `/t/long/${LONG.join('/')}/f`)).toBe(2); // 15 names: 9, then 6
      } finally {
        fs.umount();
      }
    });

    it('ttl=0: the promise and callback forms ask a path in one request too (their replies kept across a wait)', async () => {
      const fs = mount(server().root, { type: 'sqlfs', options: `device=${device},ttl=0` });
      const walk = walkingFace(fs);
      /** Requests the face's thread sends for `fn` (each takes a channel). */
      const requests = async (m: ZufsMount, fn: () => Promise<unknown>) => {
        const d = dispatcherFor(m.root);
        const acquire = d.acquire;
        let n = 0;
        d.acquire = (timeoutMs) => {
          n++;
          return acquire.call(d, timeoutMs);
        };
        try {
          await fn();
        } finally {
          d.acquire = acquire;
        }
        return n;
      };
      try {
        const path = '/t/a/b/f';
        expect(await requests(fs, () => fs.promises.stat(path))).toBe(1);
        // The walk: a LOOKUP a name, and on a loaded machine more (a reply that outlives the spin
        // sends the call round again, and the LOOKUPs answered before it are asked once more).
        expect(await requests(walk, () => walk.promises.stat(path))).toBeGreaterThanOrEqual(4);
        const cb = (f: ZufsFs) => new Promise((ok, no) => f.stat(path, (e, s) => (e ? no(e) : ok(s))));
        expect(await requests(fs, () => cb(fs))).toBe(1);
        expect(await requests(fs, () => fs.promises.readFile(path, 'utf8'))).toBeLessThan(
          await requests(walk, () => walk.promises.readFile(path, 'utf8')),
        );
        for (const p of PATHS)
          for (const call of ['stat', 'lstat', 'readFile'] as const) {
            const run = (f: ZufsFs) =>
              (f.promises[call] as (p: string, o?: string) => Promise<unknown>)(
                p,
                call === 'readFile' ? 'utf8' : undefined,
              ).then(
                (v) => (v && typeof v === 'object' && 'ino' in v ? (v as { ino: number }).ino : v),
                (e: NodeJS.ErrnoException) => `${e.code}: ${e.message}`,
              );
            expect(await run(fs), `${call} ${p}`).toEqual(await run(walk));
          }
      } finally {
        fs.umount();
      }
    });

    it("a root other users may not search: the same EACCES as the walk's, and root's walk goes on", () => {
      const fs = mount(server().root, { type: 'sqlfs', options: `device=${device},ttl=0` });
      const walk = walkingFace(fs);
      try {
        fs.chmodSync('/', 0o700);
        for (const cred of USERS)
          for (const path of ['/t/a/b/f', '/t', '/nope/x', `/${'x'.repeat(256)}/f`, '/t/ln/f'])
            for (const call of CALLS) {
              const want = outcome(walk.asUser(cred), call, path);
              expect(outcome(fs.asUser(cred), call, path), `${call} ${path} as ${cred.uid}`).toEqual(want);
            }
        expect(outcome(fs.asUser(USERS[1]), 'statSync', '/t/a/b/f')).toMatchObject({ code: 'EACCES' });
        expect(outcome(fs, 'readFileSync', '/t/a/b/f')).toBe('hello');
      } finally {
        fs.chmodSync('/', 0o755);
        fs.umount();
      }
    });

    for (const ttl of ['0', '60']) {
      it(`ttl=${ttl}: every answer, error and message is the walk's, for root and for other users`, () => {
        const fs = mount(server().root, { type: 'sqlfs', options: `device=${device},ttl=${ttl}` });
        const walk = walkingFace(fs);
        try {
          const seen = new Set<string>();
          const crossed = [0, 0];
          // Twice: the second time from the caches the first filled (ttl=60).
          for (let round = 0; round < 2; round++)
            for (const cred of USERS)
              for (const path of PATHS)
                for (const call of CALLS) {
                  let before = appWaits(walk);
                  const want = outcome(walk.asUser(cred), call, path);
                  crossed[1] += appWaits(walk) - before;
                  before = appWaits(fs);
                  expect(outcome(fs.asUser(cred), call, path), `${call} ${path} as ${cred.uid}`).toEqual(
                    want,
                  );
                  crossed[0] += appWaits(fs) - before;
                  const code = (want as { code?: string }).code;
                  if (code) seen.add(code);
                }
          if (ttl === '0') expect(crossed[0]).toBeLessThan(crossed[1]); // equal with a LOOKUP a name
          // The paths reach every way a walk fails (and a read of a directory).
          expect([...seen].sort()).toEqual([
            'EACCES',
            'EISDIR',
            'ELOOP',
            'ENAMETOOLONG',
            'ENOENT',
            'ENOTDIR',
          ]);
          expect(outcome(fs.asUser(USERS[1]), 'statSync', '/t/locked/in/f')).toMatchObject({
            code: 'EACCES',
          });
          expect(outcome(fs.asUser(USERS[1]), 'readFileSync', '/t/grp/sub/h')).toBe('h');
          expect(outcome(fs.asUser(USERS[2]), 'readFileSync', '/t/grp/sub/h')).toMatchObject({
            code: 'EACCES',
          });
          expect(outcome(fs.asUser(USERS[1]), 'readFileSync', '/t/own/sub/k')).toBe('k');
          expect(outcome(fs, 'readFileSync', '/t/a/b/up/ln/d/../f')).toBe('hello');
          expect(outcome(fs, 'statSync', `/t/deep/${DEEP.join('/')}/f`)).toMatchObject({ size: 4 });
          expect(outcome(fs, 'readFileSync', `/t/${ODD}/${ODD}/f`)).toBe('odd');
        } finally {
          fs.umount();
        }
      });
    }
  });
}
