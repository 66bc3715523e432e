// The request handler, op by op: requests built by hand, replies checked byte by byte, against a
// memory pmemfs served by a real zufs server in this process (no kernel involved).

import { PMEMFS_TYPE } from '@zufs/example-pmemfs';
import {
  Attr,
  AttrOut,
  COUNTED_OPCODES,
  CopyFileRangeIn,
  CreateIn,
  countsByOp,
  Dirent,
  DirentPlus,
  EntryOut,
  FATTR_ATIME,
  FATTR_GID,
  FATTR_MODE,
  FATTR_MTIME,
  FATTR_SIZE,
  FATTR_UID,
  FallocateIn,
  FOPEN_DIRECT_IO,
  FUSE_ACCESS,
  FUSE_ASYNC_READ,
  FUSE_ATOMIC_O_TRUNC,
  FUSE_BATCH_FORGET,
  FUSE_COPY_FILE_RANGE,
  FUSE_CREATE,
  FUSE_DESTROY,
  FUSE_DO_READDIRPLUS,
  FUSE_FALLOCATE,
  FUSE_FLUSH,
  FUSE_FORGET,
  FUSE_FSYNC,
  FUSE_FSYNCDIR,
  FUSE_GETATTR,
  FUSE_GETLK,
  FUSE_GETXATTR,
  FUSE_HANDLE_KILLPRIV_V2,
  FUSE_INIT,
  FUSE_INTERRUPT,
  FUSE_LINK,
  FUSE_LISTXATTR,
  FUSE_LOOKUP,
  FUSE_LSEEK,
  FUSE_MAX_PAGES,
  FUSE_MKDIR,
  FUSE_MKNOD,
  FUSE_OPEN,
  FUSE_OPENDIR,
  FUSE_READ,
  FUSE_READDIR,
  FUSE_READDIRPLUS,
  FUSE_READLINK,
  FUSE_RELEASE,
  FUSE_RELEASEDIR,
  FUSE_REMOVEXATTR,
  FUSE_RENAME,
  FUSE_RENAME2,
  FUSE_RMDIR,
  FUSE_SETATTR,
  FUSE_SETXATTR,
  FUSE_STATFS,
  FUSE_SYMLINK,
  FUSE_UNLINK,
  FUSE_WRITE,
  FUSE_WRITE_KILL_SUIDGID,
  FUSE_WRITEBACK_CACHE,
  InitOut,
  Kstatfs,
  LookupTable,
  LseekIn,
  OpenOut,
  RENAME_EXCHANGE,
  RENAME_NOREPLACE,
  ReadIn,
  replyBufferSize,
  requestBufferSize,
  requestCounters,
  SetattrIn,
  sessionWords,
  WriteIn,
} from '@zufs/fuse';
import { InodeClient, mount, type ZufsMount } from '@zufs/vfs';
import { startServer, type ZusServer } from '@zufs/zus-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concat, FakeDevice, names, type Reply, request, setU64, struct, u64 } from './helpers.js';

const ENOENT = 2;
const EIO = 5;
const EACCES = 13;
const EEXIST = 17;
const EINVAL = 22;
const EROFS = 30;
const ERANGE = 34;
const ENOSYS = 38;
const ENODATA = 61;
const EPROTO = 71;

let server: ZusServer;
let fs: ZufsMount;
let dev: FakeDevice;

function client(inUse: (ii: number) => boolean): InodeClient {
  return new InodeClient(fs.root, fs.mount, { inUse });
}

beforeAll(async () => {
  server = await startServer({ zts: 1, channels: 2, filesystems: [PMEMFS_TYPE] });
  fs = mount(server.root, { type: 'pmemfs', options: `memory=${64 * 1024 * 1024}` });
  let d: FakeDevice | undefined;
  d = new FakeDevice({ client: client((ii) => d!.lookups.get(ii) > 0), attrTimeout: 0, entryTimeout: 1 });
  dev = d;
});
afterAll(async () => {
  try {
    fs?.umount();
  } catch {}
  await server?.stop();
});

function ok(r: Reply, len: number): Reply {
  expect(r.error).toBe(0);
  expect(r.len).toBe(16 + len);
  expect(r.body.length).toBe(len);
  return r;
}

/** A success whose length is the body's. */
function okAny(r: Reply): Reply {
  expect(r.error).toBe(0);
  expect(r.len).toBe(16 + r.body.length);
  return r;
}

function entry(r: Reply) {
  ok(r, EntryOut.SIZE);
  const dv = r.dv;
  return {
    nodeid: u64(dv, EntryOut.nodeid),
    ino: u64(dv, EntryOut.attr + Attr.ino),
    mode: dv.getUint32(EntryOut.attr + Attr.mode, true),
    nlink: dv.getUint32(EntryOut.attr + Attr.nlink, true),
    size: u64(dv, EntryOut.attr + Attr.size),
    uid: dv.getUint32(EntryOut.attr + Attr.uid, true),
    gid: dv.getUint32(EntryOut.attr + Attr.gid, true),
    entryValid: u64(dv, EntryOut.entry_valid),
    attrValid: u64(dv, EntryOut.attr_valid),
  };
}

