// Random and mutated requests through the handler (a fake device): it never throws, and answers each
// request with exactly one well-formed reply (none for FORGET, BATCH_FORGET, INTERRUPT), the unique
// of the request, an error in -4095..0, and a header length equal to the bytes written.
import { PMEMFS_TYPE } from '@zufs/example-pmemfs';
import {
  CopyFileRangeIn,
  CreateIn,
  FUSE_BATCH_FORGET,
  FUSE_COPY_FILE_RANGE,
  FUSE_CREATE,
  FUSE_FALLOCATE,
  FUSE_FORGET,
  FUSE_GETATTR,
  FUSE_GETXATTR,
  FUSE_INIT,
  FUSE_LINK,
  FUSE_LISTXATTR,
  FUSE_LOOKUP,
  FUSE_LSEEK,
  FUSE_MKDIR,
  FUSE_MKNOD,
  FUSE_READ,
  FUSE_READDIR,
  FUSE_READDIRPLUS,
  FUSE_RENAME2,
  FUSE_SETATTR,
  FUSE_SETXATTR,
  FUSE_SYMLINK,
  FUSE_UNLINK,
  FUSE_WRITE,
  InHeader,
  isNoReply,
  ReadIn,
  SetattrIn,
  WriteIn,
} from '@zufs/fuse';
import { InodeClient, mount, type ZufsMount } from '@zufs/vfs';
import { ZufsError } from '@zufs/zuf-core';
import { startServer, type ZusServer } from '@zufs/zus-server';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concat, FakeDevice, names, request, setU64, struct, u64 } from './helpers.js';

let server: ZusServer;
let fs: ZufsMount;
let dev: FakeDevice;
let fileId = 0;
let dirId = 0;

beforeAll(async () => {
  server = await startServer({ zts: 1, channels: 2, filesystems: [PMEMFS_TYPE] });
  fs = mount(server.root, { type: 'pmemfs', options: `memory=${32 * 1024 * 1024}` });
  let d: FakeDevice | undefined;
  d = new FakeDevice({
    client: new InodeClient(fs.root, fs.mount, { inUse: (ii) => d!.lookups.get(ii) > 0 }),
    maxWrite: 64 * 1024,
  });
  dev = d;
  const init = struct(64, (v) => {
    v.setUint32(0, 7, true);
    v.setUint32(4, 40, true);
  });
  dev.send(FUSE_INIT, 0, init);
  dirId = u64(dev.send(FUSE_MKDIR, 1, concat(struct(8), names('dir'))).dv, 0);
  fileId = u64(dev.send(FUSE_CREATE, dirId, concat(struct(CreateIn.SIZE), names('file'))).dv, 0);
});
afterAll(async () => {
  try {
    fs?.umount();
  } catch {}
  await server?.stop();
});

