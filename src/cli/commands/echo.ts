import type { Burst } from '../../index';
import { commonHelp, interfaceOptions, parse, runSeconds } from '../args';
import { TrafficReport } from '../report';
import { Session, untilStopped } from '../session';

export const echoHelp = `Usage: rx-memif echo [options] [--swap-mac]

Sends every received frame back on the queue it came from, until --secs runs out or a signal
arrives. Prints a stats line a second; with --json {"event":"stats",...} lines and a final
{"event":"summary","secs","rx":{"packets","bytes","mpps"},"tx":{...},"lost":0,"corrupt":0,
"drops":{...},"connected"}. Exit status 0 when connected at the end, 1 when not, 2 for bad options.

  --swap-mac               swap destination and source MAC before sending back

${commonHelp}`;

const swapInPlace = (b: Burst): void => {
  const d = b.data;
  for (let i = 0; i < b.count; i++) {
    const o = b.offsets[i];
    if (b.lengths[i] < 12) continue;
    for (let k = 0; k < 6; k++) {
      const t = d[o + k];
      d[o + k] = d[o + 6 + k];
      d[o + 6 + k] = t;
    }
  }
};

export const echo = async (args: string[]): Promise<number> => {
  const { values } = parse(args, { 'swap-mac': { type: 'boolean' } });
  if (values.help) {
    process.stdout.write(echoHelp + '\n');
    return 0;
  }
  const secs = runSeconds(values);
  const session = new Session(interfaceOptions(values), values.json === true);
  const { iface } = session;
  const swap = values['swap-mac'] === true;
  for (let q = 0; q < iface.options.rxQueues; q++) {
    const out = iface.txBursts(Math.min(q, iface.options.txQueues - 1));
    iface.rxBursts(q).subscribe((b) => {
      if (swap) swapInPlace(b);
      out.next(b);
    });
  }
  const report = new TrafficReport(iface, session.output);
  await untilStopped(secs);
  report.stop();
  const connected = session.connected;
  const elapsed = report.secs;
  const summary = { connected, ...report.summary(elapsed), lost: 0, corrupt: 0 };
  await session.close();
  session.output.event('summary', summary, `summary: ${JSON.stringify(summary)}`);
  return connected ? 0 : 1;
};
