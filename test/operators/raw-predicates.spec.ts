import { expect } from 'chai';
import fc from 'fast-check';
import { FrameScan, scanFrame } from '../../src/streams/operators/frame-scan';
import { LazyPacket } from '../../src/streams/operators/lazy-packet';
import {
  and,
  dstNet,
  dstPort,
  etherType,
  ipProto,
  net,
  not,
  or,
  parsePacket,
  port,
  srcNet,
  srcPort,
  vlan,
  type PacketPredicate,
} from '../../src/streams/operators';
import { randomFrame, TCP_PLAIN, UDP_64 } from './frames';
import { ICMP_ECHO, VLAN_UDP } from './golden';

const PREDICATES: [string, PacketPredicate][] = [
  ['etherType(ipv4)', etherType('ipv4')],
  ['etherType(ipv6)', etherType('ipv6')],
  ['etherType(arp)', etherType('arp')],
  ['etherType(0x88cc)', etherType(0x88cc)],
  ['vlan()', vlan()],
  ['vlan(100)', vlan(100)],
  ['vlan(10)', vlan(10)],
  ['vlan(20)', vlan(20)],
  ['ipProto(udp)', ipProto('udp')],
  ['ipProto(tcp)', ipProto('tcp')],
  ['ipProto(icmp)', ipProto('icmp')],
  ['ipProto(58)', ipProto(58)],
  ['ipProto(44)', ipProto(44)],
  ['ipProto(0)', ipProto(0)],
  ['ipProto(60)', ipProto(60)],
  ['net(10.0.0.0/24)', net('10.0.0.0/24')],
  ['srcNet(10.0.0.2)', srcNet('10.0.0.2')],
  ['dstNet(10.0.0.1/31)', dstNet('10.0.0.1/31')],
  ['net(10.0.0.0/9)', net('10.0.0.0/9')],
  ['net(0.0.0.0/0)', net('0.0.0.0/0')],
  ['net(fd00::/8)', net('fd00::/8')],
  ['srcNet(2001:db8::/32)', srcNet('2001:db8::/32')],
  ['dstNet(fd00::1)', dstNet('fd00::1')],
  ['net(::/0)', net('::/0')],
  ['port(53)', port(53)],
  ['srcPort(4000)', srcPort(4000)],
  ['dstPort(80)', dstPort(80)],
  ['and(udp, port 53)', and(ipProto('udp'), port(53))],
  [
    'and(ipv4, not vlan, net, tcp)',
    and(etherType('ipv4'), not(vlan()), net('10.0.0.0/8'), ipProto(6)),
  ],
  ['or(arp, tcp)', or(etherType('arp'), ipProto('tcp'))],
  ['or(vlan 10, port 80, icmp)', or(vlan(10), port(80), ipProto('icmp'))],
  ['and()', and()],
  ['or()', or()],
];

