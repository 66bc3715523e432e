/** Progress bars (cli-progress) on stderr, for jobs large enough to take a while. */
import { createRequire } from 'node:module';
import type { SingleBar } from 'cli-progress';

// Loaded when a bar is shown, not by every command that might show one (it costs start-up time).
const require = createRequire(import.meta.url);

/**
 * A started bar over `total` units, or null: shown when stderr is a terminal and the job is `large`,
 * or always with ZUFS_PROGRESS=1 (tests, logs). `format` uses cli-progress tokens ({bar}, {value}...).
 */
export function progressBar(total: number, format: string, large: boolean, payload = {}): SingleBar | null {
  if (!(process.env.ZUFS_PROGRESS === '1' || (process.stderr.isTTY && large))) return null;
  const { SingleBar: Bar } = require('cli-progress') as typeof import('cli-progress');
  const bar = new Bar({ format, stream: process.stderr, noTTYOutput: true, notTTYSchedule: 0 });
  bar.start(total, 0, payload);
  return bar;
}
