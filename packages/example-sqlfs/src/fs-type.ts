/**
 * The sqlfs filesystem type: what the server loads (`filesystems: [SQLFS_TYPE]`).
 *
 * mount() (the mount thread, once) checks the volume's schema, registers the mount's session, keeps
 * its heartbeat, and hands every ZT a descriptor: where the volume is, its block size, the TTL, and
 * shared memory for the ZTs' write lock and cache generations. attach() (each ZT) opens its own
 * connection and serves operations through SqlFs (ops.ts).
 *
 * Options: `device=FILE` or `device=postgres://...` (the volume), `ttl=SECONDS` (entry and attribute
 * caches, default 1, 0: none), `busy=MS` (how long a write waits for another process's, default
 * 5000), `sync=normal|full` (SQLite durability).
 */
import { ZUFS_FSC_LOOKUP_PATH, ZUFS_FSC_SHARED } from '@zufs/zuf-core/api';
import { defineFsType, Errno, InodeGens, SharedMutex, ZusError } from '@zufs/zus-server';
import { Caches, GEN_WORDS } from './cache.js';
import type { Engine } from './engine.js';
import { ROOT_INO, SqlFs } from './ops.js';
import {
  describe,
  endSession,
  HEARTBEAT_MS,
  heartbeat,
  openEngine,
  openVolume,
  startSession,
  type VolumeSpec,
  volumeSpec,
} from './volume.js';

export const SQLFS_NAME = 'sqlfs';
export const SQLFS_MAGIC = 0x5371_6c46; // "SqlF"

export interface SqlfsDescriptor {
  readonly spec: VolumeSpec;
  readonly blockSize: number;
  readonly ttlMs: number;
  readonly busyMs: number;
  readonly sync: 'normal' | 'full';
  readonly session: number;
  readonly options: string;
  /** [0]: the ZTs' write lock; from byte 4: the cache generation words (InodeGens). */
  readonly words: SharedArrayBuffer;
}

interface Parsed {
  device: string;
  ttlMs: number;
  busyMs: number;
  sync: 'normal' | 'full';
}

function bad(what: string): never {
  throw new ZusError(Errno.EINVAL, `sqlfs: ${what}`);
}

export function parseOptions(options: string): Parsed {
  const o: Parsed = { device: '', ttlMs: 1000, busyMs: 5000, sync: 'normal' };
  for (const part of options.split(',')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const [k, v] = eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)];
    const number = () => (/^\d+(\.\d+)?$/.test(v) ? Number(v) : bad(`${k}=${v}: not a number`));
    if (k === 'device') o.device = v;
    else if (k === 'ttl') o.ttlMs = number() * 1000;
    else if (k === 'busy') o.busyMs = number();
    else if (k === 'sync') o.sync = v === 'full' || v === 'normal' ? v : bad(`sync=${v}: normal or full`);
    else if (k === 'zufs_pmem' || k === 'holder')
      continue; // offers of other layers: nothing to share
    else bad(`unknown option '${k}'`);
  }
  if (!o.device) bad('no volume: mount with device=FILE or device=postgres://...');
  return o;
}

/** Per mount, in the mount thread: its engine and heartbeat, closed by umount(). */
const mounted = new Map<number, { eng: Engine; timer: NodeJS.Timeout }>();

/** Where the generation words start in `words` (after the write lock). */
const GENS_AT = 4;
const gensOf = (words: SharedArrayBuffer) => ({ buffer: words, byteOffset: GENS_AT, inodes: GEN_WORDS });

function engineFor(d: SqlfsDescriptor): Engine {
  const writeLock = new SharedMutex(new Int32Array(d.words, 0, 1), 0, 'sqlfs write lock');
  return openEngine(d.spec, { busyMs: d.busyMs, sync: d.sync, writeLock, timeoutMs: d.busyMs });
}

export default defineFsType<SqlfsDescriptor>({
  name: SQLFS_NAME,
  magic: SQLFS_MAGIC,
  async mount({ options }) {
    const o = parseOptions(options);
    const spec = volumeSpec(o.device);
    const words = new SharedArrayBuffer(GENS_AT + InodeGens.bytes(GEN_WORDS));
    const base = { spec, ttlMs: o.ttlMs, busyMs: o.busyMs, sync: o.sync, words, options };
    const eng = engineFor({ ...base, blockSize: 0, session: 0 });
    try {
      const { blockSize } = await openVolume(eng, describe(spec));
      const session = await eng.run(startSession, true);
      const timer = setInterval(() => {
        Promise.resolve()
          .then(() => eng.run(() => heartbeat(session), true))
          .catch(() => {}); // a database away for a while: the next beat tries again
      }, HEARTBEAT_MS).unref();
      const descriptor: SqlfsDescriptor = { ...base, blockSize, session };
      mounted.set(session, { eng, timer });
      // Shared: other servers change the names too, so the app side keeps no name cache of its
      // own; it may keep entries and attributes for half the TTL (the ZTs' caches the other half).
      // A path's names not cached are asked in one statement (SqlFs.lookupPath).
      const appCache = { gens: gensOf(words), ttlMs: o.ttlMs / 2 };
      const caps = ZUFS_FSC_SHARED | ZUFS_FSC_LOOKUP_PATH;
      return { descriptor, rootIno: ROOT_INO, caps, appCache };
    } catch (e) {
      await eng.close();
      throw e;
    }
  },
  attach(d) {
    const fs = new SqlFs(engineFor(d), new Caches(new InodeGens(gensOf(d.words)), d.ttlMs / 2), {
      blockSize: d.blockSize,
      session: d.session,
      options: d.options,
    });
    const sb = fs.superBlock();
    return { ...sb, detach: () => void fs.eng.close() };
  },
  async umount(d) {
    const m = mounted.get(d.session);
    if (!m) return;
    mounted.delete(d.session);
    clearInterval(m.timer);
    try {
      await m.eng.run(() => endSession(d.session), true); // what the app left unlinked goes now
    } finally {
      await m.eng.close();
    }
  },
});
