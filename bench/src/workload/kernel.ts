// The workload suite's kernel-mount cases: the tools a user runs (tar, find + stat, cat, rm, sqlite3)
// on the package tree, in a directory of each target. Each case checks what the tools did (the
// entries tar made, the sizes stat printed, the bytes cat gave, the rows sqlite counted): a
// filesystem that loses files or data fails the case instead of looking fast.
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { promisify } from 'node:util';
import { entries, type TreeCounts } from './tree.js';

const execFileP = promisify(execFile);
/** A command that has not finished in this long is killed and the case fails. */
const COMMAND_TIMEOUT_MS = 10 * 60_000;

/** Runs a command (stdin from a file, if given) and returns its stdout; fails on a non-zero exit. */
export async function run(cmd: string, args: string[], stdinFile?: string): Promise<string> {
  if (!stdinFile) {
    const { stdout } = await execFileP(cmd, args, {
      maxBuffer: 256 * 1024 * 1024,
      timeout: COMMAND_TIMEOUT_MS,
    });
    return stdout;
  }
  const fd = openSync(stdinFile, 'r');
  try {
    const child = spawn(cmd, args, { stdio: [fd, 'pipe', 'pipe'], timeout: COMMAND_TIMEOUT_MS });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => {
      out += d;
    });
    child.stderr!.on('data', (d) => {
      err += d;
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim()}`);
    return out;
  } finally {
    closeSync(fd);
  }
}

/** The entries under dir, by `find -printf`: what a tool sees of the tree there. */
export async function countTree(dir: string): Promise<TreeCounts> {
  const c: TreeCounts = { files: 0, dirs: -1, links: 0, bytes: 0 }; // -1: dir itself
  for (const line of (await run('find', [dir, '-printf', '%y %s\\n'])).split('\n')) {
    if (line === '') continue;
    const [type, size] = line.split(' ');
    if (type === 'd') c.dirs++;
    else if (type === 'l') c.links++;
    else if (type === 'f') {
      c.files++;
      c.bytes += Number(size);
    }
  }
  return c;
}

/** The SQL of sqlite-insert: WAL, then ROWS rows of ~100 bytes in transactions of BATCH. */
export const SQLITE_ROWS = 10_000;
const SQLITE_BATCH = 100;
export function sqliteScript(): string {
  const lines = [
    'PRAGMA journal_mode=WAL;',
    'CREATE TABLE pkg(id INTEGER PRIMARY KEY, name TEXT NOT NULL, version TEXT, integrity BLOB);',
  ];
  for (let b = 0; b < SQLITE_ROWS / SQLITE_BATCH; b++) {
    lines.push('BEGIN;');
    for (let r = 0; r < SQLITE_BATCH; r++) {
      const i = b * SQLITE_BATCH + r;
      lines.push(
        `INSERT INTO pkg(name, version, integrity) VALUES ('package-${i}', '1.${i % 97}.${i % 13}', randomblob(64));`,
      );
    }
    lines.push('COMMIT;');
  }
  lines.push('SELECT count(*) FROM pkg;', '');
  return lines.join('\n');
}

/** Where a target's tree and database go, and whether the tree is there now. */
export interface Place {
  tree: string;
  db: string;
  hasTree: boolean;
}

export interface KernelWorkload {
  /** What one operation of the case is: an entry of the tree, or a row. */
  perOp: 'entry' | 'row';
  /** Untimed, before each run. */
  setup(p: Place): Promise<void>;
  /** The timed run; throws when its result is wrong. */
  run(p: Place): Promise<void>;
}

/** The tree and its tarball, made once per suite run on tmpfs. */
export interface Source {
  tar: string;
  sql: string;
  counts: TreeCounts;
}

function check(what: string, got: number, want: number): void {
  if (got !== want) throw new Error(`${what}: ${got}, expected ${want}`);
}

export function kernelWorkloads(src: Source): Record<string, KernelWorkload> {
  const ensureTree = async (p: Place) => {
    if (p.hasTree) return;
    await run('mkdir', [p.tree]);
    await run('tar', ['-xf', src.tar, '-C', p.tree]);
    p.hasTree = true;
  };
  const removeTree = async (p: Place) => {
    if (p.hasTree || existsSync(p.tree)) await run('rm', ['-rf', p.tree]);
    p.hasTree = false;
  };
  return {
    // tar -x of the tree's tarball (made on tmpfs) into an empty directory.
    'tar-x': {
      perOp: 'entry',
      async setup(p) {
        await removeTree(p);
        await run('mkdir', [p.tree]);
      },
      async run(p) {
        await run('tar', ['-xf', src.tar, '-C', p.tree]);
        p.hasTree = true;
      },
    },
    // find -type f -exec stat {} + (stat in batches, as find gives them): one size per file.
    'find-stat': {
      perOp: 'entry',
      setup: ensureTree,
      async run(p) {
        const out = await run('find', [p.tree, '-type', 'f', '-exec', 'stat', '-c', '%s', '{}', '+']);
        let files = 0;
        let bytes = 0;
        for (const line of out.split('\n'))
          if (line !== '') {
            files++;
            bytes += Number(line);
          }
        check('find-stat: files', files, src.counts.files);
        check('find-stat: bytes', bytes, src.counts.bytes);
      },
    },
    // find -type f -exec cat {} + | wc -c: every byte of every file read.
    'cat-all': {
      perOp: 'entry',
      setup: ensureTree,
      async run(p) {
        const out = await run('sh', ['-c', 'find "$1" -type f -exec cat {} + | wc -c', 'sh', p.tree]);
        check('cat-all: bytes', Number(out.trim()), src.counts.bytes);
      },
    },
    // rm -rf of the whole tree.
    'rm-rf': {
      perOp: 'entry',
      setup: ensureTree,
      async run(p) {
        await run('rm', ['-rf', p.tree]);
        p.hasTree = false;
        if (existsSync(p.tree)) throw new Error(`rm-rf: ${p.tree} is still there`);
      },
    },
    // sqlite3 CLI: journal_mode WAL, 10 000 rows in transactions of 100, then count them.
    'sqlite-insert': {
      perOp: 'row',
      async setup(p) {
        await run('rm', ['-f', p.db, `${p.db}-wal`, `${p.db}-shm`, `${p.db}-journal`]);
      },
      async run(p) {
        const out = (await run('sqlite3', [p.db], src.sql)).trim().split('\n');
        if (out[0] !== 'wal' || out[out.length - 1] !== String(SQLITE_ROWS))
          throw new Error(
            `sqlite-insert: sqlite3 printed ${JSON.stringify(out)}, not wal and ${SQLITE_ROWS}`,
          );
      },
    },
  };
}

/** The number of operations one run of a case makes. */
export function opsPerRun(w: KernelWorkload, counts: TreeCounts): number {
  return w.perOp === 'row' ? SQLITE_ROWS : entries(counts);
}
