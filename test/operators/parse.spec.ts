import { expect } from 'chai';
import fc from 'fast-check';
import { TestScheduler } from 'rxjs/testing';
import {
  formatIp,
  formatMac,
  MalformedCounter,
  parse,
  parsePacket,
  type MalformedPacket,
  type ParsedPacket,
  type ParseResult,
} from '../../src/streams/operators';
import {
  ARP_REQUEST,
  FRAGMENT_1,
  FRAGMENT_2,
  hex,
  ICMP6_ECHO,
  ICMP_ECHO,
  ipOnly,
  QINQ_IPV6_UDP,
  TCP_OPTIONS,
  VLAN_UDP,
} from './golden';

const ok = (r: ParseResult): ParsedPacket => {
  if (r.kind !== 'packet') throw new Error(`malformed: ${r.reason}`);
  return r;
};

const reason = (r: ParseResult): string => (r.kind === 'malformed' ? r.reason : 'parsed');

describe('operators: parsePacket', () => {
  it('parses an ARP request', () => {
    const p = ok(parsePacket(ARP_REQUEST));
    expect(p.ethernet).to.include({ etherType: 0x0806, payloadOffset: 14 });
    expect(formatMac(p.ethernet!.dst)).to.equal('ff:ff:ff:ff:ff:ff');
    const arp = p.network;
    if (arp?.kind !== 'arp') throw new Error('not arp');
    expect(arp).to.include({ htype: 1, ptype: 0x0800, hlen: 6, plen: 4, op: 1 });
    expect(formatMac(arp.sha)).to.equal('02:00:00:00:00:02');
    expect([formatIp(arp.spa), formatIp(arp.tpa)]).to.deep.equal(['10.0.0.2', '10.0.0.1']);
    expect(p.transport).to.equal(undefined);
  });

  it('parses an ICMP echo request, fields and views', () => {
    const p = ok(parsePacket(ICMP_ECHO));
    const ip = p.network;
    if (ip?.kind !== 'ipv4') throw new Error('not ipv4');
    expect(ip).to.include({
      offset: 14,
      headerLength: 20,
      totalLength: 36,
      id: 0x1c46,
      dontFragment: true,
      isFragment: false,
      ttl: 64,
      protocol: 1,
      checksum: 0x0a91,
      payloadOffset: 34,
      end: 50,
    });
    expect(formatIp(ip.src)).to.equal('10.0.0.2');
    expect(ip.src.buffer).to.equal(ICMP_ECHO.buffer); // a view, not a copy
    expect(p.transport).to.deep.include({
      kind: 'icmp',
      type: 8,
      code: 0,
      checksum: 0x5435,
      identifier: 0x1234,
      sequence: 1,
      payloadOffset: 42,
    });
  });

  it('parses an ICMPv6 echo request, in ethernet and ip mode', () => {
    for (const [frame, mode, l3] of [
      [ICMP6_ECHO, 'ethernet', 14],
      [ipOnly(ICMP6_ECHO), 'ip', 0],
    ] as const) {
      const p = ok(parsePacket(frame, mode));
      expect(p.ethernet === undefined).to.equal(mode === 'ip');
      const ip = p.network;
      if (ip?.kind !== 'ipv6') throw new Error('not ipv6');
      expect(ip).to.include({ offset: l3, hopLimit: 64, protocol: 58 });
      expect(formatIp(ip.dst)).to.equal('fd00::1');
      expect(p.transport).to.include({ kind: 'icmpv6', type: 128, checksum: 0xe1e5 });
    }
  });

  it('parses a VLAN-tagged UDP frame', () => {
    const p = ok(parsePacket(VLAN_UDP));
    expect(p.ethernet!.tags).to.deep.equal([
      { offset: 12, tpid: 0x8100, pcp: 3, dei: false, vid: 100 },
    ]);
    expect(p.ethernet).to.include({ etherType: 0x0800, payloadOffset: 18 });
    expect(p.transport).to.include({
      kind: 'udp',
      srcPort: 5353,
      dstPort: 53,
      length: 13,
      checksum: 0x92e1,
      payloadOffset: 46,
    });
  });

  it('walks QinQ and IPv6 extension headers to UDP', () => {
    const p = ok(parsePacket(QINQ_IPV6_UDP));
    expect(p.ethernet!.tags.map((t) => [t.tpid, t.vid])).to.deep.equal([
      [0x88a8, 10],
      [0x8100, 20],
    ]);
    const ip = p.network;
    if (ip?.kind !== 'ipv6') throw new Error('not ipv6');
    expect(ip.extensions.map((e) => [e.type, e.length])).to.deep.equal([
      [0, 8],
      [60, 8],
      [44, 8],
    ]);
    expect(ip).to.include({ nextHeader: 0, protocol: 17, isFragment: false, fragmentId: 7 });
    expect(p.transport).to.include({ kind: 'udp', srcPort: 4000, dstPort: 4789, length: 12 });
  });

  it('parses IPv4 options and TCP', () => {
    const p = ok(parsePacket(TCP_OPTIONS));
    const ip = p.network;
    if (ip?.kind !== 'ipv4') throw new Error('not ipv4');
    expect([...ip.options]).to.deep.equal([1, 1, 1, 0]);
    expect(p.transport).to.include({
      kind: 'tcp',
      srcPort: 40000,
      dstPort: 80,
      seq: 1,
      headerLength: 20,
      flags: 0x02,
    });
  });

  it('flags fragments: the first keeps its UDP header, the next has none', () => {
    const first = ok(parsePacket(FRAGMENT_1));
    expect(first.network).to.include({ isFragment: true, moreFragments: true, fragmentOffset: 0 });
    expect(first.transport).to.include({ kind: 'udp', length: 24, dstPort: 2000 });
    const second = ok(parsePacket(FRAGMENT_2));
    expect(second.network).to.include({
      isFragment: true,
      moreFragments: false,
      fragmentOffset: 16,
    });
    expect(second.transport).to.equal(undefined);
  });

  it('ignores Ethernet padding after the IP total length', () => {
    const padded = new Uint8Array(64);
    padded.set(ICMP_ECHO);
    expect(ok(parsePacket(padded)).transport).to.include({ end: 50 });
  });

  it('reports truncated and inconsistent frames, never throwing', () => {
    const cases: [Uint8Array, string][] = [
      [ICMP_ECHO.subarray(0, 13), 'truncated-ethernet'],
      [VLAN_UDP.subarray(0, 17), 'truncated-vlan'],
      [ARP_REQUEST.subarray(0, 41), 'truncated-arp'],
      [ICMP_ECHO.subarray(0, 33), 'truncated-ipv4'],
      [ICMP_ECHO.subarray(0, 49), 'truncated-ipv4'], // total length 36 > 35 left
      [ICMP6_ECHO.subarray(0, 69), 'truncated-ipv6'],
      [QINQ_IPV6_UDP.subarray(0, 70), 'truncated-ipv6'],
      [new Uint8Array(0), 'truncated-ethernet'],
    ];
    for (const [frame, why] of cases) expect(reason(parsePacket(frame)), why).to.equal(why);
    const mutate = (frame: Uint8Array, at: number, v: number): Uint8Array => {
      const f = frame.slice();
      f[at] = v;
      return f;
    };
    expect(reason(parsePacket(mutate(ICMP_ECHO, 14, 0x55)))).to.equal('bad-ip-version');
    expect(reason(parsePacket(mutate(ICMP_ECHO, 14, 0x44)))).to.equal('bad-ipv4-header-length');
    expect(reason(parsePacket(mutate(ICMP_ECHO, 17, 0x10)))).to.equal('bad-ipv4-total-length');
    expect(reason(parsePacket(mutate(VLAN_UDP, 42, 0xff)))).to.equal('truncated-udp');
    expect(reason(parsePacket(mutate(VLAN_UDP, 43, 0x07)))).to.equal('bad-udp-length');
    expect(reason(parsePacket(mutate(TCP_OPTIONS, 50, 0x40)))).to.equal('bad-tcp-header-length');
    expect(reason(parsePacket(mutate(QINQ_IPV6_UDP, 63, 0x05)))).to.equal(
      'truncated-ipv6-extension',
    );
    expect(reason(parsePacket(mutate(QINQ_IPV6_UDP, 62, 0x00)))).to.equal('misplaced-hop-by-hop');
    expect(reason(parsePacket(hex('45'), 'ip'))).to.equal('truncated-ipv4');
    expect(reason(parsePacket(hex('7f'), 'ip'))).to.equal('bad-ip-version');
    expect(reason(parsePacket(new Uint8Array(0), 'ip'))).to.equal('empty-ip');
    const shortIcmp = ipOnly(ICMP_ECHO).slice(0, 26);
    shortIcmp[3] = 26;
    expect(reason(parsePacket(shortIcmp, 'ip'))).to.equal('truncated-icmp');
  });

  it('leaves the network layer out for other EtherTypes', () => {
    const lldp = hex('0180c200000e 020000000002 88cc 0000');
    expect(ok(parsePacket(lldp))).to.deep.include({ network: undefined, transport: undefined });
  });

  it('never throws on arbitrary bytes (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 160 }), fc.constantFrom('ethernet', 'ip'), (b, m) => {
        const r = parsePacket(b, m as 'ethernet' | 'ip');
        return r.kind === 'packet' || r.kind === 'malformed';
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on frames with plausible headers and random rest (fast-check)', () => {
    const heads = [ICMP_ECHO, VLAN_UDP, ICMP6_ECHO, QINQ_IPV6_UDP, TCP_OPTIONS, ARP_REQUEST];
    fc.assert(
      fc.property(
        fc.constantFrom(...heads),
        fc.nat(100),
        fc.uint8Array({ maxLength: 120 }),
        fc.array(fc.tuple(fc.nat(100), fc.nat(255)), { maxLength: 4 }),
        (head, cut, tail, flips) => {
          const f = new Uint8Array(Math.min(cut, head.length) + tail.length);
          f.set(head.subarray(0, Math.min(cut, head.length)));
          f.set(tail, Math.min(cut, head.length));
          for (const [at, v] of flips) if (at < f.length) f[at] = v;
          const r = parsePacket(f);
          if (r.kind === 'packet' && r.transport) expect(r.transport.end).to.be.at.most(f.length);
          return true;
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('operators: parse()', () => {
  const testScheduler = (): TestScheduler =>
    new TestScheduler((a, e) => {
      expect(a).to.deep.equal(e);
    });
  const bad = ICMP_ECHO.subarray(0, 20);

  it('emits the parsed packets and drops malformed ones', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold('-a-b-c|', { a: ICMP_ECHO, b: bad, c: VLAN_UDP });
      expectObservable(src.pipe(parse())).toBe('-a---c|', {
        a: parsePacket(ICMP_ECHO),
        c: parsePacket(VLAN_UDP),
      });
    });
  });

  it('routes malformed frames to onMalformed (callback or counter)', () => {
    const seen: MalformedPacket[] = [];
    const counter = new MalformedCounter();
    testScheduler().run(({ hot, expectObservable }) => {
      const src = hot('-a-b-b-c-#', { a: ipOnly(ICMP_ECHO), b: hex('60'), c: hex('45') });
      expectObservable(src.pipe(parse({ mode: 'ip', onMalformed: (m) => seen.push(m) }))).toBe(
        '-a-------#',
        { a: parsePacket(ipOnly(ICMP_ECHO), 'ip') },
      );
      expectObservable(src.pipe(parse({ mode: 'ip', onMalformed: counter }))).toBe('-a-------#', {
        a: parsePacket(ipOnly(ICMP_ECHO), 'ip'),
      });
    });
    expect(seen.map((m) => m.reason)).to.deep.equal([
      'truncated-ipv6',
      'truncated-ipv6',
      'truncated-ipv4',
    ]);
    expect(counter.total).to.equal(3);
    expect(counter.byReason).to.deep.equal({ 'truncated-ipv6': 2, 'truncated-ipv4': 1 });
  });

  it('errors the stream if onMalformed throws', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const boom = new Error('boom');
      const src = cold('-a-b-c|', { a: ICMP_ECHO, b: bad, c: VLAN_UDP });
      const op = parse({
        onMalformed: () => {
          throw boom;
        },
      });
      expectObservable(src.pipe(op)).toBe('-a-#', { a: parsePacket(ICMP_ECHO) }, boom);
    });
  });
});
