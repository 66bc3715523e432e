/** startServer(): the supervisor, the mount thread and the ZT grid, from the thread that calls it (threads.ts). */
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import {
  attachZufRoot,
  createZufRoot,
  DEFAULT_CHANNELS,
  type ZufRoot,
  type ZufRootDescriptor,
} from '@zufs/zuf-core';
import { normalizeSpecifier } from './fs-loader.js';
import { ServerThreads } from './threads.js';
import { DEFAULT_APP_COPY_WAIT_MS } from './zt.js';

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
  /** Called once if a server thread dies (the server is then failed: every operation is EIO). */
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
  if (!Number.isInteger(ztThreads) || ztThreads < 1 || ztThreads > gridSize) {
    throw new RangeError(`ztThreads must be 1..${gridSize} (the grid's channels), got ${ztThreads}`);
  }
  const filesystems = (opts.filesystems ?? []).map(normalizeSpecifier);
  const log = opts.onLog ?? ((level, message) => console.error(`zufs ${level}: ${message}`));
  const zufRoot = attachZufRoot(root);
  const threads = new ServerThreads(zufRoot, {
    filesystems,
    stopTimeoutMs: opts.stopTimeoutMs ?? 2000,
    appCopyWaitMs: opts.appCopyWaitMs ?? DEFAULT_APP_COPY_WAIT_MS,
    log,
    onFailure: opts.onFailure,
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
    stop() {
      stopping ??= (async () => {
        await threads.stop();
        zufRoot.markStopped();
      })();
      return stopping;
    },
  };
}
