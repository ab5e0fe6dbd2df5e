import type { Burst } from '../../index';
import type { Subscription } from 'rxjs';
import { CORRUPT, GenBatch, checkGenAt, genSize, writeGenFrame } from '../frames';
import type { QueueIo, QueueWork, WorkKind } from '../queue-io';

/** How gen runs on a queue: --count round trips, flat out, or --one-way. */
export type GenMode = 'counted' | 'flatOut' | 'oneWay';

export interface GenParams {
  readonly mode: GenMode;
  /** Frame sizes: `min..max`, from the sequence number (see genSize). */
  readonly min: number;
  readonly max: number;
  /** This queue's share of --count (its frames are numbered 0..count-1). */
  readonly count: number;
  /** This queue's share of --rate. */
  readonly rate: number | undefined;
  readonly runId: number;
  readonly src: readonly number[];
  readonly ringSize: number;
  readonly bufferSize: number;
}

export interface GenTally {
  sent: number;
  received: number;
  corrupt: number;
  /** Seconds from the start to the end of sending and receiving (the longest queue's). */
  active: number;
}

/** Queue `q`'s share of `total` spread over `queues` (the first ones take the remainder). */
export const shareOf = (total: number, q: number, queues: number): number =>
  Math.floor(total / queues) + (q < total % queues ? 1 : 0);