function attrOf(r: Reply) {
  ok(r, AttrOut.SIZE);
  const a = AttrOut.attr;
  return {
    mode: r.dv.getUint32(a + Attr.mode, true),
    size: u64(r.dv, a + Attr.size),
    nlink: r.dv.getUint32(a + Attr.nlink, true),
    mtime: u64(r.dv, a + Attr.mtime),
    atime: u64(r.dv, a + Attr.atime),
  };
}

const initIn = (major: number, minor: number, flags: number) =>
  struct(64, (dv) => {
    dv.setUint32(0, major, true);
    dv.setUint32(4, minor, true);
    dv.setUint32(8, 131072, true);
    dv.setUint32(12, flags, true);
  });

const nameIn = (n: string) => names(n);
const mkdirIn = (mode: number, name: string) =>
  concat(
    struct(8, (dv) => dv.setUint32(0, mode, true)),
    names(name),
  );
const createIn = (name: string, mode = 0o644, flags = 0o101) =>
  concat(
    struct(CreateIn.SIZE, (dv) => {
      dv.setUint32(CreateIn.flags, flags, true);
      dv.setUint32(CreateIn.mode, 0o100000 | mode, true);
    }),
    names(name),
  );
const readIn = (off: number, size: number) =>
  struct(ReadIn.SIZE, (dv) => {
    setU64(dv, ReadIn.offset, off);
    dv.setUint32(ReadIn.size, size, true);
  });
const writeIn = (off: number, data: Uint8Array) =>
  concat(
    struct(WriteIn.SIZE, (dv) => {
      setU64(dv, WriteIn.offset, off);
      dv.setUint32(WriteIn.size, data.length, true);
    }),
    data,
  );
const forgetIn = (n: number) => struct(8, (dv) => setU64(dv, 0, n));
const xattrIn = (size: number, name: string, value?: Uint8Array) =>
  concat(
    struct(8, (dv) => dv.setUint32(0, size, true)),
    names(name),
    value ?? new Uint8Array(0),
  );

function parseDirents(r: Reply, plus: boolean) {
  const out: { name: string; ino: number; off: number; type: number; nodeid: number }[] = [];
  const b = r.body;
  let at = 0;
  while (at < b.length) {
    const d = plus ? at + DirentPlus.dirent : at;
    const dv = r.dv;
    const nameLen = dv.getUint32(d + Dirent.namelen, true);
    const name = new TextDecoder().decode(b.subarray(d + Dirent.name, d + Dirent.name + nameLen));
    const size = (d - at + Dirent.name + nameLen + 7) & ~7;
    expect(size % 8).toBe(0);
    for (let i = d + Dirent.name + nameLen; i < at + size; i++) expect(b[i]).toBe(0);
    out.push({
      name,
      ino: u64(dv, d + Dirent.ino),
      off: u64(dv, d + Dirent.off),
      type: dv.getUint32(d + Dirent.type, true),
      nodeid: plus ? u64(dv, at + EntryOut.nodeid) : 0,
    });
    at += size;
  }
  expect(at).toBe(b.length);
  return out;
}

