import fc from 'fast-check';
import { parseEthernet } from '../../src/streams/operators';
import { concat, ethernet, ipv4Header, udp } from './build';
import {
  ARP_REQUEST,
  FRAGMENT_1,
  FRAGMENT_2,
  ICMP6_ECHO,
  ICMP_ECHO,
  NEIGHBOR_SOLICITATION,
  QINQ_IPV6_UDP,
  TCP_OPTIONS,
  VLAN_UDP,
} from './golden';

const l3Of = (frame: Uint8Array): number => {
  const e = parseEthernet(frame);
  return e.kind === 'ethernet' ? e.payloadOffset : 14;
};

/**
 * Sets the IP length field so that the packet ends `slack` bytes before the frame does (a cut
 * frame then fails deeper, in its extension or transport headers, rather than at the IP length).
 */
const fitLength = (f: Uint8Array, l3: number, slack: number): void => {
  const v = f[l3] >>> 4;
  const n = f.length - l3 - slack - (v === 6 ? 40 : 0);
  if (n < 0 || f.length < l3 + 6) return;
  const at = l3 + (v === 6 ? 4 : 2);
  f[at] = n >>> 8;
  f[at + 1] = n & 0xff;
  // And the UDP length of an IPv4 datagram without options, so that its checks pass or fail
  // by a byte or two.
  const u = l3 + 20;
  if (v === 4 && f[l3 + 9] === 17 && (f[l3] & 15) === 5 && f.length >= u + 6 && n >= 20) {
    const ul = n - 20 + (slack % 3) - 1;
    f[u + 4] = ul >>> 8;
    f[u + 5] = ul & 0xff;
  }
};

const A = Uint8Array.of(10, 0, 0, 1);
const B = Uint8Array.of(10, 0, 0, 2);

/** A 64-byte UDP frame as testpmd txonly sends (untagged IPv4, no options: the scan's fast path). */
export const UDP_64 = concat(
  ethernet(0x0800),
  ipv4Header({ src: B, dst: A, protocol: 17 }, 30),
  udp(1024, 9, new Uint8Array(22)),
);

/** An untagged TCP frame without options, with 6 bytes of data. */
export const TCP_PLAIN = concat(
  ethernet(0x0800),
  ipv4Header({ src: B, dst: A, protocol: 6 }, 26),
  Uint8Array.of(0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0),
  Uint8Array.of(1, 2, 3, 4, 5, 6),
);

/** The golden frames, as starting points for random ones. */
export const HEADS = [
  UDP_64,
  UDP_64,
  TCP_PLAIN,
  ICMP_ECHO,
  VLAN_UDP,
  ICMP6_ECHO,
  QINQ_IPV6_UDP,
  TCP_OPTIONS,
  ARP_REQUEST,
  FRAGMENT_1,
  FRAGMENT_2,
  NEIGHBOR_SOLICITATION,
];

/**
 * Random frames, malformed ones included: a golden frame cut anywhere, a random tail, a few
 * bytes overwritten (lengths, versions, EtherTypes and protocols change this way), or bytes
 * that are random from the start; in Ethernet or (the golden frame without its Ethernet
 * header) in `ip` mode.
 */
export const randomFrame = (): fc.Arbitrary<{ frame: Uint8Array; mode: 'ethernet' | 'ip' }> =>
  fc
    .oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) })
    .chain((random) =>
      fc
        .tuple(
          fc.constantFrom(...HEADS),
          fc.boolean(),
          fc.nat(120),
          fc.uint8Array({ maxLength: 60 }),
          // Mostly in the headers, often small values (lengths, flags, versions).
          fc.array(
            fc.tuple(
              fc.oneof(fc.nat(60), fc.nat(110)),
              fc.oneof(fc.nat(255), fc.nat(9), fc.constantFrom(0x20, 0x40, 0x45, 0x60, 0x81)),
            ),
            { maxLength: 4 },
          ),
          fc.uint8Array({ maxLength: 140 }),
          fc.integer({ min: -1, max: 3 }),
        )
        .map(([head, ip, cut, tail, flips, bytes, slack]) => {
          const mode: 'ethernet' | 'ip' = ip ? 'ip' : 'ethernet';
          if (random === 1) return { frame: bytes, mode };
          const h = ip ? head.subarray(l3Of(head)) : head;
          const keep = cut < 50 ? h.length : Math.max(0, h.length - ((cut - 50) % 30));
          const f = new Uint8Array(keep + (cut % 3 === 0 ? tail.length : 0));
          f.set(h.subarray(0, keep));
          if (cut % 3 === 0) f.set(tail, keep);
          for (const [at, v] of flips) if (at < f.length) f[at] = v;
          if (slack >= 0) fitLength(f, ip ? 0 : l3Of(f), slack);
          return { frame: f, mode };
        }),
    );
