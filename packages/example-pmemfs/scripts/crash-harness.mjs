#!/usr/bin/env node
/**
 * Crash harness: kill -9 a process that works on a pmemfs image at a random instant, remount,
 * fsck, and check that everything it made durable is there, byte for byte.
 *
 *   node scripts/crash-harness.mjs [--rounds 1000] [--seed N] [--size MiB] [--dir D] [--keep]
 *
 * Each round the parent spawns a child on the same image (so every round starts from the image the
 * last crash and recovery left). The child mounts it with a short background-commit interval and
 * runs a random workload in its own directory /rN: creates, appends, overwrites, truncates, renames
 * (also over existing names), hard links, unlinks, mkdir/rmdir, xattrs, symlinks, big files (more
 * than the journal holds). Now and then it makes a file durable: writes it under a temporary name,
 * fsyncs, renames it into /rN/frozen, fsyncs again, and only then appends {path, size, sha256} to a
 * side log, which it fsyncs too. A frozen file is never touched again. The parent SIGKILLs the child
 * after a random delay, mounts the image (journal recovery), runs check() (must be clean), reads
 * every frozen file of every round still kept and compares it. Then it removes the directory of an
 * old round, so the image does not fill up, and commits.
 *
 * Prints one JSON line with the totals; exits 1 on the first failure (the image is kept).
 * The test (test/crash.test.ts) imports runHarness.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import nfsDefault, * as nfs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIR_POS_END, mkfs, PmemDevice, PmemFs, ROOT_INO } from '@zufs/example-pmemfs';

const SELF = fileURLToPath(import.meta.url);
const REG = 0o100644;
const DIR = 0o40755;
const LNK = 0o120777;

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sha = (b) => createHash('sha256').update(b).digest('hex');

function walk(fs, path) {
  let ino = ROOT_INO;
  for (const part of path.split('/').filter(Boolean)) {
    ino = fs.lookup(ino, part);
    if (ino === 0) return 0;
  }
  return ino;
}

function list(fs, dir) {
  const out = [];
  let pos = 0;
  while (pos !== DIR_POS_END) {
    pos = fs.readdir(dir, pos, (ino, _t, _n, name) => {
      out.push([Buffer.from(name).toString(), ino]);
      return true;
    });
  }
  return out.filter(([n]) => n !== '.' && n !== '..');
}

function removeTree(fs, dir, name) {
  const ino = fs.lookup(dir, name);
  if (ino === 0) return;
  if ((fs.getattr(ino).mode & 0o170000) === 0o040000) {
    for (const [n] of list(fs, ino)) removeTree(fs, ino, n);
    fs.evict(fs.removeDentry(dir, name, 1));
  } else {
    fs.evict(fs.removeDentry(dir, name));
  }
}

// ~~~ child: the workload ~~~

/**
 * Kills this process at its `n`-th write to the image: most kills from outside land between two
 * commits, this one lands inside one. Half the time the fatal write is torn first (a random prefix
 * of it reaches the file), as a power cut in the middle of a page would leave it.
 */
function crashAtWrite(n, keepFd, rnd) {
  const write = nfs.writeSync;
  nfsDefault.writeSync = (fd, buf, off, len, pos, ...rest) => {
    if (fd !== keepFd && typeof buf !== 'string' && --n === 0) {
      if (rnd() < 0.5 && len > 1) write(fd, buf, off, 1 + Math.floor(rnd() * (len - 1)), pos);
      process.kill(process.pid, 'SIGKILL');
    }
    return write(fd, buf, off, len, pos, ...rest);
  };
  syncBuiltinESMExports(); // the fs namespace the device imported sees the wrapper
}

