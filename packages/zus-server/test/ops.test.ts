import { attachZufRoot, dispatcherFor, mountFs, type ZufRoot } from '@zufs/zuf-core';
import {
  Errno,
  getU64,
  IocAttr,
  IocHdr,
  IocLookup,
  IocMountOptions,
  IocReaddir,
  IocSeek,
  S_IFDIR,
  setU64,
  writeZstr,
  ZI_COPY,
  ZUFS_INODE_SIZE,
  ZUFS_OP_CLONE,
  ZUFS_OP_LLSEEK,
  ZUFS_OP_LOOKUP,
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
