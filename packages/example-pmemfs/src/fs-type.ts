/**
 * pmemfs as a zufs filesystem type: the module the server loads in every worker
 * (`startServer({ filesystems: ['@zufs/example-pmemfs/fs-type'] })`).
 *
 * mount() opens the image once, in the mount thread; every ZT attaches to the same SharedArrayBuffer.
 * Its zus_inodes live in that shared image, so an inode's dpp (pool 0) is its byte offset there.
 *
 * Mount options: `image=/path/to/file` (an image made by mkfs; `device=`, which vfs's
 * `mount({ device })` passes, is the same), or `memory=<bytes>` for a fresh in-memory filesystem
 * (tests, scratch space); `inodes=<n>` and `label=<s>` with `memory`;
 * `commit=<seconds>`: background commit interval of an image (default 5, 0: off);
 * `holder=<text>`: who the image's lock names (default: this process's command line).
 * An image is locked while mounted (`IMAGE.lock`, image-lock.ts): a second opener gets EBUSY.
 * Any other option is EINVAL, as a kernel filesystem's unknown option is.
 */
import {
  encodeDpp,
  getTimeNs,
  getU64,
  IOM_NONE,
  IocHdr,
  IocIO,
  iomEncode,
  iomEncodeBn,
  S_IFLNK,
  S_IFMT,
  STATX_ATIME,
  STATX_CTIME,
  STATX_GID,
  STATX_MODE,
  STATX_MTIME,
  STATX_SIZE,
  STATX_UID,
  setU64,
  type ZdeIter,
  ZI_TMPFILE,
  ZUF_XF_SECURITY,
  ZUF_XF_SYSTEM,
  ZUF_XF_TRUSTED,
  ZUF_XF_USER,
  ZUFS_FL_TRUNCATE,
  ZUFS_RW_APP_COPY,
  ZUFS_RW_APPEND,
  ZufsIomap,
  ZusInode,
  zdeEmitBytes,
} from '@zufs/zuf-core/api';
import { defineFsType, Errno, type SuperBlock, type ZName, ZusError } from '@zufs/zus-server';
import { type DeviceDescriptor, PmemDevice } from './device.js';
import type { ReaddirRawEmit } from './dir.js';
import { PmemFs, type SetattrIn } from './fs.js';
import { releaseLockToken } from './image-lock.js';
import { mkfs } from './mkfs.js';
import { BLOCK_SIZE, PMEMFS_MAGIC, ROOT_INO } from './super.js';

const XATTR_PREFIX: Record<number, string> = {
  [ZUF_XF_SECURITY]: 'security.',
  [ZUF_XF_SYSTEM]: 'system.',
  [ZUF_XF_TRUSTED]: 'trusted.',
  [ZUF_XF_USER]: 'user.',
};

function parseOptions(s: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of s.split(',')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    m.set(eq < 0 ? part : part.slice(0, eq), eq < 0 ? '' : part.slice(eq + 1));
  }
  return m;
}

/** Every option mount() takes (`zufs_pmem=`: the face's offer of a channel, see mount()). */
const MOUNT_OPTIONS = new Set([
  'image',
  'device',
  'memory',
  'inodes',
  'label',
  'commit',
  'holder',
  'zufs_pmem',
]);

/** The options, checked before anything is opened: EINVAL names the first one pmemfs does not take. */
function mountOptions(options: string): Map<string, string> {
  const o = parseOptions(options);
  for (const key of o.keys())
    if (!MOUNT_OPTIONS.has(key)) throw new ZusError(Errno.EINVAL, `pmemfs: unknown option '${key}'`);
  if (!o.get('image') && !o.get('device') && !o.get('memory'))
    throw new ZusError(Errno.EINVAL, 'pmemfs: no image (mount with image=PATH, device=PATH or memory=BYTES)');
  const commit = o.get('commit');
  if (commit !== undefined) commitMs(commit);
  return o;
}

/** Opens the image read-write (taking its lock); a Node error becomes its errno with a short message. */
function openImage(image: string, holder: string | undefined): PmemDevice {
  try {
    return PmemDevice.openFile(image, { holder, sparse: true }); // PmemFs.mount reads what it uses
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new ZusError(Errno.ENOENT, `no such image ${image}`);
    if (typeof err.errno === 'number' && typeof err.code === 'string' && err.syscall)
      throw new ZusError(Math.abs(err.errno), `${image}: ${err.syscall} failed`);
    if (err instanceof RangeError) throw new ZusError(Errno.EINVAL, `${image}: ${err.message}`);
    throw e;
  }
}