describe('INIT', () => {
  it('negotiates 7.31 with what the kernel offers of what we want', () => {
    const all = 0x7fffffff;
    const r = ok(dev.send(FUSE_INIT, 0, initIn(7, 44, all)), InitOut.SIZE);
    expect(r.dv.getUint32(InitOut.major, true)).toBe(7);
    expect(r.dv.getUint32(InitOut.minor, true)).toBe(31);
    const flags = r.dv.getUint32(InitOut.flags, true);
    expect(flags & FUSE_ASYNC_READ).toBeTruthy();
    expect(flags & FUSE_MAX_PAGES).toBeTruthy();
    expect(flags & FUSE_DO_READDIRPLUS).toBeTruthy();
    expect(flags & FUSE_WRITEBACK_CACHE).toBe(0); // coherence with other zufs clients
    expect(r.dv.getUint32(InitOut.max_write, true)).toBe(1 << 20);
    expect(r.dv.getUint16(InitOut.max_pages, true)).toBe(256);
    expect(r.dv.getUint32(InitOut.max_readahead, true)).toBe(131072);
    // Only offered flags come back.
    const r2 = ok(dev.send(FUSE_INIT, 0, initIn(7, 31, FUSE_ASYNC_READ)), InitOut.SIZE);
    expect(r2.dv.getUint32(InitOut.flags, true)).toBe(FUSE_ASYNC_READ);
    expect(r2.dv.getUint16(InitOut.max_pages, true)).toBe(0);
  });
  it('KILLPRIV_V2, agreed by one reader, makes every reader drop suid/sgid and capabilities', () => {
    const session = sessionWords();
    const lookups = new LookupTable(LookupTable.create(1024));
    const opts = { attrTimeout: 0, session, lookups };
    const a = new FakeDevice({ ...opts, client: client((ii) => lookups.get(ii) > 0) });
    const b = new FakeDevice({ ...opts, client: client((ii) => lookups.get(ii) > 0) });
    const init = ok(a.send(FUSE_INIT, 0, initIn(7, 38, FUSE_HANDLE_KILLPRIV_V2)), InitOut.SIZE);
    const flags = init.dv.getUint32(InitOut.flags, true);
    expect(flags & FUSE_HANDLE_KILLPRIV_V2).toBeTruthy();
    const f = u64(b.send(FUSE_CREATE, 1, createIn('kp', 0o6755)).dv, EntryOut.nodeid);
    ok(b.send(FUSE_SETXATTR, f, xattrIn(4, 'security.capability', new Uint8Array([1, 2, 3, 4]))), 0);
    // A write by a caller with CAP_FSETID (no KILL flag): the mode stays, the capabilities go.
    ok(b.send(FUSE_WRITE, f, writeIn(0, new Uint8Array([1]))), 8);
    expect(attrOf(b.send(FUSE_GETATTR, f, new Uint8Array(16))).mode).toBe(0o106755);
    expect(b.send(FUSE_GETXATTR, f, xattrIn(0, 'security.capability')).error).toBe(-ENODATA);
    // Without it (FUSE_WRITE_KILL_SUIDGID): suid goes, and sgid since the group may execute.
    const w = writeIn(0, new Uint8Array([2]));
    new DataView(w.buffer).setUint32(WriteIn.write_flags, FUSE_WRITE_KILL_SUIDGID, true);
    ok(b.send(FUSE_WRITE, f, w), 8);
    expect(attrOf(b.send(FUSE_GETATTR, f, new Uint8Array(16))).mode).toBe(0o100755);
    // Setgid without group execute goes only for a writer outside the file's group (Linux 6.x).
    const g = u64(b.send(FUSE_CREATE, 1, createIn('kg', 0o2745), { uid: 5, gid: 7 }).dv, EntryOut.nodeid);
    ok(b.send(FUSE_WRITE, g, w, { uid: 5, gid: 7 }), 8);
    expect(attrOf(b.send(FUSE_GETATTR, g, new Uint8Array(16))).mode).toBe(0o102745);
    ok(b.send(FUSE_WRITE, g, w, { uid: 5, gid: 8 }), 8);
    expect(attrOf(b.send(FUSE_GETATTR, g, new Uint8Array(16))).mode).toBe(0o100745);
  });

  it('maps owners: stored ids go out as the host sees them, callers and chown come in mapped back', () => {
    const lookups = new LookupTable(LookupTable.create(1024));
    const m = new FakeDevice({
      client: client((ii) => lookups.get(ii) > 0),
      lookups,
      idMap: { uid: [[1000, 0]], gid: [[100, 0]] },
    });
    const fsClient = client(() => false);
    // Root creates: the filesystem stores 1000:100, the kernel is told 0:0.
    const e = entry(m.send(FUSE_MKDIR, 1, mkdirIn(0o755, 'mapped'), { uid: 0, gid: 0 }));
    expect([e.uid, e.gid]).toEqual([0, 0]);
    const stored = fsClient.getattr(e.nodeid);
    expect([stored.uid, stored.gid]).toEqual([1000, 100]);
    // chown to 0:5 stores 1000:5 and answers 0:5; an id not in the map passes as it is.
    const set = m.send(
      FUSE_SETATTR,
      e.nodeid,
      struct(SetattrIn.SIZE, (dv) => {
        dv.setUint32(SetattrIn.valid, FATTR_UID | FATTR_GID, true);
        dv.setUint32(SetattrIn.uid, 0, true);
        dv.setUint32(SetattrIn.gid, 5, true);
      }),
    );
    ok(set, AttrOut.SIZE);
    expect([
      set.dv.getUint32(AttrOut.attr + Attr.uid, true),
      set.dv.getUint32(AttrOut.attr + Attr.gid, true),
    ]).toEqual([0, 5]);
    const after = fsClient.getattr(e.nodeid);
    expect([after.uid, after.gid]).toEqual([1000, 5]);
  });

  it('answers a newer major with ours, refuses an old kernel', () => {
    const r = ok(dev.send(FUSE_INIT, 0, initIn(8, 0, 0)), 8);
    expect(r.dv.getUint32(0, true)).toBe(7);
    expect(dev.send(FUSE_INIT, 0, initIn(7, 22, 0)).error).toBe(-EPROTO);
    expect(dev.send(FUSE_INIT, 0, new Uint8Array(8)).error).toBe(-EINVAL);
  });
});

