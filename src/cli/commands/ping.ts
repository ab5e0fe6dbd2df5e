import { formatMac, icmpReplier, parsePacket } from '../../index';
import type { LinkMode, ParsedPacket } from '../../index';
import { UsageError, commonHelp, interfaceOptions, parse, runSeconds } from '../args';
import { arpRequest, echoRequest, ipv4Of } from '../packets';
import { Session, Stopper } from '../session';
import { waitConnected } from '../wait';
import { withMac } from './respond';

export const pingHelp = `Usage: rx-memif ping --ip A.B.C.D/L --target A.B.C.E [--count N] [--interval MS] [options]

Pings --target from --ip, like ping(8): in ethernet mode it first resolves the target's MAC
with ARP (asking again every second), then sends --count ICMP echo requests, one every
--interval ms, and prints a line per reply ("64 bytes from A.B.C.E: icmp_seq=1 time=0.042 ms")
and the round-trip times at the end. It answers ARP and pings for --ip meanwhile.

With --json: {"event":"arp","target","mac"}, {"event":"reply","seq","rttMs","bytes","from"} per
reply, and a final {"event":"summary","transmitted","received","loss" (percent),"rttMs":{"min",
"avg","max","p99"},"secs","connected"}. Exit status 0 when any reply came, 1 when none did,
2 for bad options. --secs bounds the whole run [count × interval + 15 s].

  --ip A.B.C.D[/L]         this interface's IPv4 address (required)
  --target A.B.C.E         the address to ping (required)
  --count N                echo requests to send, 1..1000000 [5]
  --interval MS            time between requests in ms, 1..3600000 [1000]
  --size N                 ICMP data bytes after the 8-byte header, 0..8972 [56]

${commonHelp}`;

const integer = (name: string, text: unknown, min: number, max: number, dflt: number): number => {
  if (text === undefined) return dflt;
  const n = Number(text);
  if (typeof text !== 'string' || !/^\d+$/.test(text) || n < min || n > max)
    throw new UsageError(
      `--${name} must be an integer in ${min}..${max}, got ${JSON.stringify(text)}`,
    );
  return n;
};

/** Waits `ms`, or less when one of `early` settles first (the timer is then cleared). */
const wait = (ms: number, ...early: Promise<unknown>[]): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    for (const p of early)
      void p.then(() => {
        clearTimeout(t);
        resolve();
      });
  });

const equal = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** min / avg / max / p99 of the round-trip times, in ms to the µs. */
export const rttSummary = (
  rtts: readonly number[],
): { min: number; avg: number; max: number; p99: number } | null => {
  if (rtts.length === 0) return null;
  const sorted = [...rtts].sort((a, b) => a - b);
  const r = (x: number) => Number(x.toFixed(3));
  return {
    min: r(sorted[0]),
    avg: r(sorted.reduce((s, x) => s + x, 0) / sorted.length),
    max: r(sorted[sorted.length - 1]),
    p99: r(sorted[Math.max(0, Math.ceil(sorted.length * 0.99) - 1)]),
  };
};

