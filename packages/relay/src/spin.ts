// Spin-then-park policy: how long a waiter reads its word before it parks in Atomics.wait.
//
// A futex wake costs ~50 us on the target VMs while a spinning peer answers in ~0.2 us, so a waiter
// spins first. Spinning costs a core, so the budget is bounded and adapts per Relay instance and per
// side: it doubles when a wait was answered while spinning and halves when the wait had to park.
// Budgets are counted in loop iterations (no clock read on the hot path), calibrated once at load.

/** Spin and park tuning. Microsecond figures are converted to iterations with `spinCalibration()`. */
export interface RelayOptions {
  /** Smallest spin budget, in microseconds (a parked-every-time side spins this long). */
  minSpinUs?: number;
  /** Largest spin budget, in microseconds. Keep it near the cost of a futex wake. */
  maxSpinUs?: number;
  /** Budget of the first wait of each side; defaults to maxSpinUs. */
  initialSpinUs?: number;
  /** Longest single Atomics.wait: a parked waiter re-checks broken/abort/deadline at least this often. */
  parkSliceMs?: number;
}

/**
 * Defaults for relays constructed afterwards (benchmarks may change them). A relay's budgets are
 * thread-local JS state, so each thread tunes its own instances.
 */
export const relayDefaults: Required<RelayOptions> = {
  minSpinUs: 1,
  maxSpinUs: 50,
  initialSpinUs: Number.NaN, // NaN: use maxSpinUs
  parkSliceMs: 50,
};

/** After this many parks in a row, one wait spins the full maxSpin budget to find out if it would pay. */
export const PROBE_EVERY = 16;

/** Spin iterations cap (keeps budgets small integers whatever the options say). */
const MAX_ITERS = 2 ** 30;

/**
 * Reads `words[index]` until it is not `value` or `budget` iterations have passed. Returns the
 * iterations spent when the word changed, or -1 when the budget ran out.
 */
export function spinWhile(words: Int32Array, index: number, value: number, budget: number): number {
  for (let k = 0; k < budget; k++) {
    if (Atomics.load(words, index) !== value) return k;
  }
  return -1;
}

/** Doubles a budget (from at least 64 iterations), capped at max. */
export function grow(budget: number, max: number): number {
  const n = budget < 32 ? 64 : budget * 2;
  return n > max ? max : n;
}

/** Halves a budget, floored at min. */
export function shrink(budget: number, min: number): number {
  const n = budget >> 1;
  return n < min ? min : n;
}

/** Converts microseconds to spin iterations of `spinWhile`. */
export function usToIters(us: number): number {
  if (!(us >= 0)) throw new RangeError(`spin budget must be >= 0 us, got ${us}`);
  return Math.min(MAX_ITERS, Math.round(us * spinCalibration()));
}

// Times the real loop on a private word that never changes; the fastest round is the optimized code
// (earlier rounds also warm it up). Costs 3-5 ms of CPU, mostly in the rounds before V8 optimizes.
function calibrate(): number {
  const w = new Int32Array(new SharedArrayBuffer(4));
  const n = 16_384;
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 16; r++) {
    const t0 = performance.now();
    spinWhile(w, 0, 0, n);
    const dt = performance.now() - t0;
    if (dt < best) best = dt;
  }
  // Bounds: 1 to 2000 iterations per microsecond (0.5 ns per load is already beyond any machine).
  const perUs = n / Math.max(best * 1000, 1e-9);
  return Math.max(1, Math.min(2000, perUs));
}

let itersPerUs = 0; // 0: not calibrated in this thread yet

/**
 * Spin iterations of `spinWhile` per microsecond on this machine: measured in this thread the first
 * time a budget is converted, unless `useSpinCalibration` gave it first.
 */
export function spinCalibration(): number {
  if (itersPerUs === 0) itersPerUs = calibrate();
  return itersPerUs;
}

/**
 * Takes the calibration another thread measured (its `spinCalibration()`), so that this thread does
 * not measure again: the loop is the same code on the same cores (threads measure it within 0.5% of
 * each other), and a server starts several threads at once, each of which would pay the CPU.
 */
export function useSpinCalibration(perUs: number): void {
  if (!(perUs >= 1 && perUs <= 2000))
    throw new RangeError(`spin calibration must be 1..2000 iterations/us, got ${perUs}`);
  itersPerUs = perUs;
}
