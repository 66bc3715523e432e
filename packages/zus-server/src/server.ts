/** startServer(): the supervisor, the mount thread and the ZT grid, from the thread that calls it (threads.ts). */
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import {
  attachZufRoot,
  CTL_RESTART_WAIT_MS,
  createZufRoot,
  DEFAULT_CHANNELS,
  type ZufRoot,
  type ZufRootDescriptor,
} from '@zufs/zuf-core';
import { normalizeSpecifier } from './fs-loader.js';
import { type ServerRestart, ServerThreads } from './threads.js';
import { DEFAULT_APP_COPY_WAIT_MS } from './zt.js';

export type { ServerRestart };

/** Restart policy defaults (ServerOptions): systemd's StartLimitBurst and StartLimitIntervalSec. */
export const DEFAULT_MAX_RESTARTS = 5;
export const DEFAULT_RESTART_PERIOD_MS = 10_000;
export const DEFAULT_RESTART_WAIT_MS = 5_000;
export const DEFAULT_RESTART_TIMEOUT_MS = 30_000;

export interface ServerOptions {
  /** Filesystem type modules (specifier, path or URL); each default-exports an FsType. */
  filesystems?: readonly (string | URL)[];
  /** ZT rows (ZUFS: one per CPU). Default: the CPU count. */
  zts?: number;
  /** Channels per ZT row, 1..4. Default 3. zts x channels is how many operations may be in flight. */
  channels?: number;
  /**
   * Worker threads that serve the grid's zts x channels channels, each a contiguous run of them.
   * Default: one per channel. One thread per channel blocks on its relay while a synchronous
   * filesystem has nothing pending (the fastest path); a thread with several channels waits on them
   * from its event loop (Atomics.waitAsync), which suits a remote filesystem: many operations in
   * flight on the network, few threads. See the guide, "Asynchronous operations".
   * 0: no ZT thread, the mount thread serves the grid as well (from its event loop): one server
   * thread to boot instead of two, for a short-lived server such as a `zufs` command, where a
   * thread's start costs more than its operations.
   */
  ztThreads?: number;
  /** Operation buffer size per channel. Default 64 KiB. */
  maxCommand?: number;
  /** Map window size per channel. Default 4 MiB (ZUS_API_MAP_MAX_SIZE). */
  windowSize?: number;
  /** Sizes of the shared buffer pools 1..6. Default one pool of 16 MiB. */
  pools?: readonly number[];
  /** How long stop() lets running operations finish before it ends the threads. Default 2000 ms. */
  stopTimeoutMs?: number;
  /**
   * How long a ZT waits for an app to copy a write's data (ZUFS_RW_APP_COPY) before it gives up
   * (EIO for that write; the filesystem's lock is held meanwhile). Counted as time spent waiting:
   * a process stopped and continued meanwhile (Ctrl-Z) keeps its write. An app thread that ended
   * mid-copy holds the lock up to twice this: keep that below the filesystem's lock timeout.
   * Default 2000 ms.
   */
  appCopyWaitMs?: number;
  /** Where server threads' warnings and errors go. Default: console.error. */
  onLog?: (level: 'warn' | 'error', message: string) => void;
  /**
   * How many times the server restarts after a server thread died, within restartPeriodMs (as
   * Erlang/OTP's intensity and period, systemd's StartLimitBurst and StartLimitIntervalSec): one
   * death more fails the server for good (every operation EIO at once). 0: never restart. Default 5.
   */
  maxRestarts?: number;
  /** The period of maxRestarts, in ms. Default 10 000. */
  restartPeriodMs?: number;
  /**
   * How long an operation that arrives during a restart (or a live reload) waits for the server
   * to serve again before it gets EIO. Default 5000 ms.
   */
  restartWaitMs?: number;
  /**
   * How long a restart may take (the old threads to end, the new ones to serve) before the server
   * fails for good. Default 30 000 ms.
   */
  restartTimeoutMs?: number;
  /**
   * Keep a standby generation of server threads booted (a second after the server serves, and after
   * each restart), so that a restart after a crash costs no thread boot: ~(ztThreads + 1) idle
   * isolates of memory. Default true; false: a restart spawns its threads then.
   */
  restartStandby?: boolean;
  /** Called once the server serves again after a restart or a live reload. */
  onRestart?: (info: ServerRestart) => void;
  /** Called once if the server fails for good (every operation is then EIO). */
  onFailure?: (info: { who: string; code: number; message: string }) => void;
}

