// What a bench run killed by SIGINT or SIGTERM must undo before it exits. A suite's `finally` does
// not run when the process is killed, and what it would have undone outlives the process: a FUSE
// mount stays mounted after its server is gone (its directory then fails ENOTCONN until someone
// unmounts it), a server program it spawned keeps running, a database it made stays.
//
// A setup under way when the signal arrives (a server program started whose mount is not up yet)
// has not registered its undo: setUp() tracks it from its start, and the signal's handler waits for
// it (bounded) before undoing, so what it set up is undone with the rest. After the signal nothing
// new is set up, and the run's own exit is the handler's (the suite's steps may fail once their
// mounts are gone: that is not the run's result).

type Undo = () => Promise<void>;

/** Undos of what is up now, in the order it came up. */
const pending = new Set<Undo>();
/** Setups under way (settled or not, they never reject). */
const starting = new Set<Promise<unknown>>();
let installed = false;
let killed = false;
/** A signal's undo gets this long; then the process exits anyway (a wedged unmount must not hang it). */
const KILL_UNDO_MS = 20_000;
/** How long a signal waits for setups under way (a server program gets 10 s to mount, mounts.ts). */
const SETUP_WAIT_MS = 12_000;
/** Test hook: a setup holds this long once up, before registering its undo (holdSetupForTest). */
const TEST_HOLD_MS = Number(process.env.ZUFS_BENCH_TEST_SETUP_HOLD_MS ?? 0);

/**
 * `close` for what was just set up: the returned function runs it once, at the suite's end; if
 * the process is killed first, `onKill` runs instead (default `close`; a FUSE mount aborts its
 * connection rather than wait for its files to close).
 */
export function closeOnKill(close: Undo, onKill: Undo = close): Undo {
  install();
  let done: Promise<void> | undefined;
  const undo = () => (done ??= onKill());
  pending.add(undo);
  return () => {
    pending.delete(undo);
    return (done ??= close());
  };
}

/**
 * Runs `setup` (which registers its undos with closeOnKill), tracked while under way: a signal
 * arriving meanwhile waits for it, then undoes what it set up. Once the process was signalled a
 * setup does not start: the promise never settles, and the handler exits the process.
 */
export function setUp<T>(setup: () => Promise<T>): Promise<T> {
  install();
  if (killed) return new Promise<T>(() => {});
  const run = setup();
  const tracked = run.then(
    () => {},
    () => {},
  );
  starting.add(tracked);
  void tracked.then(() => starting.delete(tracked));
  return run;
}

/**
 * Test hook: with ZUFS_BENCH_TEST_SETUP_HOLD_MS set, a setup is held this long between coming up
 * and registering its undo, so a test's signal lands in that window every time.
 */
export async function holdSetupForTest(): Promise<void> {
  if (TEST_HOLD_MS > 0) await new Promise((r) => setTimeout(r, TEST_HOLD_MS));
}

/** Whether a signal arrived: the handler undoes what is up and exits the process with its code. */
export function signalled(): boolean {
  return killed;
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('SIGINT', () => void onSignal('SIGINT'));
  process.on('SIGTERM', () => void onSignal('SIGTERM'));
}

async function onSignal(sig: 'SIGINT' | 'SIGTERM'): Promise<void> {
  const code = sig === 'SIGINT' ? 130 : 143;
  // A second signal while undoing: the user wants out now.
  if (killed) process.exit(code);
  killed = true;
  process.stderr.write(
    `\nbench: ${sig}: undoing ${pending.size} mount(s) and such` +
      `${starting.size > 0 ? ` (and ${starting.size} under way)` : ''} before exiting\n`,
  );
  setTimeout(() => {
    process.stderr.write(`bench: undoing took over ${KILL_UNDO_MS / 1000} s: exiting anyway\n`);
    process.exit(code);
  }, KILL_UNDO_MS);
  if (starting.size > 0) {
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise((r) => {
      timer = setTimeout(r, SETUP_WAIT_MS);
    });
    await Promise.race([Promise.all(starting), waited]);
    clearTimeout(timer);
  }
  // Undos registered while they run (a setup that came up late) are taken in the next round.
  while (pending.size > 0) {
    const undos = [...pending].reverse();
    pending.clear();
    for (const undo of undos) {
      await undo().catch((e) =>
        process.stderr.write(`bench: cleanup: ${e instanceof Error ? e.message : e}\n`),
      );
    }
  }
  process.exit(code);
}
