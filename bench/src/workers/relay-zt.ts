// relay-hot-rt / relay-parked-rt server: a bare ZT loop on one relay at byte 0 of the buffer. Every
// request is a no-op: fssWait, then appWakeup. The channel is raised once (fssReady); the app raises
// it again after each reply (appRelease), as in packages/relay. break() ends the loop.
import { parentPort, workerData } from 'node:worker_threads';
import { RELAY_BROKEN, RELAY_TIMEOUT, Relay } from '@zufs/relay';

const relay = new Relay(workerData.sab as SharedArrayBuffer, 0);
relay.fssReady();
parentPort!.postMessage('ready');
for (;;) {
  const r = relay.fssWait();
  if (r & RELAY_BROKEN) break;
  if (r & RELAY_TIMEOUT) continue;
  relay.appWakeup();
}
