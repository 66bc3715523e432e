/**
 * Versions and limits of the zus_api contract.
 */

/** API version of this contract (zus_api.h 1.0); a server may refuse a major it does not know. */
export const ZUFS_MAJOR_VERSION = 1;
export const ZUFS_MINOR_VERSION = 0;
export const ZUFS_MINORS_PER_MAJOR = 1024;

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;

/** Most hard links to one inode. */
export const ZUFS_LINK_MAX = 32000;
/** Longest symlink target, in bytes. */
export const ZUFS_MAX_SYMLINK = PAGE_SIZE;
/** Longest name in a directory, in bytes (UTF-8). */
export const ZUFS_NAME_LEN = 255;
export const ZUFS_READAHEAD_PAGES = 8;
/** Device sizes and offsets align on 2 MiB. */
export const ZUFS_ALLOC_MASK = 2 * 1024 * 1024 - 1;

/** Pages and bytes of a ZT's map window (where app data that is not in shared memory is bounced). */
export const ZUS_API_MAP_MAX_PAGES = 1024;
export const ZUS_API_MAP_MAX_SIZE = ZUS_API_MAP_MAX_PAGES * PAGE_SIZE;

/** Most channels per CPU (ZT) in the grid. */
export const ZUFS_MAX_ZT_CHANNELS = 4;

/** Most bytes of mount options a SHOW_OPTIONS reply carries. */
export const ZUFS_MO_MAX = 512;
