// FUSE requests per operation, for the fuse suite's requests_per_op: counted by the kernel's
// fuse:fuse_request_send tracepoint (in a tracing instance of our own, filtered to one mount's
// connection), so every FUSE server is counted alike; where tracefs is not mounted, zufs-fuse's own
// counters (@zufs/fuse FuseMount.requests()) stand in and the other servers go uncounted.
// FORGET and BATCH_FORGET never pass the tracepoint (the kernel queues them apart): they are left
// out of the bridge's counts too.
import { existsSync, mkdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';

const TRACING = '/sys/kernel/tracing';
const EVENT = 'events/fuse/fuse_request_send';

/** Requests by opcode name ('LOOKUP': 3, ...) sent while `fn` ran. */
export type Counter = (fn: () => Promise<void>) => Promise<Record<string, number>>;

/** Why the tracepoint cannot count here, or null. */
export function tracepointUnavailable(): string | null {
  if (!existsSync(`${TRACING}/${EVENT}`))
    return `no ${TRACING}/${EVENT} (mount it: mount -t tracefs nodev ${TRACING})`;
  return null;
}

/** A tracing instance of this process: counters for mounts, then close() removes it. */
export class RequestTrace {
  private readonly dir = `${TRACING}/instances/zufs-bench-fuse-${process.pid}`;

  constructor() {
    if (!existsSync(this.dir)) mkdirSync(this.dir);
  }

  /** Counts the requests of the FUSE connection mounted at `mountpoint`. */
  counter(mountpoint: string): Counter {
    const dev = statSync(mountpoint).dev;
    const ev = `${this.dir}/${EVENT}`;
    return async (fn) => {
      writeFileSync(`${ev}/filter`, `connection == ${dev}`);
      writeFileSync(`${this.dir}/trace`, '');
      writeFileSync(`${ev}/enable`, '1');
      try {
        await fn();
      } finally {
        writeFileSync(`${ev}/enable`, '0');
      }
      const counts: Record<string, number> = {};
      for (const m of readFileSync(`${this.dir}/trace`, 'utf8').matchAll(/opcode \d+ \(FUSE_(\w+)\)/g))
        counts[m[1]] = (counts[m[1]] ?? 0) + 1;
      return counts;
    };
  }

  close(): void {
    try {
      rmdirSync(this.dir);
    } catch {}
  }
}

/** A counter from the bridge's own request counts (read by its reader threads). */
export function bridgeCounter(requests: () => Record<string, number>): Counter {
  return async (fn) => {
    const before = requests();
    await fn();
    // The last requests (RELEASE goes in the background after close) reach a reader a moment later.
    await new Promise((r) => setTimeout(r, 50));
    const counts: Record<string, number> = {};
    for (const [op, n] of Object.entries(requests())) {
      const d = n - (before[op] ?? 0);
      if (d > 0 && op !== 'FORGET' && op !== 'BATCH_FORGET') counts[op] = d;
    }
    return counts;
  };
}

/**
 * Requests per operation of `run(n)` (which does n operations): the difference between runs of 2n
 * and n operations, after a run that fills the kernel's caches, so what a run costs once (opening
 * its file, a RELEASE at the end) cancels out.
 */
export async function requestsPerOp(
  count: Counter,
  run: (n: number) => Promise<void>,
  n: number,
): Promise<{ total: number; byOp: string }> {
  await run(n);
  const once = await count(() => run(n));
  const twice = await count(() => run(2 * n));
  const perOp: [string, number][] = [];
  for (const op of new Set([...Object.keys(once), ...Object.keys(twice)])) {
    // A name whose entry expired (1 s) is looked up again in whichever run met it: a difference
    // below zero is that, not a saving.
    const d = ((twice[op] ?? 0) - (once[op] ?? 0)) / n;
    if (d >= 0.005) perOp.push([op, Math.round(d * 100) / 100]);
  }
  perOp.sort((a, b) => b[1] - a[1]);
  const total = Math.round(perOp.reduce((s, [, d]) => s + d, 0) * 100) / 100;
  return { total, byOp: perOp.map(([op, d]) => `${op} ${d}`).join(', ') };
}
