/**
 * `IMAGE.lock`: one read-write opener of an image at a time, whoever opens it (a library mount in a
 * server's mount thread, `zufs mount`, every CLI command, fsck). PmemDevice.openFile takes it.
 *
 * The lock file holds `pid=`, `who=` (a short description: "zufs mount /mnt/x", "node script.js"),
 * `start=` (the process's start time in /proc, so a reused pid is not taken for the holder) and a
 * unique `token=`. It appears whole: written to a temp file, then hard-linked to its name (link
 * fails if the name exists). A lock whose process is gone is stale; taking it over is a
 * compare-and-delete: only the process that creates `IMAGE.lock.stale-<token>` exclusively may
 * delete the lock, and only while it still holds that token; then every taker races for the name
 * again with link. The second opener, this process included, gets EBUSY and changes nothing.
 */
import * as fs from 'node:fs';
import { basename } from 'node:path';
import { threadId } from 'node:worker_threads';
import { Errno } from '@zufs/zuf-core/api';
import { ZusError as ZufsError } from '@zufs/zus-server';

export interface LockHolder {
  readonly pid: number;
  readonly who: string;
  readonly token: string;
  /** /proc/<pid>/stat's start time, when the holder could read it. */
  readonly start?: string;
}

/** EBUSY: the image is open read-write elsewhere (`holder` says by whom). */
export class ImageBusyError extends ZufsError {
  constructor(
    readonly image: string,
    readonly holder: LockHolder,
  ) {
    const self = holder.pid === process.pid ? ', this process' : '';
    super(Errno.EBUSY, `${image}: in use by ${holder.who} (pid ${holder.pid}${self})`);
  }
}

export interface ImageLock {
  /** The lock file. */
  readonly path: string;
  readonly holder: LockHolder;
  /** Deletes the lock if it is still ours; idempotent. */
  release(): void;
}

/** Tries before a takeover that another process seems to be in the middle of is given up. */
const TAKEOVER_TRIES = 200;
const TAKEOVER_PAUSE_MS = 5;

/**
 * "node script.js a b": this process as a person would name it (80 characters at most). From
 * /proc/self/cmdline where there is one: a worker's process.argv names the worker's script.
 */
export function defaultHolderName(): string {
  let argv = process.argv;
  try {
    argv = fs.readFileSync('/proc/self/cmdline', 'utf8').split('\0').slice(0, -1);
  } catch {
    // not Linux: this thread's argv
  }
  const [exe, script, ...rest] = argv;
  return oneLine([basename(exe || 'node'), script === undefined ? '' : basename(script), ...rest].join(' '));
}

const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim().slice(0, 80);

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); null off Linux or if gone. */
function procStart(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function alive(h: LockHolder): boolean {
  if (h.pid === process.pid) return true;
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A pid that lives may be another process now: its start time tells.
  const start = h.start === undefined ? null : procStart(h.pid);
  return start === null || start === h.start;
}

/** The lock file's holder; null if there is none (or it is not whole yet: the caller retries). */
export function readLockHolder(lockPath: string): LockHolder | null {
  let text: string;
  try {
    text = fs.readFileSync(lockPath, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const f = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) f.set(line.slice(0, eq), line.slice(eq + 1));
  }
  // The CLI's first locks held only "<pid>\n".
  const pid = Number(f.get('pid') ?? text.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  // The token names the takeover marker's file: only a plain word, as lockImage writes it.
  const token = f.get('token') ?? '';
  return {
    pid,
    who: f.get('who') ?? 'another program',
    token: /^[\w-]{1,64}$/.test(token) ? token : `pid-${pid}`,
    start: f.get('start'),
  };
}

/** The living process that holds `image`'s lock, or null (no lock, or a stale one). */
export function imageHolder(image: string): LockHolder | null {
  const h = readLockHolder(`${image}.lock`);
  return h !== null && alive(h) ? h : null;
}

/** Links `tmp` to `lockPath`; false if the name exists. Falls back to O_EXCL where links are not made. */
function place(tmp: string, lockPath: string, body: string): boolean {
  try {
    fs.linkSync(tmp, lockPath);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw e;
  }
  try {
    fs.writeFileSync(lockPath, body, { flag: 'wx', mode: 0o644 });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/**
 * Deletes the stale lock `stale` unless another process is taking it over (false: retry later).
 * The marker makes the check-and-delete one process's: a late taker that creates the marker after
 * the winner removed it finds another token in the lock and deletes nothing.
 */
function takeOver(lockPath: string, stale: LockHolder): boolean {
  const marker = `${lockPath}.stale-${stale.token}`;
  try {
    fs.writeFileSync(marker, `pid=${process.pid}\n`, { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    if (readLockHolder(lockPath)?.token === stale.token) fs.unlinkSync(lockPath);
  } finally {
    fs.unlinkSync(marker);
  }
  return true;
}

const pause = new Int32Array(new SharedArrayBuffer(4));
let tokens = 0;

/**
 * A token no other holder has: this process and thread, this instant, a count, a random tail. Only
 * uniqueness matters (it names this holder's files), so it needs no node:crypto, which would cost
 * every server thread that loads pmemfs ~6 ms of CPU to load.
 */
function lockToken(): string {
  const rnd = Math.floor(Math.random() * 2 ** 32).toString(16);
  return `${process.pid}-${threadId}-${Date.now().toString(36)}-${++tokens}-${rnd}`;
}

/**
 * Takes `image`.lock for this process, naming it `who`. Throws ImageBusyError (EBUSY) while a
 * living process (this one included) holds it; a lock of a process that is gone is taken over.
 */
export function lockImage(image: string, who = defaultHolderName()): ImageLock {
  const lockPath = `${image}.lock`;
  const start = procStart(process.pid);
  const holder: LockHolder = {
    pid: process.pid,
    who: oneLine(who) || 'unnamed',
    token: lockToken(),
    ...(start === null ? {} : { start }),
  };
  const body = `pid=${holder.pid}\nwho=${holder.who}\n${start === null ? '' : `start=${start}\n`}token=${holder.token}\n`;
  const tmp = `${lockPath}.${holder.token}`;
  fs.writeFileSync(tmp, body, { flag: 'wx', mode: 0o644 });
  try {
    for (let tries = 0; !place(tmp, lockPath, body); tries++) {
      const other = readLockHolder(lockPath);
      if (other !== null && alive(other)) throw new ImageBusyError(image, other);
      if (other !== null && takeOver(lockPath, other)) continue;
      if (tries >= TAKEOVER_TRIES)
        throw new ZufsError(
          Errno.EBUSY,
          `${image}: the lock ${lockPath} stays unreadable or mid-takeover (if no zufs program runs, remove it and ${lockPath}.stale-*)`,
        );
      Atomics.wait(pause, 0, 0, TAKEOVER_PAUSE_MS); // another process is writing or taking it over
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    process.off('exit', release);
    try {
      if (readLockHolder(lockPath)?.token === holder.token) fs.unlinkSync(lockPath);
    } catch {
      // gone already
    }
  };
  // A process that exits with the image open leaves no lock (a worker that is terminated does: its
  // pid's lock is then stale once the process is gone).
  process.on('exit', release);
  return { path: lockPath, holder, release };
}

/**
 * Deletes `image`.lock if it holds `token` (a lock this process took in a thread that is gone: a
 * server restart takes it back before it locks the image again).
 */
export function releaseLockToken(image: string, token: string): void {
  const lockPath = `${image}.lock`;
  try {
    if (readLockHolder(lockPath)?.token === token) fs.unlinkSync(lockPath);
  } catch {
    // gone already
  }
}