describe('operators: predicates on raw bytes', () => {
  it('the scan accepts exactly what parsePacket accepts, with the same reason and offset (fast-check)', () => {
    const s = new FrameScan();
    fc.assert(
      fc.property(randomFrame(), ({ frame, mode }) => {
        const p = parsePacket(frame, mode);
        const ok = scanFrame(frame, 0, frame.length, mode, s);
        expect(ok).to.equal(p.kind === 'packet');
        if (p.kind === 'malformed') {
          expect([s.reason, s.reasonOffset]).to.deep.equal([p.reason, p.offset]);
          return;
        }
        const n = p.network;
        const t = p.transport;
        const ip = n?.kind === 'ipv4' || n?.kind === 'ipv6' ? n : undefined;
        expect({
          tags: s.tags,
          l3: s.l3,
          l3Offset: s.l3 ? s.l3Offset : undefined,
          protocol: ip ? s.protocol : undefined,
          isFragment: s.isFragment,
          fragmentOffset: s.fragmentOffset,
          l4Offset: ip ? s.l4Offset : undefined,
          end: ip ? s.end : undefined,
          l4: s.l4,
        }).to.deep.equal({
          tags: p.ethernet?.tags.length ?? 0,
          l3: n === undefined ? 0 : { arp: 1, ipv4: 4, ipv6: 6 }[n.kind],
          l3Offset: n?.offset,
          protocol: ip?.protocol,
          isFragment: ip?.isFragment ?? false,
          fragmentOffset: ip?.fragmentOffset ?? 0,
          l4Offset: ip?.payloadOffset,
          end: ip?.end,
          l4:
            t === undefined
              ? 0
              : t.kind === 'other'
                ? 256
                : { udp: 17, tcp: 6, icmp: 1, icmpv6: 58 }[t.kind],
        });
      }),
      { numRuns: 5000 },
    );
  });

  it('the fast path for untagged IPv4 UDP / TCP agrees with parsePacket at each edge', () => {
    const edits: [string, number, number][] = [
      ['MF', 20, 0x20],
      ['MF and DF', 20, 0x60],
      ['offset', 21, 1],
      ['offset high bits', 20, 0x41],
      ['total 39', 17, 39],
      ['total over', 17, 51],
      ['total 255', 17, 255],
      ['udp length 7', 39, 7],
      ['udp length total-19', 39, 31],
      ['udp length total-20', 39, 30],
      ['ihl 6', 14, 0x46],
      ['version 5', 14, 0x55],
      ['protocol tcp', 23, 6],
      ['protocol icmp', 23, 1],
      ['etherType', 13, 1],
    ];
    const s = new FrameScan();
    const check = (f: Uint8Array, why: string): void => {
      const p = parsePacket(f);
      expect(scanFrame(f, 0, f.length, 'ethernet', s), why).to.equal(p.kind === 'packet');
      if (p.kind === 'malformed')
        expect([s.reason, s.reasonOffset], why).to.deep.equal([p.reason, p.offset]);
      else {
        const ip = p.network?.kind === 'ipv4' ? p.network : undefined;
        expect([s.isFragment, s.fragmentOffset, s.l4], why).to.deep.equal([
          ip?.isFragment ?? false,
          ip?.fragmentOffset ?? 0,
          p.transport === undefined ? 0 : p.transport.kind === 'other' ? 256 : s.protocol,
        ]);
      }
    };
    for (const base of [UDP_64, TCP_PLAIN])
      for (const cut of [0, 9, 10, 11, 12])
        for (const [name, at, v] of edits) {
          const f = base.slice(0, base.length - cut);
          f[at] = v;
          check(f, `${name}, cut ${cut}`);
          const g = f.slice();
          g[37 + (base === TCP_PLAIN ? 9 : 0)] = 0x40; // TCP data offset 4 / UDP length high byte
          check(g, `${name}, cut ${cut}, header byte`);
        }
  });

  it('scans a frame in place inside a larger array (a burst) as on its own', () => {
    const s = new FrameScan();
    const t = new FrameScan();
    fc.assert(
      fc.property(
        randomFrame(),
        fc.nat(40),
        fc.uint8Array({ minLength: 40, maxLength: 40 }),
        ({ frame, mode }, at, fill) => {
          const big = new Uint8Array(at + frame.length + 40);
          big.set(fill.subarray(0, at));
          big.set(frame, at);
          big.set(fill, at + frame.length);
          const a = scanFrame(frame, 0, frame.length, mode, s);
          const b = scanFrame(big, at, frame.length, mode, t);
          expect(b).to.equal(a);
          if (!a) {
            expect([t.reason, t.reasonOffset]).to.deep.equal([s.reason, s.reasonOffset]);
            return;
          }
          for (const [name, pred] of PREDICATES)
            expect(pred.onBytes!(big, t), name).to.equal(pred.onBytes!(frame, s));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('every built-in predicate gives on the bytes the answer it gives on the parse (fast-check)', () => {
    const s = new FrameScan();
    fc.assert(
      fc.property(randomFrame(), ({ frame, mode }) => {
        const p = parsePacket(frame, mode);
        if (p.kind !== 'packet') return;
        expect(scanFrame(frame, 0, frame.length, mode, s)).to.equal(true);
        const lazy = new LazyPacket(frame, mode, s);
        for (const [name, pred] of PREDICATES) {
          const want = pred(p);
          expect(pred.onBytes!(frame, s), name).to.equal(want);
          expect(pred(lazy), `${name} on a lazy packet`).to.equal(want);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('a LazyPacket reads the layers parsePacket gives, whichever is read first (fast-check)', () => {
    const s = new FrameScan();
    fc.assert(
      fc.property(randomFrame(), fc.nat(2), ({ frame, mode }, first) => {
        const p = parsePacket(frame, mode);
        if (p.kind !== 'packet') return;
        scanFrame(frame, 0, frame.length, mode, s);
        const lazy = new LazyPacket(frame, mode, s);
        const read = [() => lazy.transport, () => lazy.network, () => lazy.ethernet][first];
        read();
        expect(lazy).to.deep.equal(p);
        expect(lazy.transport).to.deep.equal(p.transport);
        const kept = lazy.copy();
        expect(kept).to.deep.equal(p);
        expect(kept.frame.buffer).to.not.equal(frame.buffer);
        expect(JSON.parse(JSON.stringify(lazy))).to.deep.equal(lazy.toJSON());
      }),
      { numRuns: 3000 },
    );
    const other = parsePacket(ICMP_ECHO);
    scanFrame(VLAN_UDP, 0, VLAN_UDP.length, 'ethernet', s);
    expect(new LazyPacket(VLAN_UDP, 'ethernet', s)).to.not.deep.equal(other); // the check can fail
    expect(new LazyPacket(VLAN_UDP, 'ethernet', s).toJSON()).to.deep.include({
      kind: 'packet',
      mode: 'ethernet',
      frame: [...VLAN_UDP],
    });
  });

  it('combinations with a hand-written predicate fall back to the parse', () => {
    const udp53: PacketPredicate = (p) => p.transport?.kind === 'udp' && p.transport.dstPort === 53;
    const both = and(etherType('ipv4'), udp53);
    expect(both.onBytes).to.equal(undefined);
    expect(not(udp53).onBytes).to.equal(undefined);
    expect(or(udp53).onBytes).to.equal(undefined);
    const s = new FrameScan();
    scanFrame(VLAN_UDP, 0, VLAN_UDP.length, 'ethernet', s);
    expect(both(parsePacket(VLAN_UDP) as never)).to.equal(true);
    expect(both(new LazyPacket(VLAN_UDP, 'ethernet', s))).to.equal(true);
    expect(both(parsePacket(ICMP_ECHO) as never)).to.equal(false);
  });
});
