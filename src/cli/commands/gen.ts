import { randomInt } from 'node:crypto';
import type { Burst, MemifInterface } from '../../index';
import { UsageError, commonHelp, interfaceOptions, parse, runSeconds } from '../args';
import { MIN_GEN_SIZE, checkGenFrame, parseMac, writeGenFrame } from '../frames';
import { TrafficReport } from '../report';
import { Session, Stopper } from '../session';
import { waitConnected } from '../wait';

export const genHelp = `Usage: rx-memif gen --size S [--count N] [--rate PPS] [options]

Sends frames that carry a sequence number and a check value, and counts the ones that come
back (a reflecting peer: rx-memif echo, testpmd macswap/io), verifying them from byte 12 on.
Frames larger than the buffer size are sent as chains.

With --count N: keeps no more frames in flight than the ring holds, waits (up to --secs) for
the echo of every frame sent, and exits 1 when anything was lost or corrupt.
Without --count: sends flat out until --secs, reports rates and losses, exits 0.

With --json: {"event":"stats",...} a second and a final {"event":"summary","secs",
"rx":{"packets","bytes","mpps"},"tx":{...},"lost","corrupt","drops":{...},"sent","received"}.

  --size S                 frame size in bytes, ${MIN_GEN_SIZE}..262144 [64]
  --count N                frames to send, then wait for their echoes
  --rate PPS               at most PPS frames a second [no limit]

${commonHelp}`;

const positive = (
  name: string,
  text: string | undefined,
  min: number,
  max: number,
): number | undefined => {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(
      `--${name} must be an integer in ${min}..${max}, got ${JSON.stringify(text)}`,
    );
  return n;
};

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
  });
  if (values.help) {
    process.stdout.write(genHelp + '\n');
    return 0;
  }
  const size = positive('size', values.size as string | undefined, MIN_GEN_SIZE, 262144) ?? 64;
  const count = positive('count', values.count as string | undefined, 1, 2 ** 40);
  const rate = positive('rate', values.rate as string | undefined, 1, 1e9);
  const secs = runSeconds(values) ?? (count === undefined ? 10 : 60);
  const session = new Session(
    { ...interfaceOptions(values), lossless: count !== undefined },
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
  const run = count === undefined ? flatOut : counted;
  const active = await run({
    iface,
    size,
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
  const lost = Math.max(0, tally.sent - tally.received - tally.corrupt);
  const summary = {
    ...report.summary(active),
    lost,
    corrupt: tally.corrupt,
    sent: tally.sent,
    received: tally.received,
    connected: session.connected,
  };
  await session.close();
  session.output.event('summary', summary, `summary: ${JSON.stringify(summary)}`);
  return count !== undefined && (lost > 0 || tally.corrupt > 0 || tally.sent < count) ? 1 : 0;
};

interface Run {
  iface: MemifInterface;
  size: number;
  count: number;
  rate: number | undefined;
  runId: number;
  src: number[];
  tally: Tally;
  stopped: Promise<string>;
  ringSize: number;
  bufferSize: number;
}

const countReturns = (r: Run, b: Burst, onSeq: (seq: number) => void): void => {
  for (let i = 0; i < b.count; i++) {
    const v = checkGenFrame(b.packet(i), r.runId);
    if (v.kind === 'ok') {
      r.tally.received++;
      onSeq(v.seq);
    } else if (v.kind === 'corrupt') r.tally.corrupt++;
  }
};

/** --count: a window of at most a ring's worth of frames in flight; returns the active secs. */
const counted = (r: Run): Promise<number> =>
  new Promise((resolve) => {
    const started = performance.now();
    const slotsPerFrame = Math.ceil(r.size / r.bufferSize);
    const window = Math.max(1, Math.floor(r.ringSize / slotsPerFrame) - 1);
    const pool = Array.from({ length: Math.min(window, r.count) }, () => new Uint8Array(r.size));
    const seen = new Uint8Array(r.count);
    const tx = r.iface.tx();
    let inFlight = 0;
    const pacer = new Pacer(r.rate, () => topUp());
    const topUp = () => {
      let n = pacer.take(Math.min(window - inFlight, r.count - r.tally.sent));
      while (n-- > 0) {
        const seq = r.tally.sent++;
        const frame = pool[seq % pool.length];
        writeGenFrame(frame, r.size, seq, r.runId, r.src);
        tx.next(frame);
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
    const pool = Array.from({ length: batch }, () => new Uint8Array(r.size));
    const tx = r.iface.txBursts();
    const pacer = new Pacer(r.rate, () => send());
    let stopping = false;
    // The pool's frames are in the transmit backlog until txReady$ says it drained.
    let pooled = false;
    const send = () => {
      if (stopping || pooled) return;
      const n = pacer.take(batch);
      if (n === 0) return;
      const frames = pool.slice(0, n);
      for (const f of frames) writeGenFrame(f, r.size, r.tally.sent++, r.runId, r.src);
      pooled = true;
      tx.next(frames);
    };
    const subs = [
      r.iface.rxBursts().subscribe((b) => countReturns(r, b, () => undefined)),
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
