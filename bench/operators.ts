/**
 * `npm run bench:operators`: nanoseconds per packet of each packet operator, through the public
 * API, on the per-packet path (a `Subject<Uint8Array>` piped through the operator, one `next`
 * per frame) and on the burst path (a `Subject<Burst>`, bursts of 32), with tinybench. The
 * frames are 64-byte Ethernet/IPv4/UDP frames, as testpmd txonly sends; each task pushes 2048
 * of them. Pinned to CPU 0 by the npm script. Prints the table and writes it into
 * bench/RESULTS.md (section `operators`). Samples are timed in process CPU time (the vCPUs here
 * are shared: wall time would count other processes). The floor rows are RxJS alone: the rest is the
 * operator's own cost above it (see docs/architecture.md, operators).
 */
import { Subject, map, type OperatorFunction } from 'rxjs';
import { Bench, type Task } from 'tinybench';
import {
  and,
  Burst,
  decrementTtlBurst,
  decrementTtlOrDrop,
  dstPort,
  filterBurst,
  filterPackets,
  icmpResponder,
  ipProto,
  net,
  parse,
  parsePacket,
  popVlan,
  popVlanBurst,
  pushVlan,
  pushVlanBurst,
  setChecksumsBurst,
  setIpv4Checksum,
  setL4Checksum,
  setVlanBurst,
  swapMacs,
  swapMacsBurst,
  unburst,
  type PacketPredicate,
} from '../src/index';
import { concat, ethernet, ipv4Header, udp } from '../test/operators/build';
import { writeSection } from './results-file';

const N = 2048;
const BURST = 32;
const TIME = Number(process.env.BENCH_MS ?? 400);

const udpFrame = (): Uint8Array => {
  const f = concat(
    ethernet(0x0800),
    ipv4Header(
      { src: Uint8Array.of(10, 0, 0, 2), dst: Uint8Array.of(10, 0, 0, 1), protocol: 17 },
      30,
    ),
    udp(1024, 9, new Uint8Array(22)),
  );
  return setL4Checksum(setIpv4Checksum(f));
};

/** N frames back to back in one slab (the layout of an rx burst), and their pristine bytes. */
const slab = (frame: Uint8Array) => {
  const data = new Uint8Array(N * frame.length);
  for (let i = 0; i < N; i++) data.set(frame, i * frame.length);
  const frames = Array.from({ length: N }, (_, i) =>
    data.subarray(i * frame.length, (i + 1) * frame.length),
  );
  const bursts: Burst[] = [];
  for (let b = 0; b < N / BURST; b++) {
    const offsets = Uint32Array.from({ length: BURST }, (_, i) => (b * BURST + i) * frame.length);
    const lengths = new Uint32Array(BURST).fill(frame.length);
    bursts.push(new Burst(0, BURST, data, offsets, lengths));
  }
  return { data, pristine: data.slice(), frames, bursts };
};

const plain = slab(udpFrame());
const tagged = slab(pushVlan(udpFrame(), 100));

interface Row {
  name: string;
  path: 'packet' | 'burst';
  input: ReturnType<typeof slab>;
  /** Whether the bytes must be restored before each run (the operator rewrites them). */
  restore?: boolean;
}

let sink = 0;
/**
 * CPU time of this process (ms), not wall time: the machine's vCPUs are shared and oversubscribed,
 * so a sample's wall time counts the time other processes ran; CPU time counts ours only.
 */
const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const bench = new Bench({ time: TIME, warmupTime: 100, now: cpuNow });
const rows: Row[] = [];

const perPacket = (
  name: string,
  op: OperatorFunction<Uint8Array, unknown>,
  input = plain,
  restore = false,
): void => {
  const s = new Subject<Uint8Array>();
  s.pipe(op).subscribe(() => sink++);
  const frames = input.frames;
  rows.push({ name, path: 'packet', input, restore });
  bench.add(
    name,
    () => {
      for (let i = 0; i < N; i++) s.next(frames[i]);
    },
    restore ? { beforeEach: () => input.data.set(input.pristine) } : {},
  );
};

