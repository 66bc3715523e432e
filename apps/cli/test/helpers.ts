// The zufs command as a user runs it: the built CLI in a child process.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const run = promisify(execFile);

/** How `zufs` runs: its working directory, and optionally node flags before the bin and the environment. */
export interface ZufsRun {
  cwd: string;
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
}

/** Runs `zufs ARGS`: exit code, stdout, stderr (never throws for a failing command). */
export async function zufsWith(
  o: ZufsRun,
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run(process.execPath, [...(o.nodeArgs ?? []), BIN, ...args], {
      cwd: o.cwd,
      env: o.env,
      timeout: 60_000,
      maxBuffer: 1 << 26,
    });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, out: x.stdout ?? '', err: x.stderr ?? '' };
  }
}

/** Runs `zufs ARGS` in `cwd`. */
export const zufsIn = (cwd: string, ...args: string[]) => zufsWith({ cwd }, ...args);

/** Starts `node SCRIPT ARGS` and resolves once it printed `ready` (rejects if it exits first). */
export async function started(
  script: string,
  args: string[],
  ready: string,
  cwd?: string,
): Promise<ChildProcess> {
  const c = spawn(process.execPath, [script, ...args], { cwd, stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  c.stdout?.on('data', (d) => {
    out += d;
  });
  while (!out.includes(ready)) {
    await Promise.race([once(c.stdout!, 'data'), once(c, 'exit')]);
    if (c.exitCode !== null) throw new Error(`${script} exited (${c.exitCode}) before "${ready}": ${out}`);
  }
  return c;
}