describe('names and attributes', () => {
  let dir = 0;
  let file = 0;

  it('LOOKUP of a missing name is ENOENT; MKDIR gives an entry and a count', () => {
    expect(dev.send(FUSE_LOOKUP, 1, nameIn('nope')).error).toBe(-ENOENT);
    const e = entry(dev.send(FUSE_MKDIR, 1, mkdirIn(0o750, 'd'), { uid: 1000, gid: 100 }));
    expect(e.nodeid).toBeGreaterThan(2 ** 32);
    expect(e.mode).toBe(0o40750);
    expect(e.uid).toBe(1000);
    expect(e.gid).toBe(100);
    expect(e.entryValid).toBe(1);
    expect(e.attrValid).toBe(0);
    dir = e.nodeid;
    expect(dev.lookups.get(dir)).toBe(1);
    const again = entry(dev.send(FUSE_LOOKUP, 1, nameIn('d')));
    expect(again.nodeid).toBe(dir);
    expect(dev.lookups.get(dir)).toBe(2);
    expect(dev.send(FUSE_MKDIR, 1, mkdirIn(0o755, 'd')).error).toBe(-EEXIST);
  });

  it('CREATE answers entry_out then open_out; WRITE and READ move bytes', () => {
    const r = dev.send(FUSE_CREATE, dir, createIn('f'));
    expect(r.error).toBe(0);
    expect(r.len).toBe(16 + EntryOut.SIZE + OpenOut.SIZE);
    file = u64(r.dv, EntryOut.nodeid);
    expect(r.dv.getUint32(EntryOut.attr + Attr.mode, true)).toBe(0o100644);
    expect(u64(r.dv, EntryOut.SIZE + OpenOut.fh)).toBe(0);
    const w = ok(dev.send(FUSE_WRITE, file, writeIn(0, new TextEncoder().encode('hello world'))), 8);
    expect(w.dv.getUint32(0, true)).toBe(11);
    const rd = ok(dev.send(FUSE_READ, file, readIn(6, 100)), 5);
    expect(new TextDecoder().decode(rd.body)).toBe('world');
    ok(dev.send(FUSE_READ, file, readIn(100, 10)), 0);
    expect(attrOf(dev.send(FUSE_GETATTR, file, new Uint8Array(16))).size).toBe(11);
    // A WRITE whose size runs past the body is refused.
    const bad = writeIn(0, new Uint8Array(4));
    new DataView(bad.buffer).setUint32(WriteIn.size, 400, true);
    expect(dev.send(FUSE_WRITE, file, bad).error).toBe(-EINVAL);
  });

  it('a file CREATE made, write-only, is FOPEN_DIRECT_IO; every other open goes through the page cache', () => {
    const openFlags = (r: Reply, at: number) => {
      expect(r.error).toBe(0);
      return r.dv.getUint32(at + OpenOut.open_flags, true);
    };
    expect(openFlags(dev.send(FUSE_CREATE, dir, createIn('direct')), EntryOut.SIZE)).toBe(FOPEN_DIRECT_IO);
    expect(openFlags(dev.send(FUSE_CREATE, dir, createIn('cached', 0o644, 0o102)), EntryOut.SIZE)).toBe(0); // O_RDWR
    // The name exists: CREATE opens it, as OPEN would.
    const again = dev.send(FUSE_CREATE, dir, createIn('direct'));
    expect(openFlags(again, EntryOut.SIZE)).toBe(0);
    const wo = struct(8, (dv) => dv.setUint32(0, 0o1001, true)); // O_WRONLY | O_TRUNC
    expect(openFlags(dev.send(FUSE_OPEN, u64(again.dv, EntryOut.nodeid), wo), 0)).toBe(0);
    for (const n of ['direct', 'cached']) ok(dev.send(FUSE_UNLINK, dir, nameIn(n)), 0);
  });

  it('counts requests by opcode in its row of the shared counters', () => {
    const counters = requestCounters(2);
    const d = new FakeDevice({ client: client(() => false), counts: counters.subarray(COUNTED_OPCODES) });
    d.send(FUSE_GETATTR, 1, new Uint8Array(16));
    d.send(FUSE_LOOKUP, 1, nameIn('missing'));
    d.send(FUSE_LOOKUP, 1, nameIn('missing'));
    d.send(4096, 1); // CUSE_INIT: past the table
    expect(countsByOp(counters)).toEqual({ GETATTR: 1, LOOKUP: 2, OTHER: 1 });
    expect(counters.subarray(0, COUNTED_OPCODES).every((n) => n === 0)).toBe(true);
  });

  it('SETATTR: size, mode (type kept), times', () => {
    const set = (valid: number, fill: (dv: DataView) => void) =>
      attrOf(
        dev.send(
          FUSE_SETATTR,
          file,
          struct(SetattrIn.SIZE, (dv) => {
            dv.setUint32(SetattrIn.valid, valid, true);
            fill(dv);
          }),
        ),
      );
    expect(set(FATTR_SIZE, (dv) => setU64(dv, SetattrIn.size, 5)).size).toBe(5);
    expect(set(FATTR_MODE, (dv) => dv.setUint32(SetattrIn.mode, 0o600, true)).mode).toBe(0o100600);
    const t = set(FATTR_MTIME | FATTR_ATIME, (dv) => {
      setU64(dv, SetattrIn.mtime, 1_577_872_800);
      setU64(dv, SetattrIn.atime, 1_000_000_000);
    });
    expect(t.mtime).toBe(1_577_872_800);
    expect(t.atime).toBe(1_000_000_000);
    const neg = struct(SetattrIn.SIZE, (dv) => {
      dv.setUint32(SetattrIn.valid, FATTR_MTIME, true);
      dv.setInt32(SetattrIn.mtime + 4, -1, true);
    });
    expect(dev.send(FUSE_SETATTR, file, neg).error).toBe(-EINVAL);
  });

  it('SYMLINK and READLINK; MKNOD of a fifo', () => {
    const s = entry(dev.send(FUSE_SYMLINK, dir, names('s', 'f')));
    expect(s.mode & 0o170000).toBe(0o120000);
    const r = ok(dev.send(FUSE_READLINK, s.nodeid), 1);
    expect(new TextDecoder().decode(r.body)).toBe('f');
    const m = entry(
      dev.send(
        FUSE_MKNOD,
        dir,
        concat(
          struct(16, (dv) => dv.setUint32(0, 0o10644, true)),
          names('fifo'),
        ),
      ),
    );
    expect(m.mode).toBe(0o10644);
  });

  it('LINK adds a name and a count', () => {
    const e = entry(dev.send(FUSE_LINK, 1, concat(forgetIn(file), names('g'))));
    expect(e.nodeid).toBe(file);
    expect(e.nlink).toBe(2);
    expect(dev.lookups.get(file)).toBe(2);
  });

  it('READDIR: ".", "..", then names, 8-byte records, resumable at any off', () => {
    const all = parseDirents(okAny(dev.send(FUSE_READDIR, dir, readIn(0, 4096))), false);
    expect(all.map((d) => d.name).sort()).toEqual(['.', '..', 'f', 'fifo', 's']);
    expect(all[0].name).toBe('.');
    expect(all[1].name).toBe('..');
    expect(all.find((d) => d.name === 'f')!.type).toBe(8);
    for (let i = 1; i < all.length; i++) {
      const rest = parseDirents(okAny(dev.send(FUSE_READDIR, dir, readIn(all[i - 1].off, 4096))), false);
      expect(rest.map((d) => d.name)).toEqual(all.slice(i).map((d) => d.name));
    }
    // A buffer that fits only the first record.
    const one = parseDirents(okAny(dev.send(FUSE_READDIR, dir, readIn(0, 40))), false);
    expect(one.map((d) => d.name)).toEqual(['.']);
  });

  it('READDIRPLUS: entries with node ids, counted (not "." and "..")', () => {
    const before = dev.lookups.get(file);
    const all = parseDirents(okAny(dev.send(FUSE_READDIRPLUS, dir, readIn(0, 4096))), true);
    expect(all.map((d) => d.name).sort()).toEqual(['.', '..', 'f', 'fifo', 's']);
    expect(all.find((d) => d.name === 'f')!.nodeid).toBe(file);
    expect(all.find((d) => d.name === '.')!.nodeid).toBe(0);
    expect(dev.lookups.get(file)).toBe(before + 1);
  });

  it('RENAME, RENAME2 NOREPLACE', () => {
    ok(dev.send(FUSE_RENAME, 1, concat(forgetIn(1), names('g', 'g2'))), 0);
    expect(entry(dev.send(FUSE_LOOKUP, 1, nameIn('g2'))).nodeid).toBe(file);
    const noreplace = concat(
      struct(16, (dv) => {
        setU64(dv, 0, dir);
        dv.setUint32(8, RENAME_NOREPLACE, true);
      }),
      names('g2', 'f'),
    );
    expect(dev.send(FUSE_RENAME2, 1, noreplace).error).toBe(-EEXIST);
  });

  it('RENAME2 EXCHANGE swaps two names; WHITEOUT is refused', () => {
    const a = entry(dev.send(FUSE_MKDIR, 1, mkdirIn(0o755, 'xa')));
    const b = entry(dev.send(FUSE_SYMLINK, 1, names('xb', 'somewhere')));
    const swap = (flags: number) =>
      dev.send(
        FUSE_RENAME2,
        1,
        concat(
          struct(16, (dv) => {
            setU64(dv, 0, 1);
            dv.setUint32(8, flags, true);
          }),
          names('xa', 'xb'),
        ),
      );
    ok(swap(RENAME_EXCHANGE), 0);
    expect(entry(dev.send(FUSE_LOOKUP, 1, nameIn('xa'))).nodeid).toBe(b.nodeid);
    expect(entry(dev.send(FUSE_LOOKUP, 1, nameIn('xb'))).nodeid).toBe(a.nodeid);
    expect(swap(4).error).toBe(-EINVAL); // RENAME_WHITEOUT
    ok(dev.send(FUSE_RMDIR, 1, nameIn('xb')), 0);
    ok(dev.send(FUSE_UNLINK, 1, nameIn('xa')), 0);
  });

  it('SETATTR uid and gid; FSYNCDIR', () => {
    const r = dev.send(
      FUSE_SETATTR,
      dir,
      struct(SetattrIn.SIZE, (dv) => {
        dv.setUint32(SetattrIn.valid, FATTR_UID | FATTR_GID, true);
        dv.setUint32(SetattrIn.uid, 4242, true);
        dv.setUint32(SetattrIn.gid, 4343, true);
      }),
    );
    ok(r, AttrOut.SIZE);
    expect(r.dv.getUint32(AttrOut.attr + Attr.uid, true)).toBe(4242);
    expect(r.dv.getUint32(AttrOut.attr + Attr.gid, true)).toBe(4343);
    ok(dev.send(FUSE_FSYNCDIR, dir, new Uint8Array(16)), 0);
  });

  it('UNLINK of an inode the kernel holds keeps it until FORGET drops the last count', () => {
    ok(dev.send(FUSE_UNLINK, 1, nameIn('g2')), 0);
    ok(dev.send(FUSE_UNLINK, dir, nameIn('f')), 0);
    const held = dev.lookups.get(file);
    expect(held).toBeGreaterThan(0);
    expect(attrOf(dev.send(FUSE_GETATTR, file, new Uint8Array(16))).nlink).toBe(0);
    ok(dev.send(FUSE_READ, file, readIn(0, 100)), 5);
    // FORGET has no reply.
    expect(dev.raw(request(FUSE_FORGET, file, forgetIn(held - 1)))).toEqual([]);
    expect(dev.send(FUSE_GETATTR, file, new Uint8Array(16)).error).toBe(0);
    const batch = concat(
      struct(8, (dv) => dv.setUint32(0, 1, true)),
      struct(16, (dv) => {
        setU64(dv, 0, file);
        setU64(dv, 8, 1);
      }),
    );
    expect(dev.raw(request(FUSE_BATCH_FORGET, 0, batch))).toEqual([]);
    expect(dev.lookups.get(file)).toBe(0);
    expect(dev.send(FUSE_GETATTR, file, new Uint8Array(16)).error).toBeLessThan(0);
  });

  it('RMDIR', () => {
    expect(dev.send(FUSE_RMDIR, 1, nameIn('d')).error).toBe(-39); // ENOTEMPTY
    ok(dev.send(FUSE_UNLINK, dir, nameIn('s')), 0);
    ok(dev.send(FUSE_UNLINK, dir, nameIn('fifo')), 0);
    ok(dev.send(FUSE_RMDIR, 1, nameIn('d')), 0);
    expect(dev.send(FUSE_LOOKUP, 1, nameIn('d')).error).toBe(-ENOENT);
  });
});

