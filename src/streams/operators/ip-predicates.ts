import { prefixContains, parsePrefix } from './prefix';
import type { PacketPredicate } from './predicates';
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
  return (p) => {
    const net = p.network;
    if (net === undefined || net.kind === 'arp') return false;
    if (net.protocol === n) return true;
    return net.kind === 'ipv6' && net.extensions.some((e) => e.type === n);
  };
};

type Side = 'src' | 'dst' | 'any';

const netOn = (cidr: string, side: Side): PacketPredicate => {
  const prefix = parsePrefix(cidr);
  const len = prefix.family === 4 ? 4 : 16;
  const inside = (a: Uint8Array): boolean => a.length === len && prefixContains(prefix, a);
  return (p: ParsedPacket) => {
    const net = p.network;
    if (net === undefined) return false;
    const [src, dst] =
      net.kind === 'arp' ? (net.ptype === 0x0800 ? [net.spa, net.tpa] : []) : [net.src, net.dst];
    if (src === undefined || dst === undefined) return false;
    return (side !== 'dst' && inside(src)) || (side !== 'src' && inside(dst));
  };
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

const portOn =
  (port: number, side: Side): PacketPredicate =>
  (p) => {
    const t = p.transport;
    if (t === undefined || (t.kind !== 'udp' && t.kind !== 'tcp')) return false;
    return (side !== 'dst' && t.srcPort === port) || (side !== 'src' && t.dstPort === port);
  };

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
