/**
 * The operation switch (zus-vfs of ZUFS): decode a request from the operation buffer, find the
 * superblock its cookie names, call the plugin, encode the reply. Returns 0 or a negative errno.
 */
import {
  Errno,
  getU64,
  IocHdr,
  IocIoctl,
  IocStatfs,
  Statfs64,
  setU64,
  ZUFS_OP_IOCTL,
  ZUFS_OP_STATFS,
} from '@zufs/zuf-core';
import { iiIno, iiSb } from './cookies.js';
import type { StatfsOut } from './plugin.js';
import type { Zt } from './zt.js';

const ENOTSUP = -Errno.EOPNOTSUPP;
const EINVAL = -Errno.EINVAL;

/** Scratch objects, one per thread: operations never allocate. */
const statfsOut: StatfsOut = {
  type: 0,
  bsize: 0,
  blocks: 0,
  bfree: 0,
  bavail: 0,
  files: 0,
  ffree: 0,
  namelen: 0,
  frsize: 0,
  flags: 0,
};

export function handleFsOp(zt: Zt, op: number, v: DataView): number {
  switch (op) {
    case ZUFS_OP_STATFS:
      return statfs(zt, v);
    case ZUFS_OP_IOCTL:
      return ioctl(zt, v);
    default:
      return ENOTSUP;
  }
}

function statfs(zt: Zt, v: DataView): number {
  const m = zt.mounted(getU64(v, IocStatfs.zus_sbi));
  if (!m) return EINVAL;
  if (!m.sb.statfs) return ENOTSUP;
  const o = statfsOut;
  o.type = m.type.magic;
  o.bsize = o.frsize = 4096;
  o.blocks = o.bfree = o.bavail = o.files = o.ffree = o.flags = 0;
  o.namelen = 255;
  m.sb.statfs(o);
  const at = IocStatfs.statfs_out;
  new Uint8Array(v.buffer, v.byteOffset + at, Statfs64.SIZE).fill(0);
  setU64(v, at + Statfs64.f_type, o.type);
  setU64(v, at + Statfs64.f_bsize, o.bsize);
  setU64(v, at + Statfs64.f_blocks, o.blocks);
  setU64(v, at + Statfs64.f_bfree, o.bfree);
  setU64(v, at + Statfs64.f_bavail, o.bavail);
  setU64(v, at + Statfs64.f_files, o.files);
  setU64(v, at + Statfs64.f_ffree, o.ffree);
  setU64(v, at + Statfs64.f_namelen, o.namelen);
  setU64(v, at + Statfs64.f_frsize, o.frsize);
  setU64(v, at + Statfs64.f_flags, o.flags);
  v.setUint16(IocHdr.out_len, Statfs64.SIZE, true);
  return 0;
}

function ioctl(zt: Zt, v: DataView): number {
  const ii = getU64(v, IocIoctl.zus_ii);
  const m = zt.mounted(iiSb(ii));
  if (!m) return EINVAL;
  if (!m.sb.ioctl) return -Errno.ENOTTY;
  const n = m.sb.ioctl(iiIno(ii), v.getUint32(IocIoctl.cmd, true), zt.ioctlArg, zt.context);
  if (!(n >= 0)) return EINVAL;
  v.setUint16(IocHdr.out_len, n, true);
  return 0;
}
