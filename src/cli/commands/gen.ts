import { randomInt } from 'node:crypto';
import { Burst } from '../../index';
import type { MemifInterface } from '../../index';
import type { Subscription } from 'rxjs';
import {
  UsageError,
  commonHelp,
  integerOption,
  interfaceOptions,
  parse,
  runSeconds,
} from '../args';
import {
  CORRUPT,
  GenBatch,
  MAX_GEN_SIZE,
  MIN_GEN_SIZE,
  checkGenAt,
  genSize,
  parseMac,
  writeGenFrame,
} from '../frames';
import { TrafficReport } from '../report';
import { Session, Stopper } from '../session';
import { waitConnected } from '../wait';

export const genHelp = `Usage: rx-memif gen --size S|A..B [--count N [--one-way]] [--rate PPS] [options]

Sends frames that carry a sequence number and a check value, and counts the ones that come
back (a reflecting peer: rx-memif echo, testpmd macswap/io), verifying them from byte 12 on.
Frames larger than the buffer size are sent as chains.

With --count N: keeps no more frames in flight than the ring holds, waits (up to --secs) for
the echo of every frame sent, and exits 1 when anything was lost or corrupt.
Without --count: sends flat out until --secs, reports rates and losses, exits 0.
With --count N --one-way: sends the N frames without waiting for echoes, losslessly (a full
ring makes gen wait, it never drops), for \`rx-memif sink --check --count N\` to verify; exits 0
once all N reached the ring, 1 when the link went down or --secs ran out first.

With --json: {"event":"stats",...} a second and a final {"event":"summary","secs",
"rx":{"packets","bytes","mpps"},"tx":{...},"lost","corrupt","drops":{...},"sent","received"}.
With --one-way, "sent" counts the frames that reached the ring, "lost" the rest of the N, and
"received" is 0 (echoes are not counted). Otherwise "sent" counts the frames handed to the
interface and "lost" those that did not come back, split into "notSent" (still queued here or
dropped by our own tx when the run ended: the ring was full, they never left) and "notReturned"
(they reached the ring and no intact echo came back: the reflector refused or dropped them, or
they were still in flight).

  --size S                 frame size in bytes, ${MIN_GEN_SIZE}..${MAX_GEN_SIZE} [64]
  --size A..B              mixed sizes, uniform in A..B, the same for every run (from the
                           sequence number)
  --count N                frames to send, then wait for their echoes
  --one-way                with --count: send only, lossless, no echoes expected; runs until
                           done unless --secs is given
  --rate PPS               at most PPS frames a second [no limit]

${commonHelp}`;

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

/** `--size S` or `--size A..B`. */
const sizeRange = (text: string | undefined): { min: number; max: number } => {
  const parts = (text ?? '64').split('..');
  const bounds = parts.map((p) => integerOption('size', p, MIN_GEN_SIZE, MAX_GEN_SIZE) ?? 0);
  if (parts.length > 2 || bounds[0] > bounds[bounds.length - 1])
    throw new UsageError(
      `--size must be S or A..B with ${MIN_GEN_SIZE} <= A <= B <= ${MAX_GEN_SIZE}, got ${JSON.stringify(text)}`,
    );
  return { min: bounds[0], max: bounds[bounds.length - 1] };
};

interface Tally {
  sent: number;
  received: number;
  corrupt: number;
}

