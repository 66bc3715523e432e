/**
 * The mount channel, app side: mount, umount and remount are dispatched to the mount thread over a
 * channel of their own (ZUFS_M_* operations in a zufs_ioc_mount).
 */
import {
  getU64,
  IocMount,
  mountErrorMessage,
  mountErrorRoom,
  setU64,
  ZUFS_M_MOUNT,
  ZUFS_M_REMOUNT,
  ZUFS_M_UMOUNT,
} from './api/index.js';
import { dispatcherFor } from './dispatch.js';
import { ZufsError } from './errors.js';
import type { InodeGensDescriptor } from './inode-gens.js';
import { type RegisteredFsType, readFsInfo } from './registry.js';
import { CTL_FS_TYPES, MAX_FS_TYPES, registryOffset, STATE_READY, STATE_STARTING } from './root-layout.js';
import type { ZufRoot } from './root-view.js';

export interface MountInfo {
  /** Superblock id (zus_sbi cookie). */
  readonly sbId: number;
  /** Root inode cookie (zus_ii). */
  readonly rootIi: number;
  /** dpp of the root zus_inode (pool 0: the filesystem's pmem), 0 if the filesystem does not share it. */
  readonly rootZi: number;
  readonly caps: number;
  readonly blocksizeBits: number;
  readonly fsType: RegisteredFsType;
}

/**
 * The option by which an app offers the server a channel (a BroadcastChannel's name) for shared
 * memory it cannot get through the mount channel: pmemfs posts its pmem there (a SharedArrayBuffer),
 * the mount thread a filesystem's AppCacheOffer (and sets ZUFS_FSC_APP_CACHE in the reply).
 */
export const APP_OFFER_OPTION = 'zufs_pmem';

/** Posted on the app's offered channel: the filesystem lets the app cache (MountResult.appCache). */
export interface AppCacheOffer {
  readonly type: 'zufs-app-cache';
  readonly gens: InodeGensDescriptor;
  readonly ttlMs: number;
}

const encoder = new TextEncoder();

/** The filesystem types the server registered, read from shared memory. */
export function fsTypes(root: ZufRoot): RegisteredFsType[] {
  const n = Atomics.load(root.ctl, CTL_FS_TYPES);
  const out: RegisteredFsType[] = [];
  const dv = new DataView(root.descriptor.control);
  for (let i = 0; i < Math.min(n, MAX_FS_TYPES); i++) out.push(readFsInfo(dv, registryOffset(i), i));
  return out;
}

/** Mounts a filesystem of a registered type. Options are "key=value,flag,..." as the type defines them. */
export function mountFs(root: ZufRoot, type: string, options = '', flags = 0): MountInfo {
  // A server still starting registers its types in a moment; any other state fails below.
  for (let s = root.state(); s === STATE_STARTING || s === STATE_READY; s = root.state()) {
    root.waitStateChange(s, 10_000);
  }
  root.waitServing(); // a restarting server mounts once it serves again
  const t = fsTypes(root).find((x) => x.name === type);
  if (!t) throw new ZufsError(19 /* ENODEV */, `unknown filesystem type "${type}"`, 'mount');
  const opts = encoder.encode(options);
  const ch = dispatcherFor(root).acquireMount();
  try {
    const v = ch.op;
    const need = IocMount.mount_options + opts.length;
    if (need > ch.capacity) throw new ZufsError(7 /* E2BIG */, 'mount options too long', 'mount');
    ch.opBytes.fill(0, 0, IocMount.mount_options);
    // The reply: the mount's cookies, or (mount_options on) why it failed.
    ch.begin(ZUFS_M_MOUNT, need, IocMount.zus_sbi, mountErrorRoom(IocMount.zus_sbi));
    setU64(v, IocMount.zus_zfi, t.index + 1);
    setU64(v, IocMount.mount_flags, flags);
    v.setUint16(IocMount.num_cpu, root.zts, true);
    v.setUint16(IocMount.num_channels, root.channels, true);
    v.setUint32(IocMount.mount_options_len, opts.length, true);
    ch.opBytes.set(opts, IocMount.mount_options);
    const err = ch.call();
    if (err) throw ZufsError.fromErrno(err, 'mount', mountErrorMessage(v) || `${type}: mount failed`);
    return {
      sbId: getU64(v, IocMount.zus_sbi),
      rootIi: getU64(v, IocMount.zus_ii),
      rootZi: getU64(v, IocMount._zi),
      caps: v.getUint32(IocMount.fs_caps, true),
      blocksizeBits: v.getUint32(IocMount.s_blocksize_bits, true),
      fsType: t,
    };
  } finally {
    ch.release();
  }
}

/** Unmounts: the filesystem's umount runs once in the mount thread; every ZT detaches. */
export function umountFs(root: ZufRoot, sbId: number): void {
  mountOp(root, ZUFS_M_UMOUNT, sbId, '', 0, 'umount');
}

/** Remounts with new options and remount flags (ZUFS_REM_*). */
export function remountFs(root: ZufRoot, sbId: number, options = '', remountFlags = 0): void {
  mountOp(root, ZUFS_M_REMOUNT, sbId, options, remountFlags, 'remount');
}

function mountOp(
  root: ZufRoot,
  op: number,
  sbId: number,
  options: string,
  remountFlags: number,
  what: string,
): void {
  const opts = encoder.encode(options);
  const ch = dispatcherFor(root).acquireMount();
  try {
    const v = ch.op;
    if (IocMount.mount_options + opts.length > ch.capacity)
      throw new ZufsError(7 /* E2BIG */, `${what} options too long`, what);
    ch.opBytes.fill(0, 0, IocMount.mount_options);
    ch.begin(
      op,
      IocMount.mount_options + opts.length,
      IocMount.mount_options,
      mountErrorRoom(IocMount.mount_options),
    );
    setU64(v, IocMount.zus_sbi, sbId);
    setU64(v, IocMount.remount_flags, remountFlags);
    v.setUint32(IocMount.mount_options_len, opts.length, true);
    ch.opBytes.set(opts, IocMount.mount_options);
    const err = ch.call();
    if (err) throw ZufsError.fromErrno(err, what, mountErrorMessage(v) || `${what} failed`);
  } finally {
    ch.release();
  }
}
