import {
  UsageError,
  commonHelp,
  integerOption,
  interfaceOptions,
  parse,
  runSeconds,
} from '../args';
import { TrafficReport } from '../report';
import { Session, Stopper } from '../session';
import { sinkWork } from '../per-queue/sink';
import { cpuField, startWork, workerCount, workersHelp, workersOption } from '../workers-option';

export const sinkHelp = `Usage: rx-memif sink [--check [--count N]] [--workers N] [options]

Counts every received frame, until --secs runs out or a signal arrives. Prints a stats line a
second; with --json {"event":"stats",...} lines and a final {"event":"summary","secs",
"rx":{"packets","bytes","mpps"},"tx":{...},"lost":0,"corrupt":0,"drops":{...},"queues":[{"queue",
"rx","tx"},...],"workers","cpuMs","connected"} ("queues": packets by queue; "workers": 0 when
the queues ran on the main thread). Exit status 0 when connected at the end, 1 when not (or a
worker thread died), 2 for bad options.

With --check, every frame must be one of \`rx-memif gen\`'s (the run id is taken from the first):
intact from byte 12 on, and on each queue numbered 0, 1, 2, ... without a gap. The summary then
counts "received" (intact, in sequence), "lost" (sequence numbers skipped, and with --count
those never seen), "corrupt", "outOfOrder" (duplicates, late frames), "foreign" (other
frames) and "rxDrops" (frames the receive side refused); "secs" runs from the first frame to
the last. Exit status 0 when nothing was lost, corrupt, out of order or refused (and with
--count, all N came), 1 otherwise. Receiving in copy mode, the sink itself never drops: a full
ring holds the sender back.

  --check                  verify gen frames (pair with rx-memif gen --one-way --count N)
  --count N                with --check: stop once N frames are accounted for
${workersHelp}

${commonHelp}`;

export const sink = async (args: string[]): Promise<number> => {
  const { values } = parse(args, {
    check: { type: 'boolean' },
    count: { type: 'string' },
    ...workersOption,
  });
  if (values.help) {
    process.stdout.write(sinkHelp + '\n');
    return 0;
  }
  const check = values.check === true;
  const count = integerOption('count', values.count as string | undefined, 1, 2 ** 40);
  if (count !== undefined && !check) throw new UsageError('--count needs --check');
  const secs = runSeconds(values);
  const options = interfaceOptions(values);
  const workers = workerCount(values, options.rxQueues ?? 1);
  const session = new Session(options, values.json === true);
  const { iface } = session;
  const stopper = new Stopper(secs);
  // With --count, every change of a tally may be the one that accounts for the last frame.
  const changed =
    count === undefined
      ? undefined
      : () => {
          if (runner.tally().accounted >= count) stopper.cancel();
        };
  const runner = startWork(
    sinkWork,
    'sink',
    iface,
    session.output,
    workers,
    () => ({ check }),
    changed,
  );
  const report = new TrafficReport(iface, session.output);
  await stopper.done;
  report.stop();
  const connected = session.connected;
  const t = await runner.stop();
  const ok = !runner.failed();
  if (!check) {
    const traffic = report.summary(report.secs);
    const cpuMs = cpuField(runner);
    const summary = { connected, ...traffic, lost: 0, corrupt: 0, workers, cpuMs };
    await session.close();
    session.output.event('summary', summary, `summary: ${JSON.stringify(summary)}`);
    return connected && ok ? 0 : 1;
  }
  const traffic = report.summary((t.last - t.first) / 1000);
  const rxDrops = iface
    .stats()
    .rx.reduce((n, q) => n + Object.values(q.drops).reduce((a, b) => a + (b ?? 0), 0), 0);
  // Whatever was not accounted for on any queue is lost (SequenceCheck.finish, over all queues).
  const lost = t.lost + (count === undefined ? 0 : Math.max(0, count - t.accounted));
  const summary = {
    connected,
    ...traffic,
    lost,
    corrupt: t.corrupt,
    outOfOrder: t.outOfOrder,
    foreign: t.foreign,
    received: t.received,
    rxDrops,
    ...(count === undefined ? {} : { count }),
    workers,
    cpuMs: cpuField(runner),
  };
  await session.close();
  session.output.event('summary', summary, `summary: ${JSON.stringify(summary)}`);
  const complete = count === undefined ? session.wasConnected : t.received === count;
  const clean = t.lost === 0 && t.corrupt === 0 && t.outOfOrder === 0 && rxDrops === 0;
  return complete && clean && ok ? 0 : 1;
};
