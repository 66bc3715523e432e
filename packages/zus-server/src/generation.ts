/**
 * One generation of the server's threads: the ZT threads that serve the grid and the mount thread.
 * The thread that starts the server spawns the first (threads.ts), all at once; the supervisor
 * spawns the others (supervisor.ts) as standby generations: each thread boots and loads the
 * filesystem modules, says `standby`, and waits for the supervisor's `go` (GoMessage) to take the
 * grid over. Each thread gets a life port, whose other end the supervisor watches: it closes when
 * the thread ends, however it ends.
 */
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import type { ZufRootDescriptor } from '@zufs/zuf-core';
import type { LedgerEntry } from './messages.js';
import type { ZtThreadData } from './zt-boot.js';

/** What every generation is made from (the server's options, as the threads need them). */
export interface GenerationConfig {
  filesystems: string[];
  appCopyWaitMs: number;
  /**
   * ZT worker threads; the grid's channels are dealt to them in contiguous runs. 0: none, the mount
   * thread serves the grid too (one server thread in all, for a short-lived server).
   */
  ztThreads: number;
}

/** A restart: what the new mount thread mounts again, and how ZTs take their channels over. */
export interface RestartPlan {
  epoch: number;
  reason: 'crash' | 'reload';
  mounts: LedgerEntry[];
  nextSbId: number;
  /** A dead ZT was inside a change (RestartInfo.midChange). */
  midChange: boolean;
  /** Restarts begun when this generation was spawned: it takes channels over only while so. */
  begun: number;
}

export interface Generation {
  /** The threads that serve the grid (the mount thread alone, when ztThreads is 0). */
  zts: Worker[];
  mount: Worker;
  /**
   * The supervisor's ends of the threads' life ports, the threads' names, and the root's slots each
   * thread serves (grid slots; the mount thread's channel for zufs-mount), in the same order.
   */
  lives: MessagePort[];
  names: string[];
  served: number[][];
  /** The supervisor's end of the mount thread's control port (ledger up, inline ports down). */
  control: MessagePort;
}

/** What the mount thread is given (its workerData). */
export interface MountThreadData {
  root: ZufRootDescriptor;
  filesystems: string[];
  /** The ZT threads' ports: each mount's notices go down them. */
  ztPorts: MessagePort[];
  /** Held, never used: it closes when this thread ends, which tells the supervisor. */
  life: MessagePort;
  /** To the supervisor: the ledger of mounts goes up, inline ZTs' ports come down. */
  control: MessagePort;
  /** A standby generation's thread: it waits for the supervisor's go and its restart plan. */
  standby: boolean;
  /** The grid this thread serves as well, when the server has no ZT thread (ztThreads 0). */
  zt?: ZtThreadData;
}

/** Spawns a worker of this package by file name; the caller hears its events. */
export type Spawn = (file: string, name: string, workerData: unknown, transfer: MessagePort[]) => Worker;

export function spawnWorker(
  file: string,
  name: string,
  workerData: unknown,
  transfer: MessagePort[],
): Worker {
  return new Worker(new URL(file, import.meta.url), { workerData, transferList: transfer, name });
}

/** The grid slots of each ZT thread: thread t serves [t * G / n, (t + 1) * G / n). */
export function ztSlots(gridSize: number, threads: number): number[][] {
  return Array.from({ length: threads }, (_, t) => {
    const from = Math.floor((t * gridSize) / threads);
    const to = Math.floor(((t + 1) * gridSize) / threads);
    return Array.from({ length: to - from }, (_, k) => from + k);
  });
}

/** `standby`: the threads wait for their `go` (a later generation); else they serve at once (the first). */
export function spawnGeneration(
  root: ZufRootDescriptor,
  config: GenerationConfig,
  spawn: Spawn,
  standby: boolean,
): Generation {
  const lives: MessagePort[] = [];
  const names: string[] = [];
  const served: number[][] = [];
  const life = (name: string, slots: number[]): MessagePort => {
    const ch = new MessageChannel();
    lives.push(ch.port2);
    names.push(name);
    served.push(slots);
    return ch.port1;
  };
  const gridSize = root.zts * root.channels;
  const ztPorts: MessagePort[] = [];
  const ztData = (slots: number[]): { name: string; wd: ZtThreadData } => {
    const name = slots.length === 1 ? `zufs-zt-${slots[0]}` : `zufs-zt-${slots[0]}-${slots.at(-1)}`;
    const ch = new MessageChannel();
    ztPorts.push(ch.port2);
    const lifePort = life(name, slots);
    const wd = {
      root,
      slots,
      filesystems: config.filesystems,
      port: ch.port1,
      life: lifePort,
      appCopyWaitMs: config.appCopyWaitMs,
      standby,
    };
    return { name, wd };
  };
  // With n = zts threads, a ZT row each (ZUFS's shape).
  const zts =
    config.ztThreads === 0
      ? []
      : ztSlots(gridSize, config.ztThreads).map((slots) => {
          const { name, wd } = ztData(slots);
          return spawn('./zt-worker.js', name, wd, [wd.port, wd.life]);
        });
  // No ZT thread: the mount thread serves the whole grid besides its channel.
  const zt = config.ztThreads === 0 ? ztData(ztSlots(gridSize, 1)[0]).wd : undefined;
  const mountLife = life('zufs-mount', [gridSize]); // the mount channel follows the grid's slots
  const control = new MessageChannel();
  const mwd: MountThreadData = {
    root,
    filesystems: config.filesystems,
    ztPorts,
    life: mountLife,
    control: control.port1,
    standby,
    zt,
  };
  const transfer = [...ztPorts, mountLife, control.port1, ...(zt ? [zt.port, zt.life] : [])];
  const mount = spawn('./mount-worker.js', 'zufs-mount', mwd, transfer);
  return { zts: zt ? [mount] : zts, mount, lives, names, served, control: control.port2 };
}
