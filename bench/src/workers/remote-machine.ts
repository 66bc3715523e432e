// A second "machine" for the remote suite's create-2proc: a process of its own with its own server,
// mounting the PostgreSQL volume, and THREADS app threads (remote-creator.ts). argv: MOUNT_OPTIONS.
// IPC: { id, prefix, count } -> every thread creates `count` files `${prefix}-t<k>-i`; answers
// { id } (or { id, error }). { stop: true } unmounts and leaves.
import { SQLFS_TYPE } from '@zufs/example-sqlfs';
import { mount } from '@zufs/vfs';
import { startServer } from '@zufs/zus-server';
import { PG_GRID, THREADS_PER_PROC } from '../remote/volumes.js';
import { askWorker, startWorker } from '../threads.js';
import type { CreatorReply, CreatorRequest } from './remote-creator.js';

export type MachineRequest = { id: number; prefix: string; count: number } | { stop: true };
export type MachineReply = { id: number; error?: string } | { ready: true };

const send = (m: MachineReply) => process.send?.(m);
const server = await startServer({ ...PG_GRID, filesystems: [SQLFS_TYPE] });
const fs = mount(server.root, { type: 'sqlfs', options: process.argv[2] });
const threads = await Promise.all(
  Array.from({ length: THREADS_PER_PROC }, () =>
    startWorker(new URL('./remote-creator.js', import.meta.url), {
      workerData: { descriptor: fs.descriptor },
    }),
  ),
);

process.on('message', async (m: MachineRequest) => {
  if ('stop' in m) {
    await Promise.all(threads.map((t) => t.terminate()));
    fs.umount();
    await server.stop();
    process.exit(0);
  }
  try {
    await Promise.all(
      threads.map((t, k) =>
        askWorker<CreatorReply>(
          t,
          { prefix: `${m.prefix}-t${k}`, count: m.count } satisfies CreatorRequest,
          'creator',
          120_000,
        ),
      ),
    );
    send({ id: m.id });
  } catch (e) {
    send({ id: m.id, error: e instanceof Error ? e.message : String(e) });
  }
});
send({ ready: true });
