import { u16 } from './bytes';
import { malformed, type Ipv4Layer, type MalformedPacket } from './packet';

/**
 * Parses an IPv4 header at `offset`, options included; fragments are flagged (`isFragment`,
 * `moreFragments`, `fragmentOffset` in bytes). Never throws: a bad version, a header length
 * under 20, a total length under the header or over the frame give a {@link MalformedPacket}.
 * Bytes after `totalLength` (Ethernet padding) are ignored.
 */
export const parseIpv4 = (frame: Uint8Array, offset: number): Ipv4Layer | MalformedPacket => {
  const avail = frame.length - offset;
  if (avail < 20) return malformed(frame, 'truncated-ipv4', offset);
  if (frame[offset] >>> 4 !== 4) return malformed(frame, 'bad-ip-version', offset);
  const headerLength = (frame[offset] & 0x0f) * 4;
  if (headerLength < 20) return malformed(frame, 'bad-ipv4-header-length', offset);
  if (headerLength > avail) return malformed(frame, 'truncated-ipv4', offset);
  const totalLength = u16(frame, offset + 2);
  if (totalLength < headerLength) return malformed(frame, 'bad-ipv4-total-length', offset);
  if (totalLength > avail) return malformed(frame, 'truncated-ipv4', offset);
  const frag = u16(frame, offset + 6);
  const moreFragments = (frag & 0x2000) !== 0;
  const fragmentOffset = (frag & 0x1fff) * 8;
  return {
    kind: 'ipv4',
    offset,
    headerLength,
    tos: frame[offset + 1],
    totalLength,
    id: u16(frame, offset + 4),
    dontFragment: (frag & 0x4000) !== 0,
    moreFragments,
    fragmentOffset,
    isFragment: moreFragments || fragmentOffset !== 0,
    ttl: frame[offset + 8],
    protocol: frame[offset + 9],
    checksum: u16(frame, offset + 10),
    src: frame.subarray(offset + 12, offset + 16),
    dst: frame.subarray(offset + 16, offset + 20),
    options: frame.subarray(offset + 20, offset + headerLength),
    payloadOffset: offset + headerLength,
    end: offset + totalLength,
  };
};
