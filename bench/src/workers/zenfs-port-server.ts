// zenfs-port's server: a ZenFS InMemory filesystem attached to the MessagePort the suite gave us; the
// runner thread's Port backend sends it every operation as an RPC message.
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { attachFS, InMemory, resolveMountConfig } from '@zenfs/core';

const port = workerData.port as MessagePort;
const fs = await resolveMountConfig({ backend: InMemory });
attachFS(port as never, fs);
parentPort!.once('message', () => port.close()); // "stop": closing the port lets the thread exit
parentPort!.postMessage('ready');