async function child(image, logPath, round, seed, commitMs, crashWrite) {
  const rnd = mulberry32(seed);
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const log = nfs.openSync(logPath, 'a');
  if (crashWrite > 0) crashAtWrite(crashWrite, log, rnd);
  const fs = PmemFs.mount(PmemDevice.openFile(image), { commitIntervalMs: commitMs });
  const top = fs.newInode(ROOT_INO, `r${round}`, { mode: DIR });
  const frozen = fs.newInode(top, 'frozen', { mode: DIR });
  const work = [top, fs.newInode(top, 'w0', { mode: DIR }), fs.newInode(top, 'w1', { mode: DIR })];
  const files = []; // [dir, name] of live (not frozen) files
  let serial = 0;
  let nfrozen = 0;
  process.stdout.write('ready\n');
  const name = () => `f${serial++}`;
  const data = (n) => randomBytes(n);
  const sizeOf = (ino) => fs.getattr(ino).size;
  for (let op = 0; op < 1_000_000; op++) {
    if (op % 16 === 0) await new Promise((r) => setImmediate(r)); // let the background commit run
    const r = rnd();
    try {
      if (r < 0.2 || files.length < 4) {
        const d = pick(work);
        const n = name();
        const ino = fs.newInode(d, n, { mode: REG });
        fs.write(ino, 0, data(Math.floor(rnd() * 20000)));
        files.push([d, n]);
      } else if (r < 0.35) {
        const [d, n] = pick(files);
        const ino = fs.lookup(d, n);
        if (ino) fs.write(ino, Math.floor(rnd() * (sizeOf(ino) + 1)), data(1 + Math.floor(rnd() * 9000)));
      } else if (r < 0.42) {
        const [d, n] = pick(files);
        const ino = fs.lookup(d, n);
        if (ino) fs.truncate(ino, Math.floor(rnd() * (sizeOf(ino) + 4096)));
      } else if (r < 0.52) {
        const i = Math.floor(rnd() * files.length);
        const [d, n] = files[i];
        const nd = pick(work);
        // Half the time over an existing live name (a replacing rename).
        const target = rnd() < 0.5 && files.length > 1 ? pick(files) : [nd, name()];
        if (target[0] === d && target[1] === n) continue;
        const replaced = fs.rename(d, n, target[0], target[1]);
        if (replaced) fs.evict(replaced);
        files.splice(i, 1);
        const j = files.findIndex(([a, b]) => a === target[0] && b === target[1]);
        if (j >= 0) files.splice(j, 1);
        files.push(target);
      } else if (r < 0.6) {
        const i = Math.floor(rnd() * files.length);
        const [d, n] = files[i];
        fs.evict(fs.removeDentry(d, n));
        files.splice(i, 1);
      } else if (r < 0.64) {
        const [d, n] = pick(files);
        const ino = fs.lookup(d, n);
        const nd = pick(work);
        const nn = name();
        if (ino) {
          fs.addDentry(nd, ino, nn);
          files.push([nd, nn]);
        }
      } else if (r < 0.68) {
        const d = pick(work);
        const nm = name();
        fs.newInode(d, nm, { mode: DIR });
        if (rnd() < 0.5) fs.removeDentry(d, nm, 1);
      } else if (r < 0.72) {
        const [d, n] = pick(files);
        const ino = fs.lookup(d, n);
        if (ino) fs.setxattr(ino, `user.k${Math.floor(rnd() * 4)}`, data(Math.floor(rnd() * 300)));
      } else if (r < 0.74) {
        fs.newInode(pick(work), name(), {
          mode: LNK,
          symlinkTarget: 'x'.repeat(1 + Math.floor(rnd() * 200)),
        });
      } else if (r < 0.76) {
        // Bigger than the journal: the commit needs overflow storage, or writes new blocks home.
        const [d, n] = pick(files);
        const ino = fs.lookup(d, n);
        if (ino) fs.write(ino, 0, data((256 << 10) + Math.floor(rnd() * (1536 << 10))));
      } else if (r < 0.8) {
        // Make one file durable: temporary name, fsync, rename into frozen/, fsync, log it.
        const tmp = name();
        const d = pick(work);
        const ino = fs.newInode(d, tmp, { mode: REG });
        const body = data(Math.floor(rnd() * (rnd() < 0.1 ? 600_000 : 30_000)));
        // A write cut short by a full device returns the count it wrote: that file is not the body.
        if (body.length > 0 && fs.write(ino, 0, body) < body.length) {
          fs.evict(fs.removeDentry(d, tmp));
          throw Object.assign(new Error('short write: the device is full'), { code: 'ENOSPC' });
        }
        if (rnd() < 0.5) fs.fsync(ino);
        const final = `z${nfrozen++}`;
        fs.rename(d, tmp, frozen, final);
        if (rnd() < 0.5) fs.fsync(ino);
        else fs.sync();
        const rec = `${JSON.stringify({ path: `/r${round}/frozen/${final}`, size: body.length, sha: sha(body) })}\n`;
        nfs.writeSync(log, rec);
        nfs.fsyncSync(log);
      } else if (r < 0.9) {
        fs.sync();
      }
    } catch (e) {
      // Two live names of one inode renamed onto each other leave the list stale: skip.
      if (e?.code === 'ENOENT') continue;
      if (e?.code === 'ENOSPC') {
        // Full: drop half the live files.
        for (let k = 0; k < files.length / 2; k++) {
          const [d, n] = files.shift();
          try {
            fs.evict(fs.removeDentry(d, n));
          } catch {}
        }
        continue;
      }
      throw e;
    }
  }
  fs.close();
}

