// The remote suite's volumes: an sqlfs volume on SQLite (a file on tmpfs) or on PostgreSQL (a fresh
// database made for the run and dropped at its end), each mounted in a server of this process twice:
// with the default ttl (names and attributes cached) and with ttl=0 (every lookup asks the database).
import * as nodeFs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkfs, SQLFS_TYPE } from '@zufs/example-sqlfs';
import { mount, type ZufsMount } from '@zufs/vfs';
import { startServer } from '@zufs/zus-server';

/**
 * The server grid for PostgreSQL (zus-server's "Asynchronous operations"): two threads serving eight
 * ZTs of four channels, so operations wait on the database concurrently.
 */
export const PG_GRID = { zts: 8, channels: 4, ztThreads: 2 } as const;
/** create-2proc: app threads per process. */
export const THREADS_PER_PROC = 4;

export type Engine = 'sqlite' | 'pg';

export interface Volume {
  /** The mount options of the volume with the default ttl (what another process mounts). */
  options: string;
  /** Mounted with the default ttl (1 s). */
  fs: ZufsMount;
  /** Mounted with ttl=0. */
  strict: ZufsMount;
  close(): Promise<void>;
}

/** The PostgreSQL URL from --pg or ZUFS_TEST_PG_URL, or undefined (the PG cases are then left out). */
export function pgUrl(fromOption?: string): string | undefined {
  return fromOption || process.env.ZUFS_TEST_PG_URL || undefined;
}

/** Makes and mounts a volume on `device` (a file or a postgres:// URL). */
export async function openVolume(engine: Engine, device: string): Promise<Volume> {
  await mkfs(device);
  const server = await startServer({ ...(engine === 'pg' ? PG_GRID : {}), filesystems: [SQLFS_TYPE] });
  const options = `device=${device}`;
  const fs = mount(server.root, { type: 'sqlfs', options });
  const strict = mount(server.root, { type: 'sqlfs', options: `${options},ttl=0` });
  return {
    options,
    fs,
    strict,
    async close() {
      strict.umount();
      fs.umount();
      await server.stop();
    },
  };
}

/** A directory on tmpfs (else the temp dir) for an SQLite volume; removed by the returned function. */
export function scratchDir(): { dir: string; remove(): void } {
  const dir = nodeFs.mkdtempSync(
    join(nodeFs.existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'zufs-bench-remote-'),
  );
  return { dir, remove: () => nodeFs.rmSync(dir, { recursive: true, force: true }) };
}
