// Suite "relay": the @zufs/relay round trip against its peers, all measured in the same run.
//
//   raw-spin-rt          bare SAB spin ping-pong with a worker (the floor of a spinning handoff); the
//                        request and the answer word each on its own 64-byte cache line
//   raw-spin-1line-rt    the same with both words in one cache line, as a relay's batons are
//   raw-atomics-wait-rt  bare Atomics.wait/notify ping-pong, both sides park every time (the floor of a
//                        parked handoff: two futex wakes)
//   postmessage-rt       MessagePort round trip with a worker, awaited
//   synckit-rt           a synckit createSyncFn call to a worker that returns at once
//   relay-hot-rt         @zufs/relay, back to back: the ZT is still spinning when the next request comes
//   relay-parked-rt      @zufs/relay after the ZT has been idle long enough to park (per-operation mode)
//   raw-atomics-wait-idle-rt  raw-atomics-wait-rt with the same idle time before each round trip as
//                        relay-parked-rt: the peer that separates the relay's cost from the cost of
//                        waking an idle (virtual) CPU
//
// In every two-thread case the worker serves and the main thread drives and measures.
import { MessageChannel, type Worker } from 'node:worker_threads';
import { RELAY_BROKEN, RELAY_BYTES, RELAY_INTR, Relay, type RelayCounters } from '@zufs/relay';
import { createSyncFn } from 'synckit';
import { type CaseResult, measureBatches, measureEach, round, type SamplingHooks } from '../measure.js';
import { type CaseDef, type RatioSpec, runCases, type SuiteOptions } from '../suite.js';
import { PEER_TIMEOUT_MS, peerTimeout, sleepMs, startWorker, stopWorker } from '../threads.js';
import { PEER_PARKS, REQ, RESP, RESP_SAME_LINE, SEQ_MAX, STOP, WORDS } from '../workers/words.js';

export const name = 'relay';
export const description = 'relay round trip vs bare spin, Atomics.wait, postMessage, synckit';
export const baseline = 'raw-spin-rt';
export const ratios: RatioSpec[] = [
  { num: 'relay-hot-rt', den: 'raw-spin-rt', target: 1.5 },
  { num: 'relay-hot-rt', den: 'raw-spin-1line-rt' },
  { num: 'relay-parked-rt', den: 'raw-atomics-wait-rt', target: 1.2 },
  { num: 'relay-parked-rt', den: 'raw-atomics-wait-idle-rt' },
  { num: 'postmessage-rt', den: 'relay-parked-rt' },
  { num: 'synckit-rt', den: 'relay-parked-rt' },
];

/**
 * Idle time before each relay-parked-rt (and raw-atomics-wait-idle-rt) request: far longer than the
 * relay's largest spin budget (relayDefaults.maxSpinUs, 50 us), so the ZT has parked.
 */
export const PARKED_IDLE_MS = 1.5;

const worker = (file: string): URL => new URL(`../workers/${file}`, import.meta.url);
const newWords = (): Int32Array => new Int32Array(new SharedArrayBuffer(WORDS * 4));
const nextSeq = (s: number): number => (s >= SEQ_MAX ? 1 : s + 1);

/**
 * Bare spin ping-pong: main stores a sequence number in REQ and spins until the worker, spinning on
 * REQ, has copied it into `resp`. No Atomics.wait, no notify: the floor of a spinning handoff.
 */
function rawSpinCase(name: string, resp: number): CaseDef {
  return {
    name,
    async run(opts) {
      const w = newWords();
      const wk = await startWorker(worker('raw-spin.js'), { workerData: { sab: w.buffer, resp } });
      let seq = 0;
      // Checked every 2^20 spins only: a peer that does not answer for PEER_TIMEOUT_MS is dead.
      let since = 0;
      const spinGuard = (spins: number): void => {
        if (spins === 0x100000) since = performance.now();
        else if (performance.now() - since > PEER_TIMEOUT_MS) peerTimeout(name);
      };
      const batch = (n: number): void => {
        for (let i = 0; i < n; i++) {
          seq = nextSeq(seq);
          Atomics.store(w, REQ, seq);
          let spins = 0;
          while (Atomics.load(w, resp) !== seq) {
            if ((++spins & 0xfffff) === 0) spinGuard(spins);
          }
        }
      };
      try {
        return await measureBatches(name, batch, opts.cfg);
      } finally {
        await stopWorker(wk, () => Atomics.store(w, REQ, STOP));
      }
    },
  };
}

