import { u16 } from './bytes';
import { malformed, type ArpLayer, type MalformedPacket } from './packet';

/**
 * Parses an ARP packet at `offset` (address sizes from its `hlen` / `plen`). Never throws.
 * @example
 * const arp = parseArp(frame, 14);
 * if (arp.kind === 'arp' && arp.op === 1) console.log('who has', formatIPv4(arp.tpa));
 */
export const parseArp = (frame: Uint8Array, offset: number): ArpLayer | MalformedPacket => {
  if (frame.length < offset + 8) return malformed(frame, 'truncated-arp', offset);
  const hlen = frame[offset + 4];
  const plen = frame[offset + 5];
  if (frame.length < offset + 8 + 2 * (hlen + plen))
    return malformed(frame, 'truncated-arp', offset);
  const sha = offset + 8;
  const spa = sha + hlen;
  const tha = spa + plen;
  const tpa = tha + hlen;
  return {
    kind: 'arp',
    offset,
    htype: u16(frame, offset),
    ptype: u16(frame, offset + 2),
    hlen,
    plen,
    op: u16(frame, offset + 6),
    sha: frame.subarray(sha, spa),
    spa: frame.subarray(spa, tha),
    tha: frame.subarray(tha, tpa),
    tpa: frame.subarray(tpa, tpa + plen),
  };
};