function openDevice(o: Map<string, string>): PmemDevice {
  const image = o.get('image') || o.get('device'); // device=: the face's mount({ device })
  if (image) return openImage(image, o.get('holder'));
  const memory = o.get('memory');
  if (memory) {
    const dev = PmemDevice.memory(Number(memory));
    // Touch every page now, as loading an image does: a fresh SharedArrayBuffer is mapped lazily,
    // and the first write to each page would be a page fault inside some operation.
    for (let at = 0; at < dev.size; at += 1 << 30) dev.bytes.zero(at, Math.min(1 << 30, dev.size - at));
    mkfs(dev, { inodes: o.has('inodes') ? Number(o.get('inodes')) : undefined, label: o.get('label') });
    return dev;
  }
  throw new ZusError(Errno.EINVAL, 'pmemfs: no image (mount with image=PATH, device=PATH or memory=BYTES)');
}

const nameOf = (n: ZName): Uint8Array => n.bytes.subarray(n.at, n.at + n.len);

/**
 * The zus_inode copies getattr fills are a ZT's few reply slots: each gets its word view once, so
 * that a copy allocates nothing (null: not 4-byte aligned, copied through bytes).
 */
const ziWords: [DataView, Uint32Array | null][] = [];
function wordsOf(zi: DataView): Uint32Array | null {
  for (let i = 0; i < ziWords.length; i++) if (ziWords[i][0] === zi) return ziWords[i][1];
  const words =
    (zi.byteOffset & 3) === 0 ? new Uint32Array(zi.buffer, zi.byteOffset, ZusInode.SIZE >>> 2) : null;
  if (ziWords.length < 32) ziWords.push([zi, words]);
  return words;
}

