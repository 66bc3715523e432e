/** Control messages between the server's threads (never on the operation path). */
import type { MessagePort } from 'node:worker_threads';

export type SupervisorEvent =
  | { type: 'ready'; fsTypes: string[] }
  | { type: 'start-failed'; message: string }
  | { type: 'failed'; who: string; code: number; message: string }
  | { type: 'log'; level: 'warn' | 'error'; message: string }
  | { type: 'stopped' };

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

/** From startServer's thread to the supervisor, then to the mount thread: a new inline ZT's port. */
export interface InlinePortMessage {
  type: 'inline-port';
  port: MessagePort;
}

export interface ServerConfig {
  filesystems: string[];
  stopTimeoutMs: number;
}