// ~~~ parent ~~~

function runChild(image, logPath, round, seed, commitMs, killAfterMs, crashWrite) {
  return new Promise((resolve, reject) => {
    const args = [
      SELF,
      '--child',
      image,
      logPath,
      String(round),
      String(seed),
      String(commitMs),
      String(crashWrite),
    ];
    const p = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    let killed = false;
    let timer = null;
    p.stderr.on('data', (d) => {
      err += d;
    });
    p.stdout.on('data', (d) => {
      if (timer === null && String(d).includes('ready')) {
        timer = setTimeout(() => {
          killed = p.kill('SIGKILL');
        }, killAfterMs);
      }
    });
    p.on('error', reject);
    p.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (signal === 'SIGKILL') resolve({ killed: true, inCommit: !killed });
      else if (code === 0) resolve({ killed: false });
      else reject(new Error(`child exited with ${code ?? signal}: ${err.slice(-4000)}`));
    });
  });
}

/**
 * Runs `rounds` crash rounds; returns the totals or throws on the first broken promise.
 * opts: { rounds, seed, sizeMiB, dir, keep, log: (line) => void }
 */
export async function runHarness(opts = {}) {
  const rounds = opts.rounds ?? 20;
  const seed = opts.seed ?? Date.now() & 0x7fffffff;
  const rnd = mulberry32(seed);
  const dir = opts.dir ?? nfs.mkdtempSync(join(tmpdir(), 'pmemfs-crash-'));
  const image = join(dir, 'crash.img');
  const dev0 = PmemDevice.createFile(image, (opts.sizeMiB ?? 48) << 20);
  mkfs(dev0, { label: 'crash', journalBlocks: 64 });
  dev0.close();
  const expected = new Map(); // path -> { size, sha, round }
  const totals = {
    seed,
    rounds: 0,
    crashes: 0,
    crashesInCommit: 0,
    exitedEarly: 0,
    filesVerified: 0,
    bytesVerified: 0,
    replayedPages: 0,
    discardedCommits: 0,
    orphansFreed: 0,
  };
  let ok = false;
  try {
    for (let round = 0; round < rounds; round++) {
      const logPath = join(dir, `r${round}.log`);
      nfs.writeFileSync(logPath, '');
      const commitMs = [10, 50, 200, 0][Math.floor(rnd() * 4)];
      // Half the rounds die at a random write to the image (inside a commit), half at a random time.
      const crashWrite = rnd() < 0.5 ? 1 + Math.floor(rnd() * 200) : 0;
      // (A child that is to die at a write gets a long fallback timer: 200 writes take far less.)
      const killAfter = crashWrite > 0 ? 5000 : 20 + Math.floor(rnd() * 500);
      const res = await runChild(
        image,
        logPath,
        round,
        Math.floor(rnd() * 2 ** 31),
        commitMs,
        killAfter,
        crashWrite,
      );
      if (res.killed) totals.crashes++;
      else totals.exitedEarly++;
      if (res.inCommit) totals.crashesInCommit++;
      for (const line of nfs.readFileSync(logPath, 'utf8').split('\n')) {
        if (!line) continue;
        let rec;
        try {
          rec = JSON.parse(line);
        } catch {
          continue; // a torn last line: the record was not finished, nothing was promised
        }
        expected.set(rec.path, { size: rec.size, sha: rec.sha, round });
      }
      // Remount: recovery, orphans, then fsck and every durable file.
      const fs = PmemFs.mount(PmemDevice.openFile(image), { commitIntervalMs: 0 });
      const rep = fs.mountReport;
      totals.replayedPages += rep?.recovery?.replayed ?? 0;
      if (rep?.recovery?.discarded) totals.discardedCommits++;
      totals.orphansFreed += rep?.orphansFreed ?? 0;
      const problems = fs.check();
      if (problems.length > 0)
        throw new Error(`round ${round}: fsck after the crash: ${problems.join('; ')}`);
      for (const [path, want] of expected) {
        const ino = walk(fs, path);
        if (ino === 0)
          throw new Error(`round ${round}: durable file ${path} (round ${want.round}) is missing`);
        const a = fs.getattr(ino);
        const buf = new Uint8Array(a.size);
        fs.read(ino, 0, buf);
        if (a.size !== want.size || sha(buf) !== want.sha) {
          throw new Error(`round ${round}: durable file ${path} differs (size ${a.size}, want ${want.size})`);
        }
        totals.filesVerified++;
        totals.bytesVerified += a.size;
      }
      // Keep the image from filling up: drop round r-2 (its files were verified twice).
      const old = round - 2;
      if (old >= 0) {
        removeTree(fs, ROOT_INO, `r${old}`);
        for (const [path, want] of expected) if (want.round === old) expected.delete(path);
      }
      const after = fs.check();
      if (after.length > 0) throw new Error(`round ${round}: fsck after cleanup: ${after.join('; ')}`);
      fs.close();
      nfs.rmSync(logPath, { force: true });
      totals.rounds++;
      opts.log?.(`round ${round}: ${res.killed ? 'killed' : 'exited'}, ${expected.size} durable files kept`);
    }
    ok = true;
    return totals;
  } finally {
    if (ok && !opts.keep && !opts.dir) nfs.rmSync(dir, { recursive: true, force: true });
    else if (!ok) process.stderr.write(`crash harness: image kept in ${dir} (seed ${seed})\n`);
  }
}

const argv = process.argv.slice(2);
if (argv[0] === '--child') {
  const [, image, logPath, round, seed, commitMs, crashWrite] = argv;
  child(image, logPath, Number(round), Number(seed), Number(commitMs), Number(crashWrite)).catch((e) => {
    process.stderr.write(`${e?.stack ?? e}\n`);
    process.exit(2);
  });
} else if (process.argv[1] === SELF) {
  const arg = (k, d) => {
    const i = argv.indexOf(k);
    return i >= 0 ? argv[i + 1] : d;
  };
  const t0 = performance.now();
  runHarness({
    rounds: Number(arg('--rounds', '100')),
    seed: arg('--seed') === undefined ? undefined : Number(arg('--seed')),
    sizeMiB: Number(arg('--size', '48')),
    dir: arg('--dir'),
    keep: argv.includes('--keep'),
    log: argv.includes('--verbose') ? (l) => process.stderr.write(`${l}\n`) : undefined,
  }).then(
    (t) =>
      process.stdout.write(
        `${JSON.stringify({ ...t, seconds: Math.round((performance.now() - t0) / 100) / 10 })}\n`,
      ),
    (e) => {
      process.stderr.write(`${e?.stack ?? e}\n`);
      process.exit(1);
    },
  );
}
