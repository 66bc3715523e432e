import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type FuseMount, mountFuse } from '@zufs/fuse';
import { startServer, type ZusServer } from '@zufs/zus-server';
import type { FsLike, Target, TargetEnv } from '../target.js';
import { asUser } from './nodefs.js';

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
}

/**
 * The plugin in the kernel: one server with the plugin and one volume mounted through @zufs/fuse on
 * a temp directory (started by the first case, unmounted by close()); each case runs node:fs in a
 * fresh directory of the mount, removed after it, as the nodefs target does on a temp directory.
 * Needs root and /dev/fuse (`fuseUnavailable()` of @zufs/fuse says why not).
 */
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

/** How long close() lets a clean unmount take before it aborts the connection. */
const UNMOUNT_MS = 10_000;

export function fuseTarget(o: FuseTargetOptions): Target {
  let started: Promise<{ server: ZusServer; fuse: FuseMount; mountpoint: string }> | undefined;
  let next = 0;
  const start = async () => {
    const server = await startServer({ zts: 2, channels: 4, filesystems: [o.filesystem] });
    const mountpoint = fs.mkdtempSync(path.join(tmpdir(), 'zufs-conformance-fuse-'));
    try {
      const fuse = await mountFuse({
        root: server.root,
        server,
        type: o.type,
        options: o.options ?? '',
        mountpoint,
        // Cases act as non-root users (asUser): the kernel lets only the mounting user in without it.
        allowOther: true,
        fsName: `zufs-conformance:${o.type}`,
      });
      return { server, fuse, mountpoint };
    } catch (e) {
      fs.rmdirSync(mountpoint);
      await server.stop();
      throw e;
    }
  };
  return {
    name: o.name ?? `fuse:${o.type}`,
    departures: o.departures ?? {},
    async setup(): Promise<TargetEnv> {
      started ??= start();
      const { mountpoint } = await started;
      const root = path.join(mountpoint, `case-${next++}`);
      fs.mkdirSync(root);
      return {
        fs: fs as FsLike,
        root,
        asUser,
        async cleanup() {
          // The mount is shared: a case leaves nothing behind (its files' space and inodes come back).
          await fs.promises.rm(root, { recursive: true, force: true });
        },
      };
    },
    async close() {
      const s = started;
      started = undefined;
      if (!s) return;
      const { server, fuse, mountpoint } = await s;
      try {
        // A file a failed case left open would keep a detached mount served until exit: end the
        // connection instead (the cases are over). Otherwise a clean unmount, with a way out.
        if (holdsFilesUnder(mountpoint)) await fuse.abort();
        else {
          let timer: NodeJS.Timeout | undefined;
          const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), UNMOUNT_MS)));
          const how = await Promise.race([fuse.unmount(), late]);
          clearTimeout(timer);
          if (how === 'late') await fuse.abort();
        }
      } finally {
        await server.stop();
        fs.rmdirSync(mountpoint);
      }
    },
  };
}
