// The workload suite's package tree: the shape of a real one (bench/data/package-tree.txt, recorded by
// record.ts: paths, sizes and symbolic links of a project's node_modules/.pnpm and a global
// lib/node_modules), with contents made up here, the same in every run. And the face workloads run on
// it: unpack, scan, churn, each checking what it did, so that a filesystem that loses or cuts
// files cannot look fast.
import { readFileSync } from 'node:fs';

export const MANIFEST = new URL('../../data/package-tree.txt', import.meta.url);

/** What the tree holds, to check a filesystem's copy of it against. */
export interface TreeCounts {
  files: number;
  dirs: number;
  links: number;
  bytes: number;
}

/** The entries in creation order (every directory before what it holds), as parallel arrays. */
export interface Tree extends TreeCounts {
  /** 0 directory, 1 file, 2 symbolic link. */
  kinds: Uint8Array;
  /** Paths from the tree's root. */
  paths: string[];
  /** A file's size; 0 for the others. */
  sizes: number[];
  /** A link's target; '' for the others. */
  targets: string[];
}

export const DIR = 0;
export const FILE = 1;
export const LINK = 2;

/** In --quick runs: the manifest's first directories holding about this many files. */
export const QUICK_FILES = 1000;

/** Reads the manifest (all of it, or its first directories holding about `maxFiles` files). */
export function loadTree(maxFiles = Number.POSITIVE_INFINITY): Tree {
  const kinds: number[] = [];
  const paths: string[] = [];
  const sizes: number[] = [];
  const targets: string[] = [];
  const counts: TreeCounts = { files: 0, dirs: 0, links: 0, bytes: 0 };
  let dir = '';
  for (const line of readFileSync(MANIFEST, 'utf8').split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split('\t');
    if (f[0] === 'd') {
      if (counts.files >= maxFiles) break;
      dir = f[1];
      kinds.push(DIR);
      paths.push(dir);
      sizes.push(0);
      targets.push('');
      counts.dirs++;
    } else if (f[0] === 'f' && f.length === 3) {
      kinds.push(FILE);
      paths.push(`${dir}/${f[2]}`);
      sizes.push(Number(f[1]));
      targets.push('');
      counts.files++;
      counts.bytes += Number(f[1]);
    } else if (f[0] === 'l' && f.length === 3) {
      kinds.push(LINK);
      paths.push(`${dir}/${f[2]}`);
      sizes.push(0);
      targets.push(f[1]);
      counts.links++;
    } else throw new Error(`${MANIFEST.pathname}: bad line: ${line}`);
  }
  return { kinds: Uint8Array.from(kinds), paths, sizes, targets, ...counts };
}

export function entries(t: TreeCounts): number {
  return t.files + t.dirs + t.links;
}

/**
 * The bytes files are cut from: printable, the same in every run. A file of size s holds
 * CONTENT[s % 4096 .. s % 4096 + s), so a reader can check its first and last byte from its size alone.
 */
const MAX_FILE = 1024 * 1024;
export const CONTENT = (() => {
  const b = Buffer.alloc(MAX_FILE + 4096);
  let x = 0x2545f491;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = 32 + ((x >>> 0) % 95);
  }
  return b;
})();

export function contentOf(size: number): Buffer {
  return CONTENT.subarray(size % 4096, (size % 4096) + size);
}

/** The part of the node:fs API the face workloads use (sync forms): node:fs, memfs, @zufs/vfs. */
export interface FaceFs {
  mkdirSync(p: string, o?: { recursive?: boolean }): unknown;
  writeFileSync(p: string, data: Uint8Array | string): void;
  symlinkSync(target: string, p: string): void;
  readdirSync(p: string): unknown[];
  lstatSync(p: string): {
    size: number;
    isDirectory(): boolean;
    isFile(): boolean;
    isSymbolicLink(): boolean;
  };
  readFileSync(p: string): Uint8Array;
  readlinkSync(p: string): unknown;
  renameSync(a: string, b: string): void;
  unlinkSync(p: string): void;
  rmSync(p: string, o: { recursive: boolean; force: boolean }): void;
  existsSync(p: string): boolean;
}

