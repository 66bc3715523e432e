/**
 * The node:fs face: the *Sync methods of ZufsSync, and the callback and promises forms derived from
 * them generically (argument errors throw at once, as Node's do; others go to the callback or the
 * promise). Streams are Node's own, given this face's open/read/write/close.
 */
import * as nodeFs from 'node:fs';
import type { Pending } from '../inode/client.js';
import { Dir } from './dir.js';
import { abortError, invalidArgType, uvError } from './errors.js';
import { FileHandle } from './file-handle.js';
import { toPath } from './paths.js';
import { BigIntStats, Dirent, Stats } from './stats.js';
import type { ZufsSync } from './sync.js';
import { fileWatchers, watcher, watchIterator } from './watch.js';

type AnyFn = (...args: unknown[]) => unknown;

/** Sync methods with a callback and a promises twin. */
const SYNC_NAMES = [
  'access',
  'appendFile',
  'chmod',
  'chown',
  'close',
  'copyFile',
  'cp',
  'fchmod',
  'fchown',
  'fdatasync',
  'fstat',
  'fsync',
  'ftruncate',
  'futimes',
  'lchmod',
  'lchown',
  'link',
  'lstat',
  'lutimes',
  'mkdir',
  'mkdtemp',
  'open',
  'readdir',
  'readFile',
  'readlink',
  'realpath',
  'rename',
  'rm',
  'rmdir',
  'stat',
  'statfs',
  'symlink',
  'truncate',
  'unlink',
  'utimes',
  'writeFile',
  // zufs's xattr extension (node:fs has none)
  'getxattr',
  'lgetxattr',
  'fgetxattr',
  'setxattr',
  'lsetxattr',
  'fsetxattr',
  'listxattr',
  'llistxattr',
  'flistxattr',
  'removexattr',
  'lremovexattr',
  'fremovexattr',
] as const;

/** Every method but close and the f* ones (fstat, fchmod, fgetxattr...), which take an fd. */
const takesPath = (base: string) => base !== 'close' && !base.startsWith('f');

/** Linux's ESTALE (libuv has no name for it on Node 20: Node's errors say UNKNOWN, errno -116). */
const ESTALE = 116;

/**
 * A method that names a file by path and meets ESTALE (the inode its walk found, maybe from the
 * name cache, was freed by another thread before the operation reached it) runs once more after the
 * thread's name cache is dropped, as Linux retries such a syscall with a revalidating walk
 * (retry_estale): the second walk finds what the name holds now, or ENOENT. The first attempt
 * changed nothing: a filesystem refuses a stale inode before it changes anything, and the
 * compound ones (cp, rm, writeFile) may safely run again.
 */
function retryStale(s: ZufsSync, fn: AnyFn): AnyFn {
  return (...args: unknown[]) => {
    try {
      return fn(...args);
    } catch (e) {
      if (Math.abs((e as { errno?: number })?.errno ?? 0) !== ESTALE) throw e;
      s.r.drop();
      return fn(...args);
    }
  };
}

/** Errors about the arguments (Node throws them synchronously, even for callback forms). */
function isArgError(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('ERR_') && !code.startsWith('ERR_FS_');
}

/**
 * `sync` run for a caller that keeps its event loop (the promise and callback forms): in the
 * client's soon mode, a read its walk needs that outlives the spin (every one, on a remote
 * filesystem) throws Pending instead of holding the thread; then the call runs again once the
 * reply is in, with what it had read kept (nothing is asked twice), as often as it takes. The
 * first attempt runs now: the result, or what it throws, comes at once when nothing had to wait
 * (a pmemfs call costs what its sync form costs); otherwise a Promise. Soon mode ends at the
 * call's first change (see InodeClient.settle): what follows waits as the sync form does.
 */
function runSoon(s: ZufsSync, sync: AnyFn, args: unknown[]): unknown {
  const c = s.c;
  c.beginSoon();
  let r: unknown;
  try {
    r = sync(...args);
  } catch (e) {
    // A Pending thrown, even one a helper caught and turned into another answer, voids the attempt.
    const p = c.takePending();
    if (p === null) {
      c.endSoon();
      throw e;
    }
    return soonAgain(s, sync, args, p);
  }
  const p = c.takePending();
  if (p !== null) return soonAgain(s, sync, args, p);
  c.endSoon();
  return r;
}

async function soonAgain(s: ZufsSync, sync: AnyFn, args: unknown[], p: Pending): Promise<unknown> {
  const c = s.c;
  try {
    for (let next: Pending | null = p; ; ) {
      await next.done;
      c.beginSoon(next.kept);
      let r: unknown;
      try {
        r = sync(...args);
      } catch (e) {
        next = c.takePending();
        if (next === null) throw e;
        continue;
      }
      next = c.takePending();
      if (next === null) return r;
    }
  } finally {
    c.endSoon();
  }
}

