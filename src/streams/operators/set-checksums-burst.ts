import type { OperatorFunction } from 'rxjs';
import { burstOperator } from './burst-out';
import { setIpv4Scanned, setL4Scanned } from './checksum-scanned';
import { FrameScan, L3_IPV4, scanFrame, scanTransport } from './frame-scan';
import type { LinkMode } from './packet';
import type { Burst } from '../burst';

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
        if (s.l3 === L3_IPV4) setIpv4Scanned(d, s);
        if (s.l3 >= L3_IPV4 && scanTransport(d, s)) setL4Scanned(d, s);
      }
      return b;
    };
  });
};
