/**
 * watchFile / unwatchFile: Node's stat polling (libuv's fs_poll) over the face. Every `interval`
 * ms the path is stat'ed; when what a stat shows has changed (times, size, mode, owner, inode), or
 * the path came or went, the listeners get (current, previous). A missing path reads as zeroed
 * Stats (dates at the epoch), reported once, as Node's. One watcher per path, shared by its
 * listeners, as Node's.
 */
import { EventEmitter } from 'node:events';
import { type InodeAttr, newAttr } from '../inode/client.js';
import { invalidArgType } from './errors.js';
import { toPath } from './paths.js';
import { makeStats } from './stats.js';

/** The attributes a path names, or undefined when it cannot be stat'ed (missing, no permission). */
type StatFn = (path: string) => InodeAttr | undefined;

/** libuv's default poll interval, Node's default for watchFile. */
const DEFAULT_INTERVAL_MS = 5007;

/** What fs_poll compares (to the nanosecond): a change in any of these is a change. */
function sameAttr(a: InodeAttr, b: InodeAttr): boolean {
  return (
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs &&
    a.size === b.size &&
    a.mode === b.mode &&
    a.uid === b.uid &&
    a.gid === b.gid &&
    a.ino === b.ino
  );
}

/** Node's StatWatcher: an EventEmitter of 'change' (current, previous) and 'stop'. */
export class StatWatcher extends EventEmitter {
  private timer: ReturnType<typeof setInterval> | null = null;
  /** The last attributes a stat gave (zeroed until one did). */
  private prev: InodeAttr;
  private missing: boolean;

  constructor(
    private readonly path: string,
    private readonly stat: StatFn,
    private readonly bigint: boolean,
    interval: number,
    persistent: boolean,
  ) {
    super();
    const now = stat(path);
    this.missing = now === undefined;
    this.prev = now ?? newAttr();
    this.timer = setInterval(() => this.tick(), interval);
    if (!persistent) this.timer.unref();
    // A path missing from the start is reported once, as Node's (after the listener is added).
    if (this.missing) setImmediate(() => this.timer && this.report(newAttr(), newAttr()));
  }

  private report(now: InodeAttr, prev: InodeAttr): void {
    this.emit('change', makeStats(now, this.bigint), makeStats(prev, this.bigint));
  }

  private tick(): void {
    const now = this.stat(this.path);
    if (now === undefined) {
      // Reported once; `prev` stays the last stat that worked, as libuv keeps it.
      if (this.missing) return;
      this.missing = true;
      this.report(newAttr(), this.prev);
      return;
    }
    if (!this.missing && sameAttr(now, this.prev)) return;
    this.missing = false;
    const prev = this.prev;
    this.prev = now;
    this.report(now, prev);
  }

  /** Stops polling; emits 'stop'. */
  stop(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
    this.emit('stop');
  }

  ref(): this {
    this.timer?.ref();
    return this;
  }

  unref(): this {
    this.timer?.unref();
    return this;
  }
}

/** fs.watchFile and fs.unwatchFile over `stat`, with one watcher per path. */
export function fileWatchers(stat: StatFn) {
  const watchers = new Map<string, StatWatcher>();
  const watchFile = (path: unknown, options?: unknown, listener?: unknown): StatWatcher => {
    const p = toPath(path, 'filename');
    let o = options;
    if (typeof o === 'function') {
      listener = o;
      o = undefined;
    }
    if (typeof listener !== 'function') throw invalidArgType('listener', 'of type function', listener);
    const opt = (o ?? {}) as { bigint?: boolean; persistent?: boolean; interval?: number };
    let w = watchers.get(p);
    if (!w) {
      const interval = typeof opt.interval === 'number' ? opt.interval : DEFAULT_INTERVAL_MS;
      w = new StatWatcher(p, stat, opt.bigint === true, interval, opt.persistent !== false);
      watchers.set(p, w);
    }
    w.addListener('change', listener as (...a: unknown[]) => void);
    return w;
  };
  const unwatchFile = (path: unknown, listener?: unknown): void => {
    const p = toPath(path, 'filename');
    const w = watchers.get(p);
    if (!w) return;
    if (typeof listener === 'function') w.removeListener('change', listener as (...a: unknown[]) => void);
    else w.removeAllListeners('change');
    if (w.listenerCount('change') === 0) {
      w.stop();
      watchers.delete(p);
    }
  };
  return { watchFile, unwatchFile };
}