describe('files, xattrs, superblock', () => {
  let f = 0;
  let g = 0;
  beforeAll(() => {
    f = u64(dev.send(FUSE_CREATE, 1, createIn('x')).dv, EntryOut.nodeid);
    g = u64(dev.send(FUSE_CREATE, 1, createIn('y')).dv, EntryOut.nodeid);
    dev.send(
      FUSE_WRITE,
      f,
      writeIn(
        0,
        new Uint8Array(10000).map((_, i) => i & 0xff),
      ),
    );
  });

  it('OPEN (O_TRUNC truncates: ATOMIC_O_TRUNC), FLUSH (ENOSYS: never again), FSYNC, RELEASE, OPENDIR, RELEASEDIR', () => {
    ok(dev.send(FUSE_INIT, 0, initIn(7, 31, FUSE_ATOMIC_O_TRUNC)), InitOut.SIZE);
    const o = ok(dev.send(FUSE_OPEN, f, new Uint8Array(8)), OpenOut.SIZE);
    expect(u64(o.dv, OpenOut.fh)).toBe(0);
    const g = u64(dev.send(FUSE_CREATE, 1, createIn('to-truncate')).dv, EntryOut.nodeid);
    ok(dev.send(FUSE_WRITE, g, writeIn(0, new Uint8Array(100))), 8);
    ok(dev.send(FUSE_OPEN, g, new Uint8Array(8)), OpenOut.SIZE);
    expect(attrOf(dev.send(FUSE_GETATTR, g, new Uint8Array(16))).size).toBe(100);
    const trunc = struct(8, (dv) => dv.setUint32(0, 0o1001, true)); // O_WRONLY | O_TRUNC
    ok(dev.send(FUSE_OPEN, g, trunc), OpenOut.SIZE);
    expect(attrOf(dev.send(FUSE_GETATTR, g, new Uint8Array(16))).size).toBe(0);
    expect(dev.send(FUSE_FLUSH, f, new Uint8Array(24)).error).toBe(-ENOSYS);
    ok(dev.send(FUSE_FSYNC, f, new Uint8Array(16)), 0);
    ok(dev.send(FUSE_RELEASE, f, new Uint8Array(24)), 0);
    ok(dev.send(FUSE_OPENDIR, 1, new Uint8Array(8)), OpenOut.SIZE);
    ok(dev.send(FUSE_RELEASEDIR, 1, new Uint8Array(24)), 0);
    ok(dev.send(FUSE_INIT, 0, initIn(7, 31, FUSE_ASYNC_READ)), InitOut.SIZE); // as the other tests had it
  });

  it('COPY_FILE_RANGE copies up to the end of the source', () => {
    const r = ok(
      dev.send(
        FUSE_COPY_FILE_RANGE,
        f,
        struct(CopyFileRangeIn.SIZE, (dv) => {
          setU64(dv, CopyFileRangeIn.off_in, 5000);
          setU64(dv, CopyFileRangeIn.nodeid_out, g);
          setU64(dv, CopyFileRangeIn.off_out, 0);
          setU64(dv, CopyFileRangeIn.len, 1 << 30);
        }),
      ),
      8,
    );
    expect(r.dv.getUint32(0, true)).toBe(5000);
    const back = ok(dev.send(FUSE_READ, g, readIn(0, 8192)), 5000);
    expect([...back.body.subarray(0, 4)]).toEqual([5000 & 0xff, 5001 & 0xff, 5002 & 0xff, 5003 & 0xff]);
  });

  it('FALLOCATE and LSEEK', () => {
    ok(
      dev.send(
        FUSE_FALLOCATE,
        g,
        struct(FallocateIn.SIZE, (dv) => {
          setU64(dv, FallocateIn.offset, 0);
          setU64(dv, FallocateIn.length, 65536);
        }),
      ),
      0,
    );
    expect(attrOf(dev.send(FUSE_GETATTR, g, new Uint8Array(16))).size).toBe(65536);
    const s = ok(
      dev.send(
        FUSE_LSEEK,
        f,
        struct(LseekIn.SIZE, (dv) => dv.setUint32(LseekIn.whence, 3, true)),
      ),
      8,
    );
    expect(u64(s.dv, 0)).toBe(0);
    // SEEK_SET is the kernel's own business.
    expect(dev.send(FUSE_LSEEK, f, struct(LseekIn.SIZE)).error).toBe(-EINVAL);
  });

  it('SETXATTR, GETXATTR (size 0, too small, enough), LISTXATTR, REMOVEXATTR', () => {
    const v = new TextEncoder().encode('value-1');
    ok(dev.send(FUSE_SETXATTR, f, xattrIn(v.length, 'user.k', v)), 0);
    expect(ok(dev.send(FUSE_GETXATTR, f, xattrIn(0, 'user.k')), 8).dv.getUint32(0, true)).toBe(7);
    expect(dev.send(FUSE_GETXATTR, f, xattrIn(3, 'user.k')).error).toBe(-ERANGE);
    expect(new TextDecoder().decode(ok(dev.send(FUSE_GETXATTR, f, xattrIn(100, 'user.k')), 7).body)).toBe(
      'value-1',
    );
    const list = ok(
      dev.send(
        FUSE_LISTXATTR,
        f,
        struct(8, (dv) => dv.setUint32(0, 100, true)),
      ),
      7,
    );
    expect(new TextDecoder().decode(list.body)).toBe('user.k\0');
    expect(ok(dev.send(FUSE_LISTXATTR, f, struct(8)), 8).dv.getUint32(0, true)).toBe(7);
    ok(dev.send(FUSE_REMOVEXATTR, f, names('user.k')), 0);
    expect(dev.send(FUSE_GETXATTR, f, xattrIn(100, 'user.k')).error).toBe(-ENODATA);
  });

  it('STATFS', () => {
    const r = ok(dev.send(FUSE_STATFS, 1), Kstatfs.SIZE);
    expect(r.dv.getUint32(Kstatfs.bsize, true)).toBe(4096);
    expect(u64(r.dv, Kstatfs.blocks) * 4096).toBeGreaterThan(32 * 1024 * 1024);
    expect(u64(r.dv, Kstatfs.bfree)).toBeLessThanOrEqual(u64(r.dv, Kstatfs.blocks));
    expect(r.dv.getUint32(Kstatfs.namelen, true)).toBeGreaterThan(0);
  });

  it('ACCESS checks modes when the kernel does not', () => {
    const strict = new FakeDevice({ client: client(() => false), defaultPermissions: false });
    dev.send(
      FUSE_SETATTR,
      f,
      struct(SetattrIn.SIZE, (dv) => {
        dv.setUint32(SetattrIn.valid, FATTR_MODE, true);
        dv.setUint32(SetattrIn.mode, 0o600, true);
      }),
    );
    const mask = (m: number) => struct(8, (dv) => dv.setUint32(0, m, true));
    expect(strict.send(FUSE_ACCESS, f, mask(4), { uid: 1000, gid: 1000 }).error).toBe(-EACCES);
    expect(strict.send(FUSE_ACCESS, f, mask(6), { uid: 0, gid: 0 }).error).toBe(0);
    expect(strict.send(FUSE_ACCESS, f, mask(1), { uid: 0, gid: 0 }).error).toBe(-EACCES);
    expect(strict.send(FUSE_ACCESS, f, mask(0), { uid: 1000, gid: 1000 }).error).toBe(0);
    expect(dev.send(FUSE_ACCESS, f, mask(4), { uid: 1000, gid: 1000 }).error).toBe(0);
  });
});