export interface ZusServer {
  /** The zuf-root descriptor: attach to it from any thread (postMessage it to workers). */
  readonly root: ZufRootDescriptor;
  /** Names of the registered filesystem types. */
  readonly fsTypes: readonly string[];
  /** This thread's view of the root. */
  readonly zufRoot: ZufRoot;
  /**
   * A port for one inline ZT (serveInline(), in any thread of this process: transfer the port
   * there): it brings the mounts and their changes to that thread.
   */
  inlinePort(): MessagePort;
  /**
   * URL of the module that serves on such a port (it exports serveInline): for a thread that
   * cannot import this package itself, such as @zufs/fuse's readers (the kernel bridge imports no server).
   */
  readonly inlineModule: string;
  /**
   * A live reload: replaces the filesystem modules without unmounting. New operations wait, those
   * in flight finish, the threads restart on the new code (default: the same modules, read anew),
   * every volume is mounted again, and the waiting operations go on. Refused (the old code serves
   * on) when a mounted type is missing from the new modules or its format's major version changed.
   */
  reload(opts?: { filesystems?: readonly (string | URL)[] }): Promise<void>;
  /** Restarts so far (crashes and reloads). */
  readonly restarts: number;
  /** Breaks every ZT and the mount thread; resolves when no server thread is left. Idempotent. */
  stop(): Promise<void>;
}

export async function startServer(opts: ServerOptions = {}): Promise<ZusServer> {
  const root = createZufRoot({
    zts: opts.zts ?? availableParallelism(),
    channels: opts.channels ?? DEFAULT_CHANNELS,
    maxCommand: opts.maxCommand,
    windowSize: opts.windowSize,
    pools: opts.pools,
  });
  const gridSize = root.zts * root.channels;
  const ztThreads = opts.ztThreads ?? gridSize;
  if (!Number.isInteger(ztThreads) || ztThreads < 0 || ztThreads > gridSize) {
    throw new RangeError(`ztThreads must be 0..${gridSize} (the grid's channels), got ${ztThreads}`);
  }
  const filesystems = (opts.filesystems ?? []).map(normalizeSpecifier);
  const log = opts.onLog ?? ((level, message) => console.error(`zufs ${level}: ${message}`));
  const zufRoot = attachZufRoot(root);
  const maxRestarts = opts.maxRestarts ?? DEFAULT_MAX_RESTARTS;
  const periodMs = opts.restartPeriodMs ?? DEFAULT_RESTART_PERIOD_MS;
  const restartWaitMs = opts.restartWaitMs ?? DEFAULT_RESTART_WAIT_MS;
  const timeoutMs = opts.restartTimeoutMs ?? DEFAULT_RESTART_TIMEOUT_MS;
  for (const [name, v] of Object.entries({ maxRestarts, restartPeriodMs: periodMs, restartWaitMs }))
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be an integer >= 0, got ${v}`);
  if (!(timeoutMs > 0)) throw new RangeError(`restartTimeoutMs must be above 0, got ${timeoutMs}`);
  Atomics.store(zufRoot.ctl, CTL_RESTART_WAIT_MS, restartWaitMs);
  const threads = new ServerThreads(zufRoot, {
    filesystems,
    stopTimeoutMs: opts.stopTimeoutMs ?? 2000,
    appCopyWaitMs: opts.appCopyWaitMs ?? DEFAULT_APP_COPY_WAIT_MS,
    log,
    onFailure: opts.onFailure,
    onRestart: opts.onRestart,
    policy: { maxRestarts, periodMs, timeoutMs, standby: opts.restartStandby ?? true },
    ztThreads,
  });
  await threads.start();

  let stopping: Promise<void> | null = null;
  return {
    root,
    fsTypes: threads.fsTypes,
    zufRoot,
    inlineModule: new URL('./inline-zt.js', import.meta.url).href,
    inlinePort() {
      const ch = new MessageChannel();
      if (stopping) ch.port1.close();
      else threads.inlinePort(ch.port1);
      return ch.port2;
    },
    reload(o = {}) {
      const next = o.filesystems ? o.filesystems.map(normalizeSpecifier) : filesystems;
      return threads.reload(next);
    },
    get restarts() {
      return zufRoot.epoch();
    },
    stop() {
      stopping ??= (async () => {
        await threads.stop();
        zufRoot.markStopped();
      })();
      return stopping;
    },
  };
}
