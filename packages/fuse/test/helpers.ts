// Builds FUSE requests by hand and captures the handler's replies (a fake /dev/fuse).
import { FuseHandler, type HandlerOptions, InHeader, LookupTable, OutHeader } from '@zufs/fuse';

const enc = new TextEncoder();

export interface Reply {
  len: number;
  error: number;
  unique: number;
  body: Uint8Array;
  dv: DataView;
}

export function u64(dv: DataView, at: number): number {
  return dv.getUint32(at + 4, true) * 2 ** 32 + dv.getUint32(at, true);
}

export function setU64(dv: DataView, at: number, n: number): void {
  dv.setUint32(at, n % 2 ** 32, true);
  dv.setUint32(at + 4, Math.floor(n / 2 ** 32), true);
}

/** NUL-terminated names, concatenated. */
export function names(...ns: string[]): Uint8Array {
  return enc.encode(ns.map((n) => `${n}\0`).join(''));
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A struct of `size` bytes filled by `fill`. */
export function struct(size: number, fill: (dv: DataView) => void = () => {}): Uint8Array {
  const b = new Uint8Array(size);
  fill(new DataView(b.buffer));
  return b;
}

let nextUnique = 100;

export function request(
  opcode: number,
  nodeid: number,
  body: Uint8Array = new Uint8Array(0),
  o: { unique?: number; uid?: number; gid?: number } = {},
): Uint8Array {
  const b = new Uint8Array(InHeader.SIZE + body.length);
  const dv = new DataView(b.buffer);
  dv.setUint32(InHeader.len, b.length, true);
  dv.setUint32(InHeader.opcode, opcode, true);
  setU64(dv, InHeader.unique, o.unique ?? nextUnique++);
  setU64(dv, InHeader.nodeid, nodeid);
  dv.setUint32(InHeader.uid, o.uid ?? 0, true);
  dv.setUint32(InHeader.gid, o.gid ?? 0, true);
  dv.setUint32(InHeader.pid, 1234, true);
  b.set(body, InHeader.SIZE);
  return b;
}

/** A handler on a fake device: send() copies a request in, returns the replies it wrote. */
export class FakeDevice {
  readonly replies: Reply[] = [];
  readonly handler: FuseHandler;
  readonly lookups: LookupTable;
  /** errno the next write returns (then 0 again): simulates an interrupted request. */
  failNextWrite = 0;
  logs: string[] = [];

  constructor(o: Omit<HandlerOptions, 'transport' | 'lookups'> & { lookups?: LookupTable }) {
    this.lookups = o.lookups ?? new LookupTable(LookupTable.create(1024));
    this.handler = new FuseHandler({
      log: (m) => this.logs.push(m),
      ...o,
      lookups: this.lookups,
      transport: {
        write: (bytes, len) => {
          const copy = bytes.slice(0, len);
          const dv = new DataView(copy.buffer);
          this.replies.push({
            len: dv.getUint32(OutHeader.len, true),
            error: dv.getInt32(OutHeader.error, true),
            unique: u64(dv, OutHeader.unique),
            body: copy.subarray(OutHeader.SIZE),
            dv: new DataView(copy.buffer, OutHeader.SIZE),
          });
          const e = this.failNextWrite;
          this.failNextWrite = 0;
          return e;
        },
      },
    });
  }

  /** Handles raw bytes (`n` defaults to their length); returns the replies written. */
  raw(bytes: Uint8Array, n = bytes.length): Reply[] {
    const before = this.replies.length;
    this.handler.request.set(bytes.subarray(0, Math.min(bytes.length, this.handler.request.length)));
    this.handler.handle(n);
    return this.replies.slice(before);
  }

  /** One request that must get exactly one reply. */
  send(opcode: number, nodeid: number, body?: Uint8Array, o?: { uid?: number; gid?: number }): Reply {
    const r = this.raw(request(opcode, nodeid, body, o));
    if (r.length !== 1) throw new Error(`expected one reply, got ${r.length}`);
    return r[0];
  }
}
