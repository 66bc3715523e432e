/**
 * The zuf-root: every word that app threads and server threads share, described by a plain,
 * transferable descriptor (SharedArrayBuffers and numbers). Any thread attaches from it.
 *
 * control SAB (Int32 words):
 *   [0..15]   header words (CTL_*)
 *   [16..31]  the change line (CHANGE_*): the server's seqlock around filesystem changes, on a cache
 *             line of its own so its writes never evict the header words every dispatch reads
 *   then      the registered filesystem types (REGISTRY_ENTRY_BYTES each)
 * ops SAB:     one region per slot (grid slots, then the mount channel), slotBytes() each:
 *   +0        the relay's hot words (24 bytes)
 *   +24       the slot's change word (SLOT_CHANGING_OFFSET: its ZT is inside a change), 12 bytes free
 *   +40       the operation buffer (maxCommand bytes): its 24-byte zufs_ioc_hdr ends the relay's
 *             cache line, so a NULL round trip moves one line between the cores instead of two
 *             (measured: 0.49 us instead of 0.96 us, see docs/decisions.md)
 *   then      the relay's counters, one cache line per side (counting never moves a line)
 * windows SAB: one map window (windowSize bytes) per slot
 * pools:       shared buffer pools 1..6 (the ALLOC_BUFFER analog), see pools.ts
 */
import { threadId } from 'node:worker_threads';
import { RELAY_HOT_BYTES, Relay, type RelayPlacement, spinCalibration } from '@zufs/relay';
import { ZUFS_MAX_ZT_CHANNELS, ZUS_API_MAP_MAX_SIZE } from './api/index.js';
import { type PoolDescriptor, SharedPool } from './pools.js';

export const ZUF_ROOT_MAGIC = 0x5a554652; // "ZUFR"

export const STATE_STARTING = 0;
export const STATE_READY = 1; // the ZT grid serves
export const STATE_MOUNT_READY = 2; // the mount thread has registered the filesystem types
export const STATE_FAILED = 3; // a server thread died: every operation is EIO
export const STATE_STOPPING = 4;
export const STATE_STOPPED = 5;
/** A server thread died (or a reload began): the threads are replaced; operations wait, bounded. */
export const STATE_RESTARTING = 6;
export const STATE_NAMES = [
  'starting',
  'ready',
  'mount-ready',
  'server-failed',
  'stopping',
  'stopped',
  'restarting',
] as const;

// Header words of the control SAB.
export const CTL_MAGIC = 0;
export const CTL_STATE = 1;
export const CTL_GRID_GEN = 2; // bumped when a channel is freed and someone parks for one
export const CTL_GRID_WAITERS = 3; // app threads parked on CTL_GRID_GEN
export const CTL_ZTS = 4;
export const CTL_CHANNELS = 5;
export const CTL_MAX_COMMAND = 6;
export const CTL_WINDOW_SIZE = 7;
export const CTL_FAIL_CODE = 8; // why the server failed (exit code of the thread that died, or -1)
export const CTL_FS_TYPES = 9; // number of registered filesystem types
export const CTL_STATE_GEN = 10; // bumped (and notified) on every state change
export const CTL_MOUNT_GEN = 11; // bumped by the mount thread after it posts mount notices to the ZTs
export const CTL_EPOCH = 12; // restarts the server completed (0: its first threads still serve)
export const CTL_RESTART_WAIT_MS = 13; // how long an operation waits for a restart to end (then EIO)
/** The last epoch at which a restart gave some mount new shared memory (its pmem was reloaded). */
export const CTL_SHARED_EPOCH = 14;
/** A number unique to this zuf-root in its process (names its mount notice channel). */
export const CTL_ROOT_ID = 15;
let rootIds = 0;
/** ZTs serving an operation that changes a filesystem (see change.ts). */
export const CHANGE_ACTIVE = 16;
/** Bumped when such an operation begins. */
export const CHANGE_SEQ = 17;
/**
 * Restarts begun (a word written once per restart, on the change line's spare room): a generation
 * of threads spawned for restart N stops taking channels over once N + 1 began.
 */
export const CTL_RESTARTS_BEGUN = 18;
/**
 * The creating thread's spin calibration (relay `spinCalibration()`, x1000): a thread that attaches
 * takes it instead of measuring its own (3-5 ms of CPU in each of a server's threads as they start).
 */
export const CTL_SPIN_CALIBRATION = 19;
const HEADER_BYTES = 128;

export const MAX_FS_TYPES = 16;
export const REGISTRY_ENTRY_BYTES = 64;
export const DEFAULT_MAX_COMMAND = 64 * 1024;
export const DEFAULT_CHANNELS = 3;
export const MIN_MAX_COMMAND = 4096;

/** What a thread needs to attach to a running server. Plain data: postMessage it to any worker. */
export interface ZufRootDescriptor {
  readonly magic: number;
  readonly control: SharedArrayBuffer;
  readonly ops: SharedArrayBuffer;
  readonly windows: SharedArrayBuffer;
  /** pools[i] is shared buffer pool i (1..6); index 0 is unused (pool 0 is pmem). */
  readonly pools: readonly (PoolDescriptor | null)[];
  readonly zts: number;
  readonly channels: number;
  readonly maxCommand: number;
  readonly windowSize: number;
}

export interface ZufRootOptions {
  zts: number;
  channels?: number;
  maxCommand?: number;
  windowSize?: number;
  /** Byte sizes of the shared buffer pools 1..6 to create (at most 6). */
  pools?: readonly number[];
}

