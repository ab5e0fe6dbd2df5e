import { extensionBit, L3_ARP, L3_IPV6, type FrameScan } from './frame-scan';
import { prefixContains, parsePrefix, type IpPrefix } from './prefix';
import { predicate, type ByteTest, type PacketPredicate } from './predicates';
import type { ParsedPacket } from './packet';

/** Protocol names {@link ipProto} takes. */
export const IP_PROTOCOLS = {
  icmp: 1,
  igmp: 2,
  tcp: 6,
  udp: 17,
  gre: 47,
  esp: 50,
  ah: 51,
  icmpv6: 58,
  sctp: 132,
} as const;

/** A protocol name of {@link IP_PROTOCOLS}. */
export type IpProtocolName = keyof typeof IP_PROTOCOLS;

/**
 * Matches IPv4 / IPv6 packets whose upper protocol (for IPv6, after the extension headers) is
 * `proto`; for IPv6 an extension header of that number matches too (`ipProto(44)`: fragments).
 * @example
 * filterPackets(ipProto('udp'))
 */
export const ipProto = (proto: number | IpProtocolName): PacketPredicate => {
  const n = typeof proto === 'number' ? proto : IP_PROTOCOLS[proto];
  const bit = extensionBit(n);
  return predicate(
    (p) => {
      const net = p.network;
      if (net === undefined || net.kind === 'arp') return false;
      if (net.protocol === n) return true;
      return net.kind === 'ipv6' && net.extensions.some((e) => e.type === n);
    },
    (_d, s) => s.l3 > L3_ARP && (s.protocol === n || (s.extensions & bit) !== 0),
  );
};

type Side = 'src' | 'dst' | 'any';

/** The prefix test on the bytes at `d[at ..]`, compiled once: whole bytes, then a masked one. */
const prefixTest = (prefix: IpPrefix): ((d: Uint8Array, at: number) => boolean) => {
  const { address, bits } = prefix;
  const whole = bits >>> 3;
  const mask = (0xff00 >>> (bits & 7)) & 0xff;
  const last = address[whole] ?? 0;
  if (prefix.family === 4 && whole === 4) {
    const want = (address[0] << 24) | (address[1] << 16) | (address[2] << 8) | address[3] | 0;
    return (d, at) => ((d[at] << 24) | (d[at + 1] << 16) | (d[at + 2] << 8) | d[at + 3]) === want;
  }
  return (d, at) => {
    for (let i = 0; i < whole; i++) if (d[at + i] !== address[i]) return false;
    return mask === 0 || (d[at + whole] & mask) === last;
  };
};

/** Where the source and destination addresses are in a scanned frame (-1: none of that size). */
const addressAt = (d: Uint8Array, s: FrameScan, family: 4 | 6, dst: boolean): number => {
  const o = s.l3Offset;
  if (s.l3 === L3_ARP) {
    // ARP for IPv4 (ptype 0x0800): sender / target protocol addresses, sized by plen.
    const hlen = d[o + 4];
    const plen = d[o + 5];
    if (((d[o + 2] << 8) | d[o + 3]) !== 0x0800 || plen !== (family === 4 ? 4 : 16)) return -1;
    return dst ? o + 8 + 2 * hlen + plen : o + 8 + hlen;
  }
  if (s.l3 === 0 || (s.l3 === L3_IPV6) !== (family === 6)) return -1;
  return family === 4 ? o + (dst ? 16 : 12) : o + (dst ? 24 : 8);
};

const netOn = (cidr: string, side: Side): PacketPredicate => {
  const prefix = parsePrefix(cidr);
  const len = prefix.family === 4 ? 4 : 16;
  const inside = (a: Uint8Array): boolean => a.length === len && prefixContains(prefix, a);
  const test = prefixTest(prefix);
  const fam = prefix.family;
  const onBytes: ByteTest = (d, s) => {
    if (side !== 'dst') {
      const at = addressAt(d, s, fam, false);
      if (at < 0) return false;
      if (test(d, at)) return true;
    }
    if (side === 'src') return false;
    const at = addressAt(d, s, fam, true);
    return at >= 0 && test(d, at);
  };
  return predicate((p: ParsedPacket) => {
    const net = p.network;
    if (net === undefined) return false;
    const [src, dst] =
      net.kind === 'arp' ? (net.ptype === 0x0800 ? [net.spa, net.tpa] : []) : [net.src, net.dst];
    if (src === undefined || dst === undefined) return false;
    return (side !== 'dst' && inside(src)) || (side !== 'src' && inside(dst));
  }, onBytes);
};

/**
 * Matches packets with the source or destination address in a prefix (`'10.0.0.0/8'`,
 * `'2001:db8::/32'`; a plain address is a host). IPv4 prefixes also match the sender / target
 * addresses of ARP. Throws a `TypeError` at once on a bad prefix.
 * @example
 * filterPackets(and(net('192.168.1.0/24'), not(net('192.168.1.1'))))
 */
export const net = (cidr: string): PacketPredicate => netOn(cidr, 'any');

/** Like {@link net}, the source address only. */
export const srcNet = (cidr: string): PacketPredicate => netOn(cidr, 'src');

/** Like {@link net}, the destination address only. */
export const dstNet = (cidr: string): PacketPredicate => netOn(cidr, 'dst');

const portOn = (port: number, side: Side): PacketPredicate =>
  predicate(
    (p) => {
      const t = p.transport;
      if (t === undefined || (t.kind !== 'udp' && t.kind !== 'tcp')) return false;
      return (side !== 'dst' && t.srcPort === port) || (side !== 'src' && t.dstPort === port);
    },
    (d, s) => {
      if (s.l4 !== 17 && s.l4 !== 6) return false;
      const o = s.l4Offset;
      return (
        (side !== 'dst' && ((d[o] << 8) | d[o + 1]) === port) ||
        (side !== 'src' && ((d[o + 2] << 8) | d[o + 3]) === port)
      );
    },
  );

/**
 * Matches UDP and TCP packets with the port as source or destination (never fragments past the
 * first, which carry no ports).
 * @example
 * filterPackets(and(ipProto('udp'), port(53)))
 */
export const port = (n: number): PacketPredicate => portOn(n, 'any');

/** Like {@link port}, the source port only. */
export const srcPort = (n: number): PacketPredicate => portOn(n, 'src');

/** Like {@link port}, the destination port only. */
export const dstPort = (n: number): PacketPredicate => portOn(n, 'dst');
