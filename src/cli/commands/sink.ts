import { commonHelp, interfaceOptions, parse, runSeconds } from '../args';
import { TrafficReport } from '../report';
import { Session, untilStopped } from '../session';

export const sinkHelp = `Usage: rx-memif sink [options]

Counts every received frame, until --secs runs out or a signal arrives. Prints a stats line a
second; with --json {"event":"stats",...} lines and a final {"event":"summary","secs",
"rx":{"packets","bytes","mpps"},"tx":{...},"lost":0,"corrupt":0,"drops":{...},"connected"}.
Exit status 0 when connected at the end, 1 when not, 2 for bad options.

${commonHelp}`;

export const sink = async (args: string[]): Promise<number> => {
  const { values } = parse(args, {});
  if (values.help) {
    process.stdout.write(sinkHelp + '\n');
    return 0;
  }
  const secs = runSeconds(values);
  const session = new Session(interfaceOptions(values), values.json === true);
  const { iface } = session;
  // The queue counters do the counting; the subscriptions just take the bursts.
  for (let q = 0; q < iface.options.rxQueues; q++) iface.rxBursts(q).subscribe();
  const report = new TrafficReport(iface, session.output);
  await untilStopped(secs);
  report.stop();
  const connected = session.connected;
  const summary = { connected, ...report.summary(report.secs), lost: 0, corrupt: 0 };
  await session.close();
  session.output.event('summary', summary, `summary: ${JSON.stringify(summary)}`);
  return connected ? 0 : 1;
};
