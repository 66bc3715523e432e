/**
 * watchFile / unwatchFile and watch, over the face, by polling: there is no inotify for a filesystem
 * in shared memory. watchFile is Node's own design (libuv's fs_poll): every `interval` ms the path
 * is stat'ed; when what a stat shows has changed (times, size, mode, owner, inode), or the path came
 * or went, the listeners get (current, previous). A missing path reads as zeroed Stats (dates at the
 * epoch), reported once. One watcher per path, shared by its listeners, as Node's.
 *
 * watch polls too, but only does work when the server's change count has moved (every operation
 * that may change a filesystem moves it): an idle watcher costs one atomic load a tick. It then
 * compares a snapshot of the file, or of the directory's entries (all below it with `recursive`),
 * and emits what differs: 'rename' for a name that came or went, 'change' for one whose inode,
 * times or size changed. Events of one tick are coalesced (inotify would report a write twice).
 */
import { EventEmitter } from 'node:events';
import { type InodeAttr, newAttr } from '../inode/client.js';
import { invalidArgType, uvError } from './errors.js';
import { toPath } from './paths.js';
import { makeStats } from './stats.js';

/** The attributes a path names, or undefined when it cannot be stat'ed (missing, no permission). */
type StatFn = (path: string, follow?: boolean) => InodeAttr | undefined;

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

/** A watcher's timer: polls `tick` every `interval` ms until ended; ref/unref as Node's watchers. */
abstract class Poller extends EventEmitter {
  private timer: ReturnType<typeof setInterval> | null = null;

  protected startPolling(interval: number, persistent: boolean): void {
    this.timer = setInterval(() => this.tick(), interval);
    if (!persistent) this.timer.unref();
  }

  protected abstract tick(): void;

  protected get polling(): boolean {
    return this.timer !== null;
  }

  /** Stops polling and emits `event` on a later tick, as Node's ('stop', 'close'). */
  protected end(event: string): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
    process.nextTick(() => this.emit(event));
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

/** Node's StatWatcher: an EventEmitter of 'change' (current, previous) and 'stop'. */
export class StatWatcher extends Poller {
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
    this.startPolling(interval, persistent);
    // A path missing from the start is reported once, as Node's (after the listener is added).
    if (this.missing) setImmediate(() => this.polling && this.report(newAttr(), newAttr()));
  }

  private report(now: InodeAttr, prev: InodeAttr): void {
    this.emit('change', makeStats(now, this.bigint), makeStats(prev, this.bigint));
  }

