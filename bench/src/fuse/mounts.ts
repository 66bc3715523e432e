// The kernel-mount targets of the fuse and workload suites: zufs through @zufs/fuse, the C floor
// (native/libfuse-ll.c), libfuse's own passthrough_ll example over a tmpfs directory, and tmpfs.
// Each is a directory to point a program at, and a way to take it down, also taken down when the
// bench is killed (cleanup.ts).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fuseUnavailable as whyNoFuse } from '@zufs/fuse';
import { closeOnKill, holdSetupForTest, setUp } from '../cleanup.js';
import { nativeProgram } from './native.js';

const exec = promisify(execFile);

export interface KernelTarget {
  dir: string;
  /** fsbench opens its data files O_DIRECT here (FUSE mounts: every read and write reaches the server). */
  direct: boolean;
  /** The server's own request counts (zufs-fuse: FuseMount.requests()), by opcode name. */
  requests?: () => Record<string, number>;
  close(): Promise<void>;
}

/** How a FUSE server is mounted: both servers of a suite get the same. */
export interface FuseMountOptions {
  /** Seconds the kernel caches attributes (names: 1 s). */
  attrTimeout: number;
  /** -o default_permissions: the kernel checks permissions from the modes. */
  defaultPermissions: boolean;
}

/** Why this machine cannot mount FUSE filesystems (@zufs/fuse's reason), or null. */
export function fuseUnavailable(): string | null {
  const why = whyNoFuse();
  return why && `cannot run here: ${why.message}`;
}

async function umount(dir: string): Promise<void> {
  await exec('umount', [dir]).catch(() => exec('umount', ['-l', dir]).catch(() => {}));
}

const mounted = (dir: string): boolean =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === dir);

/** Starts a server program and resolves once `dir` is mounted (10 s at most). */
async function spawnServer(what: string, bin: string, args: string[], dir: string): Promise<ChildProcess> {
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const deadline = Date.now() + 10_000;
  while (!mounted(dir)) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `${what} exited (${child.exitCode ?? child.signalCode}) before it mounted: ${stderr.trim()}`,
      );
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${what} did not mount ${dir} within 10 s`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await holdSetupForTest();
  return child;
}

function stopServer(dir: string, child: ChildProcess) {
  return closeOnKill(async () => {
    await umount(dir);
    if (child.exitCode === null) child.kill('SIGTERM');
  });
}

// Each mount is a setUp (cleanup.ts): a signal arriving while it comes up waits for it, then
// takes it down with the rest.
export const mountLibfuseLl = (base: string, o: FuseMountOptions): Promise<KernelTarget> =>
  setUp(() => startLibfuseLl(base, o));
export const mountPassthroughLl = (base: string, o: FuseMountOptions): Promise<KernelTarget> =>
  setUp(() => startPassthroughLl(base, o));
export const mountZufsFuse = (
  base: string,
  o: FuseMountOptions & { memoryBytes: number },
): Promise<KernelTarget> => setUp(() => startZufsFuse(base, o));

async function startLibfuseLl(base: string, o: FuseMountOptions): Promise<KernelTarget> {
  const dir = join(base, 'libfuse-ll');
  mkdirSync(dir);
  const args = [dir, '--attr-timeout', String(o.attrTimeout)];
  if (o.defaultPermissions) args.push('--default-permissions');
  const child = await spawnServer('libfuse-ll', nativeProgram('libfuse-ll'), args, dir);
  return { dir, direct: true, close: stopServer(dir, child) };
}

/**
 * libfuse's passthrough_ll example (built from libfuse3-dev's examples) over a tmpfs directory: a
 * server whose every operation is a system call on tmpfs, written by libfuse's authors.
 */
async function startPassthroughLl(base: string, o: FuseMountOptions): Promise<KernelTarget> {
  const dir = join(base, 'passthrough-ll');
  mkdirSync(dir);
  const source = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : base, 'zufs-bench-passthrough-'));
  const opts = [`source=${source}`, `timeout=${o.attrTimeout}`, 'fsname=passthrough-ll'];
  if (o.defaultPermissions) opts.push('default_permissions');
  try {
    const child = await spawnServer(
      'passthrough_ll',
      nativeProgram('passthrough-ll'),
      ['-f', '-o', opts.join(','), dir],
      dir,
    );
    const stop = stopServer(dir, child);
    const close = closeOnKill(async () => {
      await stop();
      rmSync(source, { recursive: true, force: true });
    });
    return { dir, direct: true, close };
  } catch (e) {
    rmSync(source, { recursive: true, force: true });
    throw e;
  }
}

/** pmemfs on a memory device served through @zufs/fuse, two reader threads serving inline. */
async function startZufsFuse(
  base: string,
  o: FuseMountOptions & { memoryBytes: number },
): Promise<KernelTarget> {
  const dir = join(base, 'zufs-fuse');
  mkdirSync(dir);
  const { PMEMFS_TYPE } = await import('@zufs/example-pmemfs');
  const { startServer } = await import('@zufs/zus-server');
  const { mountFuse } = await import('@zufs/fuse');
  const server = await startServer({ zts: availableParallelism(), channels: 2, filesystems: [PMEMFS_TYPE] });
  try {
    const fuse = await mountFuse({
      root: server.root,
      server, // readers serve inline: no hop to a ZT
      type: 'pmemfs',
      options: `memory=${o.memoryBytes}`,
      mountpoint: dir,
      readers: 2,
      attrTimeout: o.attrTimeout,
      defaultPermissions: o.defaultPermissions,
    });
    const close = closeOnKill(
      async () => {
        await fuse.unmount();
        await server.stop();
      },
      // Killed: a program of the suite may still hold files open on it, so unmount() would wait.
      async () => {
        await fuse.abort();
        await server.stop();
      },
    );
    return { dir, direct: true, requests: fuse.requests, close };
  } catch (e) {
    await server.stop();
    throw e;
  }
}

export async function tmpfsDir(base: string): Promise<KernelTarget> {
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : base, 'zufs-bench-tmpfs-'));
  return {
    dir,
    direct: false,
    close: closeOnKill(async () => rmSync(dir, { recursive: true, force: true })),
  };
}
