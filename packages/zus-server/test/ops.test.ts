import { attachZufRoot, dispatcherFor, mountFs, type ZufRoot } from '@zufs/zuf-core';
import {
  Errno,
  getU64,
  IocAttr,
  IocHdr,
  IocLookup,
  IocLookupPath,
  IocMountOptions,
  IocNewInode,
  IocReaddir,
  IocSeek,
  LookupPathStep,
  lookupPathNamesAt,
  S_IFDIR,
  S_IFREG,
  setU64,
  writeZstr,
  ZI_COPY,
  ZUFS_INODE_SIZE,
  ZUFS_LP_MISSING,
  ZUFS_LP_START,
  ZUFS_OP_CLONE,
  ZUFS_OP_LLSEEK,
  ZUFS_OP_LOOKUP,
  ZUFS_OP_LOOKUP_PATH,
  ZUFS_OP_NEW_INODE,
  ZUFS_OP_READDIR,
  ZUFS_OP_SETATTR,
  ZUFS_OP_SHOW_OPTIONS,
  ZusInode,
} from '@zufs/zuf-core/api';
import { iiCookie, startServer, type ZusServer } from '@zufs/zus-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_FS } from './helpers.js';

const MEM_FS = new URL('./fixtures/mem-fs.mjs', import.meta.url);
let server: ZusServer;
let root: ZufRoot;

beforeAll(async () => {
  server = await startServer({ zts: 1, channels: 2, windowSize: 64 * 1024, filesystems: [MEM_FS, TEST_FS] });
  root = attachZufRoot(server.root);
});
afterAll(async () => {
  await server?.stop();
});

function raw(op: number, inLen: number, outStart: number, outMax: number, fill: (v: DataView) => void) {
  const ch = dispatcherFor(root).acquire();
  try {
    ch.begin(op, inLen, outStart, outMax);
    fill(ch.op);
    const err = ch.call();
    return {
      err,
      v: new DataView(ch.op.buffer.slice(ch.op.byteOffset, ch.op.byteOffset + 4096)),
      outLen: ch.outLen,
    };
  } finally {
    ch.release();
  }
}

describe('operation switch', () => {
  it('LOOKUP answers the cookie and a zus_inode copy after the struct; ENOENT otherwise', () => {
    const m = mountFs(root, 'memfs', '');
    const r = raw(ZUFS_OP_LOOKUP, IocLookup.SIZE, IocLookup._zi, 1024, (v) => {
      setU64(v, IocLookup.dir_ii, m.rootIi);
      writeZstr(v, IocLookup.str, 'nothing');
    });
    expect(r.err).toBe(-Errno.ENOENT);
    const g = raw(ZUFS_OP_SETATTR, IocAttr.SIZE + ZUFS_INODE_SIZE, 0, 1024, (v) => {
      setU64(v, IocAttr.zus_ii, m.rootIi);
      v.setUint32(IocAttr.zuf_attr, 0, true);
    });
    expect(g.err).toBe(0);
    // The copy, then where the zus_inode lies in pmem (this filesystem keeps it elsewhere: 0).
    expect(g.outLen).toBe(ZI_COPY.SETATTR_END);
    expect(g.v.getUint16(IocAttr.SIZE + ZusInode.i_mode, true)).toBe(S_IFDIR | 0o755);
    expect(getU64(g.v, IocAttr.SIZE + ZusInode.i_ino)).toBe(1);
    expect(getU64(g.v, ZI_COPY.SETATTR_ZI)).toBe(0);
    // A caller with room for the copy only gets the copy only.
    const short = raw(
      ZUFS_OP_SETATTR,
      IocAttr.SIZE + ZUFS_INODE_SIZE,
      0,
      IocAttr.SIZE + ZUFS_INODE_SIZE,
      (v) => {
        setU64(v, IocAttr.zus_ii, m.rootIi);
        v.setUint32(IocAttr.zuf_attr, 0, true);
      },
    );
    expect(short.err).toBe(0);
    expect(short.outLen).toBe(IocAttr.SIZE + ZUFS_INODE_SIZE);
  });

  it('SHOW_OPTIONS, READDIR with more, LLSEEK errors', () => {
    const m = mountFs(root, 'memfs', 'inodes=64,blocks=64');
    const s = raw(ZUFS_OP_SHOW_OPTIONS, IocMountOptions.SIZE, IocMountOptions.buf, 512, (v) =>
      setU64(v, IocMountOptions.zus_sbi, m.sbId),
    );
    expect(s.err).toBe(0);
    expect(new TextDecoder().decode(new Uint8Array(s.v.buffer, IocMountOptions.buf, s.outLen))).toBe(
      'inodes=64,blocks=64',
    );
    const d = raw(ZUFS_OP_READDIR, IocReaddir.SIZE, IocReaddir.more, 8, (v) => {
      setU64(v, IocReaddir.dir_ii, m.rootIi);
      setU64(v, IocReaddir.pos, 0);
      v.setUint32(IocHdr.offset, 0, true);
      v.setUint32(IocHdr.len, 64, true);
    });
    expect(d.err).toBe(0);
    expect(d.v.getUint8(IocReaddir.more)).toBe(0);
    const k = raw(ZUFS_OP_LLSEEK, IocSeek.SIZE, IocSeek.offset_out, 8, (v) => {
      setU64(v, IocSeek.zus_ii, m.rootIi);
      setU64(v, IocSeek.offset_in, 0);
      v.setUint32(IocSeek.whence, 3, true);
    });
    expect(k.err).toBe(-Errno.ENXIO);
  });

  it('an unknown superblock is EINVAL, a missing lookup ENOTDIR (as Linux without ->lookup), cross-mount EXDEV', () => {
    const m = mountFs(root, 'memfs', '');
    const t = mountFs(root, 'testfs', '');
    const bad = raw(ZUFS_OP_LOOKUP, IocLookup.SIZE, IocLookup._zi, 1024, (v) => {
      setU64(v, IocLookup.dir_ii, iiCookie(999, 1));
      writeZstr(v, IocLookup.str, 'x');
    });
    expect(bad.err).toBe(-Errno.EINVAL);
    const nosup = raw(ZUFS_OP_LOOKUP, IocLookup.SIZE, IocLookup._zi, 1024, (v) => {
      setU64(v, IocLookup.dir_ii, t.rootIi);
      writeZstr(v, IocLookup.str, 'x');
    });
    expect(nosup.err).toBe(-Errno.ENOTDIR);
    const xdev = raw(ZUFS_OP_CLONE, 72, 0, 0, (v) => {
      setU64(v, 24, m.rootIi);
      setU64(v, 32, t.rootIi);
    });
    expect(xdev.err).toBe(-Errno.EXDEV);
  });
});

