// Two machines on one SQLite volume: two server processes (no memory shared between them), each
// with its own caches, seeing each other's changes as sqlfs promises (close-to-open, TTL).
import { createHash } from 'node:crypto';
import { fsck, SqliteEngine } from '@zufs/example-sqlfs';
import { afterEach, describe, expect, it } from 'vitest';
import { sqliteVolume, tempDir } from './helpers.js';
import { type Peer, startPeer, writing } from './peers.js';

const dir = tempDir();
const peers: Peer[] = [];
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.stop()));
});
async function peer(options: string): Promise<Peer> {
  const p = await startPeer(options);
  peers.push(p);
  return p;
}

async function check(file: string) {
  const eng = new SqliteEngine(file, { readonly: true });
  try {
    return await fsck(eng);
  } finally {
    eng.close();
  }
}

/** Polls `f` until it holds; the test's own deadline decides when it does not. */
async function eventually(f: () => Promise<boolean>, stepMs = 50): Promise<number> {
  const t0 = Date.now();
  while (!(await f())) await new Promise((r) => setTimeout(r, stepMs));
  return Date.now() - t0;
}

describe('two server processes on one SQLite volume', { timeout: 120_000 }, () => {
  it('A creates, writes and closes a file; B opens it and reads every byte', async () => {
    const vol = await sqliteVolume(dir);
    const [a, b] = [await peer(`device=${vol}`), await peer(`device=${vol}`)];
    const data = Buffer.alloc(3 * 1024 * 1024 + 12345);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    await a.call('mkdirSync', '/shared');
    await a.call('writeFileSync', '/shared/f', data.toString('base64'), 'base64'); // IPC carries text
    const want = createHash('sha256').update(data).digest('hex');
    expect(await b.ask('hash', '/shared/f')).toBe(want);
    expect(await b.call('statSync', '/shared/f')).toMatchObject({ size: data.length, nlink: 1 });
  });

  it('A renames and unlinks; B sees both once its TTL has passed, and at once with TTL 0', async () => {
    const vol = await sqliteVolume(dir);
    const a = await peer(`device=${vol}`);
    const cached = await peer(`device=${vol},ttl=1`);
    const strict = await peer(`device=${vol},ttl=0`);
    await a.call('writeFileSync', '/old', 'one');
    await a.call('writeFileSync', '/gone', 'two');
    for (const b of [cached, strict]) {
      expect(await b.call('readFileSync', '/old', 'utf8')).toBe('one');
      expect(await b.call('existsSync', '/gone')).toBe(true);
    }
    await a.call('renameSync', '/old', '/new');
    await a.call('unlinkSync', '/gone');
    // TTL 0: at once.
    expect(await strict.call('existsSync', '/old')).toBe(false);
    expect(await strict.call('existsSync', '/gone')).toBe(false);
    expect(await strict.call('readFileSync', '/new', 'utf8')).toBe('one');
    // TTL 1 s: within it the cached names may stand; after it, both changes show.
    const waited = await eventually(
      async () => !(await cached.call('existsSync', '/old')) && !(await cached.call('existsSync', '/gone')),
    );
    expect(waited).toBeLessThan(3000);
    expect(await cached.call('readFileSync', '/new', 'utf8')).toBe('one');
    expect(await cached.call('readdirSync', '/')).toEqual(['new']);
  });

  it('A and B each run 4 threads creating 1 000 files in one directory: 8 000 names, none lost or doubled', async () => {
    const vol = await sqliteVolume(dir);
    const [a, b] = [await peer(`device=${vol}`), await peer(`device=${vol}`)];
    await a.call('mkdirSync', '/d');
    const [ea, eb] = await Promise.all([
      a.ask('creators', { threads: 4, count: 1000, dir: '/d', prefix: 'a' }),
      b.ask('creators', { threads: 4, count: 1000, dir: '/d', prefix: 'b' }),
    ]);
    expect([ea, eb]).toEqual([0, 0]);
    const names = (await b.call<string[]>('readdirSync', '/d')).sort();
    expect(names.length).toBe(8000);
    expect(new Set(names).size).toBe(8000);
    expect(await a.call('statSync', '/d')).toMatchObject({ size: 8000, nlink: 2 });
    expect((await check(vol)).problems).toEqual([]);
  });

  it('two machines racing to create the same names: each name made once, the other side gets EEXIST', async () => {
    const vol = await sqliteVolume(dir);
    const [a, b] = [await peer(`device=${vol}`), await peer(`device=${vol}`)];
    await a.call('mkdirSync', '/r');
    const taken = await Promise.all([
      a.ask<number>('creators', { threads: 2, count: 300, dir: '/r', prefix: 'same' }),
      b.ask<number>('creators', { threads: 2, count: 300, dir: '/r', prefix: 'same' }),
    ]);
    expect(taken[0] + taken[1]).toBe(600); // 1 200 creates of 600 names
    expect((await a.call<string[]>('readdirSync', '/r')).length).toBe(600);
    expect((await check(vol)).problems).toEqual([]);
  });

  it('A is killed with -9 in the middle of writes; B goes on; fsck is clean', async () => {
    const vol = await sqliteVolume(dir);
    const [a, b] = [await peer(`device=${vol}`), await peer(`device=${vol}`)];
    const started = writing(a);
    void a.ask('writeLoop', '/big').catch(() => {}); // never answers: killed
    await started;
    await new Promise((r) => setTimeout(r, 300));
    await a.kill9();
    peers.splice(peers.indexOf(a), 1);
    const size = (await b.call<{ size: number }>('statSync', '/big')).size;
    expect(size % (64 * 1024)).toBe(0); // whole writes only: each was one transaction
    await b.call('writeFileSync', '/after', 'still here');
    expect(await b.call('readFileSync', '/after', 'utf8')).toBe('still here');
    const r = await check(vol);
    expect(r.problems).toEqual([]);
    expect(r.clean).toBe(true);
  });
});