describe('buffers in a shared pool', () => {
  it('WRITE and READ move data straight between the pool and the ZT', () => {
    const pool = fs.root.pools[1]!;
    const req = pool.alloc(requestBufferSize(256 * 1024));
    const rep = pool.alloc(replyBufferSize(256 * 1024));
    expect(req).toBeGreaterThanOrEqual(0);
    expect(rep).toBeGreaterThanOrEqual(0);
    try {
      const pd = new FakeDevice({
        client: client(() => false),
        maxWrite: 256 * 1024,
        buffers: {
          request: pool.bytes.subarray(req, req + requestBufferSize(256 * 1024)),
          reply: pool.bytes.subarray(rep, rep + replyBufferSize(256 * 1024)),
        },
      });
      expect(pd.handler.request.buffer).toBe(pool.bytes.buffer);
      const id = u64(pd.send(FUSE_CREATE, 1, createIn('pooled')).dv, EntryOut.nodeid);
      const data = new Uint8Array(200_000).map((_, i) => (i * 13) & 0xff);
      expect(ok(pd.send(FUSE_WRITE, id, writeIn(4096, data)), 8).dv.getUint32(0, true)).toBe(200_000);
      const back = ok(pd.send(FUSE_READ, id, readIn(4096, 256 * 1024)), 200_000);
      expect(Buffer.compare(back.body, data)).toBe(0);
      // The same bytes through the private-buffer handler.
      expect(Buffer.compare(ok(dev.send(FUSE_READ, id, readIn(4096, 200_000)), 200_000).body, data)).toBe(0);
    } finally {
      pool.free(req);
      pool.free(rep);
    }
  });
});

