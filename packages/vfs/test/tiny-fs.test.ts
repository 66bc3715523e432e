// The plugin authors' example (packages/zus-server/examples/tiny-fs.mjs, the guide in
// packages/zus-server/README.md) as a user runs it: a server that loads it by URL, mounted through the
// node:fs face. A grid of 2 ZTs x 2 channels, so its state really is shared between isolates.
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { InodeClient, mount, type ZufsMount } from '@zufs/vfs';
import { RENAME_NOREPLACE } from '@zufs/zuf-core/api';
import { startServer, type ZusServer } from '@zufs/zus-server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const TINY_FS = new URL('../../zus-server/examples/tiny-fs.mjs', import.meta.url);
const WORKER = new URL('./fixtures/fs-worker.mjs', import.meta.url);

let server: ZusServer;
let fs: ZufsMount;

beforeAll(async () => {
  server = await startServer({ zts: 2, channels: 2, windowSize: 256 * 1024, filesystems: [TINY_FS] });
});
afterAll(async () => {
  await server?.stop();
});
beforeEach(() => {
  fs = mount(server.root, { type: 'tinyfs', options: 'inodes=1024,slot=65536', uid: 0, gid: 0 });
});
afterEach(() => {
  fs.umount();
});

function code(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
}

describe('tiny-fs through node:fs', () => {
  it('makes directories and files, reads back what it wrote, lists names', () => {
    fs.mkdirSync('/a/b', { recursive: true });
    fs.writeFileSync('/a/f', 'hello');
    fs.appendFileSync('/a/f', ', world');
    expect(fs.readFileSync('/a/f', 'utf8')).toBe('hello, world');
    const big = Buffer.alloc(40_000, 7);
    fs.writeFileSync('/a/b/big', big);
    expect(fs.readFileSync('/a/b/big').equals(big)).toBe(true);
    expect(fs.readdirSync('/a').sort()).toEqual(['b', 'f']);
    const kinds = fs.readdirSync('/a', { withFileTypes: true }).map((d) => [d.name, d.isDirectory()]);
    expect(kinds.sort()).toEqual([
      ['b', true],
      ['f', false],
    ]);
    expect(fs.readdirSync('/').sort()).toEqual(['a']);
    // Past a slot: EFBIG, and the file is as it was.
    expect(code(() => fs.writeFileSync('/a/f', Buffer.alloc(70_000)))).toBe('EFBIG');
  });

  it('a rename with RENAME_NOREPLACE onto another name of the same inode is EEXIST, as Linux', () => {
    fs.writeFileSync('/h1', 'one inode');
    fs.linkSync('/h1', '/h2');
    // The face's own rename does not send the flag (node:fs has none): the inode-level client does.
    const c = new InodeClient(fs.root, fs.mount);
    expect(() => c.rename(c.rootIi, 'h1', c.rootIi, 'h2', RENAME_NOREPLACE)).toThrow(
      expect.objectContaining({ code: 'EEXIST' }),
    );
    c.rename(c.rootIi, 'h1', c.rootIi, 'h2'); // without it: nothing to do, both names stay
    expect(fs.readdirSync('/').sort()).toEqual(['h1', 'h2']);
    expect(fs.statSync('/h2').nlink).toBe(2);
  });

  it('renames within and across directories, replacing a target', () => {
    fs.mkdirSync('/x');
    fs.mkdirSync('/y');
    fs.writeFileSync('/x/one', '1');
    fs.writeFileSync('/y/two', '2');
    fs.renameSync('/x/one', '/x/uno');
    expect(fs.readdirSync('/x')).toEqual(['uno']);
    fs.renameSync('/x/uno', '/y/two'); // replaces /y/two
    expect(fs.readdirSync('/x')).toEqual([]);
    expect(fs.readdirSync('/y')).toEqual(['two']);
    expect(fs.readFileSync('/y/two', 'utf8')).toBe('1');
    // A directory moves with its ".." link: the old parent loses a link, the new one gains it.
    fs.mkdirSync('/x/sub');
    expect([fs.statSync('/x').nlink, fs.statSync('/y').nlink]).toEqual([3, 2]);
    fs.renameSync('/x/sub', '/y/sub');
    expect([fs.statSync('/x').nlink, fs.statSync('/y').nlink]).toEqual([2, 3]);
    fs.writeFileSync('/y/sub/f', '');
    fs.mkdirSync('/x/full');
    fs.writeFileSync('/x/full/f', '');
    expect(code(() => fs.renameSync('/x/sub', '/y/sub'))).toBe('ENOENT');
    expect(code(() => fs.renameSync('/x/full', '/y/sub'))).toBe('ENOTEMPTY');
  });

  it('makes symlinks that read back and resolve, and hard links that count', () => {
    fs.mkdirSync('/d');
    fs.writeFileSync('/d/target', 'through the link');
    fs.symlinkSync('d/target', '/l');
    expect(fs.readlinkSync('/l')).toBe('d/target');
    expect(fs.lstatSync('/l').isSymbolicLink()).toBe(true);
    expect(fs.lstatSync('/l').size).toBe('d/target'.length);
    expect(fs.readFileSync('/l', 'utf8')).toBe('through the link');
    fs.linkSync('/d/target', '/d/again');
    expect(fs.statSync('/d/again').nlink).toBe(2);
    expect(fs.statSync('/d/again').ino).toBe(fs.statSync('/d/target').ino);
    fs.unlinkSync('/d/target');
    expect(fs.statSync('/d/again').nlink).toBe(1);
    expect(code(() => fs.readFileSync('/l'))).toBe('ENOENT'); // dangling now
  });

  it('truncates, and new bytes read as zeros', () => {
    fs.writeFileSync('/t', 'abcdef');
    fs.truncateSync('/t', 2);
    expect(fs.readFileSync('/t', 'utf8')).toBe('ab');
    fs.truncateSync('/t', 5);
    expect([...fs.readFileSync('/t')]).toEqual([97, 98, 0, 0, 0]);
    const fd = fs.openSync('/t', 'w'); // O_TRUNC
    fs.closeSync(fd);
    expect(fs.statSync('/t').size).toBe(0);
  });

  it('keeps the attributes it is given: mode, owner, times; stat fields add up', () => {
    const t0 = Date.now();
    fs.writeFileSync('/s', '12345', { mode: 0o640 });
    const st = fs.statSync('/s');
    expect(st.isFile()).toBe(true);
    expect(st.mode & 0o777).toBe(0o640);
    expect([st.size, st.nlink, st.uid, st.gid]).toEqual([5, 1, 0, 0]);
    expect(st.mtimeMs).toBeGreaterThanOrEqual(t0 - 1000);
    expect(fs.statSync('/').isDirectory()).toBe(true);
    fs.chmodSync('/s', 0o600);
    fs.chownSync('/s', 7, 8);
    fs.utimesSync('/s', 1_000_000, 2_000_000);
    const s2 = fs.statSync('/s');
    expect([s2.mode & 0o7777, s2.uid, s2.gid]).toEqual([0o600, 7, 8]);
    expect([s2.atimeMs, s2.mtimeMs]).toEqual([1_000_000_000, 2_000_000_000]);
    expect(s2.isFile()).toBe(true); // chmod kept the type
  });

  it('answers errors with their errno and frees what it unlinks', () => {
    const free0 = fs.statfsSync('/').ffree;
    expect(code(() => fs.readFileSync('/nope'))).toBe('ENOENT');
    expect(code(() => fs.statSync('/nope/deeper'))).toBe('ENOENT');
    fs.mkdirSync('/m');
    fs.writeFileSync('/m/f', 'x');
    expect(code(() => fs.mkdirSync('/m'))).toBe('EEXIST');
    expect(code(() => fs.rmdirSync('/m'))).toBe('ENOTEMPTY');
    expect(code(() => fs.readdirSync('/m/f'))).toBe('ENOTDIR');
    expect(fs.statfsSync('/').ffree).toBe(free0 - 2);
    fs.unlinkSync('/m/f');
    fs.rmdirSync('/m');
    expect(fs.existsSync('/m')).toBe(false);
    expect(fs.statfsSync('/').ffree).toBe(free0);
    expect(fs.statSync('/').nlink).toBe(2);
  });
});