/** Calls cb with (null, ...results) or (error), after the call, never within it. */
function answer(cb: AnyFn, r: unknown, args: unknown[], results: Results): void {
  if (r instanceof Promise)
    r.then(
      (v) => cb(null, ...results(v, args)),
      (e) => cb(e),
    );
  else {
    const out = [null, ...results(r, args)];
    process.nextTick(() => cb(...out));
  }
}

type Results = (r: unknown, args: unknown[]) => unknown[];

function callbackForm(sync: AnyFn, results: Results = (r) => [r], s?: ZufsSync): AnyFn {
  return (...args: unknown[]) => {
    const cb = args.pop();
    if (typeof cb !== 'function') throw invalidArgType('cb', 'of type function', cb);
    let r: unknown;
    try {
      r = s ? runSoon(s, sync, args) : sync(...args);
    } catch (e) {
      if (isArgError(e)) throw e;
      process.nextTick(() => (cb as AnyFn)(e));
      return;
    }
    answer(cb as AnyFn, r, args, results);
  };
}

/**
 * cp's callback and promises forms, as Node's: their filter may answer with a promise. The answers
 * are gathered first, walking the source as cp will (a directory the filter refuses is not
 * entered, nor any without `recursive`), then cpSync runs with them.
 */
function cpLater(s: ZufsSync, cpSync: AnyFn): (...args: unknown[]) => Promise<unknown> {
  return async (src: unknown, dest: unknown, o?: unknown) => {
    const op = (o ?? {}) as { filter?: unknown; dereference?: boolean; recursive?: boolean };
    const filter = op.filter;
    if (typeof filter !== 'function') return cpSync(src, dest, o);
    const answers = new Map<string, boolean>();
    const visit = async (sp: string, dp: string): Promise<void> => {
      const keep = Boolean(await filter(sp, dp));
      answers.set(`${sp}\0${dp}`, keep);
      if (!keep || !op.recursive) return;
      const st = s.statAttr(sp, op.dereference === true);
      if (st === undefined || (st.mode & 0o170000) !== 0o040000) return;
      for (const name of s.readdirSync(sp) as string[]) await visit(`${sp}/${name}`, `${dp}/${name}`);
    };
    await visit(toPath(src, 'src'), toPath(dest, 'dest'));
    return cpSync(src, dest, {
      ...op,
      filter: (sp: string, dp: string) => answers.get(`${sp}\0${dp}`) ?? true,
    });
  };
}

/** The calls whose callback and promises forms take `options.signal` (their sync forms ignore it). */
const TAKES_SIGNAL = new Set(['readFile', 'writeFile', 'appendFile']);

/** `sync`, failing first with Node's AbortError when its options carry an aborted signal. */
function abortable(sync: AnyFn): AnyFn {
  return (...args: unknown[]) => {
    for (const a of args) {
      if (a === null || typeof a !== 'object' || !('signal' in a)) continue;
      const signal = (a as { signal?: unknown }).signal;
      if (signal === undefined) continue;
      if (!(signal instanceof AbortSignal))
        throw invalidArgType('options.signal', 'an instance of AbortSignal', signal);
      if (signal.aborted) throw abortError(signal.reason);
    }
    return sync(...args);
  };
}

/** The methods the face has, typed as node:fs types them (it is meant as a drop-in). */
export type ZufsFsMethod =
  | (typeof SYNC_NAMES)[number]
  | `${(typeof SYNC_NAMES)[number]}Sync`
  | 'exists'
  | 'existsSync'
  | 'read'
  | 'readSync'
  | 'write'
  | 'writeSync'
  | 'readv'
  | 'readvSync'
  | 'writev'
  | 'writevSync'
  | 'opendir'
  | 'opendirSync'
  | 'createReadStream'
  | 'createWriteStream'
  | 'watch'
  | 'watchFile'
  | 'unwatchFile'
  | 'constants'
  | 'Stats'
  | 'BigIntStats'
  | 'Dirent'
  | 'Dir';

/** The promises the face has as node:fs types them (open is typed below: it gives this face's FileHandle). */
export type ZufsPromisesMethod = (typeof SYNC_NAMES)[number] | 'opendir' | 'watch' | 'constants';

type NodePromises = typeof nodeFs.promises;

