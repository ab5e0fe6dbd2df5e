import { merge } from 'rxjs';
import { toPcap } from '../../index';
import type { LinkMode } from '../../index';
import { UsageError, commonHelp, interfaceOptions, parse, runSeconds } from '../args';
import { clock, describePacket } from '../describe';
import { Session, Stopper } from '../session';
import { LiveReport } from '../status-line';

export const dumpHelp = `Usage: rx-memif dump [--pcap FILE] [--count N] [--quiet] [options]

Prints one line per received frame, like tcpdump: time, MAC addresses, VLAN tags, ARP
who-has / is-at, IP source > destination, protocol, ports, ICMP type, length. With --pcap,
also writes every frame to a classic pcap file (link type Ethernet, or raw IP in ip mode).
Runs until --count frames, --secs, or a signal. A live status line (pps, bps, drops) shows on
a terminal; otherwise a stats line a second.

With --json: {"event":"packet","time","length","src","dst","vlan","etherType","srcIp","dstIp",
"proto","srcPort","dstPort","icmpType","icmpCode","arp","summary"} per frame (the fields that
apply), stats lines, and a final {"event":"summary","secs","rx":{...},"tx":{...},"lost":0,
"corrupt":0,"drops":{...},"packets","pcap","connected"}. Exit status 0 when connected at some
point, 1 when never, 2 for bad options.

  --pcap FILE              write the frames to FILE (pcap)
  --count N                stop after N frames
  --quiet                  no line per frame (the status and the pcap file only)

${commonHelp}`;

export const dump = async (args: string[]): Promise<number> => {
  const { values } = parse(args, {
    pcap: { type: 'string' },
    count: { type: 'string' },
    quiet: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(dumpHelp + '\n');
    return 0;
  }
  let count: number | undefined;
  if (values.count !== undefined) {
    count = Number(values.count);
    if (typeof values.count !== 'string' || !/^\d+$/.test(values.count) || count < 1)
      throw new UsageError(
        `--count must be a positive integer, got ${JSON.stringify(values.count)}`,
      );
  }
  const pcap = values.pcap as string | undefined;
  if (pcap === '') throw new UsageError('--pcap needs a file name');
  const secs = runSeconds(values);
  const quiet = values.quiet === true;
  const session = new Session(interfaceOptions(values), values.json === true);
  const { iface, output } = session;
  const mode: LinkMode = iface.options.mode === 'ip' ? 'ip' : 'ethernet';
  const stopper = new Stopper(secs);
  let packets = 0;
  let failure: unknown;
  // One pcap file for every queue: merge them before the writer.
  const all = merge(...Array.from({ length: iface.options.rxQueues }, (_, q) => iface.rx(q)));
  const stream = pcap
    ? all.pipe(toPcap(pcap, { linkType: mode === 'ip' ? 'raw' : 'ethernet' }))
    : all;
  const sub = stream.subscribe({
    next: (frame) => {
      packets++;
      if (!quiet) {
        const now = performance.timeOrigin + performance.now();
        const { text, fields } = describePacket(frame, mode);
        output.event(
          'packet',
          { time: Number((now / 1000).toFixed(6)), ...fields, summary: text },
          `${clock(now)} ${text}`,
        );
      }
      if (count !== undefined && packets >= count) stopper.cancel();
    },
    error: (err: unknown) => {
      failure = err;
      stopper.cancel();
    },
  });
  const live = new LiveReport(iface, output);
  await stopper.done;
  live.stop();
  sub.unsubscribe(); // flushes and closes the pcap file
  const connected = session.wasConnected;
  const summary = {
    connected,
    ...live.summary(live.secs),
    lost: 0,
    corrupt: 0,
    packets,
    pcap: pcap ?? null,
  };
  await session.close();
  output.event('summary', summary, `summary: ${JSON.stringify(summary)}`);
  if (failure !== undefined) throw failure;
  return connected ? 0 : 1;
};
