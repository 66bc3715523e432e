/** mount(): a zufs filesystem mounted and given a node:fs-shaped face. */

import { BroadcastChannel, type MessagePort, receiveMessageOnPort, threadId } from 'node:worker_threads';
import {
  APP_OFFER_OPTION,
  type AppCacheOffer,
  attachZufRoot,
  CTL_SHARED_EPOCH,
  type MountInfo,
  mountFs,
  remountFs,
  umountFs,
  ZufRoot,
  type ZufRootDescriptor,
} from '@zufs/zuf-core';
import { ZUFS_FSC_APP_CACHE } from '@zufs/zuf-core/api';
import { InodeClient } from '../inode/client.js';
import { reasonError } from './errors.js';
import { FdTable } from './fds.js';
import { makeFs, type ZufsFs } from './forms.js';
import { OpenCounts, openCountsBytes } from './open-counts.js';
import type { Cred } from './paths.js';
import { ZufsSync } from './sync.js';

export interface MountOptions {
  /** The filesystem type registered with the server ('pmemfs'...). */
  type: string;
  /**
   * The device (source) to mount, e.g. an image file: passed to the filesystem as the `device=`
   * option (pmemfs takes it as its image). No commas: mount options are comma-separated.
   */
  device?: string;
  /** Its mount options ('memory=67108864', 'image=/path'...). */
  options?: string;
  /** The user the face acts as (default: the process's). */
  uid?: number;
  gid?: number;
  /**
   * The file mode creation mask for files and directories made through the face (default: the
   * process's umask when the face is made). Read once, not per create: reading process.umask()
   * writes the process-wide mask twice, a race with every other thread (Node's DEP0139), and costs
   * ~2 us. Change it with ZufsMount.umask().
   */
  umask?: number;
}

/**
 * What another thread needs to use the same mount (structured-cloneable: post it to a worker and
 * call attachMount() there). `shared` holds the mount's namespace generation word, which every
 * thread's name cache watches; `pmem` is the filesystem's shared zus_inodes when it publishes them;
 * `appCache` the generation words and TTL of a filesystem that lets the app cache its entries and
 * attributes (sqlfs: each thread's walk then makes no crossing while they hold).
 */
export interface MountDescriptor {
  readonly root: ZufRootDescriptor;
  readonly mount: MountInfo;
  readonly shared: SharedArrayBuffer;
  readonly pmem?: SharedArrayBuffer;
  readonly appCache?: AppCacheOffer;
}

export type ZufsMount = ZufsFs & {
  readonly root: ZufRoot;
  readonly mount: MountInfo;
  readonly client: InodeClient;
  /** The mount for another thread (attachMount()). */
  readonly descriptor: MountDescriptor;
  /** The same mount (one fd table) seen by another user. */
  asUser(cred: Cred): ZufsFs;
  /**
   * The face's file mode creation mask, as process.umask(): returns the mask, and sets `mask` when
   * given (this thread's face only; it does not touch the process's).
   */
  umask(mask?: number | string): number;
  /**
   * Unmounts the filesystem: open descriptors are dropped, and a call of the promise or callback
   * forms still waiting fails with EIO.
   */
  umount(): void;
  /**
   * Changes mount options the filesystem lets change while mounted (pmemfs: `commit=<seconds>`);
   * an option it cannot change is EINVAL. From any thread of the mount.
   */
  remount(options: string): void;
};

/**
 * The mount's shared control block: the namespace words (first cache line), then, on lines of their
 * own, the open-file counts of every thread (open-counts.ts).
 */
const OPEN_COUNTS_AT = 128;
/**
 * Inodes that may be open at once in one mount (across all its threads, and held by the kernel
 * through FUSE, which holds every inode in its cache): 1.5 MiB of shared memory, touched as used.
 */
const OPEN_INODES_MAX = 1 << 17;
const SHARED_BYTES = OPEN_COUNTS_AT + openCountsBytes(OPEN_INODES_MAX);
export const NS_GEN = 0;
/** Bumped by every name added (create, mkdir, symlink, mknod, link). */
export const NS_ADD = 1;
let mounts = 0;
const receive = (bc: BroadcastChannel) => receiveMessageOnPort(bc as unknown as MessagePort);