/** A token bucket refilled every millisecond; unlimited without a rate. */
class Pacer {
  private tokens: number;
  private timer: ReturnType<typeof setInterval> | undefined;
  constructor(
    private readonly rate: number | undefined,
    onRefill: () => void,
  ) {
    this.tokens = rate === undefined ? Infinity : Math.max(1, rate / 1000);
    if (rate !== undefined)
      this.timer = setInterval(() => {
        this.tokens = Math.min(this.tokens + rate / 1000, Math.max(1, rate / 100));
        onRefill();
      }, 1);
  }
  take(wanted: number): number {
    const n = Math.min(wanted, Math.floor(this.tokens));
    this.tokens -= n;
    return n;
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

interface Run extends GenParams {
  io: QueueIo;
  q: number;
  tally: GenTally;
  stopped: Promise<void>;
}

/** Checks the frames of a returned burst in place (no view or object per frame). */
const countReturns = (r: Run, b: Burst, onSeq?: (seq: number) => void): void => {
  const { data, offsets, lengths } = b;
  if (data.length === 0) return; // a zero-copy burst whose region is gone
  const t = r.tally;
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < b.count; i++) {
    const seq = checkGenAt(data, offsets[i], lengths[i], r.runId, v);
    if (seq >= 0) {
      t.received++;
      onSeq?.(seq);
    } else if (seq === CORRUPT) t.corrupt++;
  }
};

/** Writes frame `seq` into `frame` (of `r.max` bytes); returns it, or a view of its size. */
const sized = (frame: Uint8Array, seq: number, r: Run): Uint8Array => {
  const size = genSize(seq, r.min, r.max);
  writeGenFrame(frame, size, seq, r.runId, r.src);
  return size === frame.length ? frame : frame.subarray(0, size);
};

/** --count: a window of at most a ring's worth of frames in flight; returns the active secs. */
const counted = (r: Run): Promise<number> =>
  new Promise((resolve) => {
    const started = performance.now();
    if (r.count === 0) return resolve(0);
    const slotsPerFrame = Math.ceil(r.max / r.bufferSize);
    const window = Math.max(1, Math.floor(r.ringSize / slotsPerFrame) - 1);
    const pool = Array.from({ length: Math.min(window, r.count) }, () => new Uint8Array(r.max));
    const seen = new Uint8Array(r.count);
    const tx = r.io.tx(r.q);
    let inFlight = 0;
    let done = false;
    const pacer = new Pacer(r.rate, () => topUp());
    const topUp = () => {
      let n = pacer.take(Math.min(window - inFlight, r.count - r.tally.sent));
      while (n-- > 0) {
        const seq = r.tally.sent++;
        tx.next(sized(pool[seq % pool.length], seq, r));
        inFlight++;
      }
    };
    const finish = () => {
      if (done) return;
      done = true;
      sub.unsubscribe();
      pacer.stop();
      resolve((performance.now() - started) / 1000);
    };
    const sub = r.io.rxBursts(r.q).subscribe((b) => {
      const before = r.tally.received + r.tally.corrupt;
      countReturns(r, b, (seq) => {
        if (seq >= r.count || seen[seq]) {
          r.tally.received--;
          r.tally.corrupt++; // a duplicate or a sequence number never sent
        } else seen[seq] = 1;
      });
      inFlight -= r.tally.received + r.tally.corrupt - before;
      if (r.tally.received + r.tally.corrupt >= r.count) return finish();
      topUp();
    });
    void r.stopped.then(finish);
    topUp();
  });

/** No --count: keep the transmit backlog full until stopped; returns the active secs. */
const flatOut = (r: Run): Promise<number> =>
  new Promise((resolve) => {
    const started = performance.now();
    const batch = 256;
    const pool = new GenBatch(batch, r.max, r.min, r.runId, r.src);
    const tx = r.io.txBursts(r.q);
    const pacer = new Pacer(r.rate, () => send());
    let stopping = false;
    // The pool's frames are in the transmit backlog until txReady$ says it drained.
    let pooled = false;
    const send = () => {
      if (stopping || pooled) return;
      const n = pacer.take(batch);
      if (n === 0) return;
      // One burst over the pool: one native call from the pool to the ring.
      const frames = pool.fill(n, r.tally.sent);
      r.tally.sent += n;
      pooled = true;
      tx.next(frames);
    };
    const subs = [
      r.io.rxBursts(r.q).subscribe((b) => countReturns(r, b)),
      r.io.txReady$(r.q).subscribe(() => {
        pooled = false;
        send();
      }),
    ];
    void r.stopped.then(() => {
      stopping = true;
      const active = (performance.now() - started) / 1000;
      // Give frames still on their way back a moment before counting them lost.
      setTimeout(() => {
        subs.forEach((s) => s.unsubscribe());
        pacer.stop();
        resolve(active);
      }, 200);
    });
    send();
  });

/** Frames written per batch of --one-way (a pool of this many frames, reused after txReady$)... */
const ONE_WAY_BATCH = 256;
/** ...in at most this many bytes. */
const ONE_WAY_POOL_BYTES = 4 * 1024 * 1024;

/**
 * --one-way: hands the `count` frames to the ring a batch at a time, losslessly, and resolves
 * with the active secs once all are in the ring (or the link went down, or it was stopped).
 * A batch is written into one pool and sent as a Burst, which goes straight from the pool to the
 * ring (no staging copy); what does not fit waits in the backlog as views of the pool, so the
 * pool is rewritten only after txReady$: no allocation per frame.
 */
const sendOnly = (r: Run): Promise<number> =>
  new Promise((resolve) => {
    const started = performance.now();
    const batch = Math.max(
      1,
      Math.min(ONE_WAY_BATCH, r.count, Math.floor(ONE_WAY_POOL_BYTES / r.max)),
    );
    const pool = new GenBatch(batch, r.max, r.min, r.runId, r.src);
    const tx = r.io.txBursts(r.q);
    const pacer = new Pacer(r.rate, () => send());
    let pooled = false;
    let ended = false;
    const send = () => {
      if (ended || pooled) return;
      if (r.tally.sent >= r.count) return finish();
      const n = pacer.take(Math.min(batch, r.count - r.tally.sent));
      if (n === 0) return;
      const frames = pool.fill(n, r.tally.sent);
      r.tally.sent += n;
      pooled = true;
      tx.next(frames);
    };
    const subs: Subscription[] = [];
    const finish = () => {
      if (ended) return;
      ended = true;
      subs.forEach((s) => s.unsubscribe());
      pacer.stop();
      resolve((performance.now() - started) / 1000);
    };
    subs.push(
      r.io.txReady$(r.q).subscribe(() => {
        pooled = false;
        send();
      }),
      // The peer left: what waits in the backlog was dropped (linkDown), nothing more will go.
      r.io.state$.subscribe((s) => {
        if (s.status !== 'connected') finish();
      }),
    );
    void r.stopped.then(finish);
    send();
  });

/** Sends gen frames numbered 0, 1, 2, ... on queue `q` and checks those that come back there. */
const start = (io: QueueIo, q: number, p: GenParams): QueueWork<GenTally> => {
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const tally: GenTally = { sent: 0, received: 0, corrupt: 0, active: 0 };
  const r: Run = { ...p, io, q, tally, stopped };
  const run = p.mode === 'oneWay' ? sendOnly : p.mode === 'flatOut' ? flatOut : counted;
  const finished = run(r).then((active) => {
    tally.active = active;
  });
  return {
    tally: () => ({ ...tally }),
    finished,
    stop: async () => {
      stop();
      await finished;
      return { ...tally };
    },
  };
};

export const genWork: WorkKind<GenParams, GenTally> = {
  start,
  zero: () => ({ sent: 0, received: 0, corrupt: 0, active: 0 }),
  add: (a, b) => ({
    sent: a.sent + b.sent,
    received: a.received + b.received,
    corrupt: a.corrupt + b.corrupt,
    active: Math.max(a.active, b.active),
  }),
};
