/**
 * The FUSE wire protocol of the kernel's include/uapi/linux/fuse.h (7.x): opcodes, flags and the byte
 * offsets of every struct this package reads or writes. Everything is little-endian (the kernel's own
 * byte order on every machine Node runs on here) and every struct is padded to 8 bytes.
 */

export const FUSE_KERNEL_VERSION = 7;
/**
 * The minor version we answer (or the kernel's, if older): every struct and flag used here exists in
 * this form at 7.31 (max_pages came with 7.28); later minors add nothing we need.
 */
export const FUSE_KERNEL_MINOR_VERSION = 31;
/** The oldest kernel minor we accept: 7.23 has the 64-byte init_out and everything else we use. */
export const FUSE_MIN_MINOR = 23;
export const FUSE_ROOT_ID = 1;
/** The kernel refuses a read() buffer smaller than this. */
export const FUSE_MIN_READ_BUFFER = 8192;

// ~~~ opcodes (enum fuse_opcode) ~~~
export const FUSE_LOOKUP = 1;
export const FUSE_FORGET = 2;
export const FUSE_GETATTR = 3;
export const FUSE_SETATTR = 4;
export const FUSE_READLINK = 5;
export const FUSE_SYMLINK = 6;
export const FUSE_MKNOD = 8;
export const FUSE_MKDIR = 9;
export const FUSE_UNLINK = 10;
export const FUSE_RMDIR = 11;
export const FUSE_RENAME = 12;
export const FUSE_LINK = 13;
export const FUSE_OPEN = 14;
export const FUSE_READ = 15;
export const FUSE_WRITE = 16;
export const FUSE_STATFS = 17;
export const FUSE_RELEASE = 18;
export const FUSE_FSYNC = 20;
export const FUSE_SETXATTR = 21;
export const FUSE_GETXATTR = 22;
export const FUSE_LISTXATTR = 23;
export const FUSE_REMOVEXATTR = 24;
export const FUSE_FLUSH = 25;
export const FUSE_INIT = 26;
export const FUSE_OPENDIR = 27;
export const FUSE_READDIR = 28;
export const FUSE_RELEASEDIR = 29;
export const FUSE_FSYNCDIR = 30;
export const FUSE_GETLK = 31;
export const FUSE_SETLK = 32;
export const FUSE_SETLKW = 33;
export const FUSE_ACCESS = 34;
export const FUSE_CREATE = 35;
export const FUSE_INTERRUPT = 36;
export const FUSE_BMAP = 37;
export const FUSE_DESTROY = 38;
export const FUSE_IOCTL = 39;
export const FUSE_POLL = 40;
export const FUSE_NOTIFY_REPLY = 41;
export const FUSE_BATCH_FORGET = 42;
export const FUSE_FALLOCATE = 43;
export const FUSE_READDIRPLUS = 44;
export const FUSE_RENAME2 = 45;
export const FUSE_LSEEK = 46;
export const FUSE_COPY_FILE_RANGE = 47;
export const FUSE_SETUPMAPPING = 48;
export const FUSE_REMOVEMAPPING = 49;
export const FUSE_SYNCFS = 50;
export const FUSE_TMPFILE = 51;

/** Opcodes the kernel sends without waiting for (and without accepting) a reply. */
export function isNoReply(opcode: number): boolean {
  return opcode === FUSE_FORGET || opcode === FUSE_BATCH_FORGET || opcode === FUSE_INTERRUPT;
}

