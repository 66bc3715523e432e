/** Control messages between the server's threads (never on the operation path). */
import type { MessagePort } from 'node:worker_threads';
import type { RestartPlan } from './generation.js';

/** From the supervisor to the thread that started the server. */
export type SupervisorEvent =
  | { type: 'watching' }
  /** A server thread died and the server is failed for good (no restart left, or none possible). */
  | { type: 'died'; who: string; message: string; code?: number }
  /** A server thread died (or a reload began): the threads are being replaced. */
  | { type: 'restarting'; who: string; message: string; reason: 'crash' | 'reload' }
  /** The new threads serve: epoch is the restart count, ms how long the restart took. */
  | { type: 'restarted'; epoch: number; ms: number; reason: 'crash' | 'reload' }
  /** The answer to a ReloadRequest: error is why it was refused or failed (the old code serves). */
  | { type: 'reloaded'; id: number; error?: string }
  | { type: 'log'; level: 'warn' | 'error'; message: string };

export type WorkerEvent =
  /** A thread of a standby generation has loaded everything and waits for its GoMessage. */
  | { type: 'standby' }
  | { type: 'ready' }
  | { type: 'registered'; fsTypes: string[] }
  | { type: 'log'; level: 'warn' | 'error'; message: string };

/** Sent by the mount thread to each ZT's port: a mount to attach to, or one that went away. */
export type MountNotice =
  /** epoch: the restart count when it was mounted; a higher one replaces the attachment. */
  | { type: 'attach'; sbId: number; fsIndex: number; descriptor: unknown; epoch: number }
  | { type: 'detach'; sbId: number };

/**
 * On an inline ZT's port (inline-zt.ts): first an attach for every mount up and `ready` with the
 * filesystem modules to load and the mount generation they bring it to. Every later MountNotice
 * comes on the server's notice channel (a BroadcastChannel: noticeChannelName), which outlives the
 * mount thread across restarts.
 */
export type InlineNotice = MountNotice | { type: 'ready'; filesystems: string[]; gen: number };

/** To the mount thread (from the supervisor): a new inline ZT's port. */
export interface InlinePortMessage {
  type: 'inline-port';
  port: MessagePort;
}

/** What the supervisor keeps of each mount, to mount it again after a restart (the ledger). */
export interface LedgerEntry {
  sbId: number;
  type: string;
  options: string;
  flags: number;
  descriptor: unknown;
  epoch: number;
}

/** From the mount thread to the supervisor: the ledger's changes. */
export type LedgerMessage = { type: 'mounted'; entry: LedgerEntry } | { type: 'unmounted'; sbId: number };

/**
 * From the supervisor to a thread of a standby generation: take over. A ZT gets the restarts begun
 * (its channels' revival is guarded by it); the mount thread gets the restart's plan.
 */
export type GoMessage = { type: 'go'; begun: number } | { type: 'go'; restart: RestartPlan };

/** From the starting thread to the supervisor. */
export type SupervisorRequest =
  | InlinePortMessage
  | { type: 'reload'; id: number; filesystems: string[] }
  | { type: 'stopping' };

/** The BroadcastChannel every mount thread of a server posts its notices to, for inline ZTs. */
export function noticeChannelName(rootId: number): string {
  return `zufs-mount-notices-${process.pid}-${rootId}`;
}