/** Valid requests of many kinds, the seeds of the mutations. */
function corpus(): Uint8Array[] {
  const rd = (size: number) =>
    struct(ReadIn.SIZE, (v) => {
      v.setUint32(ReadIn.size, size, true);
    });
  return [
    request(FUSE_LOOKUP, 1, names('dir')),
    request(FUSE_GETATTR, fileId, new Uint8Array(16)),
    request(
      FUSE_MKDIR,
      dirId,
      concat(
        struct(8, (v) => v.setUint32(0, 0o755, true)),
        names('sub'),
      ),
    ),
    request(FUSE_CREATE, dirId, concat(struct(CreateIn.SIZE), names('new'))),
    request(
      FUSE_WRITE,
      fileId,
      concat(
        struct(WriteIn.SIZE, (v) => v.setUint32(16, 8, true)),
        new Uint8Array(8),
      ),
    ),
    request(FUSE_READ, fileId, rd(4096)),
    request(FUSE_READDIR, dirId, rd(4096)),
    request(FUSE_READDIRPLUS, dirId, rd(4096)),
    request(
      FUSE_SETATTR,
      fileId,
      struct(SetattrIn.SIZE, (v) => v.setUint32(0, 8, true)),
    ),
    request(
      FUSE_RENAME2,
      dirId,
      concat(
        struct(16, (v) => setU64(v, 0, dirId)),
        names('new', 'new2'),
      ),
    ),
    request(FUSE_UNLINK, dirId, names('new2')),
    request(FUSE_SYMLINK, dirId, names('l', 'target')),
    request(
      FUSE_LINK,
      dirId,
      concat(
        struct(8, (v) => setU64(v, 0, fileId)),
        names('hard'),
      ),
    ),
    request(
      FUSE_MKNOD,
      dirId,
      concat(
        struct(16, (v) => v.setUint32(0, 0o10644, true)),
        names('p'),
      ),
    ),
    request(
      FUSE_SETXATTR,
      fileId,
      concat(
        struct(8, (v) => v.setUint32(0, 3, true)),
        names('user.a'),
        names('xy'),
      ),
    ),
    request(
      FUSE_GETXATTR,
      fileId,
      concat(
        struct(8, (v) => v.setUint32(0, 64, true)),
        names('user.a'),
      ),
    ),
    request(
      FUSE_LISTXATTR,
      fileId,
      struct(8, (v) => v.setUint32(0, 64, true)),
    ),
    request(
      FUSE_FORGET,
      fileId,
      struct(8, (v) => setU64(v, 0, 1)),
    ),
    request(
      FUSE_BATCH_FORGET,
      0,
      concat(
        struct(8, (v) => v.setUint32(0, 1, true)),
        struct(16),
      ),
    ),
    request(
      FUSE_FALLOCATE,
      fileId,
      struct(32, (v) => setU64(v, 16, 4096)),
    ),
    request(
      FUSE_LSEEK,
      fileId,
      struct(24, (v) => v.setUint32(16, 4, true)),
    ),
    request(
      FUSE_COPY_FILE_RANGE,
      fileId,
      struct(CopyFileRangeIn.SIZE, (v) => {
        setU64(v, CopyFileRangeIn.nodeid_out, fileId);
        setU64(v, CopyFileRangeIn.off_out, 100);
        setU64(v, CopyFileRangeIn.len, 50);
      }),
    ),
  ];
}

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'len'; value: number }
  | { kind: 'opcode'; value: number }
  | { kind: 'bytes'; at: number; bytes: number[] }
  | { kind: 'huge'; at: number }
  | { kind: 'nodeid'; value: number }
  | { kind: 'extlen'; value: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(400) }),
  fc.record({ kind: fc.constant('len' as const), value: fc.nat() }),
  fc.record({ kind: fc.constant('opcode' as const), value: fc.oneof(fc.nat(60), fc.nat()) }),
  fc.record({
    kind: fc.constant('bytes' as const),
    at: fc.nat(400),
    bytes: fc.array(fc.nat(255), { minLength: 1, maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('huge' as const), at: fc.nat(100) }),
  fc.record({
    kind: fc.constant('nodeid' as const),
    value: fc.oneof(fc.constant(0), fc.constant(1), fc.nat(), fc.maxSafeNat()),
  }),
  fc.record({ kind: fc.constant('extlen' as const), value: fc.nat(0xffff) }),
);

/** Applies mutations; returns the bytes and the count handed to handle() (a truncation reads fewer). */
function mutate(seed: Uint8Array, ms: Mutation[]): { bytes: Uint8Array; n: number } {
  let b = seed.slice();
  let n = b.length;
  for (const m of ms) {
    const v = new DataView(b.buffer);
    switch (m.kind) {
      case 'truncate':
        n = Math.min(n, m.at);
        break;
      case 'len':
        if (b.length >= 4) v.setUint32(InHeader.len, m.value >>> 0, true);
        break;
      case 'opcode':
        if (b.length >= 8) v.setUint32(InHeader.opcode, m.value >>> 0, true);
        break;
      case 'bytes':
        for (let i = 0; i < m.bytes.length; i++) if (m.at + i < b.length) b[m.at + i] = m.bytes[i];
        break;
      case 'huge':
        // A size or offset field set to its maximum.
        if (InHeader.SIZE + m.at + 4 <= b.length) v.setUint32(InHeader.SIZE + m.at, 0xffffffff, true);
        break;
      case 'nodeid':
        if (b.length >= 24) setU64(v, InHeader.nodeid, m.value);
        break;
      case 'extlen':
        if (b.length >= 40) v.setUint16(InHeader.total_extlen, m.value, true);
        break;
    }
    if (n > b.length) {
      const nb = new Uint8Array(n);
      nb.set(b);
      b = nb;
    }
  }
  return { bytes: b, n };
}

/** Sends and checks the reply invariants. */
function check(bytes: Uint8Array, n: number): void {
  const before = dev.replies.length;
  dev.handler.request.fill(0xa5); // what a previous request left must not matter
  const replies = dev.raw(bytes, n);
  expect(dev.replies.length - before).toBe(replies.length);
  if (n < 16) {
    expect(replies.length).toBe(0);
    return;
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const unique = u64(v, 8);
  const opcode = n >= 8 ? v.getUint32(4, true) : -1;
  const headerOk = n >= InHeader.SIZE && v.getUint32(0, true) === n;
  if (headerOk && isNoReply(opcode)) {
    expect(replies.length).toBe(0);
    return;
  }
  if (isNoReply(opcode) && n >= InHeader.SIZE) {
    expect(replies.length).toBeLessThanOrEqual(1);
  } else expect(replies.length).toBe(1);
  for (const r of replies) {
    expect(r.unique).toBe(unique);
    expect(r.len).toBe(16 + r.body.length);
    expect(r.error).toBeLessThanOrEqual(0);
    expect(r.error).toBeGreaterThan(-4096);
    if (r.error !== 0) expect(r.len).toBe(16);
  }
}

describe('fuzz', () => {
  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.boolean(), (b, fixLen) => {
        if (fixLen && b.length >= 8) new DataView(b.buffer, b.byteOffset).setUint32(0, b.length, true);
        check(b, b.length);
      }),
      { numRuns: 1500 },
    );
  });

  it('mutated valid requests', () => {
    const seeds = corpus();
    fc.assert(
      fc.property(fc.nat(seeds.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }), (i, ms) => {
        const { bytes, n } = mutate(seeds[i], ms);
        check(bytes, n);
      }),
      { numRuns: 3000 },
    );
  });

  it('valid requests with a client that fails every way', () => {
    const failures: unknown[] = [
      new ZufsError(2),
      new ZufsError(0),
      Object.assign(new ZufsError(5), { errno: -7 }),
      Object.assign(new ZufsError(5), { errno: 99999 }),
      new RangeError('u64'),
      'a string',
      undefined,
    ];
    const seeds = corpus();
    fc.assert(
      fc.property(fc.nat(seeds.length - 1), fc.nat(failures.length - 1), (i, f) => {
        const real = new InodeClient(fs.root, fs.mount);
        const failing = new Proxy(real, {
          get(t, p, r) {
            const x = Reflect.get(t, p, r);
            if (typeof x !== 'function') return x;
            return () => {
              throw failures[f];
            };
          },
        });
        const d = new FakeDevice({ client: failing, maxWrite: 64 * 1024 });
        const replies = d.raw(seeds[i]);
        const op = new DataView(seeds[i].buffer).getUint32(4, true);
        if (isNoReply(op)) expect(replies.length).toBe(0);
        else {
          expect(replies.length).toBe(1);
          expect(replies[0].error).toBeLessThan(0);
          expect(replies[0].len).toBe(16);
        }
      }),
      { numRuns: 300 },
    );
  });
});
