import { mount } from '@zufs/vfs';
import { startServer, type ZusServer } from '@zufs/zus-server';
import type { Cred, FsLike, Target, TargetEnv } from '../target.js';

export interface ZufsTargetOptions {
  /** The target's name in reports (default `zufs:<type>`). */
  name?: string;
  /** The plugin's module (what `startServer({ filesystems })` takes: a path or file: URL). */
  filesystem: string | URL;
  /** The filesystem type name the plugin registers (its defineFsType name). */
  type: string;
  /**
   * Mount options, as `mount(root, { options })` takes them (a fresh volume per case). A function is
   * called before each case: for a filesystem whose volume lives outside the server (a database
   * file), it makes the fresh one and names it.
   */
  options?: string | (() => string | Promise<string>);
  /** Cases this filesystem is known to fail, by id, with the reason (each still runs and must fail). */
  departures?: Record<string, string>;
}

/**
 * The node:fs face (`@zufs/vfs`) on a filesystem plugin: one server with the plugin, started by the
 * first case and stopped by close(); each case mounts a fresh volume and works in its /work.
 */
export function zufsTarget(o: ZufsTargetOptions): Target {
  let server: Promise<ZusServer> | undefined;
  return {
    name: o.name ?? `zufs:${o.type}`,
    departures: o.departures ?? {},
    async setup(): Promise<TargetEnv> {
      server ??= startServer({ zts: 2, channels: 4, windowSize: 256 * 1024, filesystems: [o.filesystem] });
      const s = await server;
      const options = typeof o.options === 'function' ? await o.options() : (o.options ?? '');
      const fs = mount(s.root, { type: o.type, options });
      try {
        fs.mkdirSync('/work');
      } catch (e) {
        fs.umount();
        throw e;
      }
      // FsLike types `promises` as all of node:fs/promises; zufs has the part the cases use.
      return {
        fs: fs as unknown as FsLike,
        root: '/work',
        asUser: <T>(cred: Cred, fn: (fs: FsLike) => T): T => fn(fs.asUser(cred) as unknown as FsLike),
        async cleanup() {
          fs.umount();
        },
      };
    },
    async close() {
      const s = server;
      server = undefined;
      await (await s)?.stop();
    },
  };
}
