// The face's types are Node's where it behaves as Node's. Each check is made twice: `expectTypeOf` at
// typecheck time (`pnpm typecheck` fails if a type drifts from Node's), and `expect` at run time on
// the value the call really gave, so the type says what the face does.
import type { Stats as NodeStats, StatsFs } from 'node:fs';
import type { FileReadResult } from 'node:fs/promises';
import { PMEMFS_TYPE, type PmemFs } from '@zufs/example-pmemfs';
import { FileHandle, type InodeClient, mount, type ZufsMount } from '@zufs/vfs';
import type { Statfs } from '@zufs/zuf-core/api';
import { type SuperBlock, startServer, type ZusServer } from '@zufs/zus-server';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';

let server: ZusServer;
let fs: ZufsMount;

beforeAll(async () => {
  server = await startServer({ zts: 1, channels: 2, filesystems: [PMEMFS_TYPE] });
  fs = mount(server.root, { type: 'pmemfs', options: `memory=${8 * 1024 * 1024}`, uid: 0, gid: 0 });
  fs.writeFileSync('/f', 'data');
  fs.setxattrSync('/f', 'user.k', 'v');
});
afterAll(async () => {
  fs?.umount();
  await server?.stop();
});

describe("the face's types", () => {
  it("promises.open gives the package's FileHandle, whose methods are typed as node's", async () => {
    const fh = await fs.promises.open('/f', 'r+');
    try {
      expectTypeOf(fh).toEqualTypeOf<FileHandle>();
      expect(fh).toBeInstanceOf(FileHandle);
      expectTypeOf(fh.fd).toBeNumber();

      const asBuffer = await fh.readFile();
      expectTypeOf(asBuffer).toExtend<Buffer>();
      expectTypeOf(asBuffer).not.toExtend<string>();
      expect(Buffer.isBuffer(asBuffer)).toBe(true);

      const asText = await fh.readFile({ encoding: 'utf8' });
      expectTypeOf(asText).toBeString();
      expect(asText).toBe(''); // the first readFile read to the end
      expectTypeOf(await fh.readFile('utf8')).toBeString();

      const r = await fh.read(Buffer.alloc(4), 0, 4, 0);
      expectTypeOf(r).toExtend<FileReadResult<Buffer>>();
      expectTypeOf(r.buffer).toExtend<Buffer>();
      expect(r.bytesRead).toBe(4);
      const own = await fh.read({ position: 0 });
      expectTypeOf(own.buffer).toExtend<Buffer>();
      expect(Buffer.isBuffer(own.buffer)).toBe(true);

      const w = await fh.write('more', 4);
      expectTypeOf(w).toEqualTypeOf<{ bytesWritten: number; buffer: string }>();
      expect(w).toEqual({ bytesWritten: 4, buffer: 'more' });
      const wb = await fh.write(Buffer.from('!'), 0, 1, 8);
      expectTypeOf(wb.buffer).toExtend<Buffer>();
      expect(wb.bytesWritten).toBe(1);

      const st = await fh.stat();
      expectTypeOf(st).toEqualTypeOf<NodeStats>();
      expect(st.size).toBe(9);
    } finally {
      await fh.close();
    }
  });

  it('getxattr narrows by encoding: a Buffer without one, a string with one, in all three forms', async () => {
    const b = fs.getxattrSync('/f', 'user.k');
    expectTypeOf(b).toEqualTypeOf<Buffer>();
    expect(b).toEqual(Buffer.from('v'));
    const s = fs.getxattrSync('/f', 'user.k', 'utf8');
    expectTypeOf(s).toEqualTypeOf<string>();
    expect(s).toBe('v');
    expectTypeOf(fs.lgetxattrSync('/f', 'user.k', { encoding: 'latin1' })).toEqualTypeOf<string>();
    expectTypeOf(fs.getxattrSync('/f', 'user.k', 'buffer')).toEqualTypeOf<Buffer>();

    const p = await fs.promises.getxattr('/f', 'user.k', { encoding: 'utf8' });
    expectTypeOf(p).toEqualTypeOf<string>();
    expect(p).toBe('v');
    const fd = fs.openSync('/f', 'r');
    try {
      const viaFd = fs.promises.fgetxattr(fd, 'user.k');
      expectTypeOf(viaFd).toEqualTypeOf<Promise<Buffer>>();
      expect(await viaFd).toEqual(Buffer.from('v'));
    } finally {
      fs.closeSync(fd);
    }

    const viaCallback = await new Promise<Buffer | undefined>((resolve, reject) =>
      fs.getxattr('/f', 'user.k', (err, value) => {
        expectTypeOf(value).toEqualTypeOf<Buffer | undefined>();
        if (err) reject(err);
        else resolve(value);
      }),
    );
    expect(viaCallback).toEqual(Buffer.from('v'));
  });

  it("statfs is one type: Node's on the face, the api's Statfs below it", () => {
    const f = fs.statfsSync('/');
    expectTypeOf(f).toEqualTypeOf<StatsFs>();
    expect(f.bsize).toBeGreaterThan(0);
    expectTypeOf<ReturnType<InodeClient['statfs']>>().toEqualTypeOf<Statfs>();
    expectTypeOf<ReturnType<PmemFs['statfs']>>().toEqualTypeOf<Statfs>();
    expectTypeOf<Parameters<NonNullable<SuperBlock['statfs']>>[0]>().toEqualTypeOf<Statfs>();
    const s = fs.client.statfs();
    expect(s.bsize).toBe(f.bsize);
    expect(s.namelen).toBeGreaterThan(0);
  });
});