/** unpack: mkdir, writeFile and symlink of every entry, under `root` (which must not exist). */
export function unpack(fs: FaceFs, t: Tree, root: string): void {
  fs.mkdirSync(root);
  const { kinds, paths, sizes, targets } = t;
  for (let i = 0; i < kinds.length; i++) {
    const p = `${root}/${paths[i]}`;
    if (kinds[i] === DIR) fs.mkdirSync(p);
    else if (kinds[i] === FILE) fs.writeFileSync(p, contentOf(sizes[i]));
    else fs.symlinkSync(targets[i], p);
  }
}

/**
 * scan: a recursive readdir, an lstat of every entry and a read of every file, as a tool walking a
 * package tree does. Checks every file's length and its first and last byte.
 */
export function scan(fs: FaceFs, root: string): TreeCounts {
  const c: TreeCounts = { files: 0, dirs: 0, links: 0, bytes: 0 };
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    c.dirs++;
    for (const name of fs.readdirSync(dir) as string[]) {
      const p = `${dir}/${name}`;
      const st = fs.lstatSync(p);
      if (st.isDirectory()) stack.push(p);
      else if (st.isSymbolicLink()) c.links++;
      else if (st.isFile()) {
        const data = fs.readFileSync(p);
        const s = data.length;
        if (
          s !== st.size ||
          (s > 0 && (data[0] !== CONTENT[s % 4096] || data[s - 1] !== CONTENT[(s % 4096) + s - 1]))
        )
          throw new Error(`scan: ${p} holds the wrong bytes (${s} read, size ${st.size})`);
        c.files++;
        c.bytes += s;
      }
    }
  }
  c.dirs--; // the root is not the tree's
  return c;
}

/** Throws unless `got` (a scan of a copy of the tree) has every entry and byte of `want`. */
export function checkCounts(what: string, got: TreeCounts, want: TreeCounts): void {
  if (
    got.files !== want.files ||
    got.dirs !== want.dirs ||
    got.links !== want.links ||
    got.bytes !== want.bytes
  )
    throw new Error(
      `${what}: found ${got.files} files, ${got.dirs} directories, ${got.links} links, ${got.bytes} bytes; ` +
        `the tree has ${want.files}, ${want.dirs}, ${want.links}, ${want.bytes}`,
    );
}

/** churn: files that stay in the directory, and the names the churn cycles through. */
const CHURN_KEEP = 256;
const CHURN_NAMES = 64;
const SMALL = CONTENT.subarray(0, 100);

/**
 * churn: create (writeFile of 100 bytes), rename, unlink of a small file, in a directory of 256
 * others; one operation is the three. Returns the batch and a check to run after sampling.
 */
export function churn(fs: FaceFs, dir: string): { batch: (n: number) => void; check(): void } {
  fs.mkdirSync(dir);
  for (let i = 0; i < CHURN_KEEP; i++) fs.writeFileSync(`${dir}/keep-${i}.js`, SMALL);
  const made = Array.from({ length: CHURN_NAMES }, (_, i) => `${dir}/new-${i}.tmp`);
  const moved = Array.from({ length: CHURN_NAMES }, (_, i) => `${dir}/done-${i}.js`);
  let k = 0;
  return {
    batch(n) {
      for (let i = 0; i < n; i++, k = (k + 1) % CHURN_NAMES) {
        fs.writeFileSync(made[k], SMALL);
        fs.renameSync(made[k], moved[k]);
        fs.unlinkSync(moved[k]);
      }
    },
    check() {
      const names = fs.readdirSync(dir) as string[];
      if (names.length !== CHURN_KEEP || names.some((n) => !n.startsWith('keep-')))
        throw new Error(`churn: ${dir} holds ${names.length} entries, not the ${CHURN_KEEP} it keeps`);
    },
  };
}
