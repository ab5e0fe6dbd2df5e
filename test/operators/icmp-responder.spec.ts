import { expect } from 'chai';
import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  icmpReplier,
  icmpResponder,
  parsePacket,
  pushVlan,
  setIpv4Checksum,
  setL4Checksum,
  verifyIpv4Checksum,
  verifyL4Checksum,
  type ParsedPacket,
} from '../../src/streams/operators';
import {
  ARP_REPLY,
  ARP_REQUEST,
  hex,
  ICMP6_ECHO,
  ICMP6_ECHO_REPLY,
  ICMP_ECHO,
  ICMP_ECHO_REPLY,
  ipOnly,
  MAC_A,
  NEIGHBOR_ADVERTISEMENT,
  NEIGHBOR_SOLICITATION,
  VLAN_UDP,
} from './golden';

const A = { ip: ['10.0.0.1', 'fd00::1'], mac: MAC_A };
const reply = icmpReplier(A);
const edit = (frame: Uint8Array, at: number, v: number, fix = true): Uint8Array => {
  const f = frame.slice();
  f[at] = v;
  return fix ? setL4Checksum(setIpv4Checksum(f)) : f;
};

describe('operators: icmpReplier', () => {
  it('answers an ARP request for its address', () => {
    expect(reply(ARP_REQUEST)).to.deep.equal(ARP_REPLY);
  });

  it('answers an ICMP echo request with the golden reply (both checksums right)', () => {
    const r = reply(ICMP_ECHO)!;
    expect(r).to.deep.equal(ICMP_ECHO_REPLY);
    expect([verifyIpv4Checksum(r), verifyL4Checksum(r)]).to.deep.equal([true, true]);
    expect(ICMP_ECHO[34]).to.equal(8); // the request is untouched
  });

  it('answers an ICMPv6 echo request', () => {
    expect(reply(ICMP6_ECHO)).to.deep.equal(ICMP6_ECHO_REPLY);
  });

  it('answers a neighbor solicitation with a neighbor advertisement', () => {
    const na = reply(NEIGHBOR_SOLICITATION)!;
    expect(na).to.deep.equal(NEIGHBOR_ADVERTISEMENT);
    expect(verifyL4Checksum(na)).to.equal(true);
  });

  it('answers a DAD probe (unspecified source) to all-nodes, not solicited', () => {
    const ns = NEIGHBOR_SOLICITATION.slice(0, 78); // without the source link-layer option
    ns.fill(0, 22, 38);
    ns[19] = 24;
    const na = reply(setL4Checksum(ns))!;
    const p = parsePacket(na) as ParsedPacket;
    expect([...na.subarray(0, 6)]).to.deep.equal([0x33, 0x33, 0, 0, 0, 1]);
    expect(p.network).to.deep.include({ hopLimit: 255 });
    expect(Buffer.from(na.subarray(38, 54)).toString('hex')).to.equal(
      'ff020000000000000000000000000001',
    );
    expect(na[58]).to.equal(0x20); // override only
    expect(verifyL4Checksum(na)).to.equal(true);
  });

  it('keeps VLAN tags and answers in ip mode', () => {
    const tagged = reply(pushVlan(ICMP_ECHO, 300))!;
    expect(tagged).to.deep.equal(pushVlan(ICMP_ECHO_REPLY, 300));
    expect(reply(pushVlan(ARP_REQUEST, 300))).to.deep.equal(pushVlan(ARP_REPLY, 300));
    const ip = icmpReplier({ ip: ['10.0.0.0/24', 'fd00::/64'], mode: 'ip' });
    expect(ip(ipOnly(ICMP_ECHO))).to.deep.equal(ipOnly(ICMP_ECHO_REPLY));
    expect(ip(ipOnly(ICMP6_ECHO))).to.deep.equal(ipOnly(ICMP6_ECHO_REPLY));
    expect(ip(ipOnly(NEIGHBOR_SOLICITATION))).to.equal(undefined);
  });

  it('answers for every address of a CIDR', () => {
    const range = icmpReplier({ ip: '10.0.0.0/30', mac: MAC_A });
    expect(range(ICMP_ECHO)).to.deep.equal(ICMP_ECHO_REPLY);
    expect(icmpReplier({ ip: '10.0.0.4/30', mac: MAC_A })(ICMP_ECHO)).to.equal(undefined);
  });

  it('leaves alone what is not for it or not valid', () => {
    const cases: [string, Uint8Array][] = [
      ['udp', VLAN_UDP],
      ['other address', edit(ICMP_ECHO, 33, 9)],
      ['other v6 address', edit(ICMP6_ECHO, 53, 9)],
      ['other MAC (unicast)', edit(ICMP_ECHO, 5, 9)],
      ['bad ICMP checksum', edit(ICMP_ECHO, 45, 0, false)],
      ['bad ICMPv6 checksum', edit(ICMP6_ECHO, 65, 0, false)],
      ['echo reply', ICMP_ECHO_REPLY],
      ['fragment', edit(ICMP_ECHO, 20, 0x60)],
      ['ARP reply', ARP_REPLY],
      ['ARP for another host', edit(ARP_REQUEST, 41, 9)],
      ['gratuitous ARP', edit(ARP_REQUEST, 31, 1)],
      ['NS hop limit 64', edit(NEIGHBOR_SOLICITATION, 21, 64)],
      ['NS for another target', edit(NEIGHBOR_SOLICITATION, 77, 9)],
      ['truncated', ICMP_ECHO.subarray(0, 40)],
      ['empty', hex('')],
    ];
    for (const [what, frame] of cases) expect(reply(frame), what).to.equal(undefined);
  });

  it('checks its options at once', () => {
    expect(() => icmpReplier({ ip: '10.0.0.1' })).to.throw(TypeError, /mac/);
    expect(() => icmpReplier({ ip: '10.0.0.300', mac: MAC_A })).to.throw(TypeError);
    expect(() => icmpReplier({ ip: '10.0.0.1', mac: 'nope' })).to.throw(TypeError);
  });
});

describe('operators: icmpResponder()', () => {
  const testScheduler = (): TestScheduler =>
    new TestScheduler((a, e) => {
      expect(a).to.deep.equal(e);
    });

  it('emits the replies only', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold('a-b-c-d-e|', {
        a: ARP_REQUEST,
        b: VLAN_UDP,
        c: ICMP_ECHO,
        d: ICMP6_ECHO,
        e: NEIGHBOR_SOLICITATION,
      });
      expectObservable(src.pipe(icmpResponder(A))).toBe('a---c-d-e|', {
        a: ARP_REPLY,
        c: ICMP_ECHO_REPLY,
        d: ICMP6_ECHO_REPLY,
        e: NEIGHBOR_ADVERTISEMENT,
      });
    });
  });

  it('hands the other frames to passThrough (Subject or callback); errors stay on the stream', () => {
    const passed = new Subject<Uint8Array>();
    const got: Uint8Array[] = [];
    passed.subscribe((f) => got.push(f));
    testScheduler().run(({ hot, expectObservable }) => {
      const src = hot('-a-b-c-#', { a: VLAN_UDP, b: ICMP_ECHO, c: ICMP_ECHO_REPLY });
      expectObservable(src.pipe(icmpResponder({ ...A, passThrough: passed }))).toBe('---b---#', {
        b: ICMP_ECHO_REPLY,
      });
    });
    expect(got).to.deep.equal([VLAN_UDP, ICMP_ECHO_REPLY]);
    passed.next(ARP_REPLY); // neither completed nor errored by the stream's error
    expect(got).to.have.length(3);
  });
});