  protected tick(): void {
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
    this.end('stop');
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

/** What watch() needs of the face. */
export interface WatchSource {
  stat: StatFn;
  /** The names in directory `path` (throws when it is not one). */
  names(path: string): string[];
  /** The server's change count, or -1 while a change is under way. */
  changeStamp(): number;
}

/** How often watch() looks at the change count. */
const WATCH_TICK_MS = 25;

/**
 * One entry's identity and the stamps a change moves. A directory's own stamps are left out: what
 * happens inside it is no event of its parent's (inotify's neither).
 */
const keyOf = (a: InodeAttr) =>
  (a.mode & 0o170000) === 0o040000
    ? `${a.ino}:${a.mode}`
    : `${a.ino}:${a.mtimeNs}:${a.ctimeNs}:${a.size}:${a.mode}`;

/** Node's FSWatcher: 'change' (eventType, filename), 'close', 'error'. */
export class FSWatcher extends Poller {
  private seen = -1;
  private snap: Map<string, string>;
  private readonly base: string;

  constructor(
    private readonly src: WatchSource,
    private readonly path: string,
    private readonly isDir: boolean,
    private readonly recursive: boolean,
    private readonly asBuffer: boolean,
    persistent: boolean,
  ) {
    super();
    this.base = path.replace(/\/+$/, '').replace(/^.*\//, '');
    this.seen = src.changeStamp();
    this.snap = this.scan();
    this.startPolling(WATCH_TICK_MS, persistent);
  }

  /** name -> key of what the watch covers ('' is the watched path itself). */
  private scan(): Map<string, string> {
    const out = new Map<string, string>();
    const self = this.src.stat(this.path);
    if (self === undefined) return out;
    out.set('', keyOf(self));
    if (!this.isDir) return out;
    const walk = (dir: string, rel: string) => {
      let names: string[];
      try {
        names = this.src.names(dir);
      } catch {
        return; // gone meanwhile
      }
      for (const name of names) {
        const relName = rel ? `${rel}/${name}` : name;
        const a = this.src.stat(`${dir}/${name}`, false);
        if (a === undefined) continue;
        out.set(relName, keyOf(a));
        if (this.recursive && (a.mode & 0o170000) === 0o040000) walk(`${dir}/${name}`, relName);
      }
    };
    walk(this.path, '');
    return out;
  }

  protected tick(): void {
    const stamp = this.src.changeStamp();
    if (stamp < 0 || stamp === this.seen) return;
    this.seen = stamp;
    const now = this.scan();
    const events: [string, string][] = [];
    for (const [name, key] of now) {
      const old = this.snap.get(name);
      if (name === '') {
        if (old !== undefined && old !== key && !this.isDir) events.push(['change', this.base]);
        continue;
      }
      if (old === undefined) events.push(['rename', name]);
      else if (old !== key) events.push(['change', name]);
    }
    for (const name of this.snap.keys()) {
      if (!now.has(name)) events.push(['rename', name === '' ? this.base : name]);
    }
    this.snap = now;
    for (const [type, name] of events) this.emit('change', type, this.asBuffer ? Buffer.from(name) : name);
  }

  close(): void {
    this.end('close');
  }
}

/** fs.watch over `src`: ENOENT (syscall 'watch') for a path that is not there. */
export function watcher(src: WatchSource) {
  return (path: unknown, options?: unknown, listener?: unknown): FSWatcher => {
    const p = toPath(path, 'filename');
    let o = options;
    if (typeof o === 'function') {
      listener = o;
      o = undefined;
    }
    const opt = (typeof o === 'string' ? { encoding: o } : (o ?? {})) as {
      persistent?: boolean;
      recursive?: boolean;
      encoding?: string;
      signal?: AbortSignal;
    };
    const a = src.stat(p);
    if (a === undefined) throw Object.assign(uvError(2, 'watch', p), { filename: p }); // as Node's
    const isDir = (a.mode & 0o170000) === 0o040000;
    const w = new FSWatcher(
      src,
      p,
      isDir,
      opt.recursive === true,
      opt.encoding === 'buffer',
      opt.persistent !== false,
    );
    if (typeof listener === 'function') w.on('change', listener as (...a: unknown[]) => void);
    if (opt.signal) {
      if (opt.signal.aborted) process.nextTick(() => w.close());
      else opt.signal.addEventListener('abort', () => w.close(), { once: true });
    }
    return w;
  };
}

/**
 * fs.promises.watch over `watch`: an async iterator of { eventType, filename }; an abort of
 * `options.signal` ends it with Node's AbortError. The watcher starts on the first next(), so a
 * missing path rejects there, as Node's.
 */
export function watchIterator(watch: ReturnType<typeof watcher>) {
  return (
    path: unknown,
    options?: unknown,
  ): AsyncIterableIterator<{ eventType: string; filename: string | Buffer }> => {
    const o = (typeof options === 'string' ? { encoding: options } : (options ?? {})) as {
      signal?: AbortSignal;
    };
    let w: FSWatcher | null = null;
    const queue: { eventType: string; filename: string | Buffer }[] = [];
    let wake: (() => void) | null = null;
    let done = false;
    const aborted = () => {
      const err = new Error('The operation was aborted', { cause: o.signal?.reason });
      return Object.assign(err, { name: 'AbortError', code: 'ABORT_ERR' });
    };
    const finish = () => {
      done = true;
      w?.close();
      wake?.();
    };
    const it: AsyncIterableIterator<{ eventType: string; filename: string | Buffer }> = {
      async next() {
        if (o.signal?.aborted) {
          finish();
          throw aborted();
        }
        if (w === null && !done) {
          w = watch(path, { ...o, signal: undefined });
          w.on('change', (eventType: string, filename: string | Buffer) => {
            queue.push({ eventType, filename });
            wake?.();
          });
          o.signal?.addEventListener('abort', finish, { once: true });
        }
        while (queue.length === 0 && !done) await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
        if (queue.length > 0) return { value: queue.shift()!, done: false };
        if (o.signal?.aborted) throw aborted();
        return { value: undefined, done: true };
      },
      async return() {
        finish();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return it;
      },
    };
    return it;
  };
}
