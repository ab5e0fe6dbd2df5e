import { expect } from 'chai';
import fc from 'fast-check';
import { of, Subject, type OperatorFunction } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { Burst } from '../../src/streams/burst';
import {
  and,
  decrementTtl,
  decrementTtlBurst,
  etherType,
  filterBurst,
  filterPackets,
  ipProto,
  MalformedCounter,
  net,
  not,
  or,
  popVlan,
  popVlanBurst,
  port,
  pushVlan,
  pushVlanBurst,
  setChecksumsBurst,
  setIpv4Checksum,
  setL4Checksum,
  setVlan,
  setVlanBurst,
  swapMacs,
  swapMacsBurst,
  vlan,
  type LinkMode,
  type MalformedPacket,
  type PacketPredicate,
} from '../../src/streams/operators';
import { burstOf } from './build';
import { randomFrame } from './frames';
import { ARP_REQUEST, ICMP_ECHO, QINQ_IPV6_UDP, VLAN_UDP } from './golden';

const bytes = (b: Burst): number[][] => [...b].map((p) => [...p]);

/** The bursts an operator emits for one input burst (synchronously). */
const run = (b: Burst, op: OperatorFunction<Burst, Burst>): Burst[] => {
  const out: Burst[] = [];
  of(b)
    .pipe(op)
    .subscribe((x) => out.push(x));
  return out;
};

/** A burst of the frames, each at a random gap from the last (packets need not be adjacent). */
const burstWithGaps = (frames: Uint8Array[], gaps: number[]): Burst => {
  const offsets = new Uint32Array(frames.length);
  let at = 0;
  frames.forEach((f, i) => {
    at += gaps[i % gaps.length] ?? 0;
    offsets[i] = at;
    at += f.length;
  });
  const data = new Uint8Array(at + 8).fill(0xee);
  frames.forEach((f, i) => data.set(f, offsets[i]));
  return new Burst(
    3,
    frames.length,
    data,
    offsets,
    Uint32Array.from(frames, (f) => f.length),
  );
};

const burstArb = fc.tuple(
  fc.array(randomFrame(), { maxLength: 12 }),
  fc.array(fc.nat(6), { minLength: 1, maxLength: 4 }),
  fc.constantFrom<LinkMode>('ethernet', 'ip'),
);

const PREDICATES: PacketPredicate[] = [
  ipProto('udp'),
  and(ipProto('udp'), port(53)),
  or(etherType('arp'), vlan(10), net('fd00::/8')),
  not(etherType('ipv4')),
  (p) => p.transport?.kind === 'tcp', // hand-written: through the parse
];