describe('the guide', () => {
  // As `wc -l` counts them.
  const exampleLines = () => readFileSync(TINY_FS, 'utf8').split('\n').length - 1;

  it('states the line count of the example as it is', () => {
    const readme = readFileSync(new URL('../../zus-server/README.md', import.meta.url), 'utf8');
    expect(readme).toContain(`in **${exampleLines()} lines**`);
  });

  it('keeps the example under 150 lines, as the guide promises', () => {
    expect(exampleLines()).toBeLessThan(150);
  });
});

describe('tiny-fs shared by every ZT', () => {
  /** A worker churning `dirs` until every slot of `progress` counts `ops` operations. */
  function churn(
    id: number,
    progress: Int32Array,
    ops: number,
    dirs: string[],
  ): Promise<Record<string, unknown>> {
    const w = new Worker(WORKER, {
      workerData: {
        descriptor: fs.descriptor,
        mode: 'churn',
        id,
        slot: id - 1,
        progress: progress.buffer,
        ops,
        deadline: Date.now() + 45_000, // a safety net: the counts decide
        dirs,
        seed: id * 104_729,
      },
    });
    return new Promise((resolve, reject) => {
      w.once('message', (m) => {
        resolve(m);
        void w.terminate();
      });
      w.once('error', reject);
    });
  }

  it('two worker threads churning the same directories leave a consistent tree', async () => {
    const dirs = ['/c0', '/c1', '/c0/sub'];
    for (const d of dirs) fs.mkdirSync(d);
    // Each worker goes on until both have done 200 operations: they overlap however late one starts.
    const progress = new Int32Array(new SharedArrayBuffer(8));
    const res = await Promise.all([churn(1, progress, 200, dirs), churn(2, progress, 200, dirs)]);
    for (const r of res) {
      expect(r.error).toBeUndefined();
      expect(r.unexpected).toEqual([]);
      expect(r.ops as number).toBeGreaterThanOrEqual(200);
    }
    // Every listed name stats; a directory's links are 2 + its subdirectories; a file's links are
    // the names it has.
    const names = new Map<number, { seen: number; nlink: number }>();
    const walk = (d: string): void => {
      let subdirs = 0;
      for (const x of fs.readdirSync(d)) {
        const st = fs.lstatSync(`${d}/${x}`);
        if (st.isDirectory()) {
          subdirs++;
          walk(`${d}/${x}`);
        } else names.set(st.ino, { seen: (names.get(st.ino)?.seen ?? 0) + 1, nlink: st.nlink });
      }
      expect(fs.statSync(d).nlink, d).toBe(2 + subdirs);
    };
    walk('/');
    expect(names.size).toBeGreaterThan(0);
    for (const [ino, n] of names) expect(n.seen, `inode ${ino}`).toBe(n.nlink);
  });
});
