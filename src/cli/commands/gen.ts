import { randomInt } from 'node:crypto';
import {
  UsageError,
  commonHelp,
  integerOption,
  interfaceOptions,
  parse,
  runSeconds,
} from '../args';
import { MAX_GEN_SIZE, MIN_GEN_SIZE, parseMac } from '../frames';
import { TrafficReport } from '../report';
import { Session, Stopper } from '../session';
import { waitConnected } from '../wait';
import { genWork, shareOf } from '../per-queue/gen';
import type { GenMode, GenParams } from '../per-queue/gen';
import { cpuField, startWork, workerCount, workersHelp, workersOption } from '../workers-option';

export const genHelp = `Usage: rx-memif gen --size S|A..B [--count N [--one-way]] [--rate PPS] [--workers N]
                    [options]

Sends frames that carry a sequence number and a check value, and counts the ones that come
back (a reflecting peer: rx-memif echo, testpmd macswap/io), verifying them from byte 12 on.
Frames larger than the buffer size are sent as chains. With --queues Q, every queue sends its
own frames, numbered 0, 1, 2, ... on that queue, and takes its share of --count and --rate
(the first queues take the remainder); a frame counts as back when it returns on its queue.

With --count N: keeps no more frames in flight than the ring holds, waits (up to --secs) for
the echo of every frame sent, and exits 1 when anything was lost or corrupt.
Without --count: sends flat out until --secs, reports rates and losses, exits 0.
With --count N --one-way: sends the N frames without waiting for echoes, losslessly (a full
ring makes gen wait, it never drops), for \`rx-memif sink --check --count N\` to verify; exits 0
once all N reached the ring, 1 when the link went down or --secs ran out first.

With --json: {"event":"stats",...} a second and a final {"event":"summary","secs",
"rx":{"packets","bytes","mpps"},"tx":{...},"lost","corrupt","drops":{...},"queues":[{"queue",
"rx","tx"},...],"sent","received","workers","cpuMs","connected"} ("queues": packets by queue;
"workers": 0 when the queues ran on the main thread; a worker thread that died makes the exit
status 1).
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
${workersHelp}

${commonHelp}`;

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

export const gen = async (args: string[]): Promise<number> => {
  const { values } = parse(args, {
    size: { type: 'string' },
    count: { type: 'string' },
    rate: { type: 'string' },
    'one-way': { type: 'boolean' },
    ...workersOption,
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
  const options = interfaceOptions(values);
  const workers = workerCount(values, options.txQueues ?? 1);
  const session = new Session(
    // Returns are checked during their emission and never kept: read in place in the shared
    // memory, without the receive copy. The native walk prefetches the frames ahead, so the
    // check reads them warm (docs/tuning.md, "rx-memif gen").
    { ...options, lossless: count !== undefined, zeroCopyRx: true },
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
      { connected: false, secs: 0, lost: count ?? 0, corrupt: 0, workers },
      'summary: never connected',
    );
    return 1;
  }
  const report = new TrafficReport(iface, session.output);
  const runId = randomInt(2 ** 32);
  const src = parseMac(iface.options.mac);
  const queues = iface.options.txQueues;
  const mode: GenMode = oneWay ? 'oneWay' : count === undefined ? 'flatOut' : 'counted';
  // Each queue numbers its own frames 0, 1, 2, ... and takes its share of --count and --rate.
  const paramsOf = (q: number): GenParams => ({
    mode,
    min,
    max,
    count: count === undefined ? 0 : shareOf(count, q, queues),
    rate: rate === undefined ? undefined : Math.max(1, rate / queues),
    runId,
    src,
    ringSize: up.ringSize,
    bufferSize: up.bufferSize,
  });
  const runner = startWork(genWork, 'gen', iface, session.output, workers, paramsOf);
  await Promise.race([runner.finished, stopped]);
  const tally = await runner.stop();
  const active = tally.active;
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
    workers,
    cpuMs: cpuField(runner),
    connected: session.connected,
  };
  await session.close();
  session.output.event('summary', summary, `summary: ${JSON.stringify(summary)}`);
  const failed = count !== undefined && (lost > 0 || tally.corrupt > 0 || tally.sent < count);
  return failed || runner.failed() ? 1 : 0;
};
