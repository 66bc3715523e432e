/**
 * The supervisor worker: fails the server the moment one of its threads dies.
 *
 * It exists because the thread that started the server may be blocked in a synchronous call, where
 * its event loop cannot see a worker exit. That thread spawns the server threads itself (so they
 * all boot at once, none waits for another) and gives each a life port whose other end is here. A
 * port closes when the thread that holds it ends, however it ends (return, exception, process.exit,
 * terminate(), out of memory); a close while the server is not stopping marks the zuf-root failed
 * and breaks every relay, so every waiter gets EIO at once, and names the thread to the starting
 * thread, which reports it with its exit code when its event loop runs again and ends the others
 * (threads.ts). Only the first close is named: the threads that end because the relays broke (the
 * mount thread's loop ends on a broken relay) come after it.
 * The supervisor ends by itself when the last port has closed.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { attachZufRoot, STATE_STOPPED, STATE_STOPPING, type ZufRootDescriptor } from '@zufs/zuf-core';
import type { SupervisorEvent } from './messages.js';

const data = workerData as { root: ZufRootDescriptor; lives: MessagePort[]; names: string[] };
const root = attachZufRoot(data.root);

const keepAlive = () => {};
const post = (e: SupervisorEvent) => parentPort!.postMessage(e);
let failed = false;
data.lives.forEach((port, i) => {
  // A 'message' listener refs the port: this thread lives as long as a server thread does.
  port.on('message', keepAlive);
  port.once('close', () => {
    port.off('message', keepAlive);
    const s = root.state();
    if (failed || s === STATE_STOPPING || s === STATE_STOPPED) return;
    failed = true;
    // The exit code is not known here (-1 in the root); the starting thread reports it.
    root.fail(-1);
    post({ type: 'died', who: data.names[i] });
  });
});
post({ type: 'watching' });
