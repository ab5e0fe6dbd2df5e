import { expect } from 'chai';
import fc from 'fast-check';
import {
  internetChecksum,
  ipv4Checksum,
  l4Checksum,
  onesComplementSum,
  parsePacket,
  setIpv4Checksum,
  setL4Checksum,
  updateChecksum,
  verifyIpv4Checksum,
  verifyL4Checksum,
  type ParsedPacket,
} from '../../src/streams/operators';
import { parseNetwork } from '../../src/streams/operators/parse-packet';
import { concat, ethernet, icmp, ipv4Header, ipv6Header, udp } from './build';
import { randomFrame } from './frames';
import {
  ARP_REQUEST,
  FRAGMENT_1,
  ICMP6_ECHO,
  ICMP_ECHO,
  ipOnly,
  NEIGHBOR_SOLICITATION,
  QINQ_IPV6_UDP,
  TCP_OPTIONS,
  TEXTBOOK_IPV4_HEADER,
  VLAN_UDP,
} from './golden';

const zeroAt = (frame: Uint8Array, at: number): Uint8Array => {
  const f = frame.slice();
  f[at] = 0;
  f[at + 1] = 0;
  return f;
};

describe('operators: checksums', () => {
  it('computes the RFC 1071 sum and the textbook IPv4 header checksum', () => {
    expect(internetChecksum(zeroAt(TEXTBOOK_IPV4_HEADER, 10))).to.equal(0xb861);
    expect(onesComplementSum(TEXTBOOK_IPV4_HEADER)).to.equal(0xffff);
    expect(internetChecksum(Uint8Array.of(0x01))).to.equal(0xfeff); // odd byte padded
    expect(ipv4Checksum(TEXTBOOK_IPV4_HEADER, 'ip')).to.equal(undefined); // total length 115 > 20
  });

  it('verifies the golden frames (ours agree with the independently computed values)', () => {
    for (const f of [ICMP_ECHO, VLAN_UDP, TCP_OPTIONS, FRAGMENT_1])
      expect(verifyIpv4Checksum(f)).to.equal(true);
    expect(ipv4Checksum(ICMP_ECHO)).to.equal(0x0a91);
    expect(l4Checksum(ICMP_ECHO)).to.equal(0x5435);
    expect(l4Checksum(ICMP6_ECHO)).to.equal(0xe1e5);
    expect(l4Checksum(VLAN_UDP)).to.equal(0x92e1);
    expect(l4Checksum(QINQ_IPV6_UDP)).to.equal(0x9119);
    expect(l4Checksum(NEIGHBOR_SOLICITATION)).to.equal(0x7d97);
    for (const f of [ICMP_ECHO, ICMP6_ECHO, VLAN_UDP, QINQ_IPV6_UDP, TCP_OPTIONS])
      expect(verifyL4Checksum(f)).to.equal(true);
    expect(verifyL4Checksum(ipOnly(ICMP6_ECHO), 'ip')).to.equal(true);
    expect(verifyL4Checksum(parsePacket(VLAN_UDP) as ParsedPacket)).to.equal(true);
  });

  it('says undefined where there is nothing to check', () => {
    expect(verifyIpv4Checksum(ICMP6_ECHO)).to.equal(undefined);
    expect(verifyIpv4Checksum(ARP_REQUEST)).to.equal(undefined);
    expect(verifyL4Checksum(ARP_REQUEST)).to.equal(undefined);
    expect(verifyL4Checksum(FRAGMENT_1)).to.equal(undefined);
    expect(l4Checksum(ICMP_ECHO.subarray(0, 20))).to.equal(undefined);
    expect(setL4Checksum(ARP_REQUEST)).to.equal(ARP_REQUEST);
  });

  it('detects a corrupted byte and repairs it with set*', () => {
    const f = ICMP_ECHO.slice();
    f[45] ^= 0x40; // payload
    f[22] = 63; // ttl
    expect([verifyIpv4Checksum(f), verifyL4Checksum(f)]).to.deep.equal([false, false]);
    expect(setL4Checksum(setIpv4Checksum(f))).to.equal(f);
    expect([verifyIpv4Checksum(f), verifyL4Checksum(f)]).to.deep.equal([true, true]);
  });

  it('treats a zero UDP checksum as none over IPv4, as invalid over IPv6', () => {
    expect(verifyL4Checksum(zeroAt(VLAN_UDP, 44))).to.equal(true);
    expect(verifyL4Checksum(zeroAt(QINQ_IPV6_UDP, 92))).to.equal(false);
  });

  it('updates incrementally like a full recomputation (RFC 1624, fast-check)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        fc.nat(9),
        fc.nat(0xffff),
        (data, word, value) => {
          const d = data.slice();
          d[10] = d[11] = 0;
          const hc = internetChecksum(d);
          d[10] = hc >>> 8;
          d[11] = hc & 0xff;
          if (word === 5) return; // the checksum word itself
          const old = (d[2 * word] << 8) | d[2 * word + 1];
          d[2 * word] = value >>> 8;
          d[2 * word + 1] = value & 0xff;
          const inc = updateChecksum(hc, old, value);
          d[10] = inc >>> 8;
          d[11] = inc & 0xff;
          expect(onesComplementSum(d)).to.equal(0xffff);
        },
      ),
      { numRuns: 2000 },
    );
  });

  const addr = (n: number): fc.Arbitrary<Uint8Array> =>
    fc.uint8Array({ minLength: n, maxLength: n });

  it('set then verify holds for random IPv4 headers with options (fast-check)', () => {
    fc.assert(
      fc.property(
        addr(4),
        addr(4),
        fc.nat(255),
        fc.nat(255),
        fc.nat(10).map((n) => n * 4),
        fc.uint8Array({ maxLength: 40 }),
        (src, dst, proto, ttl, optLen, payload) => {
          const options = new Uint8Array(optLen).fill(1);
          const f = concat(
            ethernet(0x0800),
            ipv4Header({ src, dst, protocol: proto, ttl, options }, payload.length),
            payload,
          );
          setIpv4Checksum(f);
          expect(verifyIpv4Checksum(f)).to.equal(true);
          expect(ipv4Checksum(f)).to.equal((f[24] << 8) | f[25]);
        },
      ),
    );
  });

  it('set then verify holds for random UDP, ICMP and ICMPv6 over v4 and v6 (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('udp4', 'udp6', 'icmp', 'icmpv6'),
        addr(16),
        addr(16),
        fc.uint8Array({ maxLength: 300 }),
        fc.nat(0xffff),
        fc.nat(0xffff),
        (kind, src, dst, data, a, b) => {
          const l4 =
            kind === 'udp4' || kind === 'udp6' ? udp(a, b, data) : icmp(a >>> 8, a & 0xff, b, data);
          const proto = kind.startsWith('udp') ? 17 : kind === 'icmp' ? 1 : 58;
          const f =
            kind === 'udp4' || kind === 'icmp'
              ? concat(
                  ethernet(0x0800),
                  ipv4Header(
                    { src: src.subarray(0, 4), dst: dst.subarray(0, 4), protocol: proto },
                    l4.length,
                  ),
                  l4,
                )
              : concat(ethernet(0x86dd), ipv6Header(src, dst, proto, l4.length), l4);
          setL4Checksum(f);
          expect(verifyL4Checksum(f)).to.equal(true);
          const sum = l4Checksum(f);
          expect(sum).to.not.equal(kind.startsWith('udp') ? 0 : -1);
        },
      ),
      { numRuns: 1000 },
    );
  });
  it('set* on a frame (one scan) write what they write on its parse, malformed frames untouched (fast-check)', () => {
    fc.assert(
      fc.property(randomFrame(), ({ frame, mode }) => {
        const viaScan = frame.slice();
        setIpv4Checksum(viaScan, mode);
        const viaParse = frame.slice();
        const n = parseNetwork(viaParse, mode);
        if (n.kind === 'packet') setIpv4Checksum(n, mode);
        expect([...viaScan]).to.deep.equal([...viaParse]);
        setL4Checksum(viaScan, mode);
        const p = parsePacket(viaParse, mode);
        if (p.kind === 'packet') setL4Checksum(p, mode);
        expect([...viaScan]).to.deep.equal([...viaParse]);
      }),
      { numRuns: 3000 },
    );
  });
});
