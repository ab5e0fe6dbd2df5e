import { updateChecksum } from './checksum';
import { FrameScan, L3_IPV4, scanFrame } from './frame-scan';
import type { LinkMode } from './packet';

/**
 * Decrements the TTL / hop limit of the packet `s` scanned (to the network layer) in `d`, with
 * the IPv4 header checksum updated incrementally (RFC 1624 eqn. 3); false, leaving the bytes
 * alone, when it is not IP or the TTL is 0 or 1.
 */
export const decrementScanned = (d: Uint8Array, s: FrameScan): boolean => {
  if (s.l3 < L3_IPV4) return false;
  const v4 = s.l3 === L3_IPV4;
  const at = s.l3Offset + (v4 ? 8 : 7);
  const ttl = d[at];
  if (ttl <= 1) return false;
  if (v4) {
    const word = (ttl << 8) | d[at + 1];
    const c = s.l3Offset + 10;
    const sum = updateChecksum((d[c] << 8) | d[c + 1], word, word - 0x100);
    d[c] = sum >>> 8;
    d[c + 1] = sum & 0xff;
  }
  d[at] = ttl - 1;
  return true;
};

const scratch = new FrameScan();

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
): Uint8Array | undefined =>
  scanFrame(frame, 0, frame.length, mode, scratch, true) && decrementScanned(frame, scratch)
    ? frame
    : undefined;