export const ping = async (args: string[]): Promise<number> => {
  const { values } = parse(args, {
    ip: { type: 'string' },
    target: { type: 'string' },
    count: { type: 'string' },
    interval: { type: 'string' },
    size: { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(pingHelp + '\n');
    return 0;
  }
  if (typeof values.ip !== 'string') throw new UsageError('--ip A.B.C.D/L is required');
  if (typeof values.target !== 'string') throw new UsageError('--target A.B.C.E is required');
  const src = ipv4Of(values.ip);
  if (!src) throw new UsageError(`--ip must be an IPv4 address, got ${JSON.stringify(values.ip)}`);
  const dst = ipv4Of(values.target);
  if (!dst || values.target.includes('/'))
    throw new UsageError(`--target must be an IPv4 address, got ${JSON.stringify(values.target)}`);
  const count = integer('count', values.count, 1, 1e6, 5);
  const interval = integer('interval', values.interval, 1, 3.6e6, 1000);
  const size = integer('size', values.size, 0, 8972, 56);
  const options = withMac(interfaceOptions(values));
  if (options.mode === 'punt-inject') throw new UsageError('ping works in ethernet or ip mode');
  const mode: LinkMode = options.mode === 'ip' ? 'ip' : 'ethernet';
  const answer = icmpReplier({ ip: values.ip.split('/')[0], mac: options.mac, mode });
  const secs = runSeconds(values) ?? (count * interval) / 1000 + 15;
  const target = values.target;

  const session = new Session(options, values.json === true);
  const { iface, output } = session;
  const stopper = new Stopper(secs);
  const stopped = stopper.done;
  let isStopped = false;
  void stopped.then(() => (isStopped = true));
  const ourMac = Uint8Array.from(options.mac.split(':'), (h) => parseInt(h, 16));
  const id = process.pid & 0xffff;
  const sentAt = new Map<number, bigint>();
  const rtts: number[] = [];
  let transmitted = 0;
  let targetMac: Uint8Array | undefined;
  let onArp: () => void = () => undefined;
  let onAll: () => void = () => undefined;

  const seen = (p: ParsedPacket, now: bigint): void => {
    const net = p.network;
    if (net?.kind === 'arp') {
      if (net.op === 2 && equal(net.spa, dst) && targetMac === undefined) {
        targetMac = Uint8Array.from(net.sha);
        output.event(
          'arp',
          { target, mac: formatMac(targetMac) },
          `ARP: ${target} is-at ${formatMac(targetMac)}`,
        );
        onArp();
      }
      return;
    }
    const t = p.transport;
    if (net?.kind !== 'ipv4' || t?.kind !== 'icmp' || t.type !== 0 || t.identifier !== id) return;
    if (!equal(net.src, dst)) return;
    const seq = t.sequence;
    const at = sentAt.get(seq);
    if (at === undefined) return; // a duplicate, or not ours
    sentAt.delete(seq);
    const rttMs = Number(now - at) / 1e6;
    rtts.push(rttMs);
    const bytes = t.end - t.offset;
    output.event(
      'reply',
      { seq, rttMs: Number(rttMs.toFixed(3)), bytes, from: target },
      `${bytes} bytes from ${target}: icmp_seq=${seq} time=${rttMs.toFixed(3)} ms`,
    );
    if (rtts.length === count) onAll();
  };

  const tx = iface.tx();
  iface.rx().subscribe((frame) => {
    const now = process.hrtime.bigint();
    const reply = answer(frame);
    if (reply) return tx.next(reply);
    const p = parsePacket(frame, mode);
    if (p.kind === 'packet') seen(p, now);
  });

  const up = await waitConnected(iface, stopped);
  if (up && mode === 'ethernet') {
    const resolved = new Promise<void>((resolve) => (onArp = resolve));
    while (targetMac === undefined) {
      tx.next(arpRequest(ourMac, src, dst));
      await wait(1000, resolved, stopped);
      if (isStopped) break;
    }
  }
  if (up && !isStopped && (mode === 'ip' || targetMac)) {
    output.event(
      'start',
      { target, from: values.ip.split('/')[0], bytes: size + 8, count },
      `PING ${target} from ${values.ip.split('/')[0]}: ${size} data bytes`,
    );
    const all = new Promise<void>((resolve) => (onAll = resolve));
    for (let seq = 1; seq <= count; seq++) {
      const frame = echoRequest({
        eth: targetMac ? { dst: targetMac, src: ourMac } : undefined,
        src,
        dst,
        id,
        seq,
        payload: size,
      });
      sentAt.set(seq & 0xffff, process.hrtime.bigint());
      tx.next(frame);
      transmitted++;
      if (seq < count) await wait(interval, stopped);
      // After the last request, wait for the replies still due (at least a second).
      else await wait(Math.max(1000, Math.min(interval, 5000)), all, stopped);
      if (isStopped) break;
    }
  }
  stopper.cancel();
  const connected = session.connected;
  await session.close();
  const received = rtts.length;
  const loss =
    transmitted === 0 ? 100 : Number((((transmitted - received) / transmitted) * 100).toFixed(1));
  const rttMs = rttSummary(rtts);
  const summary = {
    transmitted,
    received,
    loss,
    rttMs,
    secs: Number(session.secs.toFixed(3)),
    connected: up !== undefined && connected,
  };
  const human = [
    `--- ${target} ping statistics ---`,
    `${transmitted} packets transmitted, ${received} received, ${loss}% packet loss`,
    ...(rttMs
      ? [
          `rtt min/avg/max/p99 = ${[rttMs.min, rttMs.avg, rttMs.max, rttMs.p99].map((x) => x.toFixed(3)).join('/')} ms`,
        ]
      : []),
  ];
  if (!up) human.unshift('never connected');
  else if (mode === 'ethernet' && !targetMac) human.unshift(`no ARP reply from ${target}`);
  output.event('summary', summary, human.join('\n'));
  return received > 0 ? 0 : 1;
};
