/**
 * The rows of `npm run bench:operators` (bench/operators.ts): each packet operator through the
 * public API, on the per-packet path (a `Subject<Uint8Array>` piped through the operator, one
 * `next` per frame) and on the burst path (a `Subject<Burst>`, bursts of 32). The frames are
 * 64-byte Ethernet/IPv4/UDP frames, as testpmd txonly sends; a sample pushes N of them.
 */
import { Subject, map, type OperatorFunction } from 'rxjs';
import {
  and,
  Burst,
  decrementTtlBurst,
  decrementTtlOrDrop,
  dstPort,
  filterBurst,
  filterPackets,
  icmpResponder,
  icmpResponderBurst,
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

/** Frames per sample. */
export const N = 2048;
/** Frames per burst on the burst path. */
export const BURST = 32;

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

interface Input {
  readonly data: Uint8Array;
  /** The bytes before any sample, for the rows that rewrite them. */
  readonly pristine: Uint8Array;
  readonly frames: readonly Uint8Array[];
  readonly bursts: readonly Burst[];
}

/** N frames back to back in one slab (the layout of an rx burst). */
const slab = (frame: Uint8Array): Input => {
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

let inputs: { plain: Input; tagged: Input } | undefined;
const input = (which: 'plain' | 'tagged'): Input => {
  inputs ??= { plain: slab(udpFrame()), tagged: slab(pushVlan(udpFrame(), 100)) };
  return inputs[which];
};

/** What the subscribers count, read at the end so that no work can be optimised away. */
export const sink = { n: 0 };

/** A sample, and what must run before each (restoring bytes that the operator rewrites). */
export interface Sample {
  readonly run: () => void;
  readonly beforeEach?: () => void;
}

export interface OperatorRow {
  readonly name: string;
  readonly path: 'packet' | 'burst';
  /** Builds the pipeline (nothing is made before a row is chosen). */
  readonly setup: () => Sample;
}

/** A row that pushes each of `items(input)` through `op`, one `next` each. */
const pipelineRow =
  <T>(path: OperatorRow['path'], items: (i: Input) => readonly T[]) =>
  (
    name: string,
    op: () => OperatorFunction<T, unknown>,
    which: 'plain' | 'tagged' = 'plain',
    restore = false,
  ): OperatorRow => ({
    name,
    path,
    setup: () => {
      const i = input(which);
      const s = new Subject<T>();
      s.pipe(op()).subscribe(() => sink.n++);
      const xs = items(i);
      return {
        run: () => {
          for (let k = 0; k < xs.length; k++) s.next(xs[k]);
        },
        ...(restore ? { beforeEach: () => i.data.set(i.pristine) } : {}),
      };
    },
  });

/** One frame per `next` (a `Subject<Uint8Array>`). */
const perPacket = pipelineRow<Uint8Array>('packet', (i) => i.frames);
/** One burst of {@link BURST} frames per `next` (a `Subject<Burst>`). */
const perBurst = pipelineRow<Burst>('burst', (i) => i.bursts);

const same =
  <T>(): OperatorFunction<T, T> =>
  (x) =>
    x;
const udp9 = (): PacketPredicate => and(ipProto('udp'), dstPort(9), net('10.0.0.0/8'));
const handWritten: PacketPredicate = (p) => p.transport?.kind === 'udp';
const responder = { ip: '10.9.9.9', mac: '02:00:00:00:00:09' };

export const rows: readonly OperatorRow[] = [
  perPacket('floor: Subject → subscriber', same),
  perPacket('map(parsePacket) (eager, the old parse)', () =>
    map((f: Uint8Array) => parsePacket(f)),
  ),
  perPacket('parse()', parse),
  {
    name: 'parse(), reading transport.dstPort',
    path: 'packet',
    setup: () => {
      const frames = input('plain').frames;
      const s = new Subject<Uint8Array>();
      s.pipe(parse()).subscribe((p) => {
        if (p.transport?.kind === 'udp') sink.n += p.transport.dstPort;
      });
      return {
        run: () => {
          for (let k = 0; k < N; k++) s.next(frames[k]);
        },
      };
    },
  },
  perPacket("filterPackets(ipProto('udp'))", () => filterPackets(ipProto('udp'))),
  perPacket('filterPackets(and(udp, dstPort, net))', () => filterPackets(udp9())),
  perPacket('filterPackets(hand-written predicate)', () => filterPackets(handWritten)),
  perPacket('map(swapMacs)', () => map(swapMacs)),
  perPacket('decrementTtlOrDrop()', decrementTtlOrDrop, 'plain', true),
  perPacket('map(pushVlan)', () => map((f: Uint8Array) => pushVlan(f, 100))),
  perPacket('map(popVlan)', () => map(popVlan), 'tagged', true),
  perPacket('map(setIpv4Checksum)', () => map((f: Uint8Array) => setIpv4Checksum(f))),
  perPacket('map(setL4Checksum)', () => map((f: Uint8Array) => setL4Checksum(f))),
  perPacket('icmpResponder (not for it)', () => icmpResponder(responder)),

  perBurst('floor: Subject → subscriber', same),
  perBurst('unburst()', unburst),
  perBurst("filterBurst(ipProto('udp'))", () => filterBurst(ipProto('udp'))),
  perBurst('filterBurst(and(udp, dstPort, net))', () => filterBurst(udp9())),
  perBurst("filterBurst(ipProto('tcp')) (drops all)", () => filterBurst(ipProto('tcp'))),
  perBurst('filterBurst(hand-written predicate)', () => filterBurst(handWritten)),
  perBurst('swapMacsBurst()', swapMacsBurst),
  perBurst('decrementTtlBurst()', decrementTtlBurst, 'plain', true),
  perBurst('pushVlanBurst(100)', () => pushVlanBurst(100)),
  perBurst('popVlanBurst()', popVlanBurst, 'tagged', true),
  perBurst('setVlanBurst(200) (tagged: in place)', () => setVlanBurst(200), 'tagged', true),
  perBurst('setChecksumsBurst()', setChecksumsBurst),
  perBurst('icmpResponderBurst (not for it: respond --echo-other)', () =>
    icmpResponderBurst({ ...responder, passThrough: () => sink.n++ }),
  ),
];
