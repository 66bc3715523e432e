/**
 * The server's change seqlock: lets an app thread read what the server shares in memory (zus_inodes
 * in pmem, file blocks found by GET_MULTY) without a dispatch and without a torn or stale copy.
 *
 * Several ZTs change filesystems at once, so this is not a one-writer seqlock: a writer counts itself
 * in ACTIVE, then bumps SEQ; when done it counts itself out. A reader takes SEQ while ACTIVE is 0,
 * copies, and keeps the copy only if ACTIVE is still 0 and SEQ unchanged. Why that is enough (every
 * Atomics operation is sequentially consistent): a writer whose changes overlapped the copy either
 * was counted in ACTIVE when the reader took SEQ (the reader saw ACTIVE != 0 and did not start), or
 * bumped SEQ after that and before its first change, so the reader's final look sees a new SEQ.
 *
 * The words are per server, not per inode: a change anywhere makes concurrent readers retry (or fall
 * back to a dispatch), which costs only when threads read and change at the same moment.
 */
import { CHANGE_ACTIVE, CHANGE_SEQ } from './root-layout.js';

/**
 * The server's side: around every operation that may change a filesystem's shared memory. `mark`
 * (a grid slot's change word, Slot.changing) says the ZT of that slot is counted: if its thread
 * dies inside the change, a restart takes the count back out (ZufRoot.forgetDeadChanges).
 */
export function changeBegin(ctl: Int32Array, mark?: Int32Array): void {
  if (mark !== undefined) Atomics.store(mark, 0, 1);
  Atomics.add(ctl, CHANGE_ACTIVE, 1);
  Atomics.add(ctl, CHANGE_SEQ, 1);
}

export function changeEnd(ctl: Int32Array, mark?: Int32Array): void {
  Atomics.sub(ctl, CHANGE_ACTIVE, 1);
  if (mark !== undefined) Atomics.store(mark, 0, 0);
}

/** The reader's ticket, or -1 while a change is under way (then read through a dispatch, or retry). */
export function changeTicket(ctl: Int32Array): number {
  const seq = Atomics.load(ctl, CHANGE_SEQ);
  return Atomics.load(ctl, CHANGE_ACTIVE) === 0 ? seq & 0x7fffffff : -1;
}

/** True when nothing changed since `ticket` was taken: a copy made in between is consistent. */
export function changeValid(ctl: Int32Array, ticket: number): boolean {
  return Atomics.load(ctl, CHANGE_ACTIVE) === 0 && (Atomics.load(ctl, CHANGE_SEQ) & 0x7fffffff) === ticket;
}
