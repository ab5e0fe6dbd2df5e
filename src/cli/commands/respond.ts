import { icmpResponderBurst, parsePrefix, resolveOptions } from '../../index';
import type { LinkMode, MemifOptions } from '../../index';
import { UsageError, commonHelp, interfaceOptions, parse, runSeconds } from '../args';
import { Session, untilStopped } from '../session';
import { LiveReport } from '../status-line';
import { respondWork } from '../per-queue/respond';
import { cpuField, startWork, workerCount, workersHelp, workersOption } from '../workers-option';

export const respondHelp = `Usage: rx-memif respond --ip A.B.C.D/L [--ip6 X::Y/L] [--workers N] [options]

Answers, like a host with these addresses: ARP who-has and ICMP echo requests for each --ip,
ICMPv6 echo requests and neighbor solicitations for each --ip6 (both repeatable; the prefix
length is accepted for symmetry with the peers' syntax and only the address itself is answered).
Replies come from this interface's --mac. Other frames are dropped, or sent back unchanged
with --echo-other (so that \`rx-memif gen\` can run against the same server).

Prints a stats line a second (a live status line on a terminal); with --json
{"event":"stats",...} lines and a final {"event":"summary","secs","rx":{...},"tx":{...},
"lost":0,"corrupt":0,"drops":{...},"queues":[{"queue","rx","tx"},...],"answered":{"arp",
"icmp","icmpv6","nd"},"other","workers","cpuMs","connected"} ("queues": packets by queue;
"workers": 0 when the queues ran on the main thread). Exit status 0 when connected at the end,
1 when not (or a worker thread died), 2 for bad options.

  --ip A.B.C.D[/L]         an IPv4 address to answer for (repeatable)
  --ip6 X::Y[/L]           an IPv6 address to answer for (repeatable)
  --echo-other             send every other frame back unchanged instead of dropping it
${workersHelp}

${commonHelp}`;

export type { AnsweredKind } from '../per-queue/respond';

const own = {
  ip: { type: 'string', multiple: true },
  ip6: { type: 'string', multiple: true },
  'echo-other': { type: 'boolean' },
  ...workersOption,
} as const;

/** `addr[/len]` of the given family → the bare address, or a UsageError. */
export const hostAddress = (flag: string, text: string, family: 4 | 6): string => {
  let ok = false;
  try {
    ok = parsePrefix(text).family === family;
  } catch {
    ok = false;
  }
  if (!ok)
    throw new UsageError(
      `--${flag} must be an IPv${family} address with an optional /length, got ${JSON.stringify(text)}`,
    );
  return text.split('/')[0];
};

/** The options, checked, with the MAC the interface will have (a random one made now). */
export const withMac = (options: MemifOptions): MemifOptions & { mac: string } => ({
  ...options,
  mac: resolveOptions(options).mac,
});

export const respond = async (args: string[]): Promise<number> => {
  const { values } = parse(args, own);
  if (values.help) {
    process.stdout.write(respondHelp + '\n');
    return 0;
  }
  const v4 = (values.ip as unknown as string[] | undefined) ?? [];
  const v6 = (values.ip6 as unknown as string[] | undefined) ?? [];
  if (v4.length + v6.length === 0) throw new UsageError('give at least one --ip or --ip6');
  const ips = [
    ...v4.map((t) => hostAddress('ip', t, 4)),
    ...v6.map((t) => hostAddress('ip6', t, 6)),
  ];
  const secs = runSeconds(values);
  const echoOther = values['echo-other'] === true;
  const options = withMac(interfaceOptions(values));
  if (options.mode === 'punt-inject') throw new UsageError('respond works in ethernet or ip mode');
  const mode: LinkMode = options.mode === 'ip' ? 'ip' : 'ethernet';
  icmpResponderBurst({ ip: ips, mac: options.mac, mode }); // bad options throw before connecting
  const workers = workerCount(values, options.rxQueues ?? 1);
  const session = new Session(options, values.json === true);
  const { iface } = session;
  const params = { ips, mac: options.mac, mode, echoOther };
  const runner = startWork(respondWork, 'respond', iface, session.output, workers, () => params);
  const live = new LiveReport(iface, session.output);
  await untilStopped(secs);
  live.stop();
  const connected = session.connected;
  const traffic = live.summary(live.secs);
  const { answered, other } = await runner.stop();
  const cpuMs = cpuField(runner);
  const summary = { connected, ...traffic, lost: 0, corrupt: 0, answered, other, workers, cpuMs };
  await session.close();
  session.output.event('summary', summary, `summary: ${JSON.stringify(summary)}`);
  return connected && !runner.failed() ? 0 : 1;
};
