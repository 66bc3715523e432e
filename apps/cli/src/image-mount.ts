/**
 * A pmemfs image (or an sqlfs volume) mounted in the kernel, end to end: start a zufs server with pmemfs, mount the image
 * (vfs, `image=PATH`), serve it through FUSE, and on SIGINT / SIGTERM unmount cleanly (the image is
 * flushed by pmemfs's umount) and stop the server. What `zufs mount IMAGE MOUNTPOINT` runs. It lives
 * here, not in @zufs/fuse: the kernel bridge depends on no filesystem and no server.
 */
import { PMEMFS_TYPE } from '@zufs/example-pmemfs';
import { type FuseMount, type FuseMountOptions, mountFuse } from '@zufs/fuse';
import { startServer, type ZusServer } from '@zufs/zus-server';
import { shownVolume, type VolumeType } from './volume-type.js';

export interface ImageMountOptions extends Omit<FuseMountOptions, 'root' | 'type' | 'options'> {
  /** A pmemfs image file (made by mkfs), or an sqlfs volume (an SQLite file, a postgres:// URL). */
  image: string;
  /** The volume's filesystem (default pmemfs). */
  type?: VolumeType;
  /** Extra mount options, appended after image=PATH (pmemfs) or device=VOLUME (sqlfs). */
  options?: string;
  /** ZT rows of the server (default 2). */
  zts?: number;
  /**
   * Readers hand operations to the server's ZT threads instead of running the plugin themselves
   * (default false: inline). A plugin's crash then ends a server thread, which the server restarts.
   */
  grid?: boolean;
  /** Unmount on SIGINT and SIGTERM (default true). */
  handleSignals?: boolean;
}

export interface ImageMount {
  readonly fuse: FuseMount;
  readonly server: ZusServer;
  /** Unmounts, flushes the image, stops the server; idempotent. */
  close(): Promise<void>;
  /** Settles once everything is closed (after close(), a signal, or a umount by anyone). */
  readonly done: Promise<void>;
}

export async function mountImage(o: ImageMountOptions): Promise<ImageMount> {
  const { image, type = 'pmemfs', options, zts, grid, handleSignals, ...fuseOpts } = o;
  // sqlfs (and its SQLite addon) loads only for its volumes.
  const fsType = type === 'sqlfs' ? (await import('@zufs/example-sqlfs')).SQLFS_TYPE : PMEMFS_TYPE;
  const server = await startServer({ zts: zts ?? 2, filesystems: [fsType] });
  const volume = type === 'sqlfs' ? `device=${image}` : `image=${image}`;
  let fuse: FuseMount;
  try {
    fuse = await mountFuse({
      ...fuseOpts,
      root: server.root,
      server: grid ? undefined : server,
      type,
      options: options ? `${volume},${options}` : volume,
      fsName: fuseOpts.fsName ?? shownVolume(image),
    });
  } catch (e) {
    await server.stop();
    throw e;
  }
  let closing: Promise<void> | undefined;
  const onSignal = () => void close();
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      if (handleSignals !== false) {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      // unmount() waits for the readers, then unmounts the vfs mount (pmemfs flushes the image).
      await fuse.unmount();
      await server.stop();
    })());
  if (handleSignals !== false) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  // A umount from outside ends the readers: close the rest too.
  const done = fuse.done.then(() => close());
  return { fuse, server, close, done };
}
