// NIO reads: with the filesystem's pmem shared, a read is one GET_MULTY (where are the blocks) and
// one copy from pmem into the caller's buffer, validated by the server's change seqlock. Checked here
// against what was written (holes, odd offsets, end of file, reads larger than one io-map), that the
// READ operation is not used, and that a read racing a writer in another thread never mixes versions.
import { PMEMFS_TYPE } from '@zufs/example-pmemfs';
import { mount, type ZufsMount } from '@zufs/vfs';
import { startServer, type ZusServer } from '@zufs/zus-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opsDuring as opsOf } from './ops-during.js';
import { raceRewriter } from './rewriter.js';

let server: ZusServer;
let fs: ZufsMount;
const opsDuring = (fn: () => void) => opsOf(fs, fn);

beforeAll(async () => {
  // A small operation buffer: an io-map holds (4096 - 1024 - 120) / 8 = 369 blocks, so a 4 MiB read
  // needs several GET_MULTYs.
  server = await startServer({ zts: 2, channels: 2, maxCommand: 4096, filesystems: [PMEMFS_TYPE] });
  fs = mount(server.root, { type: 'pmemfs', options: `memory=${64 * 1024 * 1024}` });
});
afterAll(async () => {
  fs?.umount();
  await server?.stop();
});

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed + (i >> 12)) & 0xff;
  return b;
}

describe('NIO reads', () => {
  it('read what was written, with holes, odd offsets and the end of the file', () => {
    const data = pattern(5 * 4096 + 123, 7);
    const fd = fs.openSync('/sparse', 'w+');
    fs.writeSync(fd, data, 0, 4096, 0); // block 0
    fs.writeSync(fd, data, 3 * 4096, 2 * 4096 + 123, 3 * 4096); // blocks 3, 4 and a partial 5: 1-2 are holes
    const expected = Buffer.concat([data.subarray(0, 4096), Buffer.alloc(2 * 4096), data.subarray(3 * 4096)]);
    for (const [pos, len] of [
      [0, expected.length],
      [1, 4096],
      [4000, 200],
      [4095, 8194],
      [2 * 4096 + 5, 3 * 4096],
      [expected.length - 10, 100],
      [expected.length, 10],
      [expected.length + 4096, 10],
    ]) {
      const buf = Buffer.alloc(len, 0xee);
      const n = fs.readSync(fd, buf, 0, len, pos);
      const want = expected.subarray(pos, pos + len);
      expect(n, `read(${pos}, ${len})`).toBe(want.length);
      expect(buf.subarray(0, n).equals(want), `read(${pos}, ${len})`).toBe(true);
      expect(
        buf.subarray(n).every((b) => b === 0xee),
        'nothing written past the data',
      ).toBe(true);
    }
    fs.closeSync(fd);
  });

  it('is one GET_MULTY per io-map and no READ; a read longer than an io-map takes several', () => {
    const data = pattern(4 * 1024 * 1024 + 4096 * 3 + 17, 3);
    fs.writeFileSync('/big', data);
    const fd = fs.openSync('/big', 'r');
    const small = Buffer.alloc(4096);
    const ops4k = opsDuring(() => fs.readSync(fd, small, 0, 4096, 8192));
    expect(ops4k).toEqual({ ZUFS_OP_GET_MULTY: 1 });
    expect(small.equals(data.subarray(8192, 8192 + 4096))).toBe(true);
    const all = Buffer.alloc(data.length);
    const opsAll = opsDuring(() => expect(fs.readSync(fd, all, 0, all.length, 0)).toBe(data.length));
    expect(opsAll.ZUFS_OP_READ).toBeUndefined();
    expect(opsAll.ZUFS_OP_GET_MULTY).toBeGreaterThanOrEqual(Math.ceil(data.length / 4096 / 369));
    expect(all.equals(data)).toBe(true);
    fs.closeSync(fd);
  });

  it('keeps the block map while nothing changes: later reads of the range need no dispatch', () => {
    fs.writeFileSync('/mapped', pattern(256 * 1024, 5));
    fs.writeFileSync('/other', 'x');
    const fd = fs.openSync('/mapped', 'r');
    const buf = Buffer.alloc(4096);
    try {
      expect(opsDuring(() => fs.readSync(fd, buf, 0, 4096, 0))).toEqual({ ZUFS_OP_GET_MULTY: 1 });
      expect(opsDuring(() => fs.readSync(fd, buf, 0, 4096, 200 * 1024))).toEqual({});
      expect(buf.equals(pattern(256 * 1024, 5).subarray(200 * 1024, 204 * 1024))).toBe(true);
      // A change anywhere (here: another file) voids the map: the next read asks again.
      fs.appendFileSync('/other', 'y');
      expect(opsDuring(() => fs.readSync(fd, buf, 0, 4096, 4096))).toEqual({ ZUFS_OP_GET_MULTY: 1 });
      // Past the end of the file, known from the map: no dispatch, no bytes.
      expect(opsDuring(() => expect(fs.readSync(fd, buf, 0, 4096, 256 * 1024)).toBe(0))).toEqual({});
    } finally {
      fs.closeSync(fd);
    }
  });

  it('asks less ahead while every map is voided before its second read, and more again after', () => {
    fs.writeFileSync('/ahead', pattern(1024 * 1024, 6));
    const fd = fs.openSync('/ahead', 'r');
    const buf = Buffer.alloc(4096);
    const ahead = () => (fs.client as unknown as { mapAhead: number }).mapAhead;
    try {
      fs.readSync(fd, buf, 0, 4096, 0);
      expect(ahead()).toBe(1024 * 1024);
      // Reads between writes (here to another file): each map serves one read, then is void.
      for (let i = 0; i < 6; i++) {
        fs.appendFileSync('/other', 'z');
        fs.readSync(fd, buf, 0, 4096, i * 8192);
        expect(buf.equals(pattern(1024 * 1024, 6).subarray(i * 8192, i * 8192 + 4096))).toBe(true);
      }
      expect(ahead()).toBe(16 * 1024);
      // Reads with nothing changing between them: the map serves several and grows back.
      for (let i = 0; i < 8; i++) fs.readSync(fd, buf, 0, 4096, ((i * 37) % 256) * 4096);
      expect(ahead()).toBe(1024 * 1024);
      expect(opsDuring(() => fs.readSync(fd, buf, 0, 4096, 100 * 4096))).toEqual({});
    } finally {
      fs.closeSync(fd);
    }
  });

  it('a read racing a writer in another thread returns one version, never a mix', async () => {
    const size = 256 * 1024;
    fs.writeFileSync('/race', Buffer.alloc(size, 1));
    const buf = Buffer.alloc(size);
    let torn = 0;
    let short = 0;
    const fd = fs.openSync('/race', 'r');
    let counts: { versions: number; rounds: number };
    try {
      counts = await raceRewriter(fs, '/race', size, 40, () => {
        const n = fs.readSync(fd, buf, 0, size, 0);
        if (n === 0) return; // between the truncate and the write
        if (n !== size) short++;
        const v = buf[0];
        for (let i = 0; i < n; i += 512) if (buf[i] !== v) torn++;
      });
    } finally {
      fs.closeSync(fd);
    }
    expect(counts.versions, 'the writer made versions').toBeGreaterThanOrEqual(40);
    expect(counts.rounds, 'reads while the writer wrote').toBeGreaterThanOrEqual(40);
    expect({ torn, short }).toEqual({ torn: 0, short: 0 });
  });
});
