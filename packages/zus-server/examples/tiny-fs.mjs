// tiny-fs, the example of packages/zus-server/README.md. One SharedArrayBuffer: [0, 64) a SharedRwLock, then
// `inodes` 128-byte zus_inodes (number = index, 1 is the root, i_mode 0 = free), then `slot` bytes per inode.
import * as api from '@zufs/zuf-core/api';
import { defineFsType, Errno, SharedRwLock, ZusError } from '@zufs/zus-server';

const { getU64, setU64, setTimeNs, modeToDtype, zdeEmit, S_IFDIR, S_IFMT, ZUFS_FL_TRUNCATE } = api;
const { i_mode, i_nlink, i_size, i_ino, i_uid, i_gid, i_atime, i_mtime, i_ctime } = api.ZusInode;
const ROOT = 1;
const fail = (errno, what) => {
  throw new ZusError(errno, what);
};
const bytes = (view, at = 0, n = 128) => new Uint8Array(view.buffer, view.byteOffset + at, n); // a zus_inode
// mount() runs once per mount, in the mount thread; attach() in every ZT: open() makes views of the memory.
export default defineFsType({ name: 'tinyfs', magic: 0x74696e79, mount, attach: open });

function mount({ options }) {
  const opt = new URLSearchParams(options.replaceAll(',', '&')); // "inodes=64,slot=4096"
  const [inodes, slot] = [Number(opt.get('inodes') ?? 256), Number(opt.get('slot') ?? 64 * 1024)];
  const descriptor = { mem: new SharedArrayBuffer(64 + inodes * (128 + slot)), inodes, slot };
  open(descriptor); // formats the new memory
  return { descriptor, rootIno: ROOT };
}