const NAMES: Record<number, string> = {
  1: 'LOOKUP',
  2: 'FORGET',
  3: 'GETATTR',
  4: 'SETATTR',
  5: 'READLINK',
  6: 'SYMLINK',
  8: 'MKNOD',
  9: 'MKDIR',
  10: 'UNLINK',
  11: 'RMDIR',
  12: 'RENAME',
  13: 'LINK',
  14: 'OPEN',
  15: 'READ',
  16: 'WRITE',
  17: 'STATFS',
  18: 'RELEASE',
  20: 'FSYNC',
  21: 'SETXATTR',
  22: 'GETXATTR',
  23: 'LISTXATTR',
  24: 'REMOVEXATTR',
  25: 'FLUSH',
  26: 'INIT',
  27: 'OPENDIR',
  28: 'READDIR',
  29: 'RELEASEDIR',
  30: 'FSYNCDIR',
  31: 'GETLK',
  32: 'SETLK',
  33: 'SETLKW',
  34: 'ACCESS',
  35: 'CREATE',
  36: 'INTERRUPT',
  37: 'BMAP',
  38: 'DESTROY',
  39: 'IOCTL',
  40: 'POLL',
  41: 'NOTIFY_REPLY',
  42: 'BATCH_FORGET',
  43: 'FALLOCATE',
  44: 'READDIRPLUS',
  45: 'RENAME2',
  46: 'LSEEK',
  47: 'COPY_FILE_RANGE',
  48: 'SETUPMAPPING',
  49: 'REMOVEMAPPING',
  50: 'SYNCFS',
  51: 'TMPFILE',
};

export function fuseOpName(opcode: number): string {
  return NAMES[opcode] ?? `OP_${opcode}`;
}

// ~~~ INIT flags (fuse_init_in/out.flags) ~~~
export const FUSE_ASYNC_READ = 1 << 0;
export const FUSE_POSIX_LOCKS = 1 << 1;
export const FUSE_ATOMIC_O_TRUNC = 1 << 3;
export const FUSE_EXPORT_SUPPORT = 1 << 4;
export const FUSE_BIG_WRITES = 1 << 5;
export const FUSE_DONT_MASK = 1 << 6;
export const FUSE_FLOCK_LOCKS = 1 << 10;
export const FUSE_AUTO_INVAL_DATA = 1 << 12;
export const FUSE_DO_READDIRPLUS = 1 << 13;
export const FUSE_READDIRPLUS_AUTO = 1 << 14;
export const FUSE_ASYNC_DIO = 1 << 15;
export const FUSE_WRITEBACK_CACHE = 1 << 16;
export const FUSE_PARALLEL_DIROPS = 1 << 18;
export const FUSE_HANDLE_KILLPRIV = 1 << 19;
export const FUSE_POSIX_ACL = 1 << 20;
export const FUSE_ABORT_ERROR = 1 << 21;
export const FUSE_MAX_PAGES = 1 << 22;
export const FUSE_CACHE_SYMLINKS = 1 << 23;
/** 7.33: the filesystem kills suid/sgid/capabilities on write, truncate and chown (the kernel then sets SB_NOSEC). */
export const FUSE_HANDLE_KILLPRIV_V2 = 1 << 28;
export const FUSE_SETXATTR_EXT = 1 << 29;
export const FUSE_INIT_EXT = 1 << 30;

// ~~~ SETATTR valid bits ~~~
export const FATTR_MODE = 1 << 0;
export const FATTR_UID = 1 << 1;
export const FATTR_GID = 1 << 2;
export const FATTR_SIZE = 1 << 3;
export const FATTR_ATIME = 1 << 4;
export const FATTR_MTIME = 1 << 5;
export const FATTR_FH = 1 << 6;
export const FATTR_ATIME_NOW = 1 << 7;
export const FATTR_MTIME_NOW = 1 << 8;
export const FATTR_LOCKOWNER = 1 << 9;
export const FATTR_CTIME = 1 << 10;
/** With FUSE_HANDLE_KILLPRIV_V2: a truncate by a caller without CAP_FSETID kills suid/sgid. */
export const FATTR_KILL_SUIDGID = 1 << 11;
/** write_in.write_flags: kill suid/sgid (the writer lacks CAP_FSETID). */
export const FUSE_WRITE_KILL_SUIDGID = 1 << 2;
/** open_in/create_in.open_flags: kill suid/sgid on an O_TRUNC open. */
export const FUSE_OPEN_KILL_SUIDGID = 1 << 0;