/**
 * Bare Atomics.wait/notify ping-pong. Back to back (idleMs 0), both sides park every time. With
 * idleMs > 0 the main thread sleeps that long before each round trip (untimed, per-operation mode):
 * the same idle-then-request pattern as relay-parked-rt, with nothing of the relay.
 */
function rawWaitCase(name: string, idleMs: number): CaseDef {
  return {
    name,
    async run(opts) {
      const w = newWords();
      const wk = await startWorker(worker('raw-wait.js'), { workerData: { sab: w.buffer } });
      let seq = 0;
      let appParks = 0;
      const roundTrip = (): void => {
        const prev = seq;
        seq = nextSeq(seq);
        Atomics.store(w, REQ, seq);
        Atomics.notify(w, REQ);
        while (Atomics.load(w, RESP) !== seq) {
          const r = Atomics.wait(w, RESP, prev, PEER_TIMEOUT_MS);
          if (r === 'ok') appParks++;
          else if (r === 'timed-out') peerTimeout(name);
        }
      };
      const batch = (n: number): void => {
        for (let i = 0; i < n; i++) roundTrip();
      };
      let peer0 = 0;
      let app0 = 0;
      const hooks: SamplingHooks = {
        beforeSampling() {
          peer0 = Atomics.load(w, PEER_PARKS);
          app0 = appParks;
        },
        afterSampling: (ops) => ({
          app_parks_per_op: round((appParks - app0) / ops, 4),
          peer_parks_per_op: round((Atomics.load(w, PEER_PARKS) - peer0) / ops, 4),
        }),
      };
      try {
        if (idleMs === 0) return await measureBatches(name, batch, opts.cfg, hooks);
        const r = await measureEach(name, roundTrip, opts.cfg, () => sleepMs(idleMs), hooks);
        r.idle_ms = idleMs;
        return r;
      } finally {
        await stopWorker(wk, () => {
          Atomics.store(w, REQ, STOP);
          Atomics.notify(w, REQ);
        });
      }
    },
  };
}

/** Also a peer of the dispatch suite. */
export const postMessageRt: CaseDef = {
  name: 'postmessage-rt',
  async run(opts) {
    const { port1, port2 } = new MessageChannel();
    const wk = await startWorker(worker('port-echo.js'), {
      workerData: { port: port2 },
      transferList: [port2],
    });
    let resolve: (() => void) | undefined;
    port1.on('message', () => {
      const r = resolve;
      resolve = undefined;
      r?.();
    });
    const roundTrip = (i: number): Promise<void> =>
      new Promise<void>((res) => {
        resolve = res;
        port1.postMessage(i);
      });
    const batch = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) await roundTrip(i);
    };
    try {
      return await measureBatches('postmessage-rt', batch, opts.cfg);
    } finally {
      port1.close();
      await stopWorker(wk, () => wk.postMessage('stop'));
    }
  },
};

/** Also a peer of the dispatch suite. */
export const synckitRt: CaseDef = {
  name: 'synckit-rt',
  async run(opts) {
    // synckit keeps one unref'd worker per path for the life of the process; it idles on a port.
    const echo = createSyncFn<(x: number) => number>(worker('synckit-echo.js'));
    const batch = (n: number): void => {
      for (let i = 0; i < n; i++) {
        if (echo(i) !== i) throw new Error('synckit-rt: wrong answer');
      }
    };
    return measureBatches('synckit-rt', batch, opts.cfg);
  },
};

// ---- @zufs/relay ------------------------------------------------------------------------------------

/** The app side of one relay (at byte 0 of its own buffer) with a ZT worker serving it. */
class RelayPair {
  readonly relay: Relay;

  private constructor(
    readonly sab: SharedArrayBuffer,
    readonly worker: Worker,
  ) {
    this.relay = new Relay(sab, 0);
  }

