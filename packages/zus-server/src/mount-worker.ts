/**
 * Entry of the mount thread: registers the filesystem types, then serves the mount channel
 * (ZUFS_M_MOUNT / UMOUNT / REMOUNT). It keeps its event loop (Atomics.waitAsync), so a filesystem's
 * mount() may be async. A mount's descriptor is posted to every ZT's port.
 */
import { BroadcastChannel, parentPort, workerData } from 'node:worker_threads';
import { RELAY_BROKEN, RELAY_TIMEOUT, relayDefaults } from '@zufs/relay';
import {
  APP_OFFER_OPTION,
  type AppCacheOffer,
  attachZufRoot,
  CTL_MOUNT_GEN,
  CTL_ROOT_ID,
  CTL_SHARED_EPOCH,
  InodeGens,
  isZufsError,
  notifyChannelFreed,
  publishFsTypes,
  STATE_RESTARTING,
  ZufsError,
} from '@zufs/zuf-core';
import {
  Errno,
  getU64,
  IocHdr,
  IocMount,
  putMountError,
  setU64,
  ZUFS_FSC_APP_CACHE,
  ZUFS_M_MOUNT,
  ZUFS_M_REMOUNT,
  ZUFS_M_UMOUNT,
} from '@zufs/zuf-core/api';
import { collectGarbage } from './collect.js';
import { iiCookie } from './cookies.js';
import { loadFsTypes } from './fs-loader.js';
import type { MountThreadData, RestartPlan } from './generation.js';
import {
  type GoMessage,
  type InlineNotice,
  type InlinePortMessage,
  type LedgerMessage,
  type MountNotice,
  noticeChannelName,
  type WorkerEvent,
} from './messages.js';
import type { FsType, MountResult } from './plugin.js';
import { IDLE_PARK_SLICE_MS } from './zt.js';
import type { ZtThreadData } from './zt-boot.js';
import { SHARED_THREAD_SPIN_US } from './zt-thread.js';

const data = workerData as MountThreadData;
const post = (e: WorkerEvent) => parentPort!.postMessage(e);
const log = (level: 'warn' | 'error', message: string) => post({ type: 'log', level, message });
relayDefaults.parkSliceMs = IDLE_PARK_SLICE_MS;
/** How long after an unmount the mount thread collects its garbage (collectSoon). */
const COLLECT_DELAY_MS = 200;
let collecting: NodeJS.Timeout | undefined;
const root = attachZufRoot(data.root);
if (data.zt) serveGrid(data.zt);
const types = await loadFsTypes(data.filesystems);
/** A standby generation's restart plan, once the supervisor says go (the old threads have ended). */
const restart = data.standby ? await waitGo() : null;
publishFsTypes(
  root,
  types.map((t) => ({
    name: t.name,
    magic: t.magic,
    versionMajor: t.version?.major ?? 0,
    versionMinor: t.version?.minor ?? 0,
    maxBytes: t.maxBytes ?? Number.MAX_SAFE_INTEGER,
    timeGranularityNs: t.timeGranularityNs ?? 1,
    defaultMode: t.defaultMode ?? 0o755,
    remote: t.remote === true,
  })),
);

interface Mount {
  readonly type: FsType;
  readonly fsIndex: number;
  readonly descriptor: unknown;
  readonly epoch: number;
  /** What a restart mounts it again with: the mount's options and flags, and its remounts'. */
  options: string;
  readonly flags: number;
}
const mounts = new Map<number, Mount>();
let nextSbId = restart?.nextSbId ?? 1;
const decoder = new TextDecoder();
/** Inline ZTs hear every notice here (it outlives this thread across restarts); grid ZTs on their ports. */
const inlineNotices = new BroadcastChannel(noticeChannelName(Atomics.load(root.ctl, CTL_ROOT_ID)));

// Inline ZTs (app threads serving their own operations, inline-zt.ts) join later, each with a port:
// it gets the mounts up so far and is done with (later notices come on the broadcast channel, which
// the inline ZT listens to before it asks).
function onControl(m: InlinePortMessage): void {
  if (m?.type !== 'inline-port') return;
  const post = (n: InlineNotice) => m.port.postMessage(n);
  for (const [sbId, x] of mounts)
    post({ type: 'attach', sbId, fsIndex: x.fsIndex, descriptor: x.descriptor, epoch: x.epoch });
  post({ type: 'ready', filesystems: data.filesystems, gen: Atomics.load(root.ctl, CTL_MOUNT_GEN) });
  m.port.close();
}
data.control.on('message', onControl);