// ~~~ other flags ~~~
export const FOPEN_DIRECT_IO = 1 << 0;
export const FOPEN_KEEP_CACHE = 1 << 1;
export const FUSE_FSYNC_FDATASYNC = 1 << 0;
export const RENAME_NOREPLACE = 1 << 0;
export const RENAME_EXCHANGE = 1 << 1;
export const RENAME_WHITEOUT = 1 << 2;

// ~~~ struct layouts: byte offsets, SIZE last ~~~
// Each name is the C struct's without the fuse_ prefix.

/** struct fuse_in_header: every request starts with it. */
export const InHeader = {
  len: 0,
  opcode: 4,
  unique: 8,
  nodeid: 16,
  uid: 24,
  gid: 28,
  pid: 32,
  total_extlen: 36, // u16, in 8-byte units, after the op's arguments
  SIZE: 40,
} as const;

/** struct fuse_out_header: every reply starts with it. */
export const OutHeader = { len: 0, error: 4, unique: 8, SIZE: 16 } as const;

export const Attr = {
  ino: 0,
  size: 8,
  blocks: 16,
  atime: 24,
  mtime: 32,
  ctime: 40,
  atimensec: 48,
  mtimensec: 52,
  ctimensec: 56,
  mode: 60,
  nlink: 64,
  uid: 68,
  gid: 72,
  rdev: 76,
  blksize: 80,
  flags: 84,
  SIZE: 88,
} as const;

export const EntryOut = {
  nodeid: 0,
  generation: 8,
  entry_valid: 16,
  attr_valid: 24,
  entry_valid_nsec: 32,
  attr_valid_nsec: 36,
  attr: 40,
  SIZE: 40 + Attr.SIZE, // 128
} as const;

export const AttrOut = {
  attr_valid: 0,
  attr_valid_nsec: 8,
  dummy: 12,
  attr: 16,
  SIZE: 16 + Attr.SIZE,
} as const; // 104

export const ForgetIn = { nlookup: 0, SIZE: 8 } as const;
export const BatchForgetIn = { count: 0, dummy: 4, SIZE: 8 } as const;
export const ForgetOne = { nodeid: 0, nlookup: 8, SIZE: 16 } as const;
export const GetattrIn = { getattr_flags: 0, dummy: 4, fh: 8, SIZE: 16 } as const;

export const SetattrIn = {
  valid: 0,
  padding: 4,
  fh: 8,
  size: 16,
  lock_owner: 24,
  atime: 32,
  mtime: 40,
  ctime: 48,
  atimensec: 56,
  mtimensec: 60,
  ctimensec: 64,
  mode: 68,
  unused4: 72,
  uid: 76,
  gid: 80,
  unused5: 84,
  SIZE: 88,
} as const;

export const MknodIn = { mode: 0, rdev: 4, umask: 8, padding: 12, SIZE: 16 } as const;
export const MkdirIn = { mode: 0, umask: 4, SIZE: 8 } as const;
export const RenameIn = { newdir: 0, SIZE: 8 } as const;
export const Rename2In = { newdir: 0, flags: 8, padding: 12, SIZE: 16 } as const;
export const LinkIn = { oldnodeid: 0, SIZE: 8 } as const;
export const OpenIn = { flags: 0, open_flags: 4, SIZE: 8 } as const;
export const CreateIn = { flags: 0, mode: 4, umask: 8, open_flags: 12, SIZE: 16 } as const;
export const OpenOut = { fh: 0, open_flags: 8, padding: 12, SIZE: 16 } as const;
export const ReleaseIn = { fh: 0, flags: 8, release_flags: 12, lock_owner: 16, SIZE: 24 } as const;
export const FlushIn = { fh: 0, unused: 8, padding: 12, lock_owner: 16, SIZE: 24 } as const;

