/**
 * What makes a file a pmemfs image, and which format it is: its first two words. Its own module
 * (and package subpath, `@zufs/example-pmemfs/format`) so that a tool can tell an image without
 * loading the filesystem (the `zufs` commands check an image while their server starts).
 */

/** statfs f_type, and the superblock's first word: "ZPMF" in little-endian ASCII. */
export const PMEMFS_MAGIC = 0x464d505a;
/**
 * The on-pmem format this code writes (the superblock's second word); an image of a newer format
 * is refused. Version 2 uses the journal region (journal.ts): version-1 code would ignore a pending
 * transaction, so it must refuse. Version 3 commits in two slots in turn (journal.ts): version-2
 * code would replay only the first, maybe an older commit than the other's. An image of version 1
 * or 2 (same layout) is upgraded when mounted, and the upgrade is durable before the first commit
 * of version 3.
 */
export const FORMAT_VERSION = 3;
/** Byte offsets of the two words in an image (little-endian u32 each). */
export const MAGIC_OFFSET = 0;
export const VERSION_OFFSET = 4;
