import { icmpResponderBurst, parsePacket, parsePrefix, resolveOptions } from '../../index';
import type { Burst, LinkMode, MemifOptions } from '../../index';
import { UsageError, commonHelp, interfaceOptions, parse, runSeconds } from '../args';
import { Session, untilStopped } from '../session';
import { LiveReport } from '../status-line';

export const respondHelp = `Usage: rx-memif respond --ip A.B.C.D/L [--ip6 X::Y/L] [options]

Answers, like a host with these addresses: ARP who-has and ICMP echo requests for each --ip,
ICMPv6 echo requests and neighbor solicitations for each --ip6 (both repeatable; the prefix
length is accepted for symmetry with the peers' syntax and only the address itself is answered).
Replies come from this interface's --mac. Other frames are dropped, or sent back unchanged
with --echo-other (so that \`rx-memif gen\` can run against the same server).

Prints a stats line a second (a live status line on a terminal); with --json
{"event":"stats",...} lines and a final {"event":"summary","secs","rx":{...},"tx":{...},
"lost":0,"corrupt":0,"drops":{...},"answered":{"arp","icmp","icmpv6","nd"},"other",
"connected"}. Exit status 0 when connected at the end, 1 when not, 2 for bad options.

  --ip A.B.C.D[/L]         an IPv4 address to answer for (repeatable)
  --ip6 X::Y[/L]           an IPv6 address to answer for (repeatable)
  --echo-other             send every other frame back unchanged instead of dropping it

${commonHelp}`;

export type AnsweredKind = 'arp' | 'icmp' | 'icmpv6' | 'nd';

const own = {
  ip: { type: 'string', multiple: true },
  ip6: { type: 'string', multiple: true },
  'echo-other': { type: 'boolean' },
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

/** What kind of request a reply answers (read from the reply itself). */
const kindOf = (reply: Uint8Array, mode: LinkMode): AnsweredKind | undefined => {
  const p = parsePacket(reply, mode);
  if (p.kind !== 'packet') return undefined;
  if (p.network?.kind === 'arp') return 'arp';
  if (p.transport?.kind === 'icmp') return 'icmp';
  if (p.transport?.kind === 'icmpv6') return p.transport.type === 136 ? 'nd' : 'icmpv6';
  return undefined;
};

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
  const session = new Session(options, values.json === true);
  const { iface } = session;
  const answered: Record<AnsweredKind, number> = { arp: 0, icmp: 0, icmpv6: 0, nd: 0 };
  let other = 0;
  for (let q = 0; q < iface.options.rxQueues; q++) {
    const out = iface.txBursts(Math.min(q, iface.options.txQueues - 1));
    // A burst at a time: "not for us" is read from the bytes in place, and the other frames
    // go back as one burst over the received memory (one native call, as `echo` does).
    const passThrough = (b: Burst): void => {
      other += b.count;
      if (echoOther) out.next(b);
    };
    iface
      .rxBursts(q)
      .pipe(icmpResponderBurst({ ip: ips, mac: options.mac, mode, passThrough }))
      .subscribe((replies) => {
        for (const r of replies) {
          const kind = kindOf(r, mode);
          if (kind) answered[kind]++;
        }
        out.next(replies);
      });
  }
  const live = new LiveReport(iface, session.output);
  await untilStopped(secs);
  live.stop();
  const connected = session.connected;
  const summary = {
    connected,
    ...live.summary(live.secs),
    lost: 0,
    corrupt: 0,
    answered,
    other,
  };
  await session.close();
  session.output.event('summary', summary, `summary: ${JSON.stringify(summary)}`);
  return connected ? 0 : 1;
};
