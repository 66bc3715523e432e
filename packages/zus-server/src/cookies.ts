/**
 * What the server's cookies mean. ZUFS hands the kernel pointers (zus_sbi, zus_ii) as opaque u64
 * cookies; ours are numbers: zus_sbi is the superblock id, zus_ii packs the superblock id above a
 * 32-bit inode number. Only the server reads them.
 */
const INO_SPAN = 2 ** 32;

export function iiCookie(sbId: number, ino: number): number {
  return sbId * INO_SPAN + ino;
}

export function iiSb(cookie: number): number {
  return Math.floor(cookie / INO_SPAN);
}

export function iiIno(cookie: number): number {
  return cookie % INO_SPAN;
}