function notify(n: MountNotice): void {
  for (const p of data.ztPorts) p.postMessage(n);
  inlineNotices.postMessage(n);
  // Bumped after the notices are queued: a ZT that sees the new generation finds them on its port.
  Atomics.add(root.ctl, CTL_MOUNT_GEN, 1);
}

/** Keeps the supervisor's ledger: what to mount again after a restart. */
function record(sbId: number, m: Mount): void {
  const entry = {
    sbId,
    type: m.type.name,
    options: m.options,
    flags: m.flags,
    descriptor: m.descriptor,
    epoch: m.epoch,
  };
  data.control.postMessage({ type: 'mounted', entry } satisfies LedgerMessage);
}

function readOptions(v: DataView): string {
  const len = v.getUint32(IocMount.mount_options_len, true);
  const max = v.byteLength - IocMount.mount_options;
  if (len > max) throw new ZufsError(Errno.EINVAL, 'mount options longer than the request');
  return decoder.decode(new Uint8Array(v.buffer, v.byteOffset + IocMount.mount_options, len));
}

function checkResult(type: FsType, res: MountResult<unknown>): MountResult<unknown> {
  if (!res || typeof res !== 'object' || !Number.isSafeInteger(res.rootIno) || res.rootIno < 0) {
    throw new Error(`${type.name}.mount() returned no { descriptor, rootIno }`);
  }
  return res;
}

async function mount(v: DataView): Promise<number> {
  const fsIndex = getU64(v, IocMount.zus_zfi) - 1;
  const type = types[fsIndex];
  if (!type) return -Errno.ENODEV;
  const sbId = nextSbId++;
  const options = readOptions(v);
  const flags = getU64(v, IocMount.mount_flags);
  const res = checkResult(type, (await type.mount({ sbId, options, flags })) as MountResult<unknown>);
  let caps: number;
  try {
    caps = (res.caps ?? 0) | offerAppCache(options, res, type);
  } catch (e) {
    await type.umount?.(res.descriptor); // a plugin's mistake: what it mounted goes again
    throw e;
  }
  const m = { type, fsIndex, descriptor: res.descriptor, epoch: root.epoch(), options, flags };
  mounts.set(sbId, m);
  record(sbId, m);
  notify({ type: 'attach', sbId, fsIndex, descriptor: res.descriptor, epoch: m.epoch });
  setU64(v, IocMount.zus_sbi, sbId);
  setU64(v, IocMount.zus_ii, iiCookie(sbId, res.rootIno));
  setU64(v, IocMount._zi, res.rootZi ?? 0);
  v.setUint32(IocMount.fs_caps, caps, true);
  v.setUint32(IocMount.s_blocksize_bits, res.blocksizeBits ?? 12, true);
  v.setUint16(IocHdr.out_len, IocMount.mount_options - IocMount.zus_sbi, true);
  return 0;
}

/**
 * A filesystem that lets apps cache (MountResult.appCache): its words and TTL go to the channel the
 * app offered (the face's `zufs_pmem=<name>` option, which pmemfs answers with its pmem), and the
 * reply's ZUFS_FSC_APP_CACHE says they are there. Not after a restart: the app asks the server then.
 */
function offerAppCache(options: string, res: MountResult<unknown>, type: FsType): number {
  const c = res.appCache;
  if (!c || !(c.ttlMs > 0)) return 0;
  try {
    new InodeGens(c.gens); // a bad description fails the mount here, not in the app
  } catch (e) {
    throw new ZufsError(Errno.EIO, `${type.name}: appCache: ${e instanceof Error ? e.message : e}`);
  }
  const offer = options.split(',').find((o) => o.startsWith(`${APP_OFFER_OPTION}=`));
  if (!offer) return 0;
  const bc = new BroadcastChannel(offer.slice(APP_OFFER_OPTION.length + 1));
  bc.postMessage({ type: 'zufs-app-cache', gens: c.gens, ttlMs: c.ttlMs } satisfies AppCacheOffer);
  bc.close();
  return ZUFS_FSC_APP_CACHE;
}