type XPath = nodeFs.PathLike;
/** A getxattr that gives a Buffer: no encoding, 'buffer' or null. */
type XBuf = 'buffer' | { encoding?: 'buffer' | null } | null;
/** A getxattr that gives a string. */
type XStr = BufferEncoding | { encoding: BufferEncoding };
type XEnc = BufferEncoding | 'buffer' | { encoding?: BufferEncoding | 'buffer' | null } | null;
type XFlag = { flag?: 'create' | 'replace' };
type XCb<T = void> = (err: NodeJS.ErrnoException | null, value?: T) => void;

/** getxattrSync on a path or (fgetxattrSync) an fd: a Buffer, or a string when given an encoding. */
export interface GetxattrSync<Target> {
  (target: Target, name: string, options?: XBuf): Buffer;
  (target: Target, name: string, options: XStr): string;
  (target: Target, name: string, options?: XEnc): Buffer | string;
}
/** getxattr's promise form. */
export interface GetxattrPromise<Target> {
  (target: Target, name: string, options?: XBuf): Promise<Buffer>;
  (target: Target, name: string, options: XStr): Promise<string>;
  (target: Target, name: string, options?: XEnc): Promise<Buffer | string>;
}
/** getxattr's callback form. */
export interface GetxattrCallback<Target> {
  (target: Target, name: string, cb: XCb<Buffer>): void;
  (target: Target, name: string, options: XBuf, cb: XCb<Buffer>): void;
  (target: Target, name: string, options: XStr, cb: XCb<string>): void;
  (target: Target, name: string, options: XEnc, cb: XCb<Buffer | string>): void;
}
interface ZufsGetxattr {
  getxattrSync: GetxattrSync<XPath>;
  lgetxattrSync: GetxattrSync<XPath>;
  fgetxattrSync: GetxattrSync<number>;
  getxattr: GetxattrCallback<XPath>;
  lgetxattr: GetxattrCallback<XPath>;
  fgetxattr: GetxattrCallback<number>;
  promises: {
    getxattr: GetxattrPromise<XPath>;
    lgetxattr: GetxattrPromise<XPath>;
    fgetxattr: GetxattrPromise<number>;
  };
}

/**
 * zufs's extended-attribute extension (the l* forms do not follow a final symlink; getxattr is in
 * ZufsGetxattr, with its overloads), whose callback and promise forms are derived below.
 */
export interface ZufsXattrSync {
  setxattrSync(path: XPath, name: string, value: string | Uint8Array, options?: XFlag): void;
  lsetxattrSync(path: XPath, name: string, value: string | Uint8Array, options?: XFlag): void;
  fsetxattrSync(fd: number, name: string, value: string | Uint8Array, options?: XFlag): void;
  listxattrSync(path: XPath): string[];
  llistxattrSync(path: XPath): string[];
  flistxattrSync(fd: number): string[];
  removexattrSync(path: XPath, name: string): void;
  lremovexattrSync(path: XPath, name: string): void;
  fremovexattrSync(fd: number, name: string): void;
}
type Promised<T> = {
  [K in keyof T as K extends `${infer B}Sync` ? B : never]: T[K] extends (...a: infer A) => infer R
    ? (...a: A) => Promise<R>
    : never;
};
type Callbacked<T> = {
  [K in keyof T as K extends `${infer B}Sync` ? B : never]: T[K] extends (...a: infer A) => infer R
    ? (...a: [...A, XCb<R>]) => void
    : never;
};

export type ZufsFs = Pick<typeof nodeFs, Extract<ZufsFsMethod, keyof typeof nodeFs>> &
  ZufsXattrSync &
  Callbacked<ZufsXattrSync> &
  ZufsGetxattr & {
    promises: Pick<NodePromises, Extract<ZufsPromisesMethod, keyof NodePromises>> &
      Promised<ZufsXattrSync> & {
        /** node:fs/promises' open, giving this face's FileHandle. */
        open(...args: Parameters<NodePromises['open']>): Promise<FileHandle>;
      };
  };

