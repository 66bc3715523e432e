/**
 * The face across server restarts: app threads doing mixed operations with fsync on an image-backed
 * pmemfs while a ZT is made to crash again and again (a LOOKUP of `__crash__` ends its thread). No
 * hang, every operation right or EIO, every fsync'd byte intact, an fd held open from start to end
 * still working, and the image checks clean at the end; the same load across live reloads fails no
 * operation at all. ZUFS_RESTART_ROUNDS sets the number of crashes and of reloads
 * (default 20; `pnpm test:restart --rounds 200` runs the long version).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { fsck, mkfs, PmemDevice } from '@zufs/example-pmemfs';
import { mount } from '@zufs/vfs';
import { type ServerRestart, startServer, type ZusServer } from '@zufs/zus-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CRASHY = new URL('./fixtures/crashy-pmemfs.mjs', import.meta.url);
const WORKER = new URL('./fixtures/restart-worker.mjs', import.meta.url);
const ROUNDS = Number(process.env.ZUFS_RESTART_ROUNDS ?? 20);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'zufs-restart-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function makeImage(name: string): string {
  const image = join(dir, name);
  const dev = PmemDevice.createFile(image, 64 * 1024 * 1024);
  mkfs(dev, { inodes: 4096 });
  dev.flush();
  dev.close();
  return image;
}

/**
 * 4 app threads (fixtures/restart-worker.mjs) on the face while the server is replaced ROUNDS
 * times: by crashes (a ZT ends in the plugin) or by live reloads. Returns what the threads saw.
 */
async function underLoad(kind: 'crash' | 'reload'): Promise<void> {
  const image = makeImage(`${kind}.img`);
  const restarts: ServerRestart[] = [];
  const logs: string[] = []; // the server's, for a failure's message
  let next: (() => void) | null = null;
  const server = await startServer({
    zts: 2,
    channels: 2,
    windowSize: 256 * 1024,
    filesystems: [CRASHY],
    maxRestarts: ROUNDS + 10,
    onLog: (level, message) => logs.push(`${level}: ${message}`),
    onRestart: (r) => {
      restarts.push(r);
      next?.();
    },
  });
  const fs = mount(server.root, { type: 'pmemfs', device: image });
  const stop = new Int32Array(new SharedArrayBuffer(4));
  type Report = {
    ok: number;
    eio: number;
    eioWhat: string[];
    other: string[];
    synced: Record<string, string>;
    rounds: number;
  };
  const reports = Array.from({ length: 4 }, (_, id) => {
    const w = new Worker(WORKER, { workerData: { descriptor: fs.descriptor, id, stop: stop.buffer } });
    return new Promise<Report>((resolve, reject) => {
      w.on('message', resolve);
      w.on('error', reject);
    });
  });
  try {
    for (let i = 0; i < ROUNDS; i++) {
      await new Promise((r) => setTimeout(r, 20)); // let the app threads work a little
      if (kind === 'reload') {
        await server.reload();
        continue;
      }
      const restarted = new Promise<void>((r) => (next = r));
      expect(() => fs.statSync('/__crash__')).toThrow(expect.objectContaining({ code: 'EIO' }));
      await restarted;
    }
    Atomics.store(stop, 0, 1);
    const rs = await Promise.all(reports);
    for (const r of rs) {
      expect(r.other, logs.join('\n')).toEqual([]);
      expect(r.ok).toBeGreaterThan(ROUNDS);
      if (kind === 'reload') expect(r.eio, `${r.eioWhat.join('\n')}\n${logs.join('\n')}`).toBe(0); // a reload fails no operation
    }
    expect(restarts).toHaveLength(ROUNDS);
    const who = kind === 'crash' ? /^zufs-zt-/ : /^reload$/;
    expect(restarts.every((r) => r.reason === kind && who.test(r.who))).toBe(true);
    // Everything each thread fsync'd reads back as written, through a face made before the crashes.
    rs.forEach((r, id) => {
      for (const [name, digest] of Object.entries(r.synced)) {
        const got = createHash('sha256')
          .update(fs.readFileSync(`/w${id}/${name}`))
          .digest('hex');
        expect(got, `/w${id}/${name}`).toBe(digest);
      }
    });
    fs.umount();
  } finally {
    Atomics.store(stop, 0, 1);
    await server.stop();
  }
  const dev = PmemDevice.openFile(image, { sparse: true });
  try {
    expect(fsck(dev).problems).toEqual([]);
  } finally {
    dev.close();
  }
}