  static async start(): Promise<RelayPair> {
    const sab = new SharedArrayBuffer(RELAY_BYTES);
    Relay.init(sab, 0);
    const wk = await startWorker(worker('relay-zt.js'), { workerData: { sab } });
    return new RelayPair(sab, wk);
  }

  /** One request: grab the channel, wake the ZT and wait for its answer, release the channel. */
  roundTrip(): void {
    const relay = this.relay;
    if (!relay.grabIfFssWaiting()) this.grabSlow();
    const r = relay.appWakeupAndWait();
    if (r !== 0) this.fail(r);
    relay.appRelease();
  }

  private grabSlow(): void {
    const deadline = performance.now() + PEER_TIMEOUT_MS;
    while (!this.relay.grabIfFssWaiting()) {
      if (this.relay.isBroken()) throw new Error('relay broken');
      if (performance.now() > deadline) peerTimeout('relay grab');
    }
  }

  private fail(r: number): never {
    const what = r & RELAY_BROKEN ? 'BROKEN' : r & RELAY_INTR ? 'INTR' : '?';
    throw new Error(`appWakeupAndWait returned ${r} (${what})`);
  }

  /**
   * Counter deltas per op across the sampling phase, as extra result fields. The relay keeps its
   * counters in its shared words, so the app side reads the ZT's too (no request needed).
   */
  hooks(): SamplingHooks {
    let c0 = this.relay.counters();
    return {
      beforeSampling: () => {
        c0 = this.relay.counters();
      },
      afterSampling: (ops: number) => {
        const c = this.relay.counters();
        const d = (k: keyof RelayCounters): number => (c[k] - c0[k]) >>> 0;
        // Every sampled op is one app wait and one fssWait. A parking fssWait is counted when it parks,
        // which may be before the op's request (the ZT's next wait starts as soon as it answered): the
        // ZT-side count may be off by one at each end of the sampling phase.
        const fssWaits = d('fssSpins') + d('fssParks');
        if (d('appSpins') + d('appParks') !== ops || Math.abs(fssWaits - ops) > 1) {
          throw new Error(`relay counters disagree with the ${ops} ops run: ${JSON.stringify({ c0, c })}`);
        }
        const per = (k: keyof RelayCounters): number => round(d(k) / ops, 4);
        return {
          fss_parks_per_op: per('fssParks'),
          fss_wakeups_per_op: per('fssWakeups'),
          app_parks_per_op: per('appParks'),
          app_wakeups_per_op: per('appWakeups'),
        };
      },
    };
  }

  async stop(): Promise<void> {
    await stopWorker(this.worker, () => this.relay.break());
  }
}

const relayHot: CaseDef = {
  name: 'relay-hot-rt',
  async run(opts) {
    const pair = await RelayPair.start();
    const batch = (n: number): void => {
      for (let i = 0; i < n; i++) pair.roundTrip();
    };
    try {
      return await measureBatches('relay-hot-rt', batch, opts.cfg, pair.hooks());
    } finally {
      await pair.stop();
    }
  },
};

const relayParked: CaseDef = {
  name: 'relay-parked-rt',
  async run(opts) {
    const pair = await RelayPair.start();
    try {
      const r = await measureEach(
        'relay-parked-rt',
        () => pair.roundTrip(),
        opts.cfg,
        () => sleepMs(PARKED_IDLE_MS),
        pair.hooks(),
      );
      r.idle_ms = PARKED_IDLE_MS;
      return r;
    } finally {
      await pair.stop();
    }
  },
};

export async function run(opts: SuiteOptions): Promise<CaseResult[]> {
  return runCases(
    [
      rawSpinCase('raw-spin-rt', RESP),
      rawSpinCase('raw-spin-1line-rt', RESP_SAME_LINE),
      rawWaitCase('raw-atomics-wait-rt', 0),
      rawWaitCase('raw-atomics-wait-idle-rt', PARKED_IDLE_MS),
      postMessageRt,
      synckitRt,
      relayHot,
      relayParked,
    ],
    opts,
  );
}