export const gen = async (args: string[]): Promise<number> => {
  const { values } = parse(args, {
    size: { type: 'string' },
    count: { type: 'string' },
    rate: { type: 'string' },
    'one-way': { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(genHelp + '\n');
    return 0;
  }
  const { min, max } = sizeRange(values.size as string | undefined);
  const count = integerOption('count', values.count as string | undefined, 1, 2 ** 40);
  const rate = integerOption('rate', values.rate as string | undefined, 1, 1e9);
  const oneWay = values['one-way'] === true;
  if (oneWay && count === undefined) throw new UsageError('--one-way needs --count N');
  // One way, the run ends by itself (all sent, or the link went down).
  const secs = runSeconds(values) ?? (oneWay ? undefined : count === undefined ? 10 : 60);
  const session = new Session(
    // Returns are checked during their emission and never kept: they can be read in place in
    // the shared memory, without the receive copy (docs/tuning.md, "Receive: zeroCopyRx").
    { ...interfaceOptions(values), lossless: count !== undefined, zeroCopyRx: true },
    values.json === true,
  );
  const { iface } = session;
  const stopper = new Stopper(secs);
  const stopped = stopper.done;
  const up = await waitConnected(iface, stopped);
  if (!up) {
    stopper.cancel();
    await session.close();
    session.output.event(
      'summary',
      { connected: false, secs: 0, lost: count ?? 0, corrupt: 0 },
      'summary: never connected',
    );
    return 1;
  }
  const report = new TrafficReport(iface, session.output);
  const tally: Tally = { sent: 0, received: 0, corrupt: 0 };
  const runId = randomInt(2 ** 32);
  const src = parseMac(iface.options.mac);
  const run = oneWay ? sendOnly : count === undefined ? flatOut : counted;
  const active = await run({
    iface,
    min,
    max,
    count: count ?? 0,
    rate,
    runId,
    src,
    tally,
    stopped,
    ringSize: up.ringSize,
    bufferSize: up.bufferSize,
  });
  stopper.cancel();
  report.stop();
  const traffic = report.summary(active);
  // One way, "sent" is what reached the ring: frames still waiting or dropped at a link down
  // did not.
  if (oneWay) tally.sent = iface.stats().tx.reduce((n, q) => n + q.packets, 0);
  const lost = oneWay
    ? (count ?? 0) - tally.sent
    : Math.max(0, tally.sent - tally.received - tally.corrupt);
  // Round trip: where the lost ones stayed (a flooded ring refuses; that is not a lost frame).
  const ringed = iface.stats().tx.reduce((n, q) => n + q.packets, 0);
  const split = oneWay
    ? {}
    : {
        notSent: Math.max(0, tally.sent - ringed),
        notReturned: Math.max(0, Math.min(ringed, tally.sent) - tally.received - tally.corrupt),
      };
  const summary = {
    ...traffic,
    lost,
    corrupt: tally.corrupt,
    sent: tally.sent,
    received: tally.received,
    ...split,
    connected: session.connected,
  };
  await session.close();
  session.output.event('summary', summary, `summary: ${JSON.stringify(summary)}`);
  return count !== undefined && (lost > 0 || tally.corrupt > 0 || tally.sent < count) ? 1 : 0;
};

interface Run {
  iface: MemifInterface;
  /** Frame sizes: `min..max`, from the sequence number (see genSize). */
  min: number;
  max: number;
  count: number;
  rate: number | undefined;
  runId: number;
  src: number[];
  tally: Tally;
  stopped: Promise<string>;
  ringSize: number;
  bufferSize: number;
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
    const slotsPerFrame = Math.ceil(r.max / r.bufferSize);
    const window = Math.max(1, Math.floor(r.ringSize / slotsPerFrame) - 1);
    const pool = Array.from({ length: Math.min(window, r.count) }, () => new Uint8Array(r.max));
    const seen = new Uint8Array(r.count);
    const tx = r.iface.tx();
    let inFlight = 0;
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
      sub.unsubscribe();
      pacer.stop();
      resolve((performance.now() - started) / 1000);
    };
    const sub = r.iface.rxBursts().subscribe((b) => {
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

/** No --count: keep the transmit backlog full until --secs; returns the active secs. */
const flatOut = (r: Run): Promise<number> =>
  new Promise((resolve) => {
    const started = performance.now();
    const batch = 256;
    const pool = new GenBatch(batch, r.max, r.min, r.runId, r.src);
    const tx = r.iface.txBursts();
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
      r.iface.rxBursts().subscribe((b) => countReturns(r, b)),
      r.iface.txReady$().subscribe(() => {
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
 * with the active secs once all are in the ring (or the link went down, or --secs ran out).
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
    const tx = r.iface.txBursts();
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
      r.iface.txReady$().subscribe(() => {
        pooled = false;
        send();
      }),
      // The peer left: what waits in the backlog was dropped (linkDown), nothing more will go.
      r.iface.state$.subscribe((s) => {
        if (s.status !== 'connected') finish();
      }),
    );
    void r.stopped.then(finish);
    send();
  });
