/** Control messages between the server's threads (never on the operation path). */

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

export interface ServerConfig {
  filesystems: string[];
  stopTimeoutMs: number;
}
