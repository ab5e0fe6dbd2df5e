import { u16, u32 } from './bytes';
import {
  malformed,
  type Ipv4Layer,
  type Ipv6Layer,
  type MalformedPacket,
  type TransportLayer,
} from './packet';

/** IP protocol numbers used across the operators. */
export const IP_PROTO = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58 } as const;

/** What {@link parseTransport} reads of the IP layer (an `Ipv4Layer` or `Ipv6Layer` has it). */
export type TransportContext = Pick<
  Ipv4Layer | Ipv6Layer,
  'kind' | 'protocol' | 'payloadOffset' | 'end' | 'fragmentOffset' | 'isFragment'
>;

/**
 * Parses the transport header of an IP packet (UDP, TCP, ICMP for IPv4, ICMPv6 for IPv6; any
 * other protocol becomes `{ kind: 'other' }`). Returns `undefined` behind a non-first fragment,
 * and for a first fragment too short for the header; a whole packet with a cut or inconsistent
 * header gives a {@link MalformedPacket}. Never throws.
 */
export const parseTransport = (
  frame: Uint8Array,
  ip: TransportContext,
): TransportLayer | MalformedPacket | undefined => {
  if (ip.fragmentOffset !== 0) return undefined;
  const off = ip.payloadOffset;
  const end = ip.end;
  const avail = end - off;
  const frag = ip.isFragment;
  const proto = ip.protocol;
  if (proto === IP_PROTO.udp) {
    if (avail < 8) return frag ? undefined : malformed(frame, 'truncated-udp', off);
    const length = u16(frame, off + 4);
    if (!frag && length < 8) return malformed(frame, 'bad-udp-length', off);
    if (!frag && length > avail) return malformed(frame, 'truncated-udp', off);
    return {
      kind: 'udp',
      offset: off,
      end,
      srcPort: u16(frame, off),
      dstPort: u16(frame, off + 2),
      length,
      checksum: u16(frame, off + 6),
      payloadOffset: off + 8,
    };
  }
  if (proto === IP_PROTO.tcp) {
    if (avail < 20) return frag ? undefined : malformed(frame, 'truncated-tcp', off);
    const headerLength = (frame[off + 12] >>> 4) * 4;
    if (headerLength < 20) return malformed(frame, 'bad-tcp-header-length', off);
    if (headerLength > avail) return frag ? undefined : malformed(frame, 'truncated-tcp', off);
    return {
      kind: 'tcp',
      offset: off,
      end,
      srcPort: u16(frame, off),
      dstPort: u16(frame, off + 2),
      seq: u32(frame, off + 4),
      ack: u32(frame, off + 8),
      headerLength,
      flags: u16(frame, off + 12) & 0x1ff,
      window: u16(frame, off + 14),
      checksum: u16(frame, off + 16),
      urgent: u16(frame, off + 18),
      payloadOffset: off + headerLength,
    };
  }
  const icmp = ip.kind === 'ipv4' ? IP_PROTO.icmp : IP_PROTO.icmpv6;
  if (proto === icmp) {
    if (avail < 8) return frag ? undefined : malformed(frame, 'truncated-icmp', off);
    return {
      kind: ip.kind === 'ipv4' ? 'icmp' : 'icmpv6',
      offset: off,
      end,
      type: frame[off],
      code: frame[off + 1],
      checksum: u16(frame, off + 2),
      identifier: u16(frame, off + 4),
      sequence: u16(frame, off + 6),
      payloadOffset: off + 8,
    };
  }
  return { kind: 'other', offset: off, end, protocol: proto };
};
