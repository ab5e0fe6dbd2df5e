import { setU16, u16 } from './bytes';
import { updateChecksum } from './checksum';
import { parseNetwork } from './parse-packet';
import type { LinkMode } from './packet';

/**
 * Decrements the IPv4 TTL (updating the header checksum incrementally, RFC 1624) or the IPv6
 * hop limit IN PLACE, as a router does, and returns the frame. Returns `undefined`, leaving the
 * frame untouched, when the frame is not (well-formed) IP or the TTL is 0 or 1 (it expires
 * here: a router drops it, or answers ICMP time exceeded).
 * @example
 * const out = decrementTtl(frame);
 * if (out) tx.next(out);
 */
export const decrementTtl = (
  frame: Uint8Array,
  mode: LinkMode = 'ethernet',
): Uint8Array | undefined => {
  const p = parseNetwork(frame, mode);
  const ip = p.kind === 'packet' ? p.network : undefined;
  if (ip === undefined || ip.kind === 'arp') return undefined;
  const at = ip.offset + (ip.kind === 'ipv4' ? 8 : 7);
  const ttl = frame[at];
  if (ttl <= 1) return undefined;
  if (ip.kind === 'ipv4') {
    const word = u16(frame, at);
    frame[at] = ttl - 1;
    setU16(frame, ip.offset + 10, updateChecksum(ip.checksum, word, u16(frame, at)));
  } else frame[at] = ttl - 1;
  return frame;
};