/** The per-ZT superblock: zus_api operations mapped onto PmemFs. */
function superBlock(fs: PmemFs): SuperBlock {
  const dev = fs.device;
  const attr: SetattrIn = {};
  /** getMulty's block list (grown to the largest io-map asked for, then reused). */
  let blocks = new Float64Array(0);
  const xname = (type: number, n: ZName): string => {
    const prefix = XATTR_PREFIX[type];
    if (!prefix) throw new ZusError(Errno.EOPNOTSUPP, `xattr namespace ${type}`);
    return prefix + n.str();
  };
  /** READDIR's cursor, for the entry emitter made once per ZT. */
  let dirIt: ZdeIter | null = null;
  const emitEntry: ReaddirRawEmit = (ino, type, nextPos, bytes, at, len) =>
    zdeEmitBytes(dirIt as ZdeIter, ino, type, nextPos, bytes, at, len);
  return {
    // The app sees pmem (NIO): a large write's data may be copied there by the app itself.
    appCopy: true,
    statfs(out) {
      const s = fs.statfs();
      Object.assign(out, s);
    },
    newInode(dir, name, zi, flags, symlink) {
      const tmpfile = (flags & ZI_TMPFILE) !== 0;
      return fs.newInode(dir, name ? nameOf(name) : '', {
        mode: zi.getUint16(ZusInode.i_mode, true),
        uid: zi.getUint32(ZusInode.i_uid, true),
        gid: zi.getUint32(ZusInode.i_gid, true),
        rdev: zi.getUint32(ZusInode.i_rdev, true),
        symlinkTarget: symlink ?? undefined,
        tmpfile,
      });
    },
    freeInode(ino) {
      fs.evict(ino);
    },
    evictInode(ino) {
      fs.evict(ino);
    },
    lookup(dir, name) {
      return fs.lookup(dir, nameOf(name)); // 0: not there
    },
    addDentry(dir, ino, name) {
      fs.addDentry(dir, ino, nameOf(name));
    },
    removeDentry(dir, ino, name) {
      // Only if the name still holds `ino` (ENOENT otherwise), as what that inode is.
      fs.removeDentry(dir, nameOf(name), 0, ino);
    },
    rename(oldDir, oldName, newDir, newName, flags) {
      // A replaced inode that lost its last link and has no users is freed by the app's FREE_INODE.
      return fs.rename(oldDir, nameOf(oldName), newDir, nameOf(newName), flags);
    },
    readdir(dir, pos, it) {
      // '.' and '..' are the app side's: start past them.
      dirIt = it;
      fs.readdirRaw(dir, pos < 2 ? 2 : pos, emitEntry);
    },
    ziDpp(ino) {
      return encodeDpp(fs.iget(ino), 0);
    },
    getattr(ino, zi) {
      const at = fs.iget(ino);
      const to = wordsOf(zi);
      if (to === null) {
        new Uint8Array(zi.buffer, zi.byteOffset, ZusInode.SIZE).set(dev.u8.subarray(at, at + ZusInode.SIZE));
        return;
      }
      const from = dev.u32;
      const w = at >>> 2; // zus_inodes lie 128-byte aligned in pmem
      for (let i = 0; i < ZusInode.SIZE >>> 2; i++) to[i] = from[w + i];
    },
    setattr(ino, mask, zi) {
      attr.mode = mask & STATX_MODE ? zi.getUint16(ZusInode.i_mode, true) : undefined;
      attr.uid = mask & STATX_UID ? zi.getUint32(ZusInode.i_uid, true) : undefined;
      attr.gid = mask & STATX_GID ? zi.getUint32(ZusInode.i_gid, true) : undefined;
      attr.size = mask & STATX_SIZE ? getU64(zi, ZusInode.i_size) : undefined;
      attr.atime = mask & STATX_ATIME ? getTimeNs(zi, ZusInode.i_atime) : undefined;
      attr.mtime = mask & STATX_MTIME ? getTimeNs(zi, ZusInode.i_mtime) : undefined;
      attr.ctime = mask & STATX_CTIME ? getTimeNs(zi, ZusInode.i_ctime) : undefined;
      fs.setattr(ino, mask, attr);
    },
    read(ino, pos, len, buf, at) {
      if ((dev.dv.getUint16(fs.iget(ino) + ZusInode.i_mode, true) & S_IFMT) === S_IFLNK) {
        // zus_api has no READLINK: a symlink reads as its target.
        const target = fs.readlink(ino).subarray(pos);
        const n = Math.min(len, target.length);
        buf.set(target.subarray(0, n), at);
        return n;
      }
      return fs.read(ino, pos, buf.subarray(at, at + len));
    },
    getMulty(ino, io, at) {
      // NIO read: the pmem block of each 4 KiB of [filepos, filepos + len), clipped at the file's end;
      // the app copies from the shared device itself (and checks the server's change seqlock).
      const pos = getU64(io, at + IocIO.filepos);
      const len = io.getUint32(at + IocHdr.len, true);
      const max = io.getUint32(at + IocIO.ziom + ZufsIomap.iom_max, true);
      if (blocks.length < max) blocks = new Float64Array(max);
      const n = fs.getMulty(ino, pos, len, blocks.length === max ? blocks : blocks.subarray(0, max));
      for (let i = 0; i < n; i++) {
        const e = at + IocIO.iom_e + i * 8;
        if (blocks[i] === 0) iomEncode(io, e, IOM_NONE, 0);
        else iomEncodeBn(io, e, blocks[i] / BLOCK_SIZE, 0);
      }
      const size = getU64(dev.dv, fs.iget(ino) + ZusInode.i_size);
      const end = Math.min(size, pos + len, (Math.floor(pos / BLOCK_SIZE) + n) * BLOCK_SIZE);
      io.setUint32(at + IocIO.ziom + ZufsIomap.iom_n, n, true);
      setU64(io, at + IocIO.last_pos, n > 0 ? end : pos);
    },
    write(ino, pos, len, buf, at, rw, ctx) {
      if (rw & ZUFS_RW_APP_COPY) return pos + fs.writeByApp(ino, pos, len, ctx.copyFromApp);
      const start = rw & ZUFS_RW_APPEND ? fs.getattr(ino).size : pos;
      return start + fs.write(ino, start, buf.subarray(at, at + len));
    },
    sync() {
      fs.sync();
    },
    fallocate(ino, mode, pos, end) {
      if (mode & ZUFS_FL_TRUNCATE) fs.truncate(ino, pos);
      else fs.fallocate(ino, mode, pos, end - pos);
    },
    seek(ino, offset, whence) {
      return fs.seek(ino, offset, whence);
    },
    clone(src, dst, posIn, posOut, len) {
      fs.copyRange(src, posIn, dst, posOut, len === 0 ? Math.max(0, fs.getattr(src).size - posIn) : len);
    },
    getxattr(ino, type, name, out, at, max) {
      return fs.getxattr(ino, xname(type, name), max === 0 ? null : out.subarray(at, at + max));
    },
    setxattr(ino, type, name, buf, at, len, flags) {
      if (buf === null) fs.removexattr(ino, xname(type, name));
      else fs.setxattr(ino, xname(type, name), buf.subarray(at, at + len), flags);
    },
    listxattr(ino, out, at, max) {
      return fs.listxattr(ino, max === 0 ? null : out.subarray(at, at + max));
    },
  };
}

