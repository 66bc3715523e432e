/**
 * Inodes and names: ZUFS_OP_NEW_INODE, FREE_INODE, EVICT_INODE, LOOKUP, LOOKUP_PATH, ADD_DENTRY,
 * REMOVE_DENTRY, RENAME. Names are zufs_str (a length byte and up to 255 bytes of UTF-8).
 */
import { IocHdrLayout } from './hdr.js';
import { ZusInodeLayout } from './inode.js';
import { defineStruct, field } from './layout.js';

// ~~~ zufs_ioc_new_inode.flags / zufs_ioc_evict_inode.flags ~~~
/** NEW_INODE: an O_TMPFILE inode, not linked in a directory. */
export const ZI_TMPFILE = 1;
/** EVICT_INODE: the inode lost a lookup race; free the cookie, do not evict the inode. */
export const ZI_LOOKUP_RACE = 1;

// ~~~ zufs_ioc_rename.flags (renameat2) ~~~
export const RENAME_NOREPLACE = 1 << 0;
export const RENAME_EXCHANGE = 1 << 1;
export const RENAME_WHITEOUT = 1 << 2;

/** ZUFS_OP_NEW_INODE: create an inode from `zi` and (unless ZI_TMPFILE) link it as `str` in `dir_ii`. */
export const IocNewInodeLayout = defineStruct('zufs_ioc_new_inode', [
  /*   0 */ field.struct('hdr', IocHdrLayout),
  // IN
  /*  24 */ field.struct('zi', ZusInodeLayout), // mode, uid, gid, times, rdev / symlink ...
  /* 152 */ field.cookie('dir_ii'), //            the directory (the root for a tmpfile)
  /* 160 */ field.zstr('str'),
  /* 416 */ field.u64('flags'), //               ZI_TMPFILE
  // OUT
  /* 424 */ field.dpp('_zi'), //                  where the new zus_inode is
  /* 432 */ field.cookie('zus_ii'),
]); /* 440 */
export const IocNewInode = IocNewInodeLayout.off;

/** ZUFS_OP_FREE_INODE (last link and last user gone) and ZUFS_OP_EVICT_INODE (the app forgets it). */
export const IocEvictInodeLayout = defineStruct('zufs_ioc_evict_inode', [
  /*  0 */ field.struct('hdr', IocHdrLayout),
  /* 24 */ field.cookie('zus_ii'),
  /* 32 */ field.u64('flags'), // ZI_LOOKUP_RACE
]); /* 40 */
export const IocEvictInode = IocEvictInodeLayout.off;

/** ZUFS_OP_LOOKUP: `str` in `dir_ii`; the reply is the inode's dpp and cookie (or -ENOENT). */
export const IocLookupLayout = defineStruct('zufs_ioc_lookup', [
  /*   0 */ field.struct('hdr', IocHdrLayout),
  /*  24 */ field.cookie('dir_ii'), // IN
  /*  32 */ field.zstr('str'), //      IN
  /* 288 */ field.dpp('_zi'), //       OUT
  /* 296 */ field.cookie('zus_ii'), // OUT
]); /* 304 */
export const IocLookup = IocLookupLayout.off;

/** LOOKUP_PATH, OUT flags: name `done` is not in the directory the walk stands in (ENOENT there). */
export const ZUFS_LP_MISSING = 1;
/**
 * LOOKUP_PATH, IN flags: the app has not checked `dir_ii` (it does not know its attributes): the
 * reply carries its zus_inode at `start`, and the walk goes nowhere (`done` 0) unless it is a
 * directory the caller may search.
 */
export const ZUFS_LP_START = 2;

/** One name a LOOKUP_PATH resolved: the inode, where its zus_inode is, and a copy of it. */
export const LookupPathStepLayout = defineStruct('zufs_lookup_path_step', [
  /*  0 */ field.cookie('zus_ii'),
  /*  8 */ field.dpp('_zi'), //              as LOOKUP's
  /* 16 */ field.struct('zi', ZusInodeLayout), // the zus_inode copy, as every reply naming an inode
]); /* 144 */
export const LookupPathStep = LookupPathStepLayout.off;

/**
 * ZUFS_OP_LOOKUP_PATH (zufs's own): `names` names looked up one in the other from `dir_ii`, in one
 * operation (a filesystem whose every LOOKUP is a network round trip answers a path in one). The
 * request is this struct, `names` steps (OUT), then the names (IN) as zufs_str one after another.
 * The walk stops before a name it cannot take: missing (ZUFS_LP_MISSING), or after an inode that is
 * not a directory the caller (`uid`, `gid`) may search: a symlink (the app follows it), a file
 * (ENOTDIR), a directory without the x bit for the caller (EACCES); the app sees why from the last
 * step's copy and goes on by itself. `dir_ii` itself the app checked before it asked, or it asks
 * for its attributes with ZUFS_LP_START.
 */
export const IocLookupPathLayout = defineStruct('zufs_ioc_lookup_path', [
  /*  0 */ field.struct('hdr', IocHdrLayout),
  /* 24 */ field.cookie('dir_ii'), //   IN
  /* 32 */ field.u32('uid'), //         IN the caller's, for search permission
  /* 36 */ field.u32('gid'), //         IN
  /* 40 */ field.u16('names'), //       IN how many names
  /* 42 */ field.u16('done'), //        OUT how many steps (names resolved)
  /* 44 */ field.u32('flags'), //       IN ZUFS_LP_START; OUT ZUFS_LP_MISSING
  /* 48 */ field.struct('start', ZusInodeLayout), // OUT with ZUFS_LP_START: dir_ii's zus_inode
  /* 176 */ field.mark('steps', 8), //  OUT `names` zufs_lookup_path_step; the names after them
]); /* 176 */
export const IocLookupPath = IocLookupPathLayout.off;

/** Where a LOOKUP_PATH of `names` names puts its names (after the steps). */
export function lookupPathNamesAt(names: number): number {
  return IocLookupPath.steps + names * LookupPathStep.SIZE;
}

/** ZUFS_OP_ADD_DENTRY (link `zus_ii` as `str`) and ZUFS_OP_REMOVE_DENTRY (unlink, rmdir). */
export const IocDentryLayout = defineStruct('zufs_ioc_dentry', [
  /*   0 */ field.struct('hdr', IocHdrLayout),
  /*  24 */ field.cookie('zus_ii'), //     IN
  /*  32 */ field.cookie('zus_dir_ii'), // IN
  /*  40 */ field.zstr('str'), //          IN
  /* 296 */ field.u64('ino'), //           OUT
]); /* 304 */
export const IocDentry = IocDentryLayout.off;

/** ZUFS_OP_RENAME: move `old_d_str` of `old_dir_ii` to `new_d_str` of `new_dir_ii`. */
export const IocRenameLayout = defineStruct('zufs_ioc_rename', [
  /*   0 */ field.struct('hdr', IocHdrLayout),
  // IN
  /*  24 */ field.cookie('old_dir_ii'),
  /*  32 */ field.cookie('new_dir_ii'),
  /*  40 */ field.cookie('old_zus_ii'), // the inode moved
  /*  48 */ field.cookie('new_zus_ii'), // the inode replaced at the target (0: none); OUT too
  //                                      when out_start/out_max cover it: the one the server replaced
  /*  56 */ field.zstr('old_d_str'),
  /* 312 */ field.zstr('new_d_str'),
  /* 568 */ field.time('time'), //         ctime/mtime to set, ns
  /* 576 */ field.u64('flags'), //        RENAME_*
]); /* 584 */
export const IocRename = IocRenameLayout.off;
