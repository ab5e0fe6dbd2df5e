import { commonHelp, interfaceOptions, parse, runSeconds } from '../args';
import { TrafficReport } from '../report';
import { Session, untilStopped } from '../session';
import { echoWork } from '../per-queue/echo';
import { cpuField, startWork, workerCount, workersHelp, workersOption } from '../workers-option';

export const echoHelp = `Usage: rx-memif echo [options] [--swap-mac] [--workers N]

Sends every received frame back on the queue it came from, until --secs runs out or a signal
arrives. Prints a stats line a second; with --json {"event":"stats",...} lines and a final
{"event":"summary","secs","rx":{"packets","bytes","mpps"},"tx":{...},"lost":0,"corrupt":0,
"drops":{...},"queues":[{"queue","rx","tx"},...],"workers","cpuMs","connected"} ("queues":
packets by queue; "workers": 0 when the queues ran on the main thread). Exit status 0 when
connected at the end, 1 when not (or a worker thread died), 2 for bad options.

  --swap-mac               swap destination and source MAC before sending back
${workersHelp}

${commonHelp}`;

export const echo = async (args: string[]): Promise<number> => {
  const { values } = parse(args, { 'swap-mac': { type: 'boolean' }, ...workersOption });
  if (values.help) {
    process.stdout.write(echoHelp + '\n');
    return 0;
  }
  const secs = runSeconds(values);
  const options = interfaceOptions(values);
  const workers = workerCount(values, options.rxQueues ?? 1);
  const session = new Session(options, values.json === true);
  const { iface } = session;
  const swapMac = values['swap-mac'] === true;
  const runner = startWork(echoWork, 'echo', iface, session.output, workers, () => ({ swapMac }));
  const report = new TrafficReport(iface, session.output);
  await untilStopped(secs);
  report.stop();
  const connected = session.connected;
  const elapsed = report.secs;
  const traffic = report.summary(elapsed);
  await runner.stop();
  const summary = { connected, ...traffic, lost: 0, corrupt: 0, workers, cpuMs: cpuField(runner) };
  await session.close();
  session.output.event('summary', summary, `summary: ${JSON.stringify(summary)}`);
  return connected && !runner.failed() ? 0 : 1;
};