/** The mount thread's filesystem of each mount (by its device's memory), for remount. */
const mounted = new Map<SharedArrayBuffer, PmemFs>();

/** `commit=<seconds>` in milliseconds; EINVAL unless a number >= 0. */
function commitMs(v: string): number {
  const s = Number(v);
  if (v === '' || !(s >= 0))
    throw new ZusError(Errno.EINVAL, `pmemfs: commit=${v} is not a number of seconds`);
  return s * 1000;
}

export default defineFsType<DeviceDescriptor>({
  name: 'pmemfs',
  magic: PMEMFS_MAGIC,
  version: { major: 1, minor: 0 },
  timeGranularityNs: 1,
  mount({ options, restart }) {
    const o = mountOptions(options);
    // Durability: `commit=<seconds>` (as ext4's; 0 turns it off) is the background commit interval.
    const commit = o.get('commit');
    const mountOpts = {
      commitIntervalMs: commit === undefined ? undefined : commitMs(commit),
      restartEpoch: restart?.epoch,
    };
    // After a server restart: the memory the previous mount left, when no change or commit was
    // under way (nothing lost); else the image again from its last commit (what was fsync'd).
    const whole = restart ? PmemFs.wholeAfterRestart(restart.previous) : null;
    if (whole) {
      whole.takeOver(restart!.previous, o.get('holder'));
      const fs = PmemFs.mount(whole, mountOpts);
      mounted.set(fs.descriptor().data, fs);
      return {
        descriptor: fs.descriptor(),
        rootIno: ROOT_INO,
        rootZi: encodeDpp(fs.iget(ROOT_INO), 0),
        blocksizeBits: Math.log2(BLOCK_SIZE),
        sharedKept: true,
      };
    }
    if (restart && !restart.previous.path)
      throw new ZusError(
        Errno.EIO,
        'pmemfs: a memory volume its server left mid-change has no commit to go back to',
      );
    if (restart?.previous.path && restart.previous.lockToken)
      releaseLockToken(restart.previous.path, restart.previous.lockToken);
    const dev = openDevice(o);
    let fs: PmemFs;
    try {
      fs = PmemFs.mount(dev, mountOpts);
    } catch (e) {
      dev.abandon(); // not a pmemfs we can mount: nothing of it is written back
      throw e;
    }
    mounted.set(fs.descriptor().data, fs);
    // An app that named a channel gets the device, to read zus_inodes without a dispatch.
    const publish = o.get('zufs_pmem');
    if (publish) {
      const bc = new BroadcastChannel(publish);
      bc.postMessage(fs.descriptor().data);
      bc.close();
    }
    return {
      descriptor: fs.descriptor(),
      rootIno: ROOT_INO,
      rootZi: encodeDpp(fs.iget(ROOT_INO), 0),
      blocksizeBits: Math.log2(BLOCK_SIZE),
    };
  },
  attach(descriptor) {
    return superBlock(PmemFs.attach(descriptor));
  },
  // Only the background commit interval can change on a mounted filesystem.
  remount(descriptor, options) {
    const fs = mounted.get(descriptor.data);
    if (!fs) throw new ZusError(Errno.EINVAL, 'pmemfs remount: not mounted');
    const o = parseOptions(options);
    for (const key of o.keys())
      if (key !== 'commit' && key !== 'zufs_pmem')
        throw new ZusError(Errno.EINVAL, `pmemfs remount: ${key} cannot change (only commit=<seconds>)`);
    const commit = o.get('commit');
    if (commit !== undefined) fs.setCommitInterval(commitMs(commit));
  },
  umount(descriptor) {
    const fs = mounted.get(descriptor.data);
    mounted.delete(descriptor.data);
    PmemFs.stopBackgroundCommit(descriptor); // durability: the mount thread's committer
    if (fs) {
      fs.close(); // commits, then lets go of the image's lock
      return;
    }
    const dev = PmemDevice.attach(descriptor);
    dev.flush();
    dev.close();
  },
});
