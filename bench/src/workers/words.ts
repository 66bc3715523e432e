// Word indexes (Int32) of the bare ping-pong peers, in a buffer aligned to 64 bytes.
export const REQ = 0; // main -> worker: sequence number of the request, or STOP
export const RESP = 16; // worker -> main: the last sequence number served (its own 64-byte line)
export const RESP_SAME_LINE = 1; // raw-spin-1line-rt: the answer word in REQ's cache line, as in a relay
export const PEER_PARKS = 32; // worker: how many of its waits actually slept (raw-atomics-wait only)
export const WORDS = 48;
export const STOP = -1;
/** Sequence numbers run 1..SEQ_MAX, then wrap to 1. */
export const SEQ_MAX = 0x3fffffff;
