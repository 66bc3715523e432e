// What a bench run killed by SIGINT or SIGTERM must undo before it exits. A suite's `finally` does
// not run when the process is killed, and what it would have undone outlives the process: a FUSE
// mount stays mounted after its server is gone (its directory then fails ENOTCONN until someone
// unmounts it), a server program it spawned keeps running, a database it made stays.

type Undo = () => Promise<void>;

/** Undos of what is up now, in the order it came up. */
const pending = new Set<Undo>();
let installed = false;
let killed = false;
/** A signal's undo gets this long; then the process exits anyway (a wedged unmount must not hang it). */
const KILL_UNDO_MS = 20_000;

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
  const undos = [...pending].reverse();
  pending.clear();
  process.stderr.write(`\nbench: ${sig}: undoing ${undos.length} mount(s) and such before exiting\n`);
  setTimeout(() => {
    process.stderr.write(`bench: undoing took over ${KILL_UNDO_MS / 1000} s: exiting anyway\n`);
    process.exit(code);
  }, KILL_UNDO_MS);
  for (const undo of undos) {
    await undo().catch((e) =>
      process.stderr.write(`bench: cleanup: ${e instanceof Error ? e.message : e}\n`),
    );
  }
  process.exit(code);
}
