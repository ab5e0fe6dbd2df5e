import { onesComplementSum } from './checksum';
import { L3_IPV4, L4_OTHER, type FrameScan } from './frame-scan';

/** Offset of the checksum field in each transport header, by protocol. */
const field = (proto: number): number => (proto === 17 ? 6 : proto === 6 ? 16 : 2);

/** Writes the IPv4 header checksum of a scanned packet (scanned to the network layer). */
export const setIpv4Scanned = (d: Uint8Array, s: FrameScan): void => {
  const o = s.l3Offset;
  d[o + 10] = 0;
  d[o + 11] = 0;
  const c = ~onesComplementSum(d, o, s.l3HeaderLength) & 0xffff;
  d[o + 10] = c >>> 8;
  d[o + 11] = c & 0xff;
};

/**
 * Writes the UDP / TCP / ICMP / ICMPv6 checksum of a scanned packet, as `setL4Checksum`
 * does: nothing for fragments and other protocols; UDP's length from its header.
 */
export const setL4Scanned = (d: Uint8Array, s: FrameScan): void => {
  const p = s.l4;
  if (p === 0 || p === L4_OTHER || s.isFragment) return;
  const t = s.l4Offset;
  const length = p === 17 ? (d[t + 4] << 8) | d[t + 5] : s.end - t;
  const v4 = s.l3 === L3_IPV4;
  const o = s.l3Offset;
  const start =
    p === 1
      ? 0
      : (v4 ? onesComplementSum(d, o + 12, 8) : onesComplementSum(d, o + 8, 32)) +
        s.protocol +
        Math.floor(length / 0x10000) +
        (length & 0xffff);
  const f = t + field(p);
  d[f] = 0;
  d[f + 1] = 0;
  let c = ~onesComplementSum(d, t, length, start) & 0xffff;
  if (c === 0 && p === 17) c = 0xffff; // UDP sends a computed 0 as 0xffff
  d[f] = c >>> 8;
  d[f + 1] = c & 0xff;
};