/** Allocates the shared memory of a new zuf-root. Called once, by the thread that starts the server. */
export function createZufRoot(opts: ZufRootOptions): ZufRootDescriptor {
  const zts = opts.zts;
  const channels = opts.channels ?? DEFAULT_CHANNELS;
  const maxCommand = opts.maxCommand ?? DEFAULT_MAX_COMMAND;
  const windowSize = opts.windowSize ?? ZUS_API_MAP_MAX_SIZE;
  if (!Number.isInteger(zts) || zts < 1 || zts > 256) throw new RangeError(`zts must be 1..256, got ${zts}`);
  if (!Number.isInteger(channels) || channels < 1 || channels > ZUFS_MAX_ZT_CHANNELS) {
    throw new RangeError(`channels must be 1..${ZUFS_MAX_ZT_CHANNELS}, got ${channels}`);
  }
  if (
    !Number.isInteger(maxCommand) ||
    maxCommand < MIN_MAX_COMMAND ||
    maxCommand > 1 << 24 ||
    maxCommand % 8
  ) {
    throw new RangeError(
      `maxCommand must be a multiple of 8 in ${MIN_MAX_COMMAND}..16 MiB, got ${maxCommand}`,
    );
  }
  if (
    !Number.isInteger(windowSize) ||
    windowSize < 4096 ||
    windowSize > ZUS_API_MAP_MAX_SIZE ||
    windowSize % 4096
  ) {
    throw new RangeError(
      `windowSize must be a multiple of 4096 up to ${ZUS_API_MAP_MAX_SIZE}, got ${windowSize}`,
    );
  }
  const poolSizes = opts.pools ?? [16 * 1024 * 1024];
  if (poolSizes.length > 6) throw new RangeError('at most 6 shared buffer pools');
  const slots = zts * channels + 1;
  const control = new SharedArrayBuffer(CONTROL_BYTES);
  const ops = new SharedArrayBuffer(slots * slotBytes(maxCommand));
  const ctl = new Int32Array(control);
  ctl[CTL_MAGIC] = ZUF_ROOT_MAGIC;
  ctl[CTL_ZTS] = zts;
  ctl[CTL_ROOT_ID] = (++rootIds ^ (threadId << 20)) >>> 0;
  ctl[CTL_CHANNELS] = channels;
  ctl[CTL_MAX_COMMAND] = maxCommand;
  ctl[CTL_WINDOW_SIZE] = windowSize;
  ctl[CTL_SPIN_CALIBRATION] = Math.round(spinCalibration() * 1000);
  for (let i = 0; i < slots; i++)
    Relay.init(ops, slotOffset(i, maxCommand), undefined, relayPlacement(i, maxCommand));
  const pools: (PoolDescriptor | null)[] = [null];
  for (const size of poolSizes) pools.push(SharedPool.create(size));
  return {
    magic: ZUF_ROOT_MAGIC,
    control,
    ops,
    windows: new SharedArrayBuffer(slots * windowSize),
    pools,
    zts,
    channels,
    maxCommand,
    windowSize,
  };
}

/** Where the operation buffer starts in a slot's region: its header shares the relay's cache line. */
export const SLOT_OP_OFFSET = 40;
/** The slot's change word, after the relay's hot words: 1 while its ZT is inside a change. */
export const SLOT_CHANGING_OFFSET = 24;
const LINE = 64;
const align = (n: number): number => Math.ceil(n / LINE) * LINE;

/** Bytes of one slot's region in the ops SAB. */
export function slotBytes(maxCommand: number): number {
  return align(SLOT_OP_OFFSET + maxCommand) + 2 * LINE;
}

/** Byte offset of a slot's region (its relay) in the ops SAB. */
export function slotOffset(slot: number, maxCommand: number): number {
  return slot * slotBytes(maxCommand);
}

/** The relay's counters: one line per side, after the operation buffer. */
export function relayPlacement(slot: number, maxCommand: number): RelayPlacement {
  const at = slotOffset(slot, maxCommand) + align(SLOT_OP_OFFSET + maxCommand);
  return { ztCountersAt: at, appCountersAt: at + LINE };
}

export function registryOffset(index: number): number {
  return HEADER_BYTES + index * REGISTRY_ENTRY_BYTES;
}

const CONTROL_BYTES = HEADER_BYTES + MAX_FS_TYPES * REGISTRY_ENTRY_BYTES;
if (RELAY_HOT_BYTES > SLOT_OP_OFFSET) throw new Error('relay hot words overlap the operation buffer');

/** Checks that a value received from another thread is a usable descriptor; throws a TypeError if not. */
export function checkDescriptor(d: unknown): asserts d is ZufRootDescriptor {
  const x = d as ZufRootDescriptor;
  if (
    !x ||
    typeof x !== 'object' ||
    x.magic !== ZUF_ROOT_MAGIC ||
    !(x.control instanceof SharedArrayBuffer) ||
    !(x.ops instanceof SharedArrayBuffer) ||
    !(x.windows instanceof SharedArrayBuffer) ||
    !Array.isArray(x.pools)
  ) {
    throw new TypeError('not a zuf-root descriptor (expected the object returned by startServer().root)');
  }
  const slots = x.zts * x.channels + 1;
  if (
    x.control.byteLength !== CONTROL_BYTES ||
    x.ops.byteLength !== slots * slotBytes(x.maxCommand) ||
    x.windows.byteLength !== slots * x.windowSize ||
    new Int32Array(x.control)[CTL_MAGIC] !== ZUF_ROOT_MAGIC
  ) {
    throw new TypeError('zuf-root descriptor does not match its shared memory');
  }
}
