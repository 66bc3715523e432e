// `--contend N`: N processes that keep a core busy each for the whole run, at the bench's own
// priority, so that a suite measures its targets on a loaded machine (a user's machine often is):
// how a handoff between threads fares when the threads it wakes wait for a core. Every target of
// the run shares the same load, so ratios between them stay meaningful.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeOnKill } from './cleanup.js';

/** A busy loop that ends with its parent (its stdin closes), whatever kills the parent. */
const SPIN =
  "process.stdin.on('close',()=>process.exit(0));process.stdin.resume();" +
  'setImmediate(function s(){const e=Date.now()+50;while(Date.now()<e);setImmediate(s)})';

/** The --contend load: its processes, and how to stop them (also run if the bench is killed). */
export interface Contenders {
  pids: number[];
  stop(): Promise<void>;
}

/** Starts `n` busy processes. */
export async function contend(n: number): Promise<Contenders> {
  const kids: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(
      kids.map(
        (k) =>
          new Promise<void>((resolve) => {
            if (k.exitCode !== null || k.signalCode !== null) return resolve();
            k.once('exit', () => resolve());
            k.kill('SIGKILL');
          }),
      ),
    );
  };
  const close = closeOnKill(stop);
  for (let i = 0; i < n; i++) {
    const k = spawn(process.execPath, ['-e', SPIN], { stdio: ['pipe', 'ignore', 'inherit'] });
    kids.push(k);
    await new Promise<void>((resolve, reject) => {
      k.once('spawn', resolve);
      k.once('error', reject);
    });
  }
  return { pids: kids.map((k) => k.pid ?? 0), stop: close };
}
