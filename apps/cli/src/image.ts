/**
 * An image opened for one command: checked (exists, is a zufs image of a version we read), locked
 * against other users (`IMAGE.lock` with the owner's pid; a lock whose pid is gone is stale), then
 * served by an in-process server and mounted through @zufs/vfs. close() unmounts (pmemfs writes the
 * image back), stops the server and drops the lock, whatever happened before.
 */
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { resolve } from 'node:path';
import { FORMAT_VERSION, PMEMFS_MAGIC, PMEMFS_TYPE } from '@zufs/example-pmemfs';
import { mount, type ZufsMount } from '@zufs/vfs';
import { startServer } from '@zufs/zus-server';
import { CliError } from './errors.js';

export interface ImageSession {
  readonly image: string;
  readonly fs: ZufsMount;
  close(): Promise<void>;
}

/** `IMAGE:/path` -> { image, path }; a spec without ':/' is a host path (image undefined). */
export function parseSpec(spec: string): { image?: string; path: string } {
  const i = spec.indexOf(':/');
  if (i <= 0) return { path: spec };
  return { image: resolve(spec.slice(0, i)), path: spec.slice(i + 1) };
}

/** One clear error for a file that is not a pmemfs image we can open. */
export function checkImage(image: string, cmd: string): void {
  if (!existsSync(image)) throw new CliError(`${cmd}: ${image}: no such image`);
  if (!statSync(image).isFile()) throw new CliError(`${cmd}: ${image}: not a file`);
  const head = Buffer.alloc(8);
  const fd = openSync(image, 'r');
  try {
    readSync(fd, head, 0, 8, 0);
  } finally {
    closeSync(fd);
  }
  if (head.readUInt32LE(0) !== PMEMFS_MAGIC) throw new CliError(`${cmd}: ${image}: not a zufs image`);
  const version = head.readUInt32LE(4);
  if (version > FORMAT_VERSION)
    throw new CliError(
      `${cmd}: ${image}: made by a newer zufs (format version ${version}; this one reads up to ${FORMAT_VERSION})`,
    );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes IMAGE.lock for this process; CliError when a live process holds it. Returns the release. */
export function lockImage(image: string, cmd: string): () => void {
  const lock = `${image}.lock`;
  for (let tries = 0; tries < 2; tries++) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      return () => {
        try {
          if (readFileSync(lock, 'utf8').trim() === String(process.pid)) unlinkSync(lock);
        } catch {
          // already gone
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(lock, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
        throw new CliError(`${cmd}: ${image}: image in use by another mount (pid ${pid})`);
      unlinkSync(lock); // stale: its process is gone
    }
  }
  throw new CliError(`${cmd}: ${image}: cannot lock the image`);
}

export async function openImage(imageArg: string, cmd: string): Promise<ImageSession> {
  const image = resolve(imageArg);
  checkImage(image, cmd);
  const unlock = lockImage(image, cmd);
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    // One ZT: this thread is the only app, one operation at a time; each server thread is an
    // isolate to start (and the bench's server-start-stop measures this shape).
    server = await startServer({ zts: 1, channels: 1, filesystems: [PMEMFS_TYPE] });
    const fs = mount(server.root, { type: 'pmemfs', device: image });
    const s = server;
    let closed: Promise<void> | undefined;
    return {
      image,
      fs,
      close: () =>
        (closed ??= (async () => {
          try {
            fs.umount();
          } finally {
            await s.stop();
            unlock();
          }
        })()),
    };
  } catch (e) {
    await server?.stop();
    unlock();
    throw e;
  }
}

/** Runs `fn` on the image, always closing it. */
export async function withImage<T>(
  image: string,
  cmd: string,
  fn: (s: ImageSession) => T | Promise<T>,
): Promise<T> {
  const s = await openImage(image, cmd);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}
