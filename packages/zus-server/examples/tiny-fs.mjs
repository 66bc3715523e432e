// tiny-fs: a complete in-memory filesystem for zufs, written to be read (packages/zus-server/README.md,
// "Writing a filesystem"). One SharedArrayBuffer: [0, 64) a SharedRwLock, `inodes` zus_inodes of 128
// bytes (inode number = index, 1 is the root, i_mode 0 = free), `slot` bytes of data per inode.
import * as api from '@zufs/zuf-core/api';
import { defineFsType, Errno, SharedRwLock, ZusError } from '@zufs/zus-server';

const { getU64, setU64, setTimeNs, modeToDtype, zdeEmit, ZusInode: Z, S_IFDIR, S_IFMT } = api;
const { STATX_SIZE, STATX_MODE, STATX_UID, STATX_GID, STATX_ATIME, STATX_MTIME, STATX_CTIME } = api;
const { RENAME_EXCHANGE, RENAME_NOREPLACE, ZI_TMPFILE, ZUFS_FL_TRUNCATE, ZUFS_RW_APPEND } = api;
const ROOT = 1;
const fail = (errno, what) => {
  throw new ZusError(errno, what);
};

export default defineFsType({
  name: 'tinyfs',
  magic: 0x74696e79,
  // In the mount thread, once per mount: make the memory, format it, describe it.
  mount({ options }) {
    const opt = new URLSearchParams(options.replaceAll(',', '&')); // "inodes=64,slot=4096"
    const inodes = Number(opt.get('inodes') ?? 256);
    const slot = Number(opt.get('slot') ?? 64 * 1024);
    const desc = { mem: new SharedArrayBuffer(64 + inodes * (128 + slot)), inodes, slot };
    open(desc); // formats the new memory
    return { descriptor: desc, rootIno: ROOT };
  },
  // In every ZT, once per mount: views of its own on the same memory.
  attach: (desc) => open(desc),
});

