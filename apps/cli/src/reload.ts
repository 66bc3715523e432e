/**
 * Live reload from the command line. A `zufs mount` process reloads its filesystem modules on
 * SIGHUP (ZusServer.reload(): the volumes stay mounted, applications see no error) and writes how
 * it went to /run/zufs/reload-PID.json; `zufs reload MNT` sends the signal to the process serving
 * MNT (the image lock's holder) and waits for that file to count one more reload.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ZusServer } from '@zufs/zus-server';

/** Root's only (the mounts need root): nobody else can plant a file a reload would write through. */
const DIR = '/run/zufs';

export interface ReloadStatus {
  /** Reloads finished (done or refused) since the process started. */
  done: number;
  ok: boolean;
  /** What the reload said: the refusal's message, or what was reloaded. */
  message: string;
}

const statusFile = (pid: number) => join(DIR, `reload-${pid}.json`);

/** The status `pid` wrote last; null when it wrote none. */
export function reloadStatus(pid: number): ReloadStatus | null {
  try {
    return JSON.parse(readFileSync(statusFile(pid), 'utf8')) as ReloadStatus;
  } catch {
    return null;
  }
}

/**
 * Reloads `server`'s modules on each SIGHUP, one reload at a time (a SIGHUP during one is a reload
 * after it), and reports each in the status file. Returns what stops listening and removes the file.
 */
export function reloadOnHangup(server: ZusServer, say: (line: string) => void): () => void {
  let done = 0;
  let running: Promise<void> = Promise.resolve();
  const write = (s: ReloadStatus) => {
    try {
      mkdirSync(DIR, { recursive: true, mode: 0o700 });
      const tmp = `${statusFile(process.pid)}.tmp`;
      writeFileSync(tmp, JSON.stringify(s), { mode: 0o600 });
      renameSync(tmp, statusFile(process.pid));
    } catch (e) {
      say(`reload: cannot write ${statusFile(process.pid)}: ${(e as Error).message}`);
    }
  };
  const onHangup = () => {
    running = running.then(async () => {
      let status: ReloadStatus;
      try {
        await server.reload();
        status = { done: ++done, ok: true, message: `reloaded ${server.fsTypes.join(', ')}` };
      } catch (e) {
        status = { done: ++done, ok: false, message: (e as Error).message };
      }
      say(status.ok ? status.message : `reload refused: ${status.message}; the old code serves on`);
      write(status);
    });
  };
  process.on('SIGHUP', onHangup);
  return () => {
    process.off('SIGHUP', onHangup);
    rmSync(statusFile(process.pid), { force: true });
  };
}

/**
 * Sends SIGHUP to `pid` and waits (at most `ms`) for its next status. Null when none came.
 */
export async function askReload(pid: number, ms: number): Promise<ReloadStatus | null> {
  const before = reloadStatus(pid)?.done ?? 0;
  process.kill(pid, 'SIGHUP');
  const end = Date.now() + ms;
  for (;;) {
    const s = reloadStatus(pid);
    if (s && s.done > before) return s;
    if (Date.now() >= end) return null;
    await new Promise((r) => setTimeout(r, 20));
  }
}
