// The fs suite's targets: each is set up inside its own runner thread (workers/fs-runner.ts), so a
// target's threads, caches and globals (ZenFS configures a process-wide `fs`) never meet another's.
import * as nodeFs from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MessagePort, Worker } from 'node:worker_threads';
import type { RelayCounters } from '@zufs/relay';
import { importBase } from '../base.js';
import type { AsyncFs, SyncFs } from './workloads.js';

export interface Target {
  /** Where the workloads put their files ('' for the root of a filesystem of our own). */
  root: string;
  sync?: SyncFs;
  async?: AsyncFs;
  /** What another thread needs to reach the same filesystem (attachTarget): zufs's mount descriptor. */
  share?: unknown;
  /**
   * zufs-inline: a port for one more thread to serve its own operations (zus-server's
   * inlinePort()), handed to attachTarget with the share; transfer it.
   */
  inlinePort?(): MessagePort;
  /**
   * zufs's relay counters summed over the grid (zuf-core's app and ZT sides): what a case reports
   * per operation (handoffs, parks, futex wakes) to show where a crossing's time goes.
   */
  counters?(): RelayCounters;
  close(): Promise<void>;
}

export interface TargetOptions {
  /** zufs's image size (default 256 MiB). */
  imageBytes?: number;
}

export const TARGETS = [
  'zufs',
  'zufs-inline',
  'zufs-base',
  'nodefs-tmpfs',
  'nodefs-disk',
  'memfs',
  'zenfs-port',
  'zenfs-memory',
] as const;
export type TargetName = (typeof TARGETS)[number];

/** The only operations a target is measured on, where it is not measured on all. */
export const TARGET_OPS: Partial<Record<TargetName, readonly string[]>> = {
  // The peer that really syncs: fsync-4k's, as tmpfs's fsync does nothing.
  'nodefs-disk': ['fsync-4k'],
};

const TMPFS_MAGIC = 0x01021994;
const RAMFS_MAGIC = 0x858458f6;

/**
 * A directory on a disk (not tmpfs or ramfs) for zufs's image and nodefs-disk's files, so that
 * zufs's fsync and node:fs's reach the same device: $ZUFS_BENCH_DISK, else the OS temp directory,
 * else the bench package's own directory.
 */
export function diskDir(): string {
  const candidates = [
    process.env.ZUFS_BENCH_DISK,
    tmpdir(),
    fileURLToPath(new URL('../../', import.meta.url)),
  ];
  for (const dir of candidates) {
    if (!dir || !nodeFs.existsSync(dir)) continue;
    const type = Number(nodeFs.statfsSync(dir).type);
    if (type !== TMPFS_MAGIC && type !== RAMFS_MAGIC) return dir;
  }
  throw new Error("no directory on a disk for nodefs-disk and zufs's image: set ZUFS_BENCH_DISK");
}

/**
 * zufs: pmemfs on a 256 MiB image file on the disk nodefs-disk uses (so fsync commits through the
 * journal to that disk, as a user's image does), no background commit (commit=0: nothing but fsync
 * writes the image), served by a ZT per core, through the node:fs face.
 * zufs-inline: the same, with the runner thread serving its own operations (an inline ZT,
 * zus-server serveInline): no hop to a ZT thread. zufs-base: zufs built from ZUFS_BENCH_BASE.
 */