function open({ mem, inodes, slot }) {
  const lock = new SharedRwLock(new Int32Array(mem, 0, SharedRwLock.WORDS), 0);
  const dv = new DataView(mem);
  const u8 = new Uint8Array(mem);
  const zi = (ino) => 64 + ino * 128; // where the inode's zus_inode is
  const data = (ino) => 64 + inodes * 128 + ino * slot;
  const mode = (ino) => dv.getUint16(zi(ino) + Z.i_mode, true);
  const isDir = (ino) => (mode(ino) & S_IFMT) === S_IFDIR;
  const size = (ino) => getU64(dv, zi(ino) + Z.i_size);
  const links = (ino, n) =>
    dv.setUint32(zi(ino) + Z.i_nlink, n + dv.getUint32(zi(ino) + Z.i_nlink, true), true);
  const touch = (ino, ...fields) => {
    for (const f of fields) setTimeNs(dv, zi(ino) + f, Date.now() * 1e6);
  };
  const live = (ino) => (ino > 0 && ino < inodes && mode(ino) ? ino : fail(Errno.ESTALE, `inode ${ino}`));
  const dir = (ino) => (isDir(live(ino)) ? ino : fail(Errno.ENOTDIR, `inode ${ino}`));
  const file = (ino) => (isDir(live(ino)) ? fail(Errno.EISDIR, `inode ${ino}`) : ino);

  function resize(ino, n) {
    if (n > slot) fail(Errno.EFBIG, `${n} bytes`);
    if (n > size(ino)) u8.fill(0, data(ino) + size(ino), data(ino) + n); // new bytes read as zeros
    setU64(dv, zi(ino) + Z.i_size, n);
    touch(ino, Z.i_mtime, Z.i_ctime);
  }
  // A directory's names: a Map of name -> inode, kept as JSON [[name, ino], ...] in its slot (a
  // real filesystem would keep a hash table in shared memory; JSON keeps this one short).
  const names = (d) => new Map(JSON.parse(Buffer.from(mem, data(dir(d)), size(d)).toString() || '[]'));
  function add(d, name, ino) {
    const map = names(d);
    if (map.has(name.str())) fail(Errno.EEXIST, name.str());
    save(d, map.set(name.str(), ino));
  }
  function save(d, map) {
    const json = Buffer.from(JSON.stringify([...map]));
    if (json.length > slot) fail(Errno.ENOSPC, 'directory full');
    u8.set(json, data(d));
    setU64(dv, zi(d) + Z.i_size, json.length);
    touch(d, Z.i_mtime, Z.i_ctime);
  }
  // `ino` loses a link; an (empty) directory also its "." and its parent the ".." pointing there.
  function unlinked(parent, ino, name) {
    if (isDir(ino) && names(ino).size > 0) fail(Errno.ENOTEMPTY, name);
    links(ino, isDir(ino) ? -2 : -1);
    if (isDir(ino)) links(parent, -1);
    touch(ino, Z.i_ctime);
  }

  const reads = {
    statfs(out) {
      let free = 0;
      for (let ino = ROOT + 1; ino < inodes; ino++) if (!mode(ino)) free++;
      [out.bsize, out.namelen, out.files, out.ffree] = [4096, 255, inodes - 1, free];
      [out.blocks, out.bfree, out.bavail] = [inodes * slot, free * slot, free * slot].map((n) => n / 4096);
    },
    lookup: (d, name) => names(d).get(name.str()) ?? fail(Errno.ENOENT, name.str()),
    readdir(d, pos, it) {
      const all = [...names(d)]; // `pos` 0 is the start; entry i tells the app to go on at i + 1
      for (let i = pos; i < all.length; i++) {
        if (!zdeEmit(it, all[i][1], modeToDtype(mode(all[i][1])), i + 1, all[i][0])) return; // full
      }
    },
    // The attributes every reply that hands the app an inode carries: our zus_inode as it is.
    getattr(ino, out) {
      new Uint8Array(out.buffer, out.byteOffset, 128).set(u8.subarray(zi(live(ino)), zi(ino) + 128));
    },
    // Also readlink: a symlink reads as its target.
    read(ino, pos, len, buf, at) {
      const n = Math.max(0, Math.min(len, size(file(ino)) - pos));
      buf.set(u8.subarray(data(ino) + pos, data(ino) + pos + n), at);
      return n;
    },
  };
  const writes = {
    newInode(d, name, attrs, flags, symlink) {
      if (flags & ZI_TMPFILE) fail(Errno.EOPNOTSUPP, 'O_TMPFILE'); // an inode with no name: not here
      if (symlink?.length > slot) fail(Errno.ENAMETOOLONG, 'symlink target');
      let ino = ROOT + 1;
      while (ino < inodes && mode(ino)) ino++;
      if (ino === inodes) fail(Errno.ENOSPC, 'no free inode');
      add(d, name, ino); // first what can fail (EEXIST, ENOSPC), then the inode
      // The app sent mode, owner, times and rdev; the number, the links and the size are ours.
      u8.set(new Uint8Array(attrs.buffer, attrs.byteOffset, 128), zi(ino));
      setU64(dv, zi(ino) + Z.i_ino, ino);
      setU64(dv, zi(ino) + Z.i_size, 0);
      dv.setUint32(zi(ino) + Z.i_nlink, isDir(ino) ? 2 : 1, true);
      if (isDir(ino)) links(d, 1); // its ".."
      if (symlink) {
        resize(ino, symlink.length); // a symlink's data is its target
        u8.set(symlink, data(ino));
      }
      return ino;
    },
    freeInode: (ino) => u8.fill(0, zi(ino), zi(ino) + 128),
    addDentry(d, ino, name) {
      if (isDir(live(ino))) fail(Errno.EPERM, 'a hard link to a directory');
      add(d, name, ino);
      links(ino, 1);
      touch(ino, Z.i_ctime);
    },
    removeDentry(d, ino, name) {
      const map = names(d);
      if (map.get(name.str()) !== ino) fail(Errno.ENOENT, name.str());
      unlinked(d, ino, name.str());
      map.delete(name.str());
      save(d, map);
    },
    rename(oldDir, oldName, newDir, newName, flags) {
      if (flags & RENAME_EXCHANGE) fail(Errno.EINVAL, 'tiny-fs does not swap names');
      const from = names(oldDir);
      const ino = from.get(oldName.str()) ?? fail(Errno.ENOENT, oldName.str());
      const to = newDir === oldDir ? from : names(newDir);
      const old = to.get(newName.str());
      if (old === ino) return;
      if (old !== undefined && flags & RENAME_NOREPLACE) fail(Errno.EEXIST, newName.str());
      if (old !== undefined) unlinked(newDir, old, newName.str()); // the app checked file vs directory
      from.delete(oldName.str());
      save(newDir, to.set(newName.str(), ino));
      if (to !== from) save(oldDir, from);
      if (isDir(ino)) {
        links(oldDir, -1); // its ".." moved
        links(newDir, 1);
      }
      touch(ino, Z.i_ctime);
    },
    setattr(ino, mask, attrs) {
      const o = zi(live(ino));
      const take = (field, bytes) =>
        u8.set(new Uint8Array(attrs.buffer, attrs.byteOffset + field, bytes), o + field);
      if (mask & STATX_SIZE) resize(file(ino), getU64(attrs, Z.i_size));
      if (mask & STATX_MODE)
        dv.setUint16(o + Z.i_mode, (mode(ino) & S_IFMT) | (attrs.getUint16(Z.i_mode, true) & 0o7777), true);
      if (mask & STATX_UID) take(Z.i_uid, 4);
      if (mask & STATX_GID) take(Z.i_gid, 4);
      if (mask & STATX_ATIME) take(Z.i_atime, 8);
      if (mask & STATX_MTIME) take(Z.i_mtime, 8);
      if (mask & STATX_CTIME) take(Z.i_ctime, 8);
      else if (mask) touch(ino, Z.i_ctime);
    },
    // truncate(2) arrives as FALLOCATE with ZUFS_FL_TRUNCATE (as in ZUFS); tiny-fs has no other mode.
    fallocate: (ino, how, pos) => (how & ZUFS_FL_TRUNCATE ? resize(file(ino), pos) : fail(Errno.EOPNOTSUPP)),
    write(ino, pos, len, buf, at, rw) {
      const p = rw & ZUFS_RW_APPEND ? size(file(ino)) : pos;
      if (p + len > size(file(ino))) resize(ino, p + len);
      u8.set(buf.subarray(at, at + len), data(ino) + p);
      touch(ino, Z.i_mtime, Z.i_ctime);
      return p + len;
    },
  };

  // Every ZT runs these at once on the same memory: lookups and reads share the lock, changes own it.
  const sb = { evictInode() {} }; // the app forgot an inode: tiny-fs caches nothing per inode
  for (const [op, f] of Object.entries(reads)) sb[op] = (...a) => lock.withRead(() => f(...a));
  for (const [op, f] of Object.entries(writes)) sb[op] = (...a) => lock.withWrite(() => f(...a));
  if (!mode(ROOT)) {
    dv.setUint16(zi(ROOT) + Z.i_mode, S_IFDIR | 0o755, true); // a new filesystem: make the root
    dv.setUint32(zi(ROOT) + Z.i_nlink, 2, true);
    setU64(dv, zi(ROOT) + Z.i_ino, ROOT);
    touch(ROOT, Z.i_mtime, Z.i_ctime, Z.i_atime);
  }
  return sb;
}
