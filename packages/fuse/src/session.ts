/**
 * mountFuse(): a zufs mount made visible to every program through the kernel's FUSE. We open
 * /dev/fuse, let mount(8) make the mount with that fd (-o fd=3: the kernel ties the device to the
 * superblock), then reader worker threads serve the device. No libfuse, no fusermount: this needs root.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { type MessagePort, Worker } from 'node:worker_threads';
import { type MountDescriptor, mount as vfsMount, type ZufsMount } from '@zufs/vfs';
import { SharedPool, type ZufRootDescriptor } from '@zufs/zuf-core';
import { Errno } from '@zufs/zuf-core/api';
import { writeOutHeader } from './codec.js';
import { countsByOp, type HandlerOptions, type IdMap, requestCounters, sessionWords } from './handler.js';
import { LookupTable } from './lookups.js';
import { OutHeader } from './protocol.js';
import { readerPoolWords, takeServed } from './readers.js';

export interface FuseMountOptions {
  /**
   * The filesystem: a vfs mount's `descriptor` (the mount stays the caller's), or a zuf-root
   * descriptor with `type` and `options` (mountFuse mounts it and unmounts it at the end).
   */
  root: MountDescriptor | ZufRootDescriptor;
  /** Filesystem type and options, with a zuf-root descriptor ('pmemfs', 'image=/path'). */
  type?: string;
  options?: string;
  /** An existing directory. */
  mountpoint: string;
  /** Reader threads (default 2). */
  readers?: number;
  /**
   * Most reader threads at once (default 8): while every reader serves a slow request for over a
   * millisecond, a standby thread joins them, so one slow request never stalls the others
   * (readers.ts). The requests served concurrently, at most.
   */
  maxReaders?: number;
  /** Mount read-only (-o ro, and the handler refuses changes). */
  readOnly?: boolean;
  /** Let other users than root use the mount (-o allow_other). */
  allowOther?: boolean;
  /** The kernel checks permissions from the modes (-o default_permissions). Default true. */
  defaultPermissions?: boolean;
  /** New inodes get this owner instead of the calling process's. */
  owner?: { uid: number; gid: number };
  /**
   * uid / gid mapping: pairs [as the filesystem stores it, as this machine sees it]. An image made
   * elsewhere (files of uid 1000) can show as root's: `{ uid: [[1000, 0]] }`.
   */
  idMap?: IdMap;
  /** Seconds the kernel caches attributes (default 1; 0: every stat reaches the server). */
  attrTimeout?: number;
  /** Seconds the kernel caches names (default 1). */
  entryTimeout?: number;
  /** Generic mount(8) flags for the kernel's mount: nosuid, nodev, noexec, noatime, sync... */
  mountFlags?: string[];
  /** The source shown in /proc/mounts and df (default "zufs"). */
  fsName?: string;
  /** Largest write the kernel sends (default 1 MiB, at most 1 MiB). */
  maxWrite?: number;
  /** Offer READDIRPLUS (default true). */
  readdirplus?: boolean;
  /** Inodes the kernel can hold at once (size of the shared lookup-count table, default 2^20). */
  maxInodes?: number;
  /** Where reader threads' messages go (default console.error). */
  log?: (message: string) => void;
  /**
   * Readers put their buffers in the zuf-root's shared pool 1 when it has room, so READ and WRITE
   * data skip the copy through a channel's window (default true).
   */
  sharedBuffers?: boolean;
  /**
   * The zufs server, when it runs in this process (zus-server's startServer() result fits): each
   * reader then serves its requests' operations itself, as an inline ZT, instead of handing them to
   * a ZT thread: one hop fewer per request. Without it, readers dispatch to the ZT grid.
   */
  server?: InlineServer;
}

/**
 * A server that lets other threads serve its operations inline. The server hands in the module
 * that does it, so this package (the kernel bridge) imports no server.
 */