async function zufs(inline: boolean, o: TargetOptions, base = false): Promise<Target> {
  // zufs-base: the same, built from the checkout ZUFS_BENCH_BASE names (base.ts), for A/B runs.
  const { mkfs, PMEMFS_TYPE, PmemDevice } = base
    ? await importBase<typeof import('@zufs/example-pmemfs')>('example-pmemfs')
    : await import('@zufs/example-pmemfs');
  const { serveInline, startServer } = base
    ? await importBase<typeof import('@zufs/zus-server')>('zus-server')
    : await import('@zufs/zus-server');
  const { mount } = base ? await importBase<typeof import('@zufs/vfs')>('vfs') : await import('@zufs/vfs');
  const dir = nodeFs.mkdtempSync(join(diskDir(), 'zufs-bench-img-'));
  const image = join(dir, 'fs.img');
  const dev = PmemDevice.createFile(image, o.imageBytes ?? 256 * 1024 * 1024);
  mkfs(dev, {});
  dev.flush();
  dev.close();
  const server = await startServer({ zts: availableParallelism(), channels: 2, filesystems: [PMEMFS_TYPE] });
  const fs = mount(server.root, { type: 'pmemfs', device: image, options: 'commit=0' });
  const served = inline ? await serveInline(server.root, server.inlinePort()) : null;
  return {
    root: '',
    sync: fs as unknown as SyncFs,
    share: fs.descriptor,
    inlinePort: inline ? () => server.inlinePort() : undefined,
    counters: () => gridCounters(fs.root.slots.slice(0, fs.root.gridSize)),
    async close() {
      served?.close();
      fs.umount();
      await server.stop();
      nodeFs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The relay counters of `slots`, summed. */
function gridCounters(slots: readonly { relay: { counters(): RelayCounters } }[]): RelayCounters {
  const sum: RelayCounters = {
    fssSpins: 0,
    fssParks: 0,
    fssWakeups: 0,
    appSpins: 0,
    appParks: 0,
    appWakeups: 0,
  };
  for (const s of slots) {
    const c = s.relay.counters();
    for (const k in sum) sum[k as keyof RelayCounters] += c[k as keyof RelayCounters];
  }
  return sum;
}

/**
 * node:fs on a tmpfs directory (/dev/shm; the OS temp directory where there is none), or, `disk`,
 * on the disk zufs's image is on (diskDir()).
 */
async function nodefs(disk = false): Promise<Target> {
  const base = disk ? diskDir() : nodeFs.existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const root = nodeFs.mkdtempSync(join(base, 'zufs-bench-'));
  return {
    root,
    sync: nodeFs as unknown as SyncFs,
    share: root,
    async close() {
      nodeFs.rmSync(root, { recursive: true, force: true });
    },
  };
}

async function memfs(): Promise<Target> {
  const { Volume } = await import('memfs');
  return { root: '', sync: new Volume() as unknown as SyncFs, close: async () => {} };
}

/** ZenFS with its InMemory backend, in this thread. */
async function zenfsMemory(): Promise<Target> {
  const zen = await import('@zenfs/core');
  await zen.configure({ mounts: { '/': { backend: zen.InMemory } } });
  return { root: '/bench', sync: zen.fs as unknown as SyncFs, close: async () => {} };
}

/**
 * ZenFS's Port backend: the filesystem (InMemory) lives in another worker and every operation is an
 * RPC over a MessagePort. It has no synchronous operations, so the workloads use fs.promises.
 */
async function zenfsPort(): Promise<Target> {
  const zen = await import('@zenfs/core');
  const { MessageChannel } = await import('node:worker_threads');
  const { startWorker, stopWorker } = await import('../threads.js');
  const { port1, port2 } = new MessageChannel();
  const server: Worker = await startWorker(new URL('../workers/zenfs-port-server.js', import.meta.url), {
    workerData: { port: port2 },
    transferList: [port2],
    execArgv: process.execArgv,
  });
  await zen.configure({ mounts: { '/port': { backend: zen.Port, port: port1 as never } } });
  return {
    root: '/port',
    async: zen.fs.promises as unknown as AsyncFs,
    async close() {
      port1.close();
      await stopWorker(server, () => server.postMessage('stop'));
    },
  };
}

export function openTarget(name: TargetName, o: TargetOptions = {}): Promise<Target> {
  switch (name) {
    case 'zufs':
      return zufs(false, o);
    case 'zufs-inline':
      return zufs(true, o);
    case 'zufs-base':
      return zufs(false, o, true);
    case 'nodefs-tmpfs':
      return nodefs();
    case 'nodefs-disk':
      return nodefs(true);
    case 'memfs':
      return memfs();
    case 'zenfs-memory':
      return zenfsMemory();
    case 'zenfs-port':
      return zenfsPort();
  }
}

/**
 * The same filesystem in another thread, from the `share` of the thread that opened it: zufs's mount
 * attached (names, data and open counts shared), the same tmpfs directory; memfs and ZenFS live in
 * one thread's memory, so there it is a filesystem of the thread's own. Closing it leaves the
 * filesystem to its opener.
 */
export async function attachTarget(
  name: TargetName,
  share: unknown,
  inlinePort?: MessagePort,
): Promise<Target> {
  if (name === 'zufs' || name === 'zufs-inline') {
    const { attachMount } = await import('@zufs/vfs');
    const fs = attachMount(share as Parameters<typeof attachMount>[0]);
    // zufs-inline: this thread serves its own operations too, as the opener's thread does.
    const { serveInline } = await import('@zufs/zus-server');
    const served = name === 'zufs-inline' && inlinePort ? await serveInline(fs.root, inlinePort) : null;
    return { root: '', sync: fs as unknown as SyncFs, close: async () => served?.close() };
  }
  if (name === 'nodefs-tmpfs')
    return { root: share as string, sync: nodeFs as unknown as SyncFs, close: async () => {} };
  return openTarget(name);
}

/** Node 20 defines WebSocket (which ZenFS's RPC module refers to) only with this flag. */
export const ZENFS_NODE_FLAGS = ['--experimental-websocket'];
