/**
 * A reader thread: blocks in read() on /dev/fuse (the fd is the process's, shared with every thread),
 * hands each request to its own FuseHandler, which answers with one write(). It exits when the device
 * says the connection is gone (ENODEV after umount) or after DESTROY. A standby reader first parks
 * until every reader is busy (readers.ts). FUSE_INTERRUPT is answered here: it names a request
 * another reader may be serving.
 */
import { readSync, writeSync } from 'node:fs';
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { InodeClient, mountOpenCounts } from '@zufs/vfs';
import { attachZufRoot, dispatcherFor, type MountInfo, type ZufRoot } from '@zufs/zuf-core';
import { Errno, getU64 } from '@zufs/zuf-core/api';
import { writeOutHeader } from './codec.js';
import {
  COUNTED_OPCODES,
  FuseHandler,
  type HandlerOptions,
  replyBufferSize,
  requestBufferSize,
} from './handler.js';
import { LookupTable } from './lookups.js';
import { FUSE_INTERRUPT, InHeader, InterruptIn, OutHeader } from './protocol.js';
import { ReaderPool } from './readers.js';
import type { ReaderData } from './session.js';

const d = workerData as ReaderData;
const port = parentPort!;
const log = (message: string) => port.postMessage({ type: 'log', message: `reader ${d.index}: ${message}` });

const table = new LookupTable(d.lookups);
const root = attachZufRoot(d.mount.root);
const info = { ...d.mount.mount, shared: d.mount.shared, pmem: d.mount.pmem } as MountInfo;
// Kernel holds and vfs opens of this mount, in every thread: an inode losing its last link stays
// while either has it.
const holds = mountOpenCounts(d.mount);
const client = new InodeClient(root, info, { inUse: (ii) => holds.keepIfOpen(ii) });
/** The inline module's entry (zus-server's serveInline), loaded from the URL the server handed in. */
type ServeInline = (
  root: ZufRoot,
  port: MessagePort,
  opts: { log: (level: string, message: string) => void },
) => Promise<{ close(): void }>;

// With the server's port, this thread serves its operations itself (no hop to a ZT thread); if the
// server cannot be reached that way, the grid serves them.
const inline = d.inline
  ? await import(d.inline.module)
      .then((m: { serveInline: ServeInline }) =>
        m.serveInline(root, d.inline!.port, { log: (level, message) => log(`${level}: ${message}`) }),
      )
      .catch((e: Error) => {
        log(`serving inline failed (${e.message}); operations go to the ZT grid`);
        return null;
      })
  : null;

const errnoOf = (e: unknown): number => {
  const n = (e as NodeJS.ErrnoException).errno;
  return typeof n === 'number' ? Math.abs(n) : 5;
};

/**
 * Request and reply buffers in the zuf-root's shared pool 1 when it has room: WRITE data is then read
 * by the ZT where the kernel put it, and READ data lands in the reply, with no copy through a
 * channel's window. Otherwise private buffers.
 */
function poolBuffers(): { request: Uint8Array; reply: Uint8Array } | undefined {
  const pool = root.pools[1];
  if (!pool) return undefined;
  const reqSize = requestBufferSize(d.handler.maxWrite ?? 1 << 20);
  const replySize = replyBufferSize(d.handler.maxWrite ?? 1 << 20);
  const a = pool.alloc(reqSize);
  if (a < 0) return undefined;
  const b = pool.alloc(replySize);
  if (b < 0) {
    pool.free(a);
    return undefined;
  }
  return { request: pool.bytes.subarray(a, a + reqSize), reply: pool.bytes.subarray(b, b + replySize) };
}
const buffers = d.sharedPool === false ? undefined : poolBuffers();
// The session frees them when this thread has ended, whether it returned or died (a plugin that
// called process.exit in an inline ZT): it alone frees, so that nothing is freed twice.
if (buffers) {
  const base = root.pools[1]!.bytes.byteOffset;
  port.postMessage({
    type: 'buffers',
    offsets: [buffers.request.byteOffset - base, buffers.reply.byteOffset - base],
  });
}

const opts: HandlerOptions = {
  ...d.handler,
  buffers,
  session: new Int32Array(d.session),
  counts: new Float64Array(d.counters, d.index * COUNTED_OPCODES * 8, COUNTED_OPCODES),
  holds,
  client,
  lookups: table,
  log,
  transport: {
    write(bytes, len) {
      try {
        writeSync(d.fd, bytes, 0, len);
        return 0;
      } catch (e) {
        // ENOENT: the request was interrupted or aborted; the kernel no longer waits for it.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log(`reply write: ${(e as Error).message}`);
        return errnoOf(e);
      }
    },
  },
};
const handler = new FuseHandler(opts);
const buf = handler.request;
const req = new DataView(buf.buffer, buf.byteOffset, buf.length);
const pool = new ReaderPool(d.pool, d.index, root);
const inlineSlot = dispatcherFor(root).inlineSlot;
if (inlineSlot) port.postMessage({ type: 'slot', index: d.index, ops: inlineSlot.op.buffer });
else {
  // Grid calls publish their slot, for INTERRUPT from another reader.
  const dispatcher = dispatcherFor(root);
  [dispatcher.inFlight, dispatcher.inFlightAt] = pool.slotWord;
}
for (const [i, ops] of d.inlineSlots ?? []) pool.addInlineSlot(i, ops);
const eagain = new DataView(new ArrayBuffer(OutHeader.SIZE));

/** Other readers' inline slots announced since (the session forwards them; this loop has no event loop). */
function takeAnnouncements(): void {
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
    const { type, index, ops } = m.message as { type: string; index: number; ops: SharedArrayBuffer };
    if (type === 'slot') pool.addInlineSlot(index, ops);
  }
}

/** FUSE_INTERRUPT: abort the request's operation; EAGAIN when nobody serves it (the kernel asks again). */
function interrupt(n: number): void {
  if (n < InHeader.SIZE + InterruptIn.SIZE) return;
  const at = InHeader.SIZE + InterruptIn.unique;
  takeAnnouncements();
  if (pool.interrupt(req.getUint32(at, true), req.getUint32(at + 4, true))) return;
  writeOutHeader(eagain, OutHeader.SIZE, -Errno.EAGAIN, getU64(req, InHeader.unique));
  opts.transport.write(new Uint8Array(eagain.buffer), OutHeader.SIZE);
}

let reason = 'destroyed';
if (d.standby && !pool.standby()) reason = 'session ended';
else {
  if (d.standby) port.postMessage({ type: 'promoted' });
  pool.idle();
  for (;;) {
    let n: number;
    try {
      n = readSync(d.fd, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EINTR' || code === 'EAGAIN' || code === 'ENOENT') continue;
      reason = code === 'ENODEV' ? 'unmounted' : `read: ${(e as Error).message}`;
      break;
    }
    if (n === 0) {
      reason = 'end of device';
      break;
    }
    const wasInit = handler.initialized;
    pool.busy(req.getUint32(InHeader.unique, true), req.getUint32(InHeader.unique + 4, true));
    try {
      if (n >= InHeader.SIZE && req.getUint32(InHeader.opcode, true) === FUSE_INTERRUPT) interrupt(n);
      else handler.handle(n);
    } catch (e) {
      // handle() answers every failure itself; this is the last guard so a reader never dies of one.
      log(`request dropped: ${(e as Error)?.stack ?? e}`);
    }
    pool.done();
    pool.idle();
    if (!wasInit && handler.initialized) port.postMessage({ type: 'init', minor: handler.protoMinor });
    if (handler.destroyed) break;
  }
  pool.stop();
}
inline?.close();
port.postMessage({ type: 'exit', reason });
