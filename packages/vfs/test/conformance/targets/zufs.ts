import { PMEMFS_TYPE } from '@zufs/example-pmemfs';
import { mount } from '@zufs/vfs';
import { startServer, type ZusServer } from '@zufs/zus-server';
import { afterAll } from 'vitest';
import type { Cred, FsLike, Target, TargetEnv } from '../target.js';

/** Each case gets a fresh pmemfs volume of this size. */
const MEMORY = 64 * 1024 * 1024;

/**
 * Cases the zufs path API still fails, by id, with the reason (each still runs and must fail). This
 * is its to-do list; zufs should depart nowhere.
 */
const departures: Record<string, string> = {};

/**
 * One server per test file that imports this target, started by the first case and stopped after the
 * file's last test (the hook registers on the importing file). Each case mounts a fresh volume on it.
 */
let server: Promise<ZusServer> | undefined;
afterAll(async () => {
  const s = server;
  server = undefined;
  await (await s)?.stop();
});

export const zufs: Target = {
  name: 'zufs',
  departures,
  async setup(): Promise<TargetEnv> {
    server ??= startServer({ zts: 2, channels: 4, windowSize: 256 * 1024, filesystems: [PMEMFS_TYPE] });
    const s = await server;
    const fs = mount(s.root, { type: 'pmemfs', options: `memory=${MEMORY}` });
    fs.mkdirSync('/work');
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
};