describe('errors and lifetimes', () => {
  it('unknown and unsupported opcodes are ENOSYS; INTERRUPT has no reply; DESTROY is answered', () => {
    expect(dev.send(99, 1).error).toBe(-ENOSYS);
    expect(dev.send(FUSE_GETLK, 1, new Uint8Array(48)).error).toBe(-ENOSYS);
    expect(dev.raw(request(FUSE_INTERRUPT, 0, forgetIn(5)))).toEqual([]);
  });

  it('a reply the kernel did not take gives its count back', () => {
    dev.send(FUSE_MKDIR, 1, mkdirIn(0o755, 'held'));
    const id = u64(dev.send(FUSE_LOOKUP, 1, nameIn('held')).dv, EntryOut.nodeid);
    const n = dev.lookups.get(id);
    dev.failNextWrite = ENOENT;
    dev.send(FUSE_LOOKUP, 1, nameIn('held'));
    expect(dev.lookups.get(id)).toBe(n);
  });

  it('read-only refuses changes with EROFS', () => {
    const ro = new FakeDevice({ client: client(() => false), readOnly: true });
    expect(ro.send(FUSE_MKDIR, 1, mkdirIn(0o755, 'z')).error).toBe(-EROFS);
    expect(ro.send(FUSE_CREATE, 1, createIn('z')).error).toBe(-EROFS);
    expect(
      ro.send(
        FUSE_OPEN,
        1,
        struct(8, (dv) => dv.setUint32(0, 2, true)),
      ).error,
    ).toBe(-EROFS);
    expect(ro.send(FUSE_LOOKUP, 1, nameIn('held')).error).toBe(0);
  });

  it('an exception that is not a ZufsError is EIO and logged, never thrown', () => {
    const broken = new FakeDevice({
      client: new Proxy(
        client(() => false),
        {
          get(t, p, r) {
            if (p === 'getattr')
              return () => {
                throw new TypeError('boom');
              };
            return Reflect.get(t, p, r);
          },
        },
      ),
    });
    expect(broken.send(FUSE_GETATTR, 1, new Uint8Array(16)).error).toBe(-EIO);
    expect(broken.logs.join('\n')).toContain('boom');
  });

  it('DESTROY is answered and marks the handler', () => {
    const d = new FakeDevice({ client: client(() => false) });
    ok(d.send(FUSE_DESTROY, 0), 0);
    expect(d.handler.destroyed).toBe(true);
  });
});
