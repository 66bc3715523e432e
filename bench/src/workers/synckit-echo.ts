// synckit-rt server: a synckit worker whose function returns at once.
import { runAsWorker } from 'synckit';

runAsWorker((x: number) => x);