describe('LOOKUP_PATH', () => {
  /** A new inode `name` in `dir` (NEW_INODE): its cookie. */
  function make(dir: number, name: string, mode: number, uid = 0, gid = 0): number {
    const r = raw(ZUFS_OP_NEW_INODE, IocNewInode.SIZE, IocNewInode._zi, 1024, (v) => {
      v.setUint16(IocNewInode.zi + ZusInode.i_mode, mode, true);
      v.setUint32(IocNewInode.zi + ZusInode.i_uid, uid, true);
      v.setUint32(IocNewInode.zi + ZusInode.i_gid, gid, true);
      setU64(v, IocNewInode.dir_ii, dir);
      writeZstr(v, IocNewInode.str, name);
      setU64(v, IocNewInode.flags, 0);
    });
    expect(r.err).toBe(0);
    return getU64(r.v, IocNewInode.zus_ii);
  }

  /** LOOKUP_PATH of `names` from `dir` for uid:gid: the error, then the steps' cookies and `missing`. */
  function walk(dir: number, names: string[], uid = 0, gid = 0, edit?: (v: DataView) => void, flags = 0) {
    const at = lookupPathNamesAt(names.length);
    const r = raw(ZUFS_OP_LOOKUP_PATH, 0, IocLookupPath.done, at - IocLookupPath.done, (v) => {
      setU64(v, IocLookupPath.dir_ii, dir);
      v.setUint32(IocLookupPath.uid, uid, true);
      v.setUint32(IocLookupPath.gid, gid, true);
      v.setUint16(IocLookupPath.names, names.length, true);
      v.setUint32(IocLookupPath.flags, flags, true);
      let end = at;
      for (const name of names) end += 1 + writeZstr(v, end, name);
      v.setUint16(IocHdr.in_len, end, true);
      edit?.(v);
    });
    const done = r.err ? 0 : r.v.getUint16(IocLookupPath.done, true);
    const steps = Array.from({ length: done }, (_, i) => {
      const s = IocLookupPath.steps + i * LookupPathStep.SIZE;
      return {
        ii: getU64(r.v, s + LookupPathStep.zus_ii),
        mode: r.v.getUint16(s + LookupPathStep.zi + ZusInode.i_mode, true),
      };
    });
    const missing = !r.err && (r.v.getUint32(IocLookupPath.flags, true) & ZUFS_LP_MISSING) !== 0;
    return {
      err: r.err,
      steps: steps.map((s) => s.ii),
      modes: steps.map((s) => s.mode),
      missing,
      outLen: r.outLen,
      startMode: r.v.getUint16(IocLookupPath.start + ZusInode.i_mode, true),
    };
  }

  it('answers every name in one operation, and stops where the walk cannot go on', () => {
    const m = mountFs(root, 'memfs', '');
    const a = make(m.rootIi, 'a', S_IFDIR | 0o755);
    const b = make(a, 'b', S_IFDIR | 0o755);
    const f = make(b, 'f', S_IFREG | 0o644);
    const locked = make(a, 'locked', S_IFDIR | 0o700);
    const x = make(locked, 'x', S_IFREG | 0o644);
    const grp = make(a, 'grp', S_IFDIR | 0o710, 0, 1000);
    const y = make(grp, 'y', S_IFREG | 0o644);
    const all = walk(m.rootIi, ['a', 'b', 'f']);
    expect(all).toMatchObject({ err: 0, steps: [a, b, f], missing: false });
    expect(all.modes).toEqual([S_IFDIR | 0o755, S_IFDIR | 0o755, S_IFREG | 0o644]);
    expect(all.outLen).toBe(IocLookupPath.steps + 3 * LookupPathStep.SIZE - IocLookupPath.done);
    // A name not there: the walk stands in the directory before it.
    expect(walk(m.rootIi, ['a', 'nope', 'f'])).toMatchObject({ err: 0, steps: [a], missing: true });
    expect(walk(m.rootIi, ['nope', 'b'])).toMatchObject({ err: 0, steps: [], missing: true });
    expect(walk(m.rootIi, ['a', 'b', 'nope'])).toMatchObject({ err: 0, steps: [a, b], missing: true });
    // A file with names after it: the walk ends at it (the app says ENOTDIR), nothing missing.
    expect(walk(m.rootIi, ['a', 'b', 'f', 'g', 'h'])).toMatchObject({
      err: 0,
      steps: [a, b, f],
      missing: false,
    });
    // Search permission, as the app checks it: root passes, the owner class decides for others.
    expect(walk(m.rootIi, ['a', 'locked', 'x'])).toMatchObject({ steps: [a, locked, x] });
    expect(walk(m.rootIi, ['a', 'locked', 'x'], 1000, 1000)).toMatchObject({
      steps: [a, locked],
      missing: false,
    });
    expect(walk(m.rootIi, ['a', 'locked', 'nope'], 1000, 1000)).toMatchObject({
      steps: [a, locked],
      missing: false,
    });
    expect(walk(m.rootIi, ['a', 'grp', 'y'], 1000, 1000)).toMatchObject({ steps: [a, grp, y] });
    expect(walk(m.rootIi, ['a', 'grp', 'y'], 2000, 2000)).toMatchObject({ steps: [a, grp], missing: false });
    // The last name is not searched: a directory the caller may not search may end the path.
    expect(walk(m.rootIi, ['a', 'locked'], 1000, 1000)).toMatchObject({ steps: [a, locked], missing: false });
  });

  it("ZUFS_LP_START: the start's attributes come with the steps, and the walk goes nowhere from a start the caller may not search", () => {
    const m = mountFs(root, 'memfs', '');
    const a = make(m.rootIi, 'a', S_IFDIR | 0o755);
    const locked = make(a, 'locked', S_IFDIR | 0o700);
    const x = make(locked, 'x', S_IFREG | 0o644);
    const start = (dir: number, names: string[], uid: number) =>
      walk(dir, names, uid, uid, undefined, ZUFS_LP_START);
    expect(start(m.rootIi, ['a', 'locked'], 1000)).toMatchObject({
      steps: [a, locked],
      startMode: S_IFDIR | 0o755,
    });
    expect(start(locked, ['x'], 1000)).toMatchObject({
      steps: [],
      missing: false,
      startMode: S_IFDIR | 0o700,
    });
    expect(start(locked, ['nope'], 1000)).toMatchObject({ steps: [], missing: false });
    expect(start(locked, ['x'], 0)).toMatchObject({ steps: [x], startMode: S_IFDIR | 0o700 });
    expect(start(locked, ['nope'], 0)).toMatchObject({ steps: [], missing: true });
    // A start that is no directory: nothing under it.
    expect(start(x, ['y', 'z'], 0)).toMatchObject({ steps: [], missing: false, startMode: S_IFREG | 0o644 });
  });

  it('a malformed request is EINVAL; a filesystem without lookupPath answers EOPNOTSUPP', () => {
    const m = mountFs(root, 'memfs', '');
    make(m.rootIi, 'a', S_IFDIR | 0o755);
    expect(walk(m.rootIi, []).err).toBe(-Errno.EINVAL);
    expect(walk(m.rootIi, ['a', 'b'], 0, 0, (v) => v.setUint8(lookupPathNamesAt(2), 0)).err).toBe(
      -Errno.EINVAL,
    );
    // A name holding '/' or NUL is a path, not a name.
    expect(walk(m.rootIi, ['a', 'b/c']).err).toBe(-Errno.EINVAL);
    expect(walk(m.rootIi, ['a\0', 'b']).err).toBe(-Errno.EINVAL);
    // More names than the request's bytes hold.
    expect(walk(m.rootIi, ['a', 'b'], 0, 0, (v) => v.setUint16(IocLookupPath.names, 3, true)).err).toBe(
      -Errno.EINVAL,
    );
    expect(walk(iiCookie(999, 1), ['a', 'b']).err).toBe(-Errno.EINVAL);
    const t = mountFs(root, 'testfs', '');
    expect(walk(t.rootIi, ['a', 'b']).err).toBe(-Errno.EOPNOTSUPP);
  });
});