export const ReadIn = {
  fh: 0,
  offset: 8,
  size: 16,
  read_flags: 20,
  lock_owner: 24,
  flags: 32,
  padding: 36,
  SIZE: 40,
} as const;

export const WriteIn = {
  fh: 0,
  offset: 8,
  size: 16,
  write_flags: 20,
  lock_owner: 24,
  flags: 32,
  padding: 36,
  SIZE: 40,
} as const;

export const WriteOut = { size: 0, padding: 4, SIZE: 8 } as const;

export const Kstatfs = {
  blocks: 0,
  bfree: 8,
  bavail: 16,
  files: 24,
  ffree: 32,
  bsize: 40,
  namelen: 44,
  frsize: 48,
  padding: 52,
  spare: 56, // u32[6]
  SIZE: 80,
} as const;

export const FsyncIn = { fh: 0, fsync_flags: 8, padding: 12, SIZE: 16 } as const;
/** fuse_setxattr_in without FUSE_SETXATTR_EXT (we do not ask for it): size, flags. */
export const SetxattrIn = { size: 0, flags: 4, SIZE: 8 } as const;
export const GetxattrIn = { size: 0, padding: 4, SIZE: 8 } as const;
export const GetxattrOut = { size: 0, padding: 4, SIZE: 8 } as const;
export const AccessIn = { mask: 0, padding: 4, SIZE: 8 } as const;

export const InitIn = { major: 0, minor: 4, max_readahead: 8, flags: 12, flags2: 16, SIZE: 64 } as const;
/** The part of fuse_init_in every 7.x kernel sends. */
export const INIT_IN_MIN = 16;

export const InitOut = {
  major: 0,
  minor: 4,
  max_readahead: 8,
  flags: 12,
  max_background: 16, // u16
  congestion_threshold: 18, // u16
  max_write: 20,
  time_gran: 24,
  max_pages: 28, // u16
  map_alignment: 30, // u16
  flags2: 32,
  SIZE: 64,
} as const;

export const InterruptIn = { unique: 0, SIZE: 8 } as const;

export const FallocateIn = { fh: 0, offset: 8, length: 16, mode: 24, padding: 28, SIZE: 32 } as const;
export const LseekIn = { fh: 0, offset: 8, whence: 16, padding: 20, SIZE: 24 } as const;
export const LseekOut = { offset: 0, SIZE: 8 } as const;

export const CopyFileRangeIn = {
  fh_in: 0,
  off_in: 8,
  nodeid_out: 16,
  fh_out: 24,
  off_out: 32,
  len: 40,
  flags: 48,
  SIZE: 56,
} as const;

/** struct fuse_dirent: a record of READDIR's reply, name follows, padded to 8 bytes. */
export const Dirent = { ino: 0, off: 8, namelen: 16, type: 20, name: 24 } as const;
/** struct fuse_direntplus: an entry_out, then a dirent. */
export const DirentPlus = { entry_out: 0, dirent: EntryOut.SIZE, name: EntryOut.SIZE + Dirent.name } as const;

/** FUSE_REC_ALIGN: variable-length records are padded to 8 bytes. */
export function recAlign(n: number): number {
  return (n + 7) & ~7;
}

/** Bytes one READDIR record with a name of `nameLen` bytes takes. */
export function direntSize(nameLen: number): number {
  return recAlign(Dirent.name + nameLen);
}

/** Bytes one READDIRPLUS record with a name of `nameLen` bytes takes. */
export function direntPlusSize(nameLen: number): number {
  return recAlign(DirentPlus.name + nameLen);
}

// ~~~ fallocate modes (linux/falloc.h) the filesystem may be asked for ~~~
export const FALLOC_FL_KEEP_SIZE = 0x01;
export const FALLOC_FL_PUNCH_HOLE = 0x02;
export const FALLOC_FL_ZERO_RANGE = 0x10;
export const FALLOCATE_MODES = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE;