const perBurst = (
  name: string,
  op: OperatorFunction<Burst, unknown>,
  input = plain,
  restore = false,
): void => {
  const s = new Subject<Burst>();
  s.pipe(op).subscribe(() => sink++);
  const bursts = input.bursts;
  rows.push({ name, path: 'burst', input, restore });
  bench.add(
    name + ' ',
    () => {
      for (let i = 0; i < bursts.length; i++) s.next(bursts[i]);
    },
    restore ? { beforeEach: () => input.data.set(input.pristine) } : {},
  );
};

const same =
  <T>(): OperatorFunction<T, T> =>
  (x) =>
    x;
const udp9: PacketPredicate = and(ipProto('udp'), dstPort(9), net('10.0.0.0/8'));
const handWritten: PacketPredicate = (p) => p.transport?.kind === 'udp';

perPacket('floor: Subject → subscriber', same());
perPacket(
  'map(parsePacket) (eager, the old parse)',
  map((f: Uint8Array) => parsePacket(f)),
);
perPacket('parse()', parse());
{
  const s = new Subject<Uint8Array>();
  s.pipe(parse()).subscribe((p) => {
    if (p.transport?.kind === 'udp') sink += p.transport.dstPort;
  });
  rows.push({ name: 'parse(), reading transport.dstPort', path: 'packet', input: plain });
  bench.add('parse(), reading transport.dstPort', () => {
    for (let i = 0; i < N; i++) s.next(plain.frames[i]);
  });
}
perPacket("filterPackets(ipProto('udp'))", filterPackets(ipProto('udp')));
perPacket('filterPackets(and(udp, dstPort, net))', filterPackets(udp9));
perPacket('filterPackets(hand-written predicate)', filterPackets(handWritten));
perPacket('map(swapMacs)', map(swapMacs));
perPacket('decrementTtlOrDrop()', decrementTtlOrDrop(), plain, true);
perPacket(
  'map(pushVlan)',
  map((f: Uint8Array) => pushVlan(f, 100)),
);
perPacket('map(popVlan)', map(popVlan), tagged, true);
perPacket(
  'icmpResponder (not for it)',
  icmpResponder({ ip: '10.9.9.9', mac: '02:00:00:00:00:09' }),
);

perBurst('floor: Subject → subscriber', same());
perBurst('unburst()', unburst());
perBurst("filterBurst(ipProto('udp'))", filterBurst(ipProto('udp')));
perBurst('filterBurst(and(udp, dstPort, net))', filterBurst(udp9));
perBurst("filterBurst(ipProto('tcp')) (drops all)", filterBurst(ipProto('tcp')));
perBurst('filterBurst(hand-written predicate)', filterBurst(handWritten));
perBurst('swapMacsBurst()', swapMacsBurst());
perBurst('decrementTtlBurst()', decrementTtlBurst(), plain, true);
perBurst('pushVlanBurst(100)', pushVlanBurst(100));
perBurst('popVlanBurst()', popVlanBurst(), tagged, true);
perBurst('setVlanBurst(200) (tagged: in place)', setVlanBurst(200), tagged, true);
perBurst('setChecksumsBurst()', setChecksumsBurst());

const main = async (): Promise<void> => {
  await bench.warmup();
  await bench.run();
  const ns = (t: Task, key: 'mean' | 'min'): string =>
    t.result ? ((t.result[key] * 1e6) / N).toFixed(1) : 'error';
  const lines = [
    `Operators, ns per packet (64-byte UDP frames, ${N} per sample, bursts of ${BURST}, ` +
      `tinybench ${TIME} ms per task, process CPU time, CPU 0, Node ${process.versions.node}, ${new Date().toISOString().slice(0, 10)}).`,
    'The floor rows are RxJS alone; mean over samples, and the best sample (min).',
    '',
    '| path | operator | ns/packet (mean) | ns/packet (min) |',
    '|---|---|---|---|',
  ];
  bench.tasks.forEach((t, i) => {
    const r = rows[i];
    lines.push(`| ${r.path} | \`${r.name}\` | ${ns(t, 'mean')} | ${ns(t, 'min')} |`);
  });
  console.log(lines.join('\n'));
  if (process.env.BENCH_NO_WRITE === undefined) writeSection('operators', lines);
  if (sink < 0) console.log(sink);
};

void main();