async function umount(sbId: number): Promise<number> {
  const m = mounts.get(sbId);
  if (!m) throw new ZufsError(Errno.EINVAL, 'not mounted');
  mounts.delete(sbId);
  data.control.postMessage({ type: 'unmounted', sbId } satisfies LedgerMessage);
  notify({ type: 'detach', sbId });
  await m.type.umount?.(m.descriptor);
  collectSoon();
  return 0;
}

/**
 * REMOUNT: the filesystem's hook, then the ledger, so that a restart mounts the volume again as it
 * is now (a volume remounted with commit=0 does not come back with its first commit interval).
 * Without a hook a remount changes nothing, and the ledger neither.
 */
async function remount(sbId: number, v: DataView): Promise<void> {
  const m = mounts.get(sbId);
  if (!m) throw new ZufsError(Errno.EINVAL, 'not mounted');
  if (!m.type.remount) return;
  const options = readOptions(v);
  const now = await m.type.remount(m.descriptor, options, getU64(v, IocMount.remount_flags));
  m.options = typeof now === 'string' ? now : remountedOptions(m.options, options);
  record(sbId, m);
}

/**
 * A volume's options after a remount gave `changes`: the mount's, each key given again taking its
 * new value (`commit=0` replaces `commit=5`; a flag is its own key), new keys after. A filesystem
 * whose remount means something else returns the options itself (FsType.remount).
 */
function remountedOptions(mounted: string, changes: string): string {
  const key = (o: string) => {
    const eq = o.indexOf('=');
    return eq < 0 ? o : o.slice(0, eq);
  };
  const items = mounted.split(',').filter(Boolean);
  for (const c of changes.split(',')) {
    if (!c) continue;
    const at = items.findIndex((o) => key(o) === key(c));
    if (at < 0) items.push(c);
    else items[at] = c;
  }
  return items.join(',');
}

/**
 * The mount's memory goes once this thread's heap lets go of it: this thread allocates too little
 * for V8 to collect on its own (collect.ts). A while later, not at once: a full collection costs a
 * few ms of CPU and a server that stops meanwhile (each `zufs` command unmounts, then stops) needs
 * none; the timer does not hold the thread up.
 */
function collectSoon(): void {
  if (collecting) return;
  collecting = setTimeout(() => {
    collecting = undefined;
    collectGarbage();
  }, COLLECT_DELAY_MS);
  collecting.unref();
}

/**
 * A restart's generation mounts every volume of the ledger again, with its sbId, options and the
 * previous descriptor (MountRequest.restart). A mount that fails is gone: its users get EIO.
 */
async function mountAgain(plan: RestartPlan): Promise<void> {
  let sharedLost = false;
  for (const e of plan.mounts) {
    const fsIndex = types.findIndex((t) => t.name === e.type);
    const type = types[fsIndex];
    try {
      if (!type) throw new Error(`no filesystem type ${e.type} is registered now`);
      const restart = {
        previous: e.descriptor,
        reason: plan.reason,
        epoch: plan.epoch,
        midChange: plan.midChange,
      };
      const res = checkResult(
        type,
        (await type.mount({
          sbId: e.sbId,
          options: e.options,
          flags: e.flags,
          restart,
        })) as MountResult<unknown>,
      );
      if (res.sharedKept !== true) {
        sharedLost = true;
        // Worth a line: what was written since the volume's last commit may be gone.
        log(
          'warn',
          `restart: ${e.type} superblock ${e.sbId} was mounted again without the memory its previous threads left`,
        );
      }
      const m = {
        type,
        fsIndex,
        descriptor: res.descriptor,
        epoch: plan.epoch,
        options: e.options,
        flags: e.flags,
      };
      mounts.set(e.sbId, m);
      record(e.sbId, m);
      notify({ type: 'attach', sbId: e.sbId, fsIndex, descriptor: res.descriptor, epoch: plan.epoch });
    } catch (err) {
      sharedLost = true;
      data.control.postMessage({ type: 'unmounted', sbId: e.sbId } satisfies LedgerMessage);
      notify({ type: 'detach', sbId: e.sbId });
      log(
        'error',
        `restart: ${e.type} superblock ${e.sbId} could not be mounted again, it is gone: ${err instanceof Error ? err.message : err}`,
      );
    }
  }
  // Apps drop their views of shared memory that a mount did not keep (before the epoch moves).
  if (sharedLost) Atomics.store(root.ctl, CTL_SHARED_EPOCH, plan.epoch);
}