/** The node:fs-shaped object over `s`. */
export function makeFs(s: ZufsSync): ZufsFs {
  const fs: Record<string, unknown> = {};
  const bind = (name: string) => (s as unknown as Record<string, AnyFn>)[name].bind(s) as AnyFn;
  const promises: Record<string, AnyFn> = {};
  for (const base of SYNC_NAMES) {
    const sync = takesPath(base) ? retryStale(s, bind(`${base}Sync`)) : bind(`${base}Sync`);
    fs[`${base}Sync`] = sync;
    const later = TAKES_SIGNAL.has(base) ? abortable(sync) : sync;
    fs[base] = callbackForm(later, undefined, s);
    promises[base] = async (...args: unknown[]) => runSoon(s, later, args);
  }
  // readFile and writeFile await their reads and writes too (where a slow filesystem spends its
  // time), and their signal aborts the wait.
  const openSoon = (path: unknown, flag: unknown, mode?: unknown) =>
    runSoon(s, fs.openSync as AnyFn, [path, flag, mode]) as number | Promise<number>;
  const soonForms: Record<string, AnyFn> = {
    readFile: (path: unknown, o?: unknown) => s.readFileSoon(path, o, openSoon),
    writeFile: (path: unknown, data: unknown, o?: unknown) => s.writeFileSoon(path, data, o, openSoon),
    appendFile: (path: unknown, data: unknown, o?: unknown) => s.writeFileSoon(path, data, o, openSoon, 'a'),
  };
  for (const [name, soon] of Object.entries(soonForms)) {
    const later = abortable(soon);
    promises[name] = async (...args: unknown[]) => later(...args);
    fs[name] = callbackForm(later);
  }
  for (const name of ['existsSync', 'readSync', 'writeSync', 'readvSync', 'writevSync'])
    fs[name] = bind(name);
  const cp = cpLater(s, fs.cpSync as AnyFn);
  promises.cp = cp;
  fs.cp = (...args: unknown[]) => {
    const cb = args.pop();
    if (typeof cb !== 'function') throw invalidArgType('cb', 'of type function', cb);
    cp(...args).then(
      () => cb(null),
      (e) => cb(e),
    );
  };

  const nativeSync = bind('realpathNativeSync');
  (fs.realpathSync as { native?: AnyFn }).native = nativeSync;
  (fs.realpath as { native?: AnyFn }).native = callbackForm(nativeSync);
  const { watchFile, unwatchFile } = fileWatchers((path) => s.statAttr(path));
  fs.watchFile = watchFile;
  fs.unwatchFile = unwatchFile;
  const watch = watcher({
    stat: (path, follow) => s.statAttr(path, follow),
    names: (path) => s.readdirSync(path) as string[],
    changeStamp: () => s.changeStamp(),
  });
  fs.watch = watch;
  promises.watch = watchIterator(watch) as AnyFn;
  fs.exists = (path: unknown, cb: unknown) => {
    if (typeof cb !== 'function') throw invalidArgType('cb', 'of type function', cb);
    const r = s.existsSync(path);
    process.nextTick(() => (cb as AnyFn)(r));
  };
  const rw = (sync: AnyFn) => callbackForm(sync, (n, args) => [n, args[1]]);
  fs.read = rw(bind('readSync'));
  fs.write = rw(bind('writeSync'));
  fs.readv = rw(bind('readvSync'));
  fs.writev = rw(bind('writevSync'));

  const opendirSync = (path: unknown, o?: unknown) => {
    const p = toPath(path);
    void o;
    try {
      return new Dir(p, s.readdirSync(p, { withFileTypes: true }) as Dirent[]);
    } catch (e) {
      const n = (e as { errno?: unknown }).errno;
      if (typeof n !== 'number') throw e;
      throw uvError(n, 'opendir');
    }
  };
  fs.opendirSync = opendirSync;
  fs.opendir = callbackForm(opendirSync as AnyFn);
  promises.opendir = async (...args: unknown[]) => opendirSync(args[0], args[1]);
  promises.open = async (path: unknown, flags?: unknown, mode?: unknown) =>
    new FileHandle(s.openSync(path, flags, mode), s, streamFs);

  const streamFs = {
    open: fs.open,
    read: fs.read,
    write: fs.write,
    writev: fs.writev,
    close: fs.close,
  } as Record<string, AnyFn>;
  fs.createReadStream = (path: unknown, o?: unknown) => {
    const op = typeof o === 'string' ? { encoding: o } : ((o ?? {}) as object);
    return nodeFs.createReadStream(path as string, { ...op, fs: streamFs } as never);
  };
  fs.createWriteStream = (path: unknown, o?: unknown) => {
    const op = typeof o === 'string' ? { encoding: o } : ((o ?? {}) as object);
    return nodeFs.createWriteStream(path as string, { ...op, fs: streamFs } as never);
  };
  fs.constants = nodeFs.constants;
  Object.assign(fs, nodeFs.constants);
  fs.F_OK = nodeFs.constants.F_OK;
  fs.Stats = Stats;
  fs.BigIntStats = BigIntStats;
  fs.Dirent = Dirent;
  fs.Dir = Dir;
  promises.constants = nodeFs.constants as unknown as AnyFn;
  fs.promises = promises;
  return fs as unknown as ZufsFs;
}
