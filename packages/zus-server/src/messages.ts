/** Control messages between the server's threads (never on the operation path). */
import type { MessagePort } from 'node:worker_threads';

/** From the supervisor: it listens on every life port now; a server thread died first. */
export type SupervisorEvent = { type: 'watching' } | { type: 'died'; who: string };

export type WorkerEvent =
  | { type: 'ready' }
  | { type: 'registered'; fsTypes: string[] }
  | { type: 'log'; level: 'warn' | 'error'; message: string };

/** Sent by the mount thread to each ZT's port: a mount to attach to, or one that went away. */
export type MountNotice =
  | { type: 'attach'; sbId: number; fsIndex: number; descriptor: unknown }
  | { type: 'detach'; sbId: number };

/**
 * On an inline ZT's port (inline-zt.ts): first an attach for every mount up and `ready` with the
 * filesystem modules to load and the mount generation they bring it to; then every MountNotice.
 */
export type InlineNotice = MountNotice | { type: 'ready'; filesystems: string[]; gen: number };

/** From startServer's thread to the mount thread: a new inline ZT's port. */
export interface InlinePortMessage {
  type: 'inline-port';
  port: MessagePort;
}