/** One ZT row on crashy pmemfs; crash(path) makes a ZT die in a LOOKUP of it and awaits the restart. */
async function crashyServer(): Promise<{
  server: ZusServer;
  crash: (fs: { statSync(p: string): unknown }, path: string) => Promise<void>;
}> {
  let next: (() => void) | null = null;
  const server = await startServer({
    zts: 1,
    channels: 2,
    windowSize: 256 * 1024,
    filesystems: [CRASHY],
    onLog: () => {},
    onRestart: () => next?.(),
  });
  const crash = async (fs: { statSync(p: string): unknown }, path: string) => {
    const restarted = new Promise<void>((r) => (next = r));
    expect(() => fs.statSync(path)).toThrow(expect.objectContaining({ code: 'EIO' }));
    await restarted;
  };
  return { server, crash };
}

describe('the face across server restarts', () => {
  it(
    `4 app threads with fsync across ${ROUNDS} ZT crashes: nothing hangs, nothing fsync'd is lost, fds live on`,
    () => underLoad('crash'),
    60_000 + ROUNDS * 5_000,
  );

  it(
    `the same 4 app threads across ${ROUNDS} live reloads: not one operation fails`,
    () => underLoad('reload'),
    60_000 + ROUNDS * 5_000,
  );

  it('an unlinked file still open stays readable across a restart, and is freed by its last close', async () => {
    const image = makeImage('unlinked.img');
    const { server, crash } = await crashyServer();
    try {
      const fs = mount(server.root, { type: 'pmemfs', device: image });
      fs.writeFileSync('/gone', 'still here');
      const fd = fs.openSync('/gone', 'r');
      fs.unlinkSync('/gone');
      const free = fs.statfsSync('/').ffree;
      await crash(fs, '/__crash__');
      const b = Buffer.alloc(10);
      expect(fs.readSync(fd, b, 0, 10, 0)).toBe(10);
      expect(b.toString()).toBe('still here');
      fs.closeSync(fd);
      expect(fs.statfsSync('/').ffree).toBe(free + 1); // the last close freed it
      fs.umount();
    } finally {
      await server.stop();
    }
  }, 60_000);

  it('a restart that finds the device mid-change rolls back to the last commit: fsync’d data stays, the face asks the server', async () => {
    const image = makeImage('rollback.img');
    const { server, crash } = await crashyServer();
    try {
      const fs = mount(server.root, { type: 'pmemfs', device: image, options: 'commit=0' });
      fs.writeFileSync('/kept', 'fsynced');
      const fd = fs.openSync('/kept', 'r+');
      fs.fsyncSync(fd);
      fs.writeFileSync('/lost', 'never committed');
      const lost = fs.openSync('/lost', 'r');
      expect(fs.statSync('/kept').size).toBe(7); // read from pmem, without a dispatch
      // A thread that dies holding pmemfs's metadata lock: the memory it leaves is not trusted.
      await crash(fs, '/__crash_locked__');
      expect(fs.readFileSync('/kept', 'utf8')).toBe('fsynced');
      expect(fs.existsSync('/lost')).toBe(false);
      // The fd of the file the rollback lost is stale; the other one reads on.
      // ESTALE (Node 20's libuv has no name for it: errno -116).
      expect(() => fs.readSync(lost, Buffer.alloc(4), 0, 4, 0)).toThrow(
        expect.objectContaining({ errno: -116 }),
      );
      const b = Buffer.alloc(7);
      expect(fs.readSync(fd, b, 0, 7, 0)).toBe(7);
      expect(b.toString()).toBe('fsynced');
      fs.closeSync(fd);
      fs.closeSync(lost);
      // New files get generations no fd of before the restart can hold.
      fs.writeFileSync('/new', 'x');
      expect(fs.statSync('/new').size).toBe(1);
      fs.umount();
    } finally {
      await server.stop();
    }
  }, 60_000);
});
