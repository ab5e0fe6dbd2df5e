/**
 * The shapes `parsePacket` returns. Every layer is a set of numbers and `subarray` views over
 * the frame (nothing is copied): the views are only as stable as the frame (in zero-copy rx, only
 * until the emission returns). Offsets are byte positions in the frame. Layers are discriminated
 * by `kind`.
 */

/** How a frame starts: an Ethernet header, or (memif `ip` mode) directly an IPv4/IPv6 header. */
export type LinkMode = 'ethernet' | 'ip';

/** One 802.1Q / 802.1ad tag. */
export interface VlanTag {
  /** Offset of the TPID. */
  readonly offset: number;
  /** 0x8100 (C-tag), 0x88a8 (S-tag), 0x9100 / 0x9200 (pre-standard QinQ). */
  readonly tpid: number;
  /** Priority code point, 0..7. */
  readonly pcp: number;
  /** Drop eligible indicator. */
  readonly dei: boolean;
  /** VLAN id, 0..4095. */
  readonly vid: number;
}

/** The Ethernet header with its VLAN tags, outermost first. */
export interface EthernetLayer {
  readonly kind: 'ethernet';
  readonly offset: 0;
  /** Destination MAC (6-byte view). */
  readonly dst: Uint8Array;
  /** Source MAC (6-byte view). */
  readonly src: Uint8Array;
  /** VLAN tags, outermost first (empty when untagged). */
  readonly tags: readonly VlanTag[];
  /** The EtherType after the tags (a value ≤ 1500 is an 802.3 length). */
  readonly etherType: number;
  /** Where the payload (the network layer) starts. */
  readonly payloadOffset: number;
}

/** An ARP packet (any hardware / protocol address sizes; views sized by `hlen` / `plen`). */
export interface ArpLayer {
  readonly kind: 'arp';
  readonly offset: number;
  /** Hardware type (1 = Ethernet). */
  readonly htype: number;
  /** Protocol type (0x0800 = IPv4). */
  readonly ptype: number;
  readonly hlen: number;
  readonly plen: number;
  /** 1 = request, 2 = reply. */
  readonly op: number;
  /** Sender hardware address. */
  readonly sha: Uint8Array;
  /** Sender protocol address. */
  readonly spa: Uint8Array;
  /** Target hardware address. */
  readonly tha: Uint8Array;
  /** Target protocol address. */
  readonly tpa: Uint8Array;
}

/** Fields IPv4 and IPv6 share, so that code above IP need not care which it is. */
interface IpCommon {
  readonly offset: number;
  /** Source address (4- or 16-byte view). */
  readonly src: Uint8Array;
  /** Destination address (4- or 16-byte view). */
  readonly dst: Uint8Array;
  /** The upper-layer protocol (for IPv6, after the extension headers). */
  readonly protocol: number;
  /** Where the upper layer starts. */
  readonly payloadOffset: number;
  /** End of the IP packet per its length field (the frame may carry padding after it). */
  readonly end: number;
  /** Whether this is a fragment (more fragments follow, or the offset is not 0). */
  readonly isFragment: boolean;
  /** Fragment offset in bytes (0 for the first fragment and for whole packets). */
  readonly fragmentOffset: number;
  /** More-fragments flag. */
  readonly moreFragments: boolean;
}

/** An IPv4 header. */
export interface Ipv4Layer extends IpCommon {
  readonly kind: 'ipv4';
  /** Header length in bytes (20..60). */
  readonly headerLength: number;
  readonly tos: number;
  readonly totalLength: number;
  readonly id: number;
  /** Don't-fragment flag. */
  readonly dontFragment: boolean;
  readonly ttl: number;
  readonly checksum: number;
  /** The options (a view, empty when the header is 20 bytes). */
  readonly options: Uint8Array;
}

/** One IPv6 extension header. */
export interface Ipv6Extension {
  /** Its protocol number: 0 hop-by-hop, 43 routing, 44 fragment, 60 destination options, 51 AH… */
  readonly type: number;
  readonly offset: number;
  /** Its length in bytes. */
  readonly length: number;
}