export interface InlineServer {
  /** A port for one inline ZT; it is transferred to a reader thread. */
  inlinePort(): MessagePort;
  /** URL of a module exporting `serveInline(root, port, { log })` (zus-server's inline ZT). */
  readonly inlineModule: string;
}

export interface FuseMount {
  readonly mountpoint: string;
  /** The vfs mount being served (for attachMount() elsewhere). */
  readonly descriptor: MountDescriptor;
  /** The kernel's lookup counts (shared with the readers). */
  readonly lookups: LookupTable;
  /** The kernel's number for this FUSE connection (its directory in /sys/fs/fuse/connections). */
  readonly connection: number;
  /**
   * The requests the kernel sent so far, by opcode name (`{ LOOKUP: 4, CREATE: 4, ... }`), counted by
   * the readers as they read them: the difference of two calls is what the operations in between cost.
   */
  requests(): Record<string, number>;
  /**
   * Unmounts (umount, else umount -l), waits for the readers; idempotent. A file still open on
   * the mount keeps a lazily detached mount served until it is closed; abort() does not wait.
   */
  unmount(): Promise<void>;
  /**
   * Ends the kernel's connection at once (fusectl's `abort`, mounting fusectl on
   * /sys/fs/fuse/connections if it is not), detaches the mount and waits for the readers. Files
   * still open on it fail ENOTCONN from then on (a call waiting, ECONNABORTED). Also ends a pending
   * unmount().
   */
  abort(): Promise<void>;
  /** Settles when every reader has exited and the device is closed (after unmount, or a umount by anyone). */
  readonly done: Promise<void>;
}

/** What a reader thread gets (structured-cloned). */
export interface ReaderData {
  index: number;
  fd: number;
  mount: MountDescriptor;
  lookups: SharedArrayBuffer;
  /** false: private buffers instead of the zuf-root's shared pool 1. */
  sharedPool?: boolean;
  /** What INIT agreed (handler sessionWords()), shared by the readers. */
  session: SharedArrayBuffer;
  /** Request counters (handler requestCounters()): reader `index` counts into row `index`. */
  counters: SharedArrayBuffer;
  /** The reader pool's words (readers.ts readerPoolWords). */
  pool: SharedArrayBuffer;
  /** A standby thread: parks until every reader is busy, then reads. */
  standby?: boolean;
  /** Inline slots of the readers started before this one ([reader index, slot buffer]). */
  inlineSlots?: [number, SharedArrayBuffer][];
  /** The reader serves operations itself: `module`'s serveInline on this port of the server's. */
  inline?: { port: MessagePort; module: string };
  handler: Omit<HandlerOptions, 'client' | 'transport' | 'lookups' | 'log' | 'buffers' | 'session'>;
}

const DEVICE = '/dev/fuse';
const CONNECTIONS = '/sys/fs/fuse/connections';
const INIT_TIMEOUT_MS = 10_000;
/** A standby reader that could not start is tried again this many times a session, this far apart. */
const MAX_STANDBY_RETRIES = 5;
const STANDBY_RETRY_MS = 100;

/** Thrown when this process cannot mount: not root, or no /dev/fuse. */
export class FuseUnavailableError extends Error {
  constructor(
    readonly code: 'EPERM' | 'ENODEV',
    message: string,
  ) {
    super(message);
    this.name = 'FuseUnavailableError';
  }
}

/** Why mounting cannot work here, or null when it can (root, and /dev/fuse exists). */
export function fuseUnavailable(): FuseUnavailableError | null {
  if (process.platform !== 'linux')
    return new FuseUnavailableError('ENODEV', `@zufs/fuse needs Linux (this is ${process.platform})`);
  if (!existsSync(DEVICE))
    return new FuseUnavailableError('ENODEV', `${DEVICE} is missing: load the fuse module (modprobe fuse)`);
  if (process.getuid?.() !== 0)
    return new FuseUnavailableError('EPERM', 'mounting through /dev/fuse without fusermount needs root');
  return null;
}

