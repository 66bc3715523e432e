/** The words the FUSE target shares with its watchdog (fuse-watchdog.ts). */

/** Index of the running case's number (0: none). */
export const WATCH_CASE = 0;
/** Index of the flag the watchdog sets when it aborted the connection. */
export const WATCH_ABORTED = 1;

export interface WatchdogData {
  words: SharedArrayBuffer;
  connection: number;
  /** The mount's path: the watchdog aborts the connection only while it is this mount's. */
  mountpoint: string;
  hangMs: number;
}