async function handle(): Promise<void> {
  const v = root.mountSlot.op;
  const op = v.getUint16(IocHdr.operation, true);
  let err = 0;
  let why = '';
  try {
    if (op === ZUFS_M_MOUNT) err = await mount(v);
    else if (op === ZUFS_M_UMOUNT) err = await umount(getU64(v, IocMount.zus_sbi));
    else if (op === ZUFS_M_REMOUNT) await remount(getU64(v, IocMount.zus_sbi), v);
    else err = -Errno.ENOTSUP;
  } catch (e) {
    [err, why] = failure(e);
    if (err === -Errno.EIO && !isZufsError(e))
      log('error', `mount thread: operation ${op} threw: ${e instanceof Error ? (e.stack ?? e.message) : e}`);
  }
  v.setInt32(IocHdr.err, err, true);
  if (err !== 0 && why) putMountError(v, why);
}

/**
 * The errno and reason a mount-channel failure goes back with: a ZufsError's own, a Node error's
 * (a filesystem that let an fs call's ENOENT or EACCES through), EIO for anything else.
 */
function failure(e: unknown): [number, string] {
  if (isZufsError(e))
    return [-e.errno, e.message.startsWith(`${e.code}: `) ? e.message.slice(e.code.length + 2) : ''];
  const n = e as NodeJS.ErrnoException;
  if (typeof n?.errno === 'number' && n.errno !== 0 && typeof n.code === 'string' && n.syscall)
    return [
      -Math.abs(n.errno),
      n.message.startsWith(`${n.code}: `) ? n.message.slice(n.code.length + 2) : n.message,
    ];
  return [-Errno.EIO, e instanceof Error ? e.message : String(e)];
}

if (restart) await mountAgain(restart);
post({ type: 'registered', fsTypes: types.map((t) => t.name) });

/**
 * No ZT thread (ztThreads 0): this thread serves the grid too, from its event loop (zt-boot.ts).
 * It ends as a ZT thread does: a failure there is this thread's death.
 */
function serveGrid(zt: ZtThreadData): void {
  relayDefaults.maxSpinUs = SHARED_THREAD_SPIN_US;
  void import('./zt-boot.js')
    .then(({ runZtThread }) => runZtThread(zt, true))
    .then(() => {
      if (root.state() === STATE_RESTARTING) process.exit(0);
    });
}

/** The supervisor's go: post `standby`, then wait for the plan (the event loop stays free). */
function waitGo(): Promise<RestartPlan> {
  post({ type: 'standby' });
  return new Promise((resolve) => {
    const on = (m: GoMessage) => {
      if (m?.type !== 'go' || !('restart' in m)) return;
      parentPort!.off('message', on);
      resolve(m.restart);
    };
    parentPort!.on('message', on);
  });
}
// ZUFS_M_MOUNT shares its number with ZUFS_OP_BREAK, so this channel is never sent a BREAK: the
// starting thread breaks its relay instead at stop, once it holds the channel (no mount operation in
// flight; threads.ts).
const relay = root.mountSlot.relay;
if (restart) {
  // The channel comes from the generation that died: taken over once its app has let it go.
  const begun = restart.begun;
  const mine = () => root.restartsBegun() === begun;
  while (!relay.revive(mine)) {
    if (!mine() || (root.state() !== STATE_RESTARTING && !root.isServing())) process.exit(0);
    await new Promise((r) => setTimeout(r, 1));
  }
  notifyChannelFreed(root.ctl);
} else relay.fssReady();
for (;;) {
  const r = await relay.fssWaitAsync();
  if (r & RELAY_BROKEN) break;
  if (r & RELAY_TIMEOUT) continue;
  await handle();
  relay.appWakeup();
}
// A restart: the volumes stay as they are, for the next generation to mount again. Nothing of this
// thread may go on (a filesystem's background timers): it ends here.
if (root.state() === STATE_RESTARTING) process.exit(0);
// Stopping: every mount still up gets its umount, once.
for (const sbId of [...mounts.keys()]) {
  try {
    await umount(sbId);
  } catch (e) {
    log('warn', `umount of superblock ${sbId} at stop failed: ${e instanceof Error ? e.message : e}`);
  }
}
for (const p of data.ztPorts) p.close();
inlineNotices.close();
// Nothing may keep this thread alive now, or stop() waits out its force timer. off() unrefs the
// port once its last 'message' listener goes; removeAllListeners() does not (Node 20: the port
// stays referenced and the thread never ends by itself).
data.control.off('message', onControl);
data.control.close();
