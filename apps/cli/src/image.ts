/**
 * An image opened for one command: checked (exists, is a zufs image of a version we read), then
 * served by an in-process server and mounted through @zufs/vfs. pmemfs's mount locks the image
 * (`IMAGE.lock`, as every opener does: a second one gets "in use by ... (pid N)"). close()
 * unmounts (pmemfs commits the image and lets go of the lock) and stops the server, whatever
 * happened before.
 */
import { resolve } from 'node:path';
import type { ZufsMount } from '@zufs/vfs';
import { startServer, type ZusServer } from '@zufs/zus-server';
import { CliError } from './errors.js';
import { checkImage } from './image-check.js';
import { volumeDevice, volumeType } from './volume-type.js';

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

/** Who an image's lock names for this command ("zufs put"): mount options cannot hold commas. */
export function holderName(what: string): string {
  return `zufs ${what}`.replace(/,/g, ' ');
}

/**
 * A failure to open or mount an image as the line to print: the reason the filesystem gave
 * (`put: /x.img: in use by zufs mount /mnt/x (pid 42)`), without the errno's code in front.
 */
export function openFailure(e: unknown, cmd: string): unknown {
  const err = e as { code?: unknown; message?: unknown; syscall?: unknown; name?: unknown };
  const own = err?.syscall === 'mount' || err?.name === 'ZufsError';
  if (!own || typeof err.code !== 'string' || typeof err.message !== 'string') return e;
  const reason = err.message.startsWith(`${err.code}: `)
    ? err.message.slice(err.code.length + 2)
    : err.message;
  return new CliError(`${cmd}: ${reason}`);
}

/**
 * The server of a command's image, started before the command's modules load (startEarly): its
 * thread boots on the other core meanwhile. Taken by the first openImage of that image.
 */
let early: { image: string; server: Promise<ZusServer> } | undefined;

/** How every image command serves its image: one channel, served by the mount thread. */
function startCommandServer(fsType: string): Promise<ZusServer> {
  // No ZT thread: this thread is the only app, one operation at a time, and each server thread is
  // an isolate to start, which costs more than every crossing of a command (the bench's
  // server-start-stop measures this shape).
  return startServer({ zts: 1, channels: 1, ztThreads: 0, filesystems: [fsType] });
}

const PMEMFS_TYPE_MODULE = () => import.meta.resolve('@zufs/example-pmemfs/fs-type');

/**
 * Starts the server for the first `IMAGE:/path` operand of a command's arguments, if that is a
 * pmemfs image. Arguments are not parsed yet: a guess, which costs a server start when it is wrong
 * (stopEarly).
 */
export function startEarly(args: readonly string[]): void {
  const spec = args.find((a) => !a.startsWith('-') && parseSpec(a).image !== undefined);
  const image = spec === undefined ? undefined : parseSpec(spec).image;
  if (image === undefined) return;
  try {
    checkImage(image, 'zufs');
  } catch {
    return; // no pmemfs image this zufs opens: the command says why, with no server
  }
  const server = startCommandServer(PMEMFS_TYPE_MODULE());
  server.catch(() => {}); // openImage reports it; unused, stopEarly ignores it
  early = { image, server };
}

/** Stops the early server if no command took it (a usage error, --help). */
export async function stopEarly(): Promise<void> {
  const e = early;
  early = undefined;
  await (await e?.server.catch(() => undefined))?.stop();
}

export async function openImage(imageArg: string, cmd: string): Promise<ImageSession> {
  const sqlfs = volumeType(imageArg) === 'sqlfs';
  const image = volumeDevice(imageArg);
  if (!sqlfs) checkImage(image, cmd);
  let server: ZusServer | undefined;
  try {
    // The server thread boots on the other core while this one loads the face.
    let starting = early?.image === image ? early.server : undefined;
    if (starting) early = undefined;
    starting ??= startCommandServer(
      sqlfs ? (await import('@zufs/example-sqlfs')).SQLFS_TYPE : PMEMFS_TYPE_MODULE(),
    );
    const [started, face] = await Promise.allSettled([starting, import('@zufs/vfs')]);
    if (started.status === 'fulfilled') server = started.value;
    if (started.status === 'rejected') throw started.reason;
    if (face.status === 'rejected') throw face.reason;
    const s = started.value;
    const { mount } = face.value;
    const fs = sqlfs
      ? mount(s.root, { type: 'sqlfs', options: `device=${image}` })
      : mount(s.root, { type: 'pmemfs', device: image, options: `holder=${holderName(cmd)}` });
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
          }
        })()),
    };
  } catch (e) {
    await server?.stop();
    throw openFailure(e, cmd);
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