function isMountDescriptor(x: MountDescriptor | ZufRootDescriptor): x is MountDescriptor {
  return 'mount' in x && 'shared' in x;
}

/** Runs a command, resolving with its exit code and output (never rejects). */
function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((res) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      res({ code, out: `${stdout}${stderr}`.trim() });
    });
  });
}

/** A mount left by a server that died answers ENOTCONN: lazily unmount it. */
async function cleanStale(mountpoint: string): Promise<void> {
  try {
    statSync(mountpoint);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOTCONN') throw e;
    await run('umount', ['-l', mountpoint]);
  }
}

/** mount(8) with the device as the child's fd 3; -i: no /sbin/mount.fuse.zufs helper. */
function mountWithFd(fd: number, source: string, mountpoint: string, opts: string): Promise<void> {
  return new Promise((res, rej) => {
    const child = spawn('mount', ['-i', '-t', 'fuse.zufs', '-o', opts, source, mountpoint], {
      stdio: ['ignore', 'pipe', 'pipe', fd],
    });
    let out = '';
    child.stdout?.on('data', (b) => (out += b));
    child.stderr?.on('data', (b) => (out += b));
    child.on('error', rej);
    child.on('close', (code) =>
      code === 0 ? res() : rej(new Error(`mount ${mountpoint} failed (${code}): ${out.trim()}`)),
    );
  });
}

/** The kernel's FUSE connection number of a mount: the minor of its device (st_dev). */
function connectionOf(dev: number): number {
  return (dev & 0xff) | (Math.floor(dev / 4096) & 0xfff00);
}

/**
 * True when a mount of this process's namespace has device 0:`conn` at a path other than
 * `mountpoint` (with no `mountpoint`: at all): the number belongs to that mount now.
 */
function mountedElsewhere(conn: number, mountpoint: string | undefined): boolean {
  let info: string;
  try {
    info = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return false;
  }
  const dev = `0:${conn}`;
  for (const line of info.split('\n')) {
    const f = line.split(' ');
    if (f[2] !== dev) continue;
    // Field 5 is the mount point, with spaces and such escaped as octal (\040).
    const at = f[4]?.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
    if (mountpoint === undefined || at !== mountpoint) return true;
  }
  return false;
}

/**
 * Aborts FUSE connection `conn` (FuseMount.connection) through fusectl, mounting fusectl first
 * when it is not: a request waiting on it fails ECONNABORTED, later ones ENOTCONN, and its readers
 * exit. Any thread may call it (a watchdog, while the mount's owner is blocked in a call on it).
 */
export async function abortConnection(conn: number, mountpoint?: string): Promise<void> {
  // Connection numbers are reused as soon as a connection ends: one that is now another mount's
  // (mounted somewhere else) is left alone, or aborting ours late would kill someone else's.
  if (mountedElsewhere(conn, mountpoint)) return;
  const file = `${CONNECTIONS}/${conn}/abort`;
  const fusectl = () => readFileSync('/proc/mounts', 'utf8').includes(` ${CONNECTIONS} fusectl `);
  if (!existsSync(file)) {
    if (fusectl()) return; // the connection is gone already
    const r = await run('mount', ['-t', 'fusectl', 'fusectl', CONNECTIONS]);
    if (!existsSync(file) && !fusectl())
      throw new Error(
        `cannot abort FUSE connection ${conn}: no ${file} (mount -t fusectl: ${r.out || r.code})`,
      );
  }
  try {
    writeFileSync(file, '1');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // ENOENT: it went meanwhile
  }
}

