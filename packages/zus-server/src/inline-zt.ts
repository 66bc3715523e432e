/**
 * An inline ZT: the server's op handler run in an app thread, for that thread's own operations.
 *
 * A grid dispatch hands the operation to a ZT thread and waits. For an app thread that fronts the
 * server for others (a FUSE reader: kernel -> reader -> ZT -> reader -> kernel) that hop is a second
 * one, and on a machine with few cores it costs a spinning core or a futex wake (~50 us here), more
 * than the operation. An inline ZT attaches to the mounts as every ZT does (the isolate rule: the
 * filesystem's attach() on the mount's descriptor, in this thread), and the thread's dispatcher
 * then runs each operation here (zuf-core Dispatcher.serveInline): same decoding, same change
 * seqlock, same errors, no hop. Plugins already serve several ZTs at once, so one more attacher
 * needs nothing of them.
 *
 * The server must live in this process (its zuf-root is shared memory). Mount notices come on a port
 * the server gives (ZusServer.inlinePort(), transferable to any thread): first every mount up and
 * the filesystem modules to load, then each change, as a grid ZT gets them.
 */
import { BroadcastChannel, type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import {
  attachZufRoot,
  CTL_ROOT_ID,
  createInlineSlot,
  dispatcherFor,
  STATE_RESTARTING,
  type ZufRoot,
  type ZufRootDescriptor,
} from '@zufs/zuf-core';
import { loadFsTypes } from './fs-loader.js';
import { type InlineNotice, noticeChannelName } from './messages.js';
import { MountTable } from './mount-table.js';
import { PENDING, Zt } from './zt.js';

export interface InlineZtOptions {
  /** How long to wait for the mount thread's first answer (default 5000 ms). */
  timeoutMs?: number;
  /** Where a plugin's failures are reported (default: console.error). */
  log?: (level: 'warn' | 'error', message: string) => void;
}

export interface InlineZt {
  readonly root: ZufRoot;
  /** Operations served in this thread. */
  readonly served: number;
  /** Back to the grid: this thread's operations go to ZTs again; detaches from every mount. */
  close(): void;
}

/**
 * Serves this thread's operations on the server of `root` in this thread, from now until close().
 * `port` is one ZusServer.inlinePort() gave. Rejects when the server does not answer within the
 * timeout (it stopped, or the port is not one of its).
 */
export async function serveInline(
  root: ZufRootDescriptor | ZufRoot,
  port: MessagePort,
  opts: InlineZtOptions = {},
): Promise<InlineZt> {
  const r = 'descriptor' in root ? root : attachZufRoot(root);
  const dispatcher = dispatcherFor(r);
  if (dispatcher.servesInline) throw new Error('this thread already serves its operations inline');
  const log = opts.log ?? ((level, message) => console.error(`zufs inline ZT ${level}: ${message}`));
  const timeoutMs = opts.timeoutMs ?? 5000;
  // Every notice after the replay comes here, from whichever mount thread serves (restarts replace
  // it): open before the replay is asked for, so none falls between the two. Never keeps the
  // thread alive.
  const notices = new BroadcastChannel(noticeChannelName(Atomics.load(r.ctl, CTL_ROOT_ID)));
  // While this thread's event loop runs, notices are delivered as events (they are gone for
  // receiveMessageOnPort then): kept until the mount table exists, applied at once afterwards.
  const early: InlineNotice[] = [];
  let apply = (n: InlineNotice): void => {
    early.push(n);
  };
  notices.onmessage = (e: MessageEvent) => apply(e.data as InlineNotice);
  notices.unref();
  // Pulled, never listened to: the port must stay readable by receiveMessageOnPort, synchronously,
  // from a thread that may never return to its event loop again.
  const replay: InlineNotice[] = [];
  let ready: Extract<InlineNotice, { type: 'ready' }> | undefined;
  const deadline = performance.now() + timeoutMs;
  while (!ready) {
    const m = receiveMessageOnPort(port);
    if (m) {
      const n = m.message as InlineNotice;
      if (n.type === 'ready') ready = n;
      else replay.push(n);
      continue;
    }
    if (performance.now() > deadline || (!r.isServing() && r.state() !== STATE_RESTARTING)) {
      port.close();
      notices.close();
      throw new Error(`no answer from the zufs server's mount thread within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const types = await loadFsTypes(ready.filesystems);
  const remote = types.find((t) => t.remote === true);
  if (remote) {
    // Its operations return Promises, which this thread could only wait for by blocking its own
    // event loop, the one they need to settle: the grid serves them.
    port.close();
    notices.close();
    throw new Error(`${remote.name} is a remote filesystem: its operations are served by the ZT grid`);
  }
  port.close();
  const mounts = new MountTable(r, types, notices, log, -1);
  for (const n of replay) mounts.notice(n);
  for (const n of early) mounts.notice(n);
  apply = (n) => mounts.notice(n);
  mounts.seenGen(ready.gen);
  const zt = new Zt(r, createInlineSlot(r.descriptor), mounts, log, -1);
  dispatcher.serveInline(zt.slot, () => {
    if (zt.handle() === PENDING) pendingInline(zt);
    zt.served++;
  });
  let open = true;
  return {
    root: r,
    get served() {
      return zt.served;
    },
    close() {
      if (!open) return;
      open = false;
      dispatcher.serveInline(null);
      mounts.detachAll();
      notices.close();
    },
  };
}

/**
 * A plugin of a type not declared remote returned a Promise to an inline ZT: the app thread waits
 * synchronously and cannot wait for it. EIO now (the Promise's end is only logged).
 */
function pendingInline(zt: Zt): void {
  const p = zt.promise!;
  zt.expire('returned a Promise to an inline ZT (declare the type remote)');
  p.then(
    (v) => zt.unstale(true, v),
    (e) => zt.unstale(false, e),
  );
}