describe('operators: burst operators agree with the per-packet ones', () => {
  it('filterBurst keeps what filterPackets keeps, and counts the same malformed and dropped (fast-check)', () => {
    fc.assert(
      fc.property(burstArb, fc.constantFrom(...PREDICATES), ([fs, gaps, mode], pred) => {
        const frames = fs.map((f) => f.frame);
        const b = burstWithGaps(frames, gaps);
        const badA: MalformedPacket[] = [];
        const badB: MalformedPacket[] = [];
        const kept: number[][] = [];
        of(...frames)
          .pipe(filterPackets(pred, { mode, onMalformed: (m) => badA.push(m) }))
          .subscribe((f) => kept.push([...f]));
        const dropped: Uint8Array[] = [];
        const out = run(
          b,
          filterBurst(pred, {
            mode,
            onMalformed: (m) => badB.push(m),
            onDrop: (f) => dropped.push(f),
          }),
        );
        expect(out.flatMap(bytes)).to.deep.equal(kept);
        expect(out.length).to.equal(kept.length > 0 ? 1 : 0);
        if (out.length > 0) {
          expect(out[0].data).to.equal(b.data); // no copy
          expect(out[0].queue).to.equal(3);
          if (kept.length === frames.length) expect(out[0]).to.equal(b);
        }
        expect(badB.map((m) => [m.reason, m.offset, [...m.frame]])).to.deep.equal(
          badA.map((m) => [m.reason, m.offset, [...m.frame]]),
        );
        expect(dropped.length + kept.length + badB.length).to.equal(frames.length);
      }),
      { numRuns: 1500 },
    );
  });

  it('the rewrites give the bytes the per-packet rewrites give (fast-check)', () => {
    const cases: [
      string,
      OperatorFunction<Burst, Burst>,
      (f: Uint8Array, m: LinkMode) => Uint8Array | undefined,
    ][] = [
      ['swapMacs', swapMacsBurst(), (f) => swapMacs(f)],
      ['popVlan', popVlanBurst(), (f) => popVlan(f)],
      [
        'pushVlan',
        pushVlanBurst(7, { pcp: 5, tpid: 0x88a8 }),
        (f) => pushVlan(f, 7, { pcp: 5, tpid: 0x88a8 }),
      ],
      ['setVlan', setVlanBurst(300, { dei: true }), (f) => setVlan(f, 300, { dei: true })],
      ['setVlan keeps pcp', setVlanBurst(1), (f) => setVlan(f, 1)],
      ['setChecksums', setChecksumsBurst(), (f) => setL4Checksum(setIpv4Checksum(f))],
      [
        'setChecksums ip',
        setChecksumsBurst({ mode: 'ip' }),
        (f) => setL4Checksum(setIpv4Checksum(f, 'ip'), 'ip'),
      ],
      ['decrementTtl', decrementTtlBurst(), (f) => decrementTtl(f)],
      ['decrementTtl ip', decrementTtlBurst({ mode: 'ip' }), (f) => decrementTtl(f, 'ip')],
    ];
    fc.assert(
      fc.property(burstArb, fc.constantFrom(...cases), ([fs, gaps], [name, op, one]) => {
        const frames = fs.map((f) => f.frame);
        const b = burstWithGaps(frames, gaps);
        const want = frames
          .map((f) => one(f.slice(), 'ethernet'))
          .filter((f): f is Uint8Array => f !== undefined)
          .map((f) => [...f]);
        const out = run(b, op);
        expect(out.flatMap(bytes), name).to.deep.equal(want);
      }),
      { numRuns: 3000 },
    );
  });

  it('decrementTtlBurst drops to onDrop what decrementTtl refuses', () => {
    const dying = ICMP_ECHO.slice();
    dying[22] = 1;
    const dropped: number[][] = [];
    const b = burstOf([...ICMP_ECHO], [...dying], [...ARP_REQUEST], [...QINQ_IPV6_UDP]);
    const out = run(b, decrementTtlBurst({ onDrop: (f) => dropped.push([...f]) }));
    expect(dropped).to.deep.equal([[...dying], [...ARP_REQUEST]]);
    expect(out[0].count).to.equal(2);
    expect(out[0].data).to.equal(b.data);
  });

  it('emits nothing for a burst with nothing left, and keeps the input arrays untouched', () => {
    const b = burstOf([...ICMP_ECHO], [...VLAN_UDP]);
    const before = [[...b.offsets], [...b.lengths]];
    expect(run(b, filterBurst(ipProto('tcp')))).to.deep.equal([]);
    const bad = new MalformedCounter();
    const out = run(
      burstOf([1, 2, 3], [...VLAN_UDP]),
      filterBurst(ipProto('udp'), { onMalformed: bad }),
    );
    expect(out.map(bytes)).to.deep.equal([[[...VLAN_UDP]]]);
    expect(bad.byReason).to.deep.equal({ 'truncated-ethernet': 1 });
    run(b, filterBurst(ipProto('icmp')));
    run(b, popVlanBurst());
    expect([[...b.offsets], [...b.lengths]]).to.deep.equal(before);
  });

  it('burst results stay valid after the next burst (fresh index and data slices)', () => {
    const got: Burst[] = [];
    const src = [burstOf([...ICMP_ECHO], [...VLAN_UDP]), burstOf([...VLAN_UDP], [...ICMP_ECHO])];
    of(...src)
      .pipe(filterBurst(ipProto('udp')), pushVlanBurst(9))
      .subscribe((x) => got.push(x));
    expect(got.map(bytes)).to.deep.equal([
      [[...pushVlan(VLAN_UDP, 9)]],
      [[...pushVlan(VLAN_UDP, 9)]],
    ]);
  });

  it('marbles: passes errors and completion on; a throwing sink errors the stream', () => {
    const ts = new TestScheduler((a, e) => {
      expect(a).to.deep.equal(e);
    });
    const x = burstOf([...VLAN_UDP]);
    const y = burstOf([...ICMP_ECHO]);
    const boom = new Error('boom');
    ts.run(({ cold, expectObservable }) => {
      expectObservable(cold('xy#', { x, y }).pipe(filterBurst(ipProto('udp')))).toBe('x-#', { x });
      expectObservable(cold('xy|', { x, y }).pipe(swapMacsBurst(), filterBurst(vlan()))).toBe(
        'x-|',
        { x },
      );
      const op = filterBurst(ipProto('udp'), {
        onDrop: () => {
          throw boom;
        },
      });
      expectObservable(cold('xy|', { x, y }).pipe(op)).toBe('x#', { x }, boom);
    });
  });

  it('a sink that feeds the same operator again mid-burst gets index entries of its own', () => {
    const src = new Subject<Burst>();
    const inner = burstOf([...QINQ_IPV6_UDP], [...ICMP_ECHO], [...VLAN_UDP]);
    let fed = false;
    const got: Burst[] = [];
    src
      .pipe(
        filterBurst(ipProto('udp'), {
          onDrop: () => {
            if (!fed) {
              fed = true;
              src.next(inner);
            }
          },
        }),
      )
      .subscribe((b) => got.push(b)); // kept: their index must stay theirs
    src.next(burstOf([...VLAN_UDP], [...ICMP_ECHO], [...VLAN_UDP], [...ARP_REQUEST]));
    expect(got.map(bytes)).to.deep.equal([
      [[...QINQ_IPV6_UDP], [...VLAN_UDP]],
      [[...VLAN_UDP], [...VLAN_UDP]],
    ]);
  });

  it('a burst kept in part stays whole when a sink feeds a burst that fills the index slab', () => {
    // Each burst takes its index entries at its first drop; the nested one (5000 entries) does
    // not fit in what is left of the 8192-entry slab and gets a new one: the outer burst's kept
    // packets must stay in the slab it wrote them to.
    const src = new Subject<Burst>();
    const many = (n: number, udpAt: number) =>
      burstOf(
        ...Array.from({ length: n }, (_, i) => [...(i % 2 === udpAt ? VLAN_UDP : ICMP_ECHO)]),
      );
    let fed = false;
    const got: Burst[] = [];
    src
      .pipe(
        filterBurst(ipProto('udp'), {
          onDrop: () => {
            if (!fed) {
              fed = true;
              src.next(many(5000, 0));
            }
          },
        }),
      )
      .subscribe((b) => got.push(b));
    src.next(many(5000, 1));
    expect(got.map((b) => b.count)).to.deep.equal([2500, 2500]);
    for (const b of got) for (const p of b) expect([...p]).to.deep.equal([...VLAN_UDP]);
  });

  it('emits nothing for a burst whose memory is gone (zero-copy, interface closed)', () => {
    const gone = new Burst(0, 2, new Uint8Array(0), Uint32Array.of(0, 64), Uint32Array.of(64, 64));
    for (const op of [swapMacsBurst(), pushVlanBurst(1), filterBurst(ipProto('udp'))])
      expect(run(gone, op)).to.deep.equal([]);
  });

  it('rejects a bad VLAN id at once', () => {
    expect(() => pushVlanBurst(4096)).to.throw(RangeError);
    expect(() => setVlanBurst(-1)).to.throw(RangeError);
  });
});
