import type { OperatorFunction } from 'rxjs';
import { burstOperator } from './burst-out';
import { onesComplementSum } from './checksum';
import { FrameScan, L3_IPV4, L4_OTHER, scanFrame, scanTransport } from './frame-scan';
import type { LinkMode } from './packet';
import type { Burst } from '../burst';

/** Offset of the checksum field in each transport header, by protocol. */
const field = (proto: number): number => (proto === 17 ? 6 : proto === 6 ? 16 : 2);

/** Writes the IPv4 header checksum of a scanned packet (scanned to the network layer). */
const setIpv4 = (d: Uint8Array, s: FrameScan): void => {
  const o = s.l3Offset;
  d[o + 10] = 0;
  d[o + 11] = 0;
  const c = ~onesComplementSum(d, o, s.l3HeaderLength) & 0xffff;
  d[o + 10] = c >>> 8;
  d[o + 11] = c & 0xff;
};

/**
 * Writes the UDP / TCP / ICMP / ICMPv6 checksum of a scanned packet, as {@link setL4Checksum}
 * does: nothing for fragments and other protocols; UDP's length from its header.
 */
const setL4 = (d: Uint8Array, s: FrameScan): void => {
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

/**
 * Recomputes, IN PLACE, the IPv4 header checksum and the UDP / TCP / ICMP / ICMPv6 checksum of
 * every packet of each burst (as {@link setIpv4Checksum} then {@link setL4Checksum} would) and
 * emits the same burst: after rewrites that change covered bytes. Packets that are not IP, or
 * not well-formed that deep, keep what they have.
 * @example
 * iface.rxBursts(0).pipe(myRewrite, setChecksumsBurst()).subscribe(iface.txBursts(0));
 */
export const setChecksumsBurst = (
  options: { readonly mode?: LinkMode } = {},
): OperatorFunction<Burst, Burst> => {
  const mode = options.mode ?? 'ethernet';
  return burstOperator(() => {
    const s = new FrameScan();
    return (b) => {
      const d = b.data;
      const offsets = b.offsets;
      const lengths = b.lengths;
      for (let i = 0; i < b.count; i++) {
        if (!scanFrame(d, offsets[i], lengths[i], mode, s, true)) continue;
        if (s.l3 === L3_IPV4) setIpv4(d, s);
        if (s.l3 >= L3_IPV4 && scanTransport(d, s)) setL4(d, s);
      }
      return b;
    };
  });
};
