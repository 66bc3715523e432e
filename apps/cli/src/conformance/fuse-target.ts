/**
 * The conformance kit's kernel-mount target (`zufs test-plugin`): it lives with the CLI, which may
 * import every package; @zufs/conformance drives the face only and takes this target as given.
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { nodeAsUser as asUser, type FsLike, type Target, type TargetEnv } from '@zufs/conformance';
import { type FuseMount, mountFuse } from '@zufs/fuse';
import { startServer, type ZusServer } from '@zufs/zus-server';
import { WATCH_ABORTED, WATCH_CASE, type WatchdogData } from './fuse-watch.js';

export interface FuseTargetOptions {
  /** The target's name in reports (default `fuse:<type>`). */
  name?: string;
  /** The plugin's module (what `startServer({ filesystems })` takes: a path or file: URL). */
  filesystem: string | URL;
  /** The filesystem type name the plugin registers (its defineFsType name). */
  type: string;
  /** Mount options of the one volume every case shares. */
  options?: string;
  /**
   * Cases this target is known to fail, by id, with the reason (each still runs and must fail).
   * None by default: every case holds through the kernel on pmemfs and tiny-fs.
   */
  departures?: Record<string, string>;
  /**
   * A case still running after this long is blocked in a call on the mount (a synchronous call
   * blocks this thread, so no case timeout can fire): the connection is aborted (default 60 s).
   */
  hangMs?: number;
}

/** How long close() lets a clean unmount take before it aborts the connection. */
const UNMOUNT_MS = 10_000;
/** How long the server and the mount may take to come up. */
const START_MS = 60_000;

/** Whether this process has a file open under `dir` (left by a case that failed before closing it). */
function holdsFilesUnder(dir: string): boolean {
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    let file: string;
    try {
      file = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // the fd readdir used, closed by now
    }
    if (file === dir || file.startsWith(`${dir}/`)) return true;
  }
  return false;
}

interface Mounted {
  server: ZusServer;
  fuse: FuseMount;
  mountpoint: string;
  /** Shared with the watchdog: the running case's number, and whether it aborted the connection. */
  watch: Int32Array;
  watchdog: Worker;
}

/**
 * The plugin in the kernel: one server with the plugin and one volume mounted through @zufs/fuse on
 * a temp directory (started by the first case, unmounted by close()); each case runs node:fs in a
 * fresh directory of the mount, removed after it, as the nodefs target does on a temp directory.
 * Needs root and /dev/fuse (`fuseUnavailable()` of @zufs/fuse says why not).
 */
export function fuseTarget(o: FuseTargetOptions): Target {
  const hangMs = o.hangMs ?? 60_000;
  let started: Promise<Mounted> | undefined;
  let next = 0;
  let stage = 'starting the server';
  /** Set when the start did not finish in time: every later case fails at once with it. */
  let stuck: Error | undefined;
  const start = async (): Promise<Mounted> => {
    const server = await startServer({ zts: 2, channels: 4, filesystems: [o.filesystem] });
    const mountpoint = fs.mkdtempSync(path.join(tmpdir(), 'zufs-conformance-fuse-'));
    stage = `mounting ${mountpoint}`;
    let fuse: FuseMount;
    try {
      fuse = await mountFuse({
        root: server.root,
        server,
        type: o.type,
        options: o.options ?? '',
        mountpoint,
        // Cases act as non-root users (asUser): the kernel lets only the mounting user in without it.
        allowOther: true,
        fsName: `zufs-conformance:${o.type}`,
      });
    } catch (e) {
      fs.rmdirSync(mountpoint);
      await server.stop();
      throw e;
    }
    const words = new SharedArrayBuffer(8);
    const data: WatchdogData = { words, connection: fuse.connection, mountpoint, hangMs };
    const watchdog = new Worker(new URL('./fuse-watchdog.js', import.meta.url), { workerData: data });
    watchdog.on('message', (m) => process.stderr.write(`${o.name ?? `fuse:${o.type}`} watchdog: ${m}\n`));
    watchdog.unref();
    stage = 'up';
    return { server, fuse, mountpoint, watch: new Int32Array(words), watchdog };
  };
  const running = (watch: Int32Array, n: number) => {
    Atomics.store(watch, WATCH_CASE, n);
    Atomics.notify(watch, WATCH_CASE);
  };
  return {
    name: o.name ?? `fuse:${o.type}`,
    departures: o.departures ?? {},
    async setup(): Promise<TargetEnv> {
      if (stuck) throw stuck;
      started ??= start();
      // Nothing waits for ever: a start that does not finish fails the cases, saying where it stopped.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          stuck = new Error(`the kernel mount did not come up within ${START_MS / 1000} s (${stage})`);
          reject(stuck);
        }, START_MS);
      });
      const { mountpoint, watch } = await Promise.race([started, late]).finally(() => clearTimeout(timer));
      if (Atomics.load(watch, WATCH_ABORTED))
        throw new Error(
          `the kernel mount was aborted: a case was blocked in a call on it for ${hangMs / 1000} s ` +
            '(an operation of the filesystem that never returned?)',
        );
      const root = path.join(mountpoint, `case-${++next}`);
      fs.mkdirSync(root);
      running(watch, next);
      return {
        fs: fs as FsLike,
        root,
        asUser,
        async cleanup() {
          running(watch, 0);
          // The mount is shared: a case leaves nothing behind (its files' space and inodes come back).
          if (!Atomics.load(watch, WATCH_ABORTED))
            await fs.promises.rm(root, { recursive: true, force: true });
        },
      };
    },
    async close() {
      const s = started;
      started = undefined;
      if (!s) return;
      if (stuck) {
        process.stderr.write(`${stuck.message}: nothing to unmount or stop, left as it is\n`);
        return;
      }
      const { server, fuse, mountpoint, watchdog } = await s;
      let timer: NodeJS.Timeout | undefined;
      const late = () => new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), UNMOUNT_MS)));
      try {
        await watchdog.terminate();
        // A file a failed case left open would keep a detached mount served until exit: end the
        // connection instead (the cases are over). Otherwise a clean unmount, with a way out.
        const clean = !holdsFilesUnder(mountpoint);
        if (!clean || (await Promise.race([fuse.unmount(), late()])) === 'late') {
          clearTimeout(timer);
          // A reader still inside an operation that never returns cannot exit: give up on it.
          if ((await Promise.race([fuse.abort(), late()])) === 'late')
            process.stderr.write(`${mountpoint}: a FUSE reader is still in an operation; left behind\n`);
        }
      } finally {
        clearTimeout(timer);
        await server.stop();
        fs.rmdirSync(mountpoint);
      }
    },
  };
}
