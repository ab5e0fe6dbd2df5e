import { commonHelp, interfaceOptions, parse, runSeconds } from '../args';
import { Session, untilStopped } from '../session';

export const connectHelp = `Usage: rx-memif connect [options]

Brings one memif interface up and prints its state changes until --secs runs out or a signal
arrives, then closes it cleanly. Exit status: 0 when connected at the end of the run, 1 when not,
2 for bad options.

With --json, stdout carries {"event":"state","state":{...}} at each change and a last line
{"event":"summary","connected":true|false,"secs":N,"state":{...}}.

${commonHelp}`;

export const connect = async (args: string[]): Promise<number> => {
  const { values } = parse(args, {});
  if (values.help) {
    process.stdout.write(connectHelp + '\n');
    return 0;
  }
  const secs = runSeconds(values);
  const session = new Session(interfaceOptions(values), values.json === true);
  await untilStopped(secs);
  const connected = session.connected;
  const state = session.state;
  const elapsed = session.secs;
  await session.close();
  session.output.event(
    'summary',
    { connected, secs: Number(elapsed.toFixed(3)), state },
    `summary: ${connected ? 'connected' : 'not connected'} after ${elapsed.toFixed(1)} s`,
  );
  return connected ? 0 : 1;
};
