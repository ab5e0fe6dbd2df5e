import { parseArp } from './parse-arp';
import { parseEthernet } from './parse-ethernet';
import { parseIpv4 } from './parse-ipv4';
import { parseIpv6 } from './parse-ipv6';
import { parseTransport } from './parse-transport';
import {
  malformed,
  type EthernetLayer,
  type LinkMode,
  type NetworkLayer,
  type ParseResult,
} from './packet';

/** EtherTypes the parser goes into. */
export const ETHERTYPE = { ipv4: 0x0800, arp: 0x0806, ipv6: 0x86dd } as const;

/**
 * Parses a frame down to the network layer only (Ethernet and tags, ARP / IPv4 / IPv6 with the
 * IPv6 extension headers), `transport` left undefined: for work at the IP layer (TTL, header
 * checksum) that must not care whether the transport header is sound. Never throws.
 */
export const parseNetwork = (frame: Uint8Array, mode: LinkMode = 'ethernet'): ParseResult => {
  let ethernet: EthernetLayer | undefined;
  let network: NetworkLayer | undefined;
  if (mode === 'ethernet') {
    const eth = parseEthernet(frame);
    if (eth.kind === 'malformed') return eth;
    ethernet = eth;
    const at = eth.payloadOffset;
    const net =
      eth.etherType === ETHERTYPE.ipv4
        ? parseIpv4(frame, at)
        : eth.etherType === ETHERTYPE.ipv6
          ? parseIpv6(frame, at)
          : eth.etherType === ETHERTYPE.arp
            ? parseArp(frame, at)
            : undefined;
    if (net?.kind === 'malformed') return net;
    network = net;
  } else {
    if (frame.length === 0) return malformed(frame, 'empty-ip', 0);
    const version = frame[0] >>> 4;
    if (version !== 4 && version !== 6) return malformed(frame, 'bad-ip-version', 0);
    const net = version === 4 ? parseIpv4(frame, 0) : parseIpv6(frame, 0);
    if (net.kind === 'malformed') return net;
    network = net;
  }
  return { kind: 'packet', frame, mode, ethernet, network, transport: undefined };
};

/**
 * Parses a frame down to its transport header, without copying: the result holds views into
 * `frame`. `mode` is how the frame starts (`'ethernet'`, the default, or `'ip'` for memif `ip`
 * mode, where the version nibble tells IPv4 from IPv6). Never throws: a frame that does not
 * parse comes back as `{ kind: 'malformed', reason, offset }`.
 * @example
 * const p = parsePacket(frame);
 * if (p.kind === 'packet' && p.transport?.kind === 'udp') console.log(p.transport.dstPort);
 */
export const parsePacket = (frame: Uint8Array, mode: LinkMode = 'ethernet'): ParseResult => {
  const p = parseNetwork(frame, mode);
  if (p.kind === 'malformed' || p.network === undefined || p.network.kind === 'arp') return p;
  const transport = parseTransport(frame, p.network);
  if (transport?.kind === 'malformed') return transport;
  return { ...p, transport };
};
