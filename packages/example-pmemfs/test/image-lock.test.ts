// IMAGE.lock (image-lock.ts): one read-write opener of an image at a time, across processes (real
// child processes) and within one; a lock whose process is gone is taken over, by one taker only.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageBusyError, lockImage, mkfs, PmemDevice, readLockHolder } from '@zufs/example-pmemfs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const CHILD = new URL('./fixtures/lock-child.mjs', import.meta.url).pathname;
let t: ReturnType<typeof tempDir>;
let image: string;
const children: ChildProcess[] = [];

beforeEach(() => {
  t = tempDir();
  image = join(t.dir, 'a.img');
  const dev = PmemDevice.createFile(image, 4 << 20);
  mkfs(dev);
  dev.close();
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  t.cleanup();
});

/** Starts lock-child.mjs; resolves with it once it printed `ready`. */
async function child(args: string[], ready: string): Promise<ChildProcess> {
  const c = spawn(process.execPath, [CHILD, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(c);
  let out = '';
  c.stdout?.on('data', (d) => {
    out += d;
  });
  while (!out.includes(ready)) {
    const [code] = await Promise.race([once(c.stdout!, 'data'), once(c, 'exit')]);
    if (c.exitCode !== null) throw new Error(`lock-child exited (${code}) before "${ready}": ${out}`);
  }
  return c;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const pid = Number(
    execFileSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }),
  );
  expect(() => process.kill(pid, 0)).toThrow(); // pid reuse within the test is not expected
  return pid;
}

const busy = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ImageBusyError);
    return e as ImageBusyError;
  }
  throw new Error('expected EBUSY');
};

describe('IMAGE.lock', () => {
  it('an opener holds it until close(); a second opener in this process gets EBUSY and changes nothing', () => {
    const dev = PmemDevice.openFile(image, { holder: 'test one' });
    expect(readLockHolder(`${image}.lock`)).toMatchObject({ pid: process.pid, who: 'test one' });
    const before = readFileSync(image);
    const e = busy(() => PmemDevice.openFile(image));
    expect(e.code).toBe('EBUSY');
    expect(e.message).toBe(`EBUSY: ${image}: in use by test one (pid ${process.pid}, this process)`);
    // mkfs on an image in use is refused before it truncates anything.
    busy(() => PmemDevice.createFile(image, 1 << 20));
    expect(statSync(image).size).toBe(4 << 20);
    expect(readFileSync(image).equals(before)).toBe(true);
    dev.close();
    expect(existsSync(`${image}.lock`)).toBe(false);
    PmemDevice.openFile(image).close(); // free again
    expect(readdirSync(t.dir)).toEqual(['a.img']); // no temp or marker file left
  });

  it('another process holding it: EBUSY naming it and its pid; once it lets go the image opens', async () => {
    const c = await child(['hold', image, 'zufs mount /mnt/x'], 'locked');
    const e = busy(() => PmemDevice.openFile(image));
    expect(e.message).toBe(`EBUSY: ${image}: in use by zufs mount /mnt/x (pid ${c.pid})`);
    expect(e.holder).toMatchObject({ pid: c.pid, who: 'zufs mount /mnt/x' });
    c.stdin?.end();
    await once(c, 'exit');
    PmemDevice.openFile(image).close();
  });

  it('a read-write opener in another process locks it too (PmemDevice.openFile)', async () => {
    const c = await child(['open', image], 'opened');
    expect(busy(() => lockImage(image)).holder.pid).toBe(c.pid);
    c.stdin?.end();
    await once(c, 'exit');
    lockImage(image).release();
  });

  it('a lock left by a process that died is taken over (also a pid reused by another process)', async () => {
    const c = await child(['hold', image, 'killed'], 'locked');
    c.kill('SIGKILL');
    await once(c, 'exit');
    expect(readLockHolder(`${image}.lock`)?.pid).toBe(c.pid); // left behind
    const dev = PmemDevice.openFile(image, { holder: 'heir' });
    expect(readLockHolder(`${image}.lock`)).toMatchObject({ pid: process.pid, who: 'heir' });
    dev.close();
    // The first CLI's format (just a pid), of a dead process.
    writeFileSync(`${image}.lock`, `${deadPid()}\n`);
    lockImage(image).release();
    // pid 1 lives, but it is not the process that started at that time: stale.
    writeFileSync(`${image}.lock`, 'pid=1\nwho=old\nstart=1\ntoken=1-reused\n');
    lockImage(image).release();
    // pid 1 with no start time to compare: taken as its holder.
    writeFileSync(`${image}.lock`, 'pid=1\nwho=init\ntoken=1-init\n');
    expect(busy(() => lockImage(image)).message).toMatch(/in use by init \(pid 1\)$/);
  });

  it('processes racing to take over one stale lock: exactly one wins, each time', async () => {
    for (let round = 0; round < 2; round++) {
      writeFileSync(`${image}.lock`, `pid=${deadPid()}\nwho=gone\ntoken=stale-${round}\n`);
      const at = Date.now() + 1000; // most racers started by then: they try within a millisecond
      const racers = Array.from({ length: 5 }, () =>
        spawn(process.execPath, [CHILD, 'race', image, String(at)], { stdio: ['pipe', 'pipe', 'inherit'] }),
      );
      children.push(...racers);
      // Every racer's answer first (the winner holds on meanwhile), then the winner lets go.
      const said = await Promise.all(
        racers.map(async (r) => {
          let out = '';
          r.stdout?.on('data', (d) => {
            out += d;
          });
          let ended = false;
          r.stdout?.once('end', () => {
            ended = true;
          });
          while (!out.includes('\n') && !ended)
            await Promise.race([once(r.stdout!, 'data'), once(r.stdout!, 'end')]);
          return out.trim();
        }),
      );
      for (const r of racers) r.stdin?.end();
      await Promise.all(racers.map((r) => (r.exitCode === null ? once(r, 'exit') : null)));
      expect(said.sort(), `round ${round}`).toEqual(['busy', 'busy', 'busy', 'busy', 'won']);
      expect(existsSync(`${image}.lock`)).toBe(false); // the winner let go
      expect(readdirSync(t.dir)).toEqual(['a.img']);
    }
  }, 180_000); // a safety net: each round starts five processes, slow under load
});