function open({ mem, inodes, slot }) {
  const lock = new SharedRwLock(new Int32Array(mem, 0, SharedRwLock.WORDS), 0);
  const [dv, u8] = [new DataView(mem), new Uint8Array(mem)];
  const zi = (ino) => 64 + ino * 128; // where the inode's zus_inode is
  const data = (ino) => 64 + inodes * 128 + ino * slot;
  const mode = (ino) => dv.getUint16(zi(ino) + i_mode, true);
  const isDir = (ino) => (mode(ino) & S_IFMT) === S_IFDIR;
  const size = (ino) => getU64(dv, zi(ino) + i_size);
  const links = (ino, n) => dv.setUint32(zi(ino) + i_nlink, dv.getUint32(zi(ino) + i_nlink, true) + n, true);
  const touch = (ino, ...fields) => fields.map((f) => setTimeNs(dv, zi(ino) + f, Date.now() * 1e6));
  const live = (ino) => (ino > 0 && ino < inodes && mode(ino) ? ino : fail(Errno.ESTALE, `inode ${ino}`));
  const dir = (ino) => (isDir(live(ino)) ? ino : fail(Errno.ENOTDIR, `inode ${ino}`));
  const file = (ino) => (isDir(live(ino)) ? fail(Errno.EISDIR, `inode ${ino}`) : ino);
  const numbers = [...Array(inodes).keys()].slice(ROOT + 1); // every inode but the root (0 is unused)
  function resize(ino, n, errno = Errno.EFBIG) {
    if (n > slot) fail(errno, `inode ${ino}: ${n} bytes`); // before anything changes
    if (n > size(ino)) u8.fill(0, data(ino) + size(ino), data(ino) + n); // new bytes read as zeros
    setU64(dv, zi(ino) + i_size, n);
    touch(ino, i_mtime, i_ctime);
  }
  function store(ino, buf, errno) {
    resize(ino, buf.length, errno);
    u8.set(buf, data(ino));
  }
  // A directory's names: a Map of name -> inode, as JSON in its slot (a real filesystem keeps a hash table).
  const names = (d) => new Map(JSON.parse(Buffer.from(mem, data(dir(d)), size(d)).toString() || '[]'));
  const save = (d, map) => store(d, Buffer.from(JSON.stringify([...map])), Errno.ENOSPC);
  function add(d, name, ino) {
    if (names(d).has(name.str())) fail(Errno.EEXIST, name.str());
    save(d, names(d).set(name.str(), ino));
  }
  // `name` in `d` goes. A directory must be empty, unless it is `moving` to another name.
  function unlink(d, ino, name, { moving = false } = {}) {
    if (names(d).get(name.str()) !== ino) fail(Errno.ENOENT, name.str());
    if (isDir(ino) && !moving && names(ino).size > 0) fail(Errno.ENOTEMPTY, name.str());
    save(d, new Map([...names(d)].filter(([n]) => n !== name.str())));
    named(d, ino, -1);
  }
  // A name is a link to its inode (a directory's one name comes with its "."); a directory's ".." one to `d`.
  function named(d, ino, n) {
    links(ino, isDir(ino) ? 2 * n : n);
    if (isDir(ino)) links(d, n);
    touch(ino, i_ctime);
  }
  const reads = {
    statfs(out) {
      const free = numbers.filter((ino) => !mode(ino)).length;
      [out.bsize, out.frsize, out.files, out.ffree] = [slot, slot, inodes - 1, free]; // a block: a slot
      [out.blocks, out.bfree, out.bavail] = [inodes - 1, free, free];
    },
    lookup: (d, name) => names(d).get(name.str()) ?? fail(Errno.ENOENT, name.str()),
    readdir(d, pos, it) {
      // Entry i's cookie is i + 1 (`pos` 0: the start); zdeEmit says false when the reply is full.
      for (const [i, [name, ino]] of [...names(d)].entries())
        if (i >= pos && !zdeEmit(it, ino, modeToDtype(mode(ino)), i + 1, name)) return;
    },
    getattr: (ino, out) => bytes(out).set(u8.subarray(zi(live(ino)), zi(ino) + 128)), // in every reply
    read(ino, pos, len, buf, at) {
      const n = Math.max(0, Math.min(len, size(file(ino)) - pos)); // also readlink: a symlink's target
      buf.set(u8.subarray(data(ino) + pos, data(ino) + pos + n), at);
      return n;
    },
  };
  const writes = {
    newInode(d, name, attrs, flags, symlink) {
      if (flags & api.ZI_TMPFILE) fail(Errno.EOPNOTSUPP, 'O_TMPFILE'); // an inode with no name: not here
      if (symlink?.length > slot) fail(Errno.ENAMETOOLONG, 'symlink target');
      const ino = numbers.find((i) => !mode(i)) ?? fail(Errno.ENOSPC, 'no free inode');
      add(d, name, ino); // first what can fail (EEXIST, ENOSPC), then the inode
      u8.set(bytes(attrs), zi(ino)); // the app sent mode, owner, times, rdev; number, links, size are ours
      setU64(dv, zi(ino) + i_ino, ino);
      dv.setUint32(zi(ino) + i_nlink, 0, true);
      named(d, ino, 1);
      store(ino, symlink ?? Buffer.from(isDir(ino) ? '[]' : '')); // a symlink's data: its target; a dir's: []
      return ino;
    },
    freeInode: (ino) => u8.fill(0, zi(ino), zi(ino) + 128),
    addDentry(d, ino, name) {
      if (isDir(live(ino))) fail(Errno.EPERM, 'a hard link to a directory');
      add(d, name, ino);
      named(d, ino, 1);
    },
    removeDentry: (d, ino, name) => unlink(d, ino, name),
    rename(oldDir, oldName, newDir, newName, flags) {
      if (flags & api.RENAME_EXCHANGE) fail(Errno.EINVAL, 'tiny-fs does not swap names');
      const ino = reads.lookup(oldDir, oldName);
      const old = names(newDir).get(newName.str()); // a name to replace (the app checked file vs directory)
      if (old !== undefined && flags & api.RENAME_NOREPLACE) fail(Errno.EEXIST, newName.str()); // first, as Linux
      if (old === ino) return; // two names of one inode: nothing to do
      if (old !== undefined) unlink(newDir, old, newName);
      add(newDir, newName, ino);
      named(newDir, ino, 1); // a directory's ".." moves with it
      unlink(oldDir, ino, oldName, { moving: true });
    },
    setattr(ino, mask, attrs) {
      const take = (field, n) => u8.set(bytes(attrs, field, n), zi(live(ino)) + field);
      if (mask & api.STATX_SIZE) resize(file(ino), getU64(attrs, i_size));
      const perms = attrs.getUint16(i_mode, true) & 0o7777; // chmod keeps the file type
      if (mask & api.STATX_MODE) dv.setUint16(zi(ino) + i_mode, (mode(ino) & S_IFMT) | perms, true);
      if (mask & api.STATX_UID) take(i_uid, 4);
      if (mask & api.STATX_GID) take(i_gid, 4);
      if (mask & api.STATX_ATIME) take(i_atime, 8);
      if (mask & api.STATX_MTIME) take(i_mtime, 8);
      if (mask & api.STATX_CTIME) take(i_ctime, 8);
      else if (mask) touch(ino, i_ctime);
    },
    // truncate(2) arrives as FALLOCATE with ZUFS_FL_TRUNCATE (as in ZUFS); tiny-fs has no other mode.
    fallocate: (ino, how, len) => (how & ZUFS_FL_TRUNCATE ? resize(file(ino), len) : fail(Errno.EOPNOTSUPP)),
    write(ino, pos, len, buf, at, rw) {
      const p = rw & api.ZUFS_RW_APPEND ? size(file(ino)) : pos;
      resize(ino, Math.max(size(ino), p + len)); // also the times
      u8.set(buf.subarray(at, at + len), data(ino) + p);
      return p + len;
    },
  };
  if (!mode(ROOT)) {
    api.ZusInodeLayout.encode(dv, zi(ROOT), { i_mode: S_IFDIR | 0o755, i_nlink: 2, i_ino: ROOT });
    touch(ROOT, i_atime); // a new filesystem: its root, stamped now, with no names ("[]": never size 0)
    save(ROOT, new Map());
  }
  // Every ZT runs these at once on the same memory: lookups and reads share the lock, changes own it.
  const sb = {}; // no evictInode: tiny-fs caches nothing per inode
  for (const [op, f] of Object.entries(reads)) sb[op] = (...a) => lock.withRead(() => f(...a));
  for (const [op, f] of Object.entries(writes)) sb[op] = (...a) => lock.withWrite(() => f(...a));
  return sb;
}
