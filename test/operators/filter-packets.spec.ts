import { expect } from 'chai';
import { filter } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  and,
  dstNet,
  dstPort,
  etherType,
  filterPackets,
  ipProto,
  MalformedCounter,
  net,
  not,
  or,
  parse,
  parsePacket,
  port,
  srcNet,
  srcPort,
  vlan,
  type PacketPredicate,
  type ParsedPacket,
} from '../../src/streams/operators';
import {
  ARP_REQUEST,
  FRAGMENT_1,
  FRAGMENT_2,
  ICMP6_ECHO,
  ICMP_ECHO,
  ipOnly,
  QINQ_IPV6_UDP,
  TCP_OPTIONS,
  VLAN_UDP,
} from './golden';

const FRAMES = {
  arp: ARP_REQUEST,
  icmp: ICMP_ECHO,
  icmp6: ICMP6_ECHO,
  vlanUdp: VLAN_UDP,
  frag1: FRAGMENT_1,
  frag2: FRAGMENT_2,
  tcp: TCP_OPTIONS,
  qinq6: QINQ_IPV6_UDP,
};
type Name = keyof typeof FRAMES;

const matching = (pred: PacketPredicate): Name[] =>
  (Object.keys(FRAMES) as Name[]).filter((k) => pred(parsePacket(FRAMES[k]) as ParsedPacket));

describe('operators: packet predicates', () => {
  it('etherType matches after the tags, by number or name, and by version in ip mode', () => {
    expect(matching(etherType('ipv4'))).to.deep.equal(['icmp', 'vlanUdp', 'frag1', 'frag2', 'tcp']);
    expect(matching(etherType(0x86dd))).to.deep.equal(['icmp6', 'qinq6']);
    expect(matching(etherType('arp'))).to.deep.equal(['arp']);
    const ip6 = parsePacket(ipOnly(ICMP6_ECHO), 'ip') as ParsedPacket;
    expect([etherType('ipv6')(ip6), etherType('ipv4')(ip6)]).to.deep.equal([true, false]);
  });

  it('vlan matches any tag, or a given id at any level', () => {
    expect(matching(vlan())).to.deep.equal(['vlanUdp', 'qinq6']);
    expect(matching(vlan(100))).to.deep.equal(['vlanUdp']);
    expect(matching(vlan(20))).to.deep.equal(['qinq6']);
    expect(matching(vlan(10))).to.deep.equal(['qinq6']);
    expect(matching(vlan(99))).to.deep.equal([]);
  });

  it('ipProto matches the upper protocol past IPv6 extension headers, or an extension', () => {
    expect(matching(ipProto('udp'))).to.deep.equal(['vlanUdp', 'frag1', 'frag2', 'qinq6']);
    expect(matching(ipProto('icmp'))).to.deep.equal(['icmp']);
    expect(matching(ipProto(58))).to.deep.equal(['icmp6']);
    expect(matching(ipProto('tcp'))).to.deep.equal(['tcp']);
    expect(matching(ipProto(44))).to.deep.equal(['qinq6']);
  });

  it('net / srcNet / dstNet match v4 and v6 prefixes (and ARP addresses)', () => {
    expect(matching(net('10.0.0.0/24'))).to.deep.equal(
      Object.keys(FRAMES).filter((k) => !k.includes('6')),
    );
    expect(matching(srcNet('10.0.0.1'))).to.deep.equal([]);
    expect(matching(dstNet('10.0.0.1/32'))).to.deep.equal([
      'arp',
      'icmp',
      'vlanUdp',
      'frag1',
      'frag2',
      'tcp',
    ]);
    expect(matching(net('10.0.0.2/31'))).to.have.length(6);
    expect(matching(net('fd00::/8'))).to.deep.equal(['icmp6']);
    expect(matching(srcNet('2001:db8::/32'))).to.deep.equal(['qinq6']);
    expect(matching(dstNet('2001:db8::2'))).to.deep.equal([]);
    expect(matching(net('0.0.0.0/0'))).to.have.length(6);
    expect(() => net('10.0.0.0/33')).to.throw(TypeError);
    expect(() => net('fd00::1::2')).to.throw(TypeError);
  });

  it('port / srcPort / dstPort match UDP and TCP (never a later fragment)', () => {
    expect(matching(port(53))).to.deep.equal(['vlanUdp']);
    expect(matching(port(5353))).to.deep.equal(['vlanUdp']);
    expect(matching(srcPort(53))).to.deep.equal([]);
    expect(matching(dstPort(2000))).to.deep.equal(['frag1']);
    expect(matching(dstPort(80))).to.deep.equal(['tcp']);
    expect(matching(srcPort(4000))).to.deep.equal(['qinq6']);
  });

  it('combines with and / or / not', () => {
    expect(matching(and(ipProto('udp'), port(53)))).to.deep.equal(['vlanUdp']);
    expect(matching(or(etherType('arp'), ipProto('tcp')))).to.deep.equal(['arp', 'tcp']);
    expect(matching(and(etherType('ipv4'), not(vlan())))).to.deep.equal([
      'icmp',
      'frag1',
      'frag2',
      'tcp',
    ]);
    expect(matching(and())).to.have.length(8);
    expect(matching(or())).to.deep.equal([]);
  });
});

describe('operators: filterPackets()', () => {
  const testScheduler = (): TestScheduler =>
    new TestScheduler((a, e) => {
      expect(a).to.deep.equal(e);
    });

  it('emits the matching frames themselves', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold('abcdef|', {
        a: ARP_REQUEST,
        b: VLAN_UDP,
        c: ICMP_ECHO,
        d: QINQ_IPV6_UDP,
        e: ICMP_ECHO.subarray(0, 30),
        f: FRAGMENT_2,
      });
      expectObservable(src.pipe(filterPackets(and(ipProto('udp'), port(53))))).toBe('-b----|', {
        b: VLAN_UDP,
      });
      expectObservable(src.pipe(filterPackets(ipProto('udp')))).toBe('-b-d-f|', {
        b: VLAN_UDP,
        d: QINQ_IPV6_UDP,
        f: FRAGMENT_2,
      });
    });
  });

  it('sends malformed frames to onMalformed and works in ip mode', () => {
    const counter = new MalformedCounter();
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold('a-b-c|', {
        a: ipOnly(ICMP6_ECHO),
        b: ipOnly(ICMP_ECHO).subarray(0, 10),
        c: ipOnly(ICMP_ECHO),
      });
      const op = filterPackets(etherType('ipv4'), { mode: 'ip', onMalformed: counter });
      expectObservable(src.pipe(op)).toBe('----c|', { c: ipOnly(ICMP_ECHO) });
    });
    expect(counter.byReason).to.deep.equal({ 'truncated-ipv4': 1 });
  });

  it('predicates work with rxjs filter on parsed packets', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold('ab|', { a: ICMP_ECHO, b: ICMP6_ECHO });
      expectObservable(src.pipe(parse(), filter(ipProto('icmpv6')))).toBe('-b|', {
        b: parsePacket(ICMP6_ECHO),
      });
    });
  });
});
