import { setU16 } from './bytes';
import { onesComplementSum } from './checksum';
import { setL4Scanned } from './checksum-scanned';
import { FrameScan, L3_IPV4, scanFrame, scanTransport } from './frame-scan';
import { parsedOf, type ChecksumTarget } from './ipv4-checksum';
import type { Ipv4Layer, Ipv6Layer, LinkMode, TransportLayer } from './packet';

/** The scan of {@link setL4Checksum} (nothing it calls can re-enter it). */
const scratch = new FrameScan();

type Located = [Uint8Array, Ipv4Layer | Ipv6Layer, Exclude<TransportLayer, { kind: 'other' }>];

const locate = (target: ChecksumTarget, mode: LinkMode): Located | undefined => {
  const p = parsedOf(target, mode);
  const ip = p?.network;
  const t = p?.transport;
  if (!p || !ip || ip.kind === 'arp' || ip.isFragment || !t || t.kind === 'other') return undefined;
  return [p.frame, ip, t];
};

/** Offset of the checksum field in each header. */
const FIELD = { udp: 6, tcp: 16, icmp: 2, icmpv6: 2 } as const;

/** The pseudo-header sum (RFC 768 / 793 for IPv4, RFC 8200 §8.1 for IPv6). */
const pseudoSum = (frame: Uint8Array, ip: Ipv4Layer | Ipv6Layer, length: number): number => {
  const addrs =
    ip.kind === 'ipv4'
      ? onesComplementSum(frame, ip.offset + 12, 8)
      : onesComplementSum(frame, ip.offset + 8, 32);
  return addrs + ip.protocol + Math.floor(length / 0x10000) + (length & 0xffff);
};

/** Sum of the segment with the pseudo-header, its checksum field taken as zero unless `withField`. */
const sum = ([frame, ip, t]: Located, withField: boolean): number => {
  const length = t.kind === 'udp' ? t.length : t.end - t.offset;
  const start = t.kind === 'icmp' ? 0 : pseudoSum(frame, ip, length);
  const field = FIELD[t.kind];
  const head = onesComplementSum(frame, t.offset, field + (withField ? 2 : 0), start);
  return onesComplementSum(frame, t.offset + field + 2, length - field - 2, head);
};

const compute = (at: Located): number => {
  const c = ~sum(at, false) & 0xffff;
  return c === 0 && at[2].kind === 'udp' ? 0xffff : c; // UDP sends a computed 0 as 0xffff
};

/**
 * The checksum the UDP, TCP, ICMP or ICMPv6 header of the packet should carry (UDP, TCP and
 * ICMPv6 over the IPv4 / IPv6 pseudo-header; the addresses are those of the IP header, so an
 * IPv6 routing header is not followed). `undefined` when there is no such header, or the packet
 * is a fragment (the data is not all there).
 * @example
 * const expected = l4Checksum(frame);
 */
export const l4Checksum = (
  target: ChecksumTarget,
  mode: LinkMode = 'ethernet',
): number | undefined => {
  const at = locate(target, mode);
  return at && compute(at);
};

/**
 * Whether the UDP / TCP / ICMP / ICMPv6 checksum is right: `undefined` when there is none to
 * check (see {@link l4Checksum}). A zero UDP checksum over IPv4 means "none" and passes; over
 * IPv6 it is invalid.
 */
export const verifyL4Checksum = (
  target: ChecksumTarget,
  mode: LinkMode = 'ethernet',
): boolean | undefined => {
  const at = locate(target, mode);
  if (!at) return undefined;
  const [, ip, t] = at;
  if (t.kind === 'udp' && t.checksum === 0) return ip.kind === 'ipv4';
  return sum(at, true) === 0xffff;
};

/**
 * Writes the right UDP / TCP / ICMP / ICMPv6 checksum in place and returns the frame (unchanged
 * when there is none to compute).
 * @example
 * iface.rx().pipe(map((f) => setL4Checksum(swapMacs(f)))).subscribe(iface.tx());
 */
export const setL4Checksum = (target: ChecksumTarget, mode: LinkMode = 'ethernet'): Uint8Array => {
  if (target instanceof Uint8Array) {
    // From one scan of the bytes, as setChecksumsBurst does: no parse result made.
    const s = scratch;
    if (
      scanFrame(target, 0, target.length, mode, s, true) &&
      s.l3 >= L3_IPV4 &&
      scanTransport(target, s)
    )
      setL4Scanned(target, s);
    return target;
  }
  const at = locate(target, mode);
  if (at) setU16(at[0], at[2].offset + FIELD[at[2].kind], compute(at));
  return target instanceof Uint8Array ? target : target.frame;
};
