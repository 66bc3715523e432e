// The fs suite's operations, written once against the node:fs API: a sync form for targets that have
// one (zufs, node:fs, memfs, ZenFS InMemory) and a promises form for ZenFS's Port backend, which has
// no synchronous operations. Each workload prepares its files untimed, then returns `batch(n)`, which
// performs n operations back to back (the unit measureBatches times).

/** The part of node:fs the workloads use, sync form. */
export interface SyncFs {
  statSync(p: string): unknown;
  openSync(p: string, flags: string): number;
  readSync(fd: number, buf: Uint8Array, off: number, len: number, pos: number): number;
  writeSync(fd: number, buf: Uint8Array, off: number, len: number, pos?: number): number;
  closeSync(fd: number): void;
  readdirSync(p: string): unknown[];
  mkdirSync(p: string, o?: { recursive?: boolean }): unknown;
  rmdirSync(p: string): void;
  renameSync(a: string, b: string): void;
  writeFileSync(p: string, data: Uint8Array | string): void;
  fsyncSync(fd: number): void;
}

interface AsyncHandle {
  read(buf: Uint8Array, off: number, len: number, pos: number): Promise<unknown>;
  write(buf: Uint8Array, off: number, len: number, pos?: number): Promise<unknown>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** The same, promises form (fs.promises). */
export interface AsyncFs {
  stat(p: string): Promise<unknown>;
  open(p: string, flags: string): Promise<AsyncHandle>;
  readdir(p: string): Promise<unknown[]>;
  mkdir(p: string, o?: { recursive?: boolean }): Promise<unknown>;
  rmdir(p: string): Promise<void>;
  rename(a: string, b: string): Promise<void>;
  writeFile(p: string, data: Uint8Array | string): Promise<void>;
}

export type Batch = (n: number) => unknown;

export interface Workload {
  /** Bytes moved per operation, for the cases that report bytes_per_s. */
  bytesPerOp?: number;
  sync(fs: SyncFs, root: string): Batch;
  async(fs: AsyncFs, root: string): Promise<Batch>;
}

const KiB = 1024;
const MiB = 1024 * KiB;
/** The file pread/pwrite-4k cycle through: 256 pages. */
const SMALL_FILE = 1 * MiB;
/** The file the 1 MiB sequential cases stream through (and wrap around). */
const BIG_FILE = 16 * MiB;
const DIR_ENTRIES = 1000;
/** create-write-4k-close cycles through this many names (O_CREAT|O_TRUNC: each open truncates). */
const CREATE_NAMES = 64;

const page = new Uint8Array(4 * KiB).fill(0x5a);
const chunk = new Uint8Array(MiB).fill(0xa5);

function fill(fs: SyncFs, path: string, size: number): void {
  const fd = fs.openSync(path, 'w');
  for (let at = 0; at < size; at += MiB) fs.writeSync(fd, chunk, 0, Math.min(MiB, size - at), at);
  fs.closeSync(fd);
}

async function fillAsync(fs: AsyncFs, path: string, size: number): Promise<void> {
  const h = await fs.open(path, 'w');
  for (let at = 0; at < size; at += MiB) await h.write(chunk, 0, Math.min(MiB, size - at), at);
  await h.close();
}

/** Positions of 4 KiB pages in SMALL_FILE, in a scattered order (not sequential: no readahead luck). */
const pages = Array.from({ length: SMALL_FILE / page.length }, (_, i) => ((i * 97) % 256) * page.length);

export const WORKLOADS: Record<string, Workload> = {
  // statSync of a three-component path.
  stat: {
    sync(fs, r) {
      fs.mkdirSync(`${r}/st/a`, { recursive: true });
      fs.writeFileSync(`${r}/st/a/f`, 'x'.repeat(100));
      const p = `${r}/st/a/f`;
      return (n) => {
        for (let i = 0; i < n; i++) fs.statSync(p);
      };
    },
    async async(fs, r) {
      await fs.mkdir(`${r}/st/a`, { recursive: true });
      await fs.writeFile(`${r}/st/a/f`, 'x'.repeat(100));
      const p = `${r}/st/a/f`;
      return async (n) => {
        for (let i = 0; i < n; i++) await fs.stat(p);
      };
    },
  },
  // 4 KiB reads at scattered page offsets of a 1 MiB file, on an fd opened once.
  'pread-4k': {
    bytesPerOp: page.length,
    sync(fs, r) {
      fill(fs, `${r}/pread`, SMALL_FILE);
      const fd = fs.openSync(`${r}/pread`, 'r');
      const buf = new Uint8Array(page.length);
      let k = 0;
      return (n) => {
        for (let i = 0; i < n; i++) fs.readSync(fd, buf, 0, buf.length, pages[k++ & 255]);
      };
    },
    async async(fs, r) {
      await fillAsync(fs, `${r}/pread`, SMALL_FILE);
      const h = await fs.open(`${r}/pread`, 'r');
      const buf = new Uint8Array(page.length);
      let k = 0;
      return async (n) => {
        for (let i = 0; i < n; i++) await h.read(buf, 0, buf.length, pages[k++ & 255]);
      };
    },
  },
  // 4 KiB overwrites at scattered page offsets of a 1 MiB file.
  'pwrite-4k': {
    bytesPerOp: page.length,
    sync(fs, r) {
      fill(fs, `${r}/pwrite`, SMALL_FILE);
      const fd = fs.openSync(`${r}/pwrite`, 'r+');
      let k = 0;
      return (n) => {
        for (let i = 0; i < n; i++) fs.writeSync(fd, page, 0, page.length, pages[k++ & 255]);
      };
    },
    async async(fs, r) {
      await fillAsync(fs, `${r}/pwrite`, SMALL_FILE);
      const h = await fs.open(`${r}/pwrite`, 'r+');
      let k = 0;
      return async (n) => {
        for (let i = 0; i < n; i++) await h.write(page, 0, page.length, pages[k++ & 255]);
      };
    },
  },
  // 4 KiB overwrite at a scattered offset, then fsync: what making a small change durable costs.
  'fsync-4k': {
    bytesPerOp: page.length,
    sync(fs, r) {
      fill(fs, `${r}/fsync`, SMALL_FILE);
      const fd = fs.openSync(`${r}/fsync`, 'r+');
      let k = 0;
      return (n) => {
        for (let i = 0; i < n; i++) {
          fs.writeSync(fd, page, 0, page.length, pages[k++ & 255]);
          fs.fsyncSync(fd);
        }
      };
    },
    async async(fs, r) {
      await fillAsync(fs, `${r}/fsync`, SMALL_FILE);
      const h = await fs.open(`${r}/fsync`, 'r+');
      let k = 0;
      return async (n) => {
        for (let i = 0; i < n; i++) {
          await h.write(page, 0, page.length, pages[k++ & 255]);
          await h.sync();
        }
      };
    },
  },
  // open(O_WRONLY|O_CREAT|O_TRUNC) + write 4 KiB + close, cycling through 64 names in one directory.
  'create-write-4k-close': {
    sync(fs, r) {
      fs.mkdirSync(`${r}/cw`);
      const names = Array.from({ length: CREATE_NAMES }, (_, i) => `${r}/cw/f${i}`);
      let k = 0;
      return (n) => {
        for (let i = 0; i < n; i++) {
          const fd = fs.openSync(names[k++ % CREATE_NAMES], 'w');
          fs.writeSync(fd, page, 0, page.length);
          fs.closeSync(fd);
        }
      };
    },
    async async(fs, r) {
      await fs.mkdir(`${r}/cw`);
      const names = Array.from({ length: CREATE_NAMES }, (_, i) => `${r}/cw/f${i}`);
      let k = 0;
      return async (n) => {
        for (let i = 0; i < n; i++) {
          const h = await fs.open(names[k++ % CREATE_NAMES], 'w');
          await h.write(page, 0, page.length);
          await h.close();
        }
      };
    },
  },
  // readdirSync (names) of a directory of 1000 files.
  'readdir-1000': {
    sync(fs, r) {
      fs.mkdirSync(`${r}/rd`);
      // Created without O_TRUNC: on sqlfs over PostgreSQL a truncating open of a new file stalls (~1 s).
      for (let i = 0; i < DIR_ENTRIES; i++) fs.closeSync(fs.openSync(`${r}/rd/entry-${i}`, 'wx'));
      return (n) => {
        for (let i = 0; i < n; i++)
          if (fs.readdirSync(`${r}/rd`).length !== DIR_ENTRIES) throw new Error('readdir');
      };
    },
    async async(fs, r) {
      await fs.mkdir(`${r}/rd`);
      for (let i = 0; i < DIR_ENTRIES; i++) await fs.writeFile(`${r}/rd/entry-${i}`, '');
      return async (n) => {
        for (let i = 0; i < n; i++)
          if ((await fs.readdir(`${r}/rd`)).length !== DIR_ENTRIES) throw new Error('readdir');
      };
    },
  },
  // 1 MiB reads in sequence through a 16 MiB file (wrapping at the end).
  'read-1m-seq': {
    bytesPerOp: MiB,
    sync(fs, r) {
      fill(fs, `${r}/seq-r`, BIG_FILE);
      const fd = fs.openSync(`${r}/seq-r`, 'r');
      const buf = new Uint8Array(MiB);
      let at = 0;
      return (n) => {
        for (let i = 0; i < n; i++, at = (at + MiB) % BIG_FILE) {
          if (fs.readSync(fd, buf, 0, MiB, at) !== MiB) throw new Error('short read');
        }
      };
    },
    async async(fs, r) {
      await fillAsync(fs, `${r}/seq-r`, BIG_FILE);
      const h = await fs.open(`${r}/seq-r`, 'r');
      const buf = new Uint8Array(MiB);
      let at = 0;
      return async (n) => {
        for (let i = 0; i < n; i++, at = (at + MiB) % BIG_FILE) await h.read(buf, 0, MiB, at);
      };
    },
  },
  // 1 MiB writes in sequence through a 16 MiB file (overwriting, wrapping at the end).
  'write-1m-seq': {
    bytesPerOp: MiB,
    sync(fs, r) {
      fill(fs, `${r}/seq-w`, BIG_FILE);
      const fd = fs.openSync(`${r}/seq-w`, 'r+');
      let at = 0;
      return (n) => {
        for (let i = 0; i < n; i++, at = (at + MiB) % BIG_FILE) fs.writeSync(fd, chunk, 0, MiB, at);
      };
    },
    async async(fs, r) {
      await fillAsync(fs, `${r}/seq-w`, BIG_FILE);
      const h = await fs.open(`${r}/seq-w`, 'r+');
      let at = 0;
      return async (n) => {
        for (let i = 0; i < n; i++, at = (at + MiB) % BIG_FILE) await h.write(chunk, 0, MiB, at);
      };
    },
  },
  // mkdir then rmdir of one directory (one operation = the pair).
  'mkdir-rmdir': {
    sync(fs, r) {
      fs.mkdirSync(`${r}/md`);
      const p = `${r}/md/d`;
      return (n) => {
        for (let i = 0; i < n; i++) {
          fs.mkdirSync(p);
          fs.rmdirSync(p);
        }
      };
    },
    async async(fs, r) {
      await fs.mkdir(`${r}/md`);
      const p = `${r}/md/d`;
      return async (n) => {
        for (let i = 0; i < n; i++) {
          await fs.mkdir(p);
          await fs.rmdir(p);
        }
      };
    },
  },
  // rename of a file between two names in one directory (one operation = one rename).
  rename: {
    sync(fs, r) {
      fs.mkdirSync(`${r}/rn`);
      fs.writeFileSync(`${r}/rn/a`, 'x');
      const names = [`${r}/rn/a`, `${r}/rn/b`];
      let k = 0;
      return (n) => {
        for (let i = 0; i < n; i++, k ^= 1) fs.renameSync(names[k], names[k ^ 1]);
      };
    },
    async async(fs, r) {
      await fs.mkdir(`${r}/rn`);
      await fs.writeFile(`${r}/rn/a`, 'x');
      const names = [`${r}/rn/a`, `${r}/rn/b`];
      let k = 0;
      return async (n) => {
        for (let i = 0; i < n; i++, k ^= 1) await fs.rename(names[k], names[k ^ 1]);
      };
    },
  },
};

export const OPS = Object.keys(WORKLOADS);