export function mount(root: ZufRootDescriptor | ZufRoot, o: MountOptions): ZufsMount {
  const r = root instanceof ZufRoot ? root : attachZufRoot(root);
  // A filesystem that shares its zus_inodes may post its pmem to a channel the options name.
  const token = `zufs-pmem-${process.pid}-${threadId}-${++mounts}`;
  const bc = new BroadcastChannel(token);
  let m: MountInfo;
  let pmem: SharedArrayBuffer | undefined;
  let appCache: AppCacheOffer | undefined;
  try {
    if (o.device !== undefined && (typeof o.device !== 'string' || o.device.includes(',')))
      throw new TypeError(`mount: device must be a path without commas, got ${String(o.device)}`);
    const opts = [o.device === undefined ? '' : `device=${o.device}`, o.options ?? '']
      .filter(Boolean)
      .join(',');
    try {
      const offer = `${APP_OFFER_OPTION}=${token}`;
      m = mountFs(r, o.type, opts ? `${opts},${offer}` : offer);
    } catch (e) {
      // A filesystem strict about its options: mount without the offer.
      if ((e as { errno?: number }).errno !== 22) throw reasonError(e, 'mount');
      try {
        m = mountFs(r, o.type, opts);
      } catch (e2) {
        throw reasonError(e2, 'mount');
      }
    }
    // What the filesystem (its pmem) and the server (an AppCacheOffer) posted before replying.
    if (m.rootZi || m.caps & ZUFS_FSC_APP_CACHE)
      for (let msg = receive(bc); msg; msg = receive(bc)) {
        const x = msg.message as SharedArrayBuffer | AppCacheOffer;
        if (x instanceof SharedArrayBuffer) pmem = x;
        else if (x?.type === 'zufs-app-cache') appCache = x;
      }
  } finally {
    bc.close();
  }
  const shared = new SharedArrayBuffer(SHARED_BYTES);
  // The MountInfo carries them too: a thread given only (zuf-root descriptor, MountInfo) shares them.
  // pmemEpoch: a thread given this later knows whether a restart has replaced that pmem since.
  const info = {
    ...m,
    shared,
    pmem,
    appCache,
    pmemEpoch: Atomics.load(r.ctl, CTL_SHARED_EPOCH),
  } as MountInfo;
  const d: MountDescriptor = { root: r.descriptor, mount: info, shared, pmem, appCache };
  return face(r, d, o, () => {
    try {
      umountFs(r, m.sbId);
    } catch (e) {
      throw reasonError(e, 'umount');
    }
  });
}

/**
 * The face of a mount made in another thread (its `descriptor`): names cached here stay coherent
 * with every other thread's changes. Its file descriptors are this thread's own.
 */
export function attachMount(d: MountDescriptor, cred: Partial<Cred> = {}): ZufsMount {
  return face(attachZufRoot(d.root), d, cred, () => {
    throw new Error('umount from the thread that mounted');
  });
}

/** The mount's open counts, shared by every thread (and by a FUSE bridge serving the mount). */
export function mountOpenCounts(d: MountDescriptor): OpenCounts {
  return new OpenCounts(d.shared, OPEN_COUNTS_AT, OPEN_INODES_MAX);
}

/** A mask as process.umask() takes it: a number or an octal string, 0 to 0o777. */
function checkUmask(mask: unknown): number {
  const m = typeof mask === 'string' && /^[0-7]+$/.test(mask) ? Number.parseInt(mask, 8) : mask;
  if (typeof m !== 'number' || !Number.isInteger(m) || m < 0 || m > 0o777)
    throw new RangeError(
      `umask must be an integer from 0 to 0o777 (or an octal string), got ${String(mask)}`,
    );
  return m;
}

function face(r: ZufRoot, d: MountDescriptor, o: Partial<Cred>, umount: () => void): ZufsMount {
  const counts = mountOpenCounts(d);
  // d.mount's pmemEpoch is kept.
  const info = { ...d.mount, shared: d.shared, pmem: d.pmem, appCache: d.appCache } as MountInfo;
  // An inode whose last link goes while a thread has it open is freed by the last close.
  const c = new InodeClient(r, info, { inUse: (ii) => counts.keepIfOpen(ii) });
  // A server restart that rolled the filesystem back to its last commit (CTL_SHARED_EPOCH moves)
  // may have lost an open file's inode: each fd checks (ino, generation) once, ESTALE if it is gone.
  const fds = new FdTable(counts, {
    ctl: r.ctl,
    at: CTL_SHARED_EPOCH,
    alive(f) {
      try {
        return f.gen === undefined || c.getattr(f.ii).generation === f.gen;
      } catch {
        return false;
      }
    },
  });
  const vol = { c, fds, umask: o.umask === undefined ? process.umask() : checkUmask(o.umask) };
  const cred = { uid: o.uid ?? process.getuid?.() ?? 0, gid: o.gid ?? process.getgid?.() ?? 0 };
  const fs = makeFs(new ZufsSync(vol, cred)) as ZufsMount;
  return Object.assign(fs, {
    root: r,
    mount: info,
    client: c,
    descriptor: d,
    asUser: (who: Cred) => makeFs(new ZufsSync(vol, who)),
    umask(mask?: number | string) {
      const old = vol.umask;
      if (mask !== undefined) vol.umask = checkUmask(mask);
      return old;
    },
    umount() {
      umount();
      // A call of the promise forms still waiting (soon mode) fails with EIO when it resumes.
      c.unmounted();
    },
    remount(options: string) {
      // mount(2) with MS_REMOUNT, as Linux names it.
      try {
        remountFs(r, d.mount.sbId, options);
      } catch (e) {
        throw reasonError(e, 'mount');
      }
    },
  });
}