export async function mountFuse(o: FuseMountOptions): Promise<FuseMount> {
  const why = fuseUnavailable();
  if (why) throw why;
  const mountpoint = resolve(o.mountpoint);
  await cleanStale(mountpoint);
  if (!statSync(mountpoint).isDirectory()) throw new Error(`${mountpoint} is not a directory`);
  const log = o.log ?? ((m: string) => console.error(`@zufs/fuse: ${m}`));

  let own: ZufsMount | undefined;
  let descriptor: MountDescriptor;
  if (isMountDescriptor(o.root)) descriptor = o.root;
  else {
    if (!o.type) throw new TypeError('mountFuse: a zuf-root descriptor needs `type` (and `options`)');
    own = vfsMount(o.root, { type: o.type, options: o.options });
    descriptor = own.descriptor;
  }

  const fd = openSync(DEVICE, 'r+');
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const defaultPermissions = o.defaultPermissions ?? true;
  const mopts = ['fd=3', 'rootmode=40000', `user_id=${uid}`, `group_id=${gid}`];
  if (o.allowOther) mopts.push('allow_other');
  if (defaultPermissions) mopts.push('default_permissions');
  if (o.readOnly) mopts.push('ro');
  for (const f of o.mountFlags ?? []) {
    // Only flags: an option with a value (fd=, rootmode=...) is the session's to set.
    if (!/^[a-z_]+$/.test(f))
      throw new TypeError(`mountFuse: mountFlags takes flags such as nosuid (got '${f}')`);
    mopts.push(f);
  }
  try {
    await mountWithFd(fd, o.fsName ?? 'zufs', mountpoint, mopts.join(','));
  } catch (e) {
    closeSync(fd);
    own?.umount();
    throw e;
  }

  const lookups = LookupTable.create(o.maxInodes ?? 1 << 20);
  const table = new LookupTable(lookups);
  const n = Math.max(1, o.readers ?? 2);
  const maxReaders = Math.max(n, o.maxReaders ?? 8);
  const counters = requestCounters(maxReaders);
  const readers: Worker[] = [];
  const inlineSlots: [number, SharedArrayBuffer][] = [];
  let exited = 0;
  let unmounting = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let resolveInit!: () => void;
  const inited = new Promise<void>((r) => (resolveInit = r));

  const finish = async () => {
    // Every reader is gone: a mount nobody serves would answer ENOTCONN; take it away.
    if (!unmounting) {
      unmounting = true;
      await run('umount', ['-l', mountpoint]);
    }
    try {
      closeSync(fd);
    } catch {}
    try {
      own?.umount();
    } catch (e) {
      log(`vfs umount: ${(e as Error).message}`);
    }
    resolveDone();
  };

  const data: Omit<ReaderData, 'index'> = {
    fd,
    mount: descriptor,
    lookups,
    session: sessionWords().buffer as SharedArrayBuffer,
    counters: counters.buffer as SharedArrayBuffer,
    pool: readerPoolWords(maxReaders),
    sharedPool: o.sharedBuffers ?? true,
    handler: {
      maxWrite: o.maxWrite,
      entryTimeout: o.entryTimeout,
      attrTimeout: o.attrTimeout,
      readdirplus: o.readdirplus,
      readOnly: o.readOnly,
      defaultPermissions,
      owner: o.owner,
      idMap: o.idMap,
      blksize: 2 ** (descriptor.mount.blocksizeBits || 12),
    },
  };
  /**
   * A reader that died serving a request (a plugin that called process.exit or ran out of memory in
   * an inline ZT): its request is answered EIO here, or the kernel would wait for it for ever, and a
   * new reader takes its place. One that died serving nothing is not replaced (no crash loop).
   */
  const died = (i: number, code: number): boolean => {
    const unique = takeServed(data.pool, i);
    if (!unique) return false;
    const reply = new DataView(new ArrayBuffer(OutHeader.SIZE));
    writeOutHeader(reply, OutHeader.SIZE, -Errno.EIO, unique[1] * 2 ** 32 + unique[0]);
    try {
      writeSync(fd, new Uint8Array(reply.buffer));
    } catch {} // ENOENT: the kernel gave up on it (interrupted), or the connection is gone.
    log(`reader ${i} died (exit code ${code}) serving a request: answered EIO; a new reader replaces it`);
    return true;
  };
  /** Each reader's request and reply buffers in the zuf-root's pool 1, freed here once it ended. */
  const buffers = new Map<Worker, number[]>();
  const giveBack = (w: Worker) => {
    const offsets = buffers.get(w);
    if (!offsets) return;
    buffers.delete(w);
    const pool = new SharedPool(descriptor.root.pools[1]!);
    for (const at of offsets) pool.free(at);
  };
  let standbyRetries = 0;
  const gone = () => {
    if (++exited === readers.length) void finish();
  };
  const start = (standby: boolean, i = readers.length) => {
    const inline = o.server && { port: o.server.inlinePort(), module: o.server.inlineModule };
    const w = new Worker(new URL('./reader-worker.js', import.meta.url), {
      workerData: { ...data, index: i, inline, standby, inlineSlots },
      transferList: inline ? [inline.port] : [],
    });
    w.on(
      'message',
      (m: {
        type: string;
        message?: string;
        index?: number;
        ops?: SharedArrayBuffer;
        offsets?: number[];
      }) => {
        if (m.type === 'log') log(m.message!);
        else if (m.type === 'buffers') buffers.set(w, m.offsets!);
        else if (m.type === 'init') resolveInit();
        else if (m.type === 'slot') {
          // A reader's inline slot: every reader may have to interrupt the request it serves.
          inlineSlots.push([m.index!, m.ops!]);
          for (const r of readers) if (r !== w) r.postMessage(m);
        } else if (m.type === 'promoted' && !unmounting && readers.length < maxReaders) start(true);
      },
    );
    w.on('error', (e) => log(`reader ${i} failed: ${e.stack ?? e.message}`));
    w.on('exit', (code) => {
      giveBack(w);
      if (code !== 0 && !unmounting && died(i, code)) start(false, i);
      else if (code !== 0 && !unmounting && standby && standbyRetries < MAX_STANDBY_RETRIES) {
        // A standby that could not start (its thread booted while this process acted as another
        // user, say, and could not read its modules): the readers would stay one short. Again, soon.
        standbyRetries++;
        setTimeout(() => (unmounting ? gone() : start(true, i)), STANDBY_RETRY_MS);
      } else gone();
    });
    readers[i] = w;
  };
  for (let i = 0; i < n; i++) start(false);
  if (maxReaders > n) start(true);

  let unmountP: Promise<void> | undefined;
  const unmount = (): Promise<void> =>
    (unmountP ??= (async () => {
      if (exited < readers.length) {
        unmounting = true;
        const r = await run('umount', [mountpoint]);
        if (r.code !== 0) {
          log(`umount ${mountpoint}: ${r.out || r.code}; detaching (umount -l)`);
          await run('umount', ['-l', mountpoint]);
        }
      }
      await done;
    })());

  // The kernel sends INIT as soon as the mount exists; wait for a reader to answer it.
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), INIT_TIMEOUT_MS)));
  const first = await Promise.race([
    inited.then(() => 'init' as const),
    done.then(() => 'done' as const),
    timeout,
  ]);
  clearTimeout(timer);
  if (first !== 'init') {
    await unmount();
    throw new Error(`FUSE mount at ${mountpoint}: no INIT (${first})`);
  }
  // Known while the mount is attached (a lazily detached one has no path left to stat).
  const connection = connectionOf(statSync(mountpoint).dev);
  let abortP: Promise<void> | undefined;
  const abort = (): Promise<void> =>
    (abortP ??= (async () => {
      if (exited < readers.length) {
        unmounting = true;
        await abortConnection(connection, mountpoint);
        await run('umount', ['-l', mountpoint]);
      }
      await done;
    })());
  return {
    mountpoint,
    descriptor,
    lookups: table,
    connection,
    requests: () => countsByOp(counters),
    unmount,
    abort,
    done,
  };
}
