import fc from 'fast-check';
import { parseEthernet } from '../../src/streams/operators';
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
};

/** The golden frames, as starting points for random ones. */
export const HEADS = [
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
          fc.array(fc.tuple(fc.nat(110), fc.nat(255)), { maxLength: 4 }),
          fc.uint8Array({ maxLength: 140 }),
        )
        .map(([head, ip, cut, tail, flips, bytes]) => {
          const mode: 'ethernet' | 'ip' = ip ? 'ip' : 'ethernet';
          if (random === 1) return { frame: bytes, mode };
          const h = ip ? head.subarray(l3Of(head)) : head;
          const keep = cut < 50 ? h.length : Math.max(0, h.length - ((cut - 50) % 30));
          const f = new Uint8Array(keep + (cut % 3 === 0 ? tail.length : 0));
          f.set(h.subarray(0, keep));
          if (cut % 3 === 0) f.set(tail, keep);
          for (const [at, v] of flips) if (at < f.length) f[at] = v;
          return { frame: f, mode };
        }),
    );
