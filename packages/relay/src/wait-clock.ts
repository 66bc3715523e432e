/**
 * The time a bounded wait has waited, counted in steps of at most two park slices (a slice that
 * returns late still counts whole). A process that is stopped (SIGSTOP, Ctrl-Z) and then continued
 * wakes every waiter with the whole pause behind it; counted as two slices, the pause does not turn
 * into timeouts of waits whose peer got no time to run either. Without a pause it reads as the
 * wall clock.
 */
export class WaitClock {
  private last = 0;
  private waited = 0;

  constructor(private readonly sliceMs: number) {}

  /** Starts a wait. */
  start(): void {
    this.last = performance.now();
    this.waited = 0;
  }

  /** Milliseconds left of `timeoutMs` since start() (<= 0: the wait ran out). */
  left(timeoutMs: number): number {
    const now = performance.now();
    this.waited += Math.min(now - this.last, 2 * this.sliceMs);
    this.last = now;
    return timeoutMs - this.waited;
  }
}
