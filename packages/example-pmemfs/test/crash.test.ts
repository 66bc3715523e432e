// Crash consistency: the crash harness (scripts/crash-harness.mjs) kills a writer with SIGKILL at
// random instants, half of them inside a commit (some with the fatal write torn), then remounts,
// fscks and checks every file the writer made durable.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script, no declarations
import { runHarness } from '../scripts/crash-harness.mjs';

interface Totals {
  rounds: number;
  crashes: number;
  crashesInCommit: number;
  filesVerified: number;
  bytesVerified: number;
}

describe('crash harness', () => {
  it('survives 20 kill -9 rounds with every durable file intact', async () => {
    const t: Totals = await runHarness({ rounds: 20, sizeMiB: 32 });
    console.log(`crash harness: ${JSON.stringify(t)}`);
    expect(t.rounds).toBe(20);
    expect(t.crashes).toBeGreaterThanOrEqual(15);
    expect(t.crashesInCommit).toBeGreaterThan(0);
    expect(t.filesVerified).toBeGreaterThan(0);
  }, 120_000);
});