/** An IPv6 header with its chain of extension headers. */
export interface Ipv6Layer extends IpCommon {
  readonly kind: 'ipv6';
  readonly trafficClass: number;
  readonly flowLabel: number;
  readonly payloadLength: number;
  /** The next-header field of the fixed header. */
  readonly nextHeader: number;
  readonly hopLimit: number;
  /** Extension headers in order (empty when none). */
  readonly extensions: readonly Ipv6Extension[];
  /** The fragment header's identification, when there is one. */
  readonly fragmentId?: number;
}

/** The network layer: what the EtherType (or in `ip` mode the version nibble) announced. */
export type NetworkLayer = ArpLayer | Ipv4Layer | Ipv6Layer;

/** Fields every transport layer has. */
interface TransportCommon {
  readonly offset: number;
  /** End of the segment (the IP packet's end). */
  readonly end: number;
}

/** A UDP header. */
export interface UdpLayer extends TransportCommon {
  readonly kind: 'udp';
  readonly srcPort: number;
  readonly dstPort: number;
  /** The length field (header + data). */
  readonly length: number;
  readonly checksum: number;
  readonly payloadOffset: number;
}

/** A TCP header (the options are between `offset + 20` and `payloadOffset`). */
export interface TcpLayer extends TransportCommon {
  readonly kind: 'tcp';
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  /** Header length in bytes (20..60). */
  readonly headerLength: number;
  /** The flag bits (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE, CWR). */
  readonly flags: number;
  readonly window: number;
  readonly checksum: number;
  readonly urgent: number;
  readonly payloadOffset: number;
}

/** An ICMP (v4) or ICMPv6 header: type, code, checksum and the 4 bytes after. */
export interface IcmpLayer extends TransportCommon {
  readonly kind: 'icmp' | 'icmpv6';
  readonly type: number;
  readonly code: number;
  readonly checksum: number;
  /** First 16 bits after the checksum (the echo identifier). */
  readonly identifier: number;
  /** Next 16 bits (the echo sequence number). */
  readonly sequence: number;
  /** Where the body after those 8 bytes starts. */
  readonly payloadOffset: number;
}

/** Any other upper protocol (ESP, GRE, SCTP, …): where it starts. */
export interface OtherTransport extends TransportCommon {
  readonly kind: 'other';
  readonly protocol: number;
}

/** The transport layer. */
export type TransportLayer = UdpLayer | TcpLayer | IcmpLayer | OtherTransport;

/** A frame that parsed: the layers that are there. */
export interface ParsedPacket {
  readonly kind: 'packet';
  readonly frame: Uint8Array;
  readonly mode: LinkMode;
  /** Absent in `ip` mode. */
  readonly ethernet?: EthernetLayer;
  /** Absent when the EtherType is neither ARP, IPv4 nor IPv6. */
  readonly network?: NetworkLayer;
  /** Absent for ARP, non-first fragments, and first fragments too short for the header. */
  readonly transport?: TransportLayer;
}

/** Why a frame did not parse. */
export type MalformedReason =
  | 'truncated-ethernet'
  | 'truncated-vlan'
  | 'truncated-arp'
  | 'empty-ip'
  | 'bad-ip-version'
  | 'truncated-ipv4'
  | 'bad-ipv4-header-length'
  | 'bad-ipv4-total-length'
  | 'truncated-ipv6'
  | 'truncated-ipv6-extension'
  | 'misplaced-hop-by-hop'
  | 'truncated-udp'
  | 'bad-udp-length'
  | 'truncated-tcp'
  | 'bad-tcp-header-length'
  | 'truncated-icmp';

/** A frame that did not parse, with the reason and the offset of the layer at fault. */
export interface MalformedPacket {
  readonly kind: 'malformed';
  readonly frame: Uint8Array;
  readonly reason: MalformedReason;
  readonly offset: number;
}

/** What `parsePacket` returns. */
export type ParseResult = ParsedPacket | MalformedPacket;

/** Builds a {@link MalformedPacket}. */
export const malformed = (
  frame: Uint8Array,
  reason: MalformedReason,
  offset: number,
): MalformedPacket => ({ kind: 'malformed', frame, reason, offset });
