// The CPU time that is the run's own, for the noise figure (report.ts): this process, the processes
// it started (a suite's child "machines", tar, find, a FUSE peer's server) and the processes a suite
// names as its peers (the database server it measures against: `Suite.peers`), but not the
// `--contend` load. The rest of the machine's busy time is other work: noise.
import { readdirSync, readFileSync } from 'node:fs';

/** One process of /proc: its parent, its name, and its CPU time with its waited-for children's. */
export interface ProcEntry {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime + cutime + cstime, in clock ticks. */
  ticks: number;
}

/** Linux's USER_HZ: /proc counts CPU time in ticks of 10 ms. */
const TICK_MS = 10;

/** The processes of /proc now (empty where there is no /proc). */
export function readProcs(): ProcEntry[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: ProcEntry[] = [];
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const s = readFileSync(`/proc/${n}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so cut at the last ')'.
      const close = s.lastIndexOf(')');
      const f = s.slice(close + 2).split(' ');
      out.push({
        pid: Number(n),
        ppid: Number(f[1]),
        comm: s.slice(s.indexOf('(') + 1, close),
        ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]),
      });
    } catch {
      // Gone between the listing and the read.
    }
  }
  return out;
}

/**
 * The run's own CPU time in `procs`, in ms: `self` and its descendants, except `exclude` and theirs,
 * and every process named in `peers` with its descendants. A process that ended meanwhile is in its
 * parent's waited-for children's time, so a difference of two such sums counts it whole.
 */
export function ownCpuMs(
  procs: readonly ProcEntry[],
  self: number,
  peers: readonly string[] = [],
  exclude: readonly number[] = [],
): number {
  const kids = new Map<number, ProcEntry[]>();
  for (const p of procs) {
    const k = kids.get(p.ppid);
    if (k) k.push(p);
    else kids.set(p.ppid, [p]);
  }
  const skip = new Set(exclude);
  const own = new Set<number>();
  const take = (p: ProcEntry): void => {
    if (own.has(p.pid) || skip.has(p.pid)) return;
    own.add(p.pid);
    for (const c of kids.get(p.pid) ?? []) take(c);
  };
  for (const p of procs) if (p.pid === self || peers.includes(p.comm)) take(p);
  let ticks = 0;
  for (const p of procs) if (own.has(p.pid)) ticks += p.ticks;
  return ticks * TICK_MS;
}
