// postmessage-rt server: echoes every message on the MessagePort it was given.
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';

const port = workerData.port as MessagePort;
port.on('message', (m) => port.postMessage(m));
parentPort!.once('message', () => port.close()); // "stop": closing the port lets the thread exit
parentPort!.postMessage('ready');
