// The noise figure's accounting (own-cpu.ts): which processes' CPU time is the run's own.
import { describe, expect, it } from 'vitest';
import { ownCpuMs, type ProcEntry, readProcs } from '../src/own-cpu.js';

const p = (pid: number, ppid: number, comm: string, ticks: number): ProcEntry => ({ pid, ppid, comm, ticks });

describe('ownCpuMs', () => {
  // 100: the bench; 101 a child machine, 102 its child; 103 a --contend load, 104 its child;
  // 200 postmaster, 201 a backend; 300 an unrelated process.
  const procs = [
    p(1, 0, 'init', 5),
    p(100, 1, 'node', 10),
    p(101, 100, 'node', 20),
    p(102, 101, 'tar', 3),
    p(103, 100, 'node', 40),
    p(104, 103, 'sh', 7),
    p(200, 1, 'postgres', 50),
    p(201, 200, 'postgres', 60),
    p(300, 1, 'make', 90),
  ];

  it('counts this process and its descendants, in ms (ticks of 10 ms)', () => {
    expect(ownCpuMs(procs, 100)).toBe((10 + 20 + 3 + 40 + 7) * 10);
  });

  it('leaves out the excluded processes and theirs (the --contend load)', () => {
    expect(ownCpuMs(procs, 100, [], [103])).toBe((10 + 20 + 3) * 10);
  });

  it("counts the suite's peers by name, with their descendants", () => {
    expect(ownCpuMs(procs, 100, ['postgres'], [103])).toBe((10 + 20 + 3 + 50 + 60) * 10);
    expect(ownCpuMs(procs, 100, ['make', 'postgres'], [103])).toBe((10 + 20 + 3 + 50 + 60 + 90) * 10);
  });

  it.skipIf(process.platform !== 'linux')('reads this process from /proc (Linux only)', () => {
    const me = readProcs().find((e) => e.pid === process.pid);
    expect(me?.ppid).toBe(process.ppid);
    expect(me?.ticks).toBeGreaterThanOrEqual(0);
  });
});
