import type { LinkMode, MalformedReason } from './packet';

/**
 * One pass over a frame's bytes that checks it exactly as {@link parsePacket} does (same
 * malformed reasons at the same offsets) and records where each layer is, in a reused object of
 * numbers: no layer objects, no views. Raw-byte predicates, burst operators and the lazy
 * `parse()` read their fields from the frame through it (see docs/architecture.md#operators).
 *
 * Offsets are absolute positions in the array scanned (a burst's `data`), so a burst is scanned
 * in place: the frame is `d[base .. base + len)`.
 */
export class FrameScan {
  /** Where the frame starts in the array. */
  base = 0;
  /** Its length. */
  len = 0;
  /** Number of VLAN tags (tag k's TPID at `base + 12 + 4k`); 0 in `ip` mode. */
  tags = 0;
  /** The EtherType after the tags; in `ip` mode 0x0800 / 0x86dd by IP version. */
  etherType = 0;
  /** Whether the frame has an Ethernet header. */
  ethernet = true;
  /** Network layer: 0 none, 1 ARP, 4 IPv4, 6 IPv6. */
  l3 = 0;
  /** Where it starts. */
  l3Offset = 0;
  /** IPv4 header length (IPv6: 40). */
  l3HeaderLength = 0;
  /** The upper protocol (IPv6: after the extension headers). */
  protocol = 0;
  /**
   * A bit per IPv6 extension type seen: hop-by-hop 1, routing 2, fragment 4, destination
   * options 8, AH 16, mobility 32, HIP 64, shim6 128.
   */
  extensions = 0;
  isFragment = false;
  /** In bytes. */
  fragmentOffset = 0;
  /**
   * Transport: 0 none (ARP, later fragment, short first fragment), else its protocol (UDP 17,
   * TCP 6, ICMP 1, ICMPv6 58), or 256 for any other.
   */
  l4 = 0;
  /** Where the upper layer starts (the transport header). */
  l4Offset = 0;
  /** End of the IP packet (absolute). */
  end = 0;
  /** The malformed reason when the scan failed. */
  reason: MalformedReason = 'truncated-ethernet';
  /** The offset in the frame (relative to `base`) of the layer at fault. */
  reasonOffset = 0;
  /**
   * Set by the scan: the last frame took the common path (untagged IPv4 without options, UDP
   * or TCP), whose shared fields it does not write again. Code other than the scan that writes
   * the fields above must clear it.
   */
  simple = false;
}

export const L3_ARP = 1;
export const L3_IPV4 = 4;
export const L3_IPV6 = 6;
/** `l4` of a transport that is neither UDP, TCP nor ICMP: "other". */
export const L4_OTHER = 256;

/** The bit of an IPv6 extension type in {@link FrameScan.extensions} (0 for other types). */
export const extensionBit = (type: number): number => {
  switch (type) {
    case 0:
      return 1;
    case 43:
      return 2;
    case 44:
      return 4;
    case 60:
      return 8;
    case 51:
      return 16;
    case 135:
      return 32;
    case 139:
      return 64;
    case 140:
      return 128;
    default:
      return 0;
  }
};

const isTpid = (t: number): boolean => t === 0x8100 || t === 0x88a8 || t === 0x9100 || t === 0x9200;

const fail = (s: FrameScan, reason: MalformedReason, at: number): false => {
  s.reason = reason;
  s.reasonOffset = at - s.base;
  return false;
};

const scanIpv4 = (d: Uint8Array, s: FrameScan, o: number, stop: number): boolean => {
  const avail = stop - o;
  if (avail < 20) return fail(s, 'truncated-ipv4', o);
  const b0 = d[o];
  if (b0 >>> 4 !== 4) return fail(s, 'bad-ip-version', o);
  const hl = (b0 & 0x0f) * 4;
  if (hl < 20) return fail(s, 'bad-ipv4-header-length', o);
  if (hl > avail) return fail(s, 'truncated-ipv4', o);
  const total = (d[o + 2] << 8) | d[o + 3];
  if (total < hl) return fail(s, 'bad-ipv4-total-length', o);
  if (total > avail) return fail(s, 'truncated-ipv4', o);
  const frag = (d[o + 6] << 8) | d[o + 7];
  s.l3 = L3_IPV4;
  s.l3Offset = o;
  s.l3HeaderLength = hl;
  s.protocol = d[o + 9];
  s.extensions = 0;
  s.fragmentOffset = (frag & 0x1fff) * 8;
  s.isFragment = (frag & 0x2000) !== 0 || s.fragmentOffset !== 0;
  s.l4Offset = o + hl;
  s.end = o + total;
  return true;
};

const scanIpv6 = (d: Uint8Array, s: FrameScan, o: number, stop: number): boolean => {
  if (stop - o < 40) return fail(s, 'truncated-ipv6', o);
  if (d[o] >>> 4 !== 6) return fail(s, 'bad-ip-version', o);
  const end = o + 40 + ((d[o + 4] << 8) | d[o + 5]);
  if (end > stop) return fail(s, 'truncated-ipv6', o);
  let next = d[o + 6];
  let pos = o + 40;
  let seen = 0;
  let fragment = false;
  let fragOffset = 0;
  let more = false;
  for (let bit = extensionBit(next); bit !== 0 && !(fragment && fragOffset !== 0);) {
    if (next === 0 && seen !== 0) return fail(s, 'misplaced-hop-by-hop', pos);
    if (pos + 8 > end) return fail(s, 'truncated-ipv6-extension', pos);
    const length = next === 44 ? 8 : next === 51 ? (d[pos + 1] + 2) * 4 : (d[pos + 1] + 1) * 8;
    if (pos + length > end) return fail(s, 'truncated-ipv6-extension', pos);
    if (next === 44) {
      fragment = true;
      fragOffset = ((d[pos + 2] << 8) | d[pos + 3]) & 0xfff8;
      more = (d[pos + 3] & 1) !== 0;
    }
    seen |= bit;
    next = d[pos];
    pos += length;
    bit = extensionBit(next);
  }
  s.l3 = L3_IPV6;
  s.l3Offset = o;
  s.l3HeaderLength = 40;
  s.protocol = next;
  s.extensions = seen;
  s.fragmentOffset = fragment ? fragOffset : 0;
  s.isFragment = fragment && (more || fragOffset !== 0);
  s.l4Offset = pos;
  s.end = end;
  return true;
};

/** The transport checks of `parseTransport`: sets `l4` (0 when there is no header to read). */
export const scanTransport = (d: Uint8Array, s: FrameScan): boolean => {
  s.l4 = 0;
  if (s.fragmentOffset !== 0) return true;
  const off = s.l4Offset;
  const avail = s.end - off;
  const frag = s.isFragment;
  const proto = s.protocol;
  if (proto === 17) {
    if (avail < 8) return frag || fail(s, 'truncated-udp', off);
    const length = (d[off + 4] << 8) | d[off + 5];
    if (!frag && length < 8) return fail(s, 'bad-udp-length', off);
    if (!frag && length > avail) return fail(s, 'truncated-udp', off);
  } else if (proto === 6) {
    if (avail < 20) return frag || fail(s, 'truncated-tcp', off);
    const hl = (d[off + 12] >>> 4) * 4;
    if (hl < 20) return fail(s, 'bad-tcp-header-length', off);
    if (hl > avail) return frag || fail(s, 'truncated-tcp', off);
  } else if (proto === (s.l3 === L3_IPV4 ? 1 : 58)) {
    if (avail < 8) return frag || fail(s, 'truncated-icmp', off);
  } else {
    s.l4 = L4_OTHER;
    return true;
  }
  s.l4 = proto;
  return true;
};

/**
 * The common case, small enough to be inlined where frames are scanned in a loop: untagged
 * Ethernet, IPv4 without options, whole (not a fragment), UDP or TCP with sound lengths. False
 * for anything else (the general walk then gives the same answer for it).
 */
const scanSimple = (
  d: Uint8Array,
  base: number,
  len: number,
  s: FrameScan,
  networkOnly: boolean,
): boolean => {
  if (len < 54 || d[base + 12] !== 0x08 || d[base + 13] !== 0 || d[base + 14] !== 0x45)
    return false;
  const o = base + 14;
  const total = (d[o + 2] << 8) | d[o + 3];
  if (total < 40 || total > len - 14 || (d[o + 6] & 0x3f) !== 0 || d[o + 7] !== 0) return false;
  const proto = d[o + 9];
  const t = o + 20;
  if (proto === 17) {
    const ul = (d[t + 4] << 8) | d[t + 5];
    if (ul < 8 || ul > total - 20) return false;
  } else if (proto !== 6 || d[t + 12] >>> 4 < 5 || (d[t + 12] >>> 4) * 4 > total - 20) return false;
  // The fields all such frames share are written once, until a general scan changes them.
  if (!s.simple) {
    s.simple = true;
    s.tags = 0;
    s.ethernet = true;
    s.etherType = 0x0800;
    s.l3 = L3_IPV4;
    s.l3HeaderLength = 20;
    s.extensions = 0;
    s.isFragment = false;
    s.fragmentOffset = 0;
  }
  s.base = base;
  s.len = len;
  s.l3Offset = o;
  s.protocol = proto;
  s.l4Offset = t;
  s.end = o + total;
  s.l4 = networkOnly ? 0 : proto;
  return true;
};

/**
 * Scans the frame `d[base .. base + len)` into `s`, down to the network layer only (as
 * `parseNetwork`) when `networkOnly`. Returns false for a malformed frame (`s.reason`,
 * `s.reasonOffset` say why, as `parsePacket` would). Never throws, never reads outside the frame.
 */
export const scanFrame = (
  d: Uint8Array,
  base: number,
  len: number,
  mode: LinkMode,
  s: FrameScan,
  networkOnly?: boolean,
): boolean =>
  (mode === 'ethernet' && scanSimple(d, base, len, s, networkOnly === true)) ||
  scanGeneral(d, base, len, mode, s, networkOnly === true);

const scanGeneral = (
  d: Uint8Array,
  base: number,
  len: number,
  mode: LinkMode,
  s: FrameScan,
  networkOnly: boolean,
): boolean => {
  const stop = base + len;
  s.simple = false;
  s.base = base;
  s.len = len;
  s.l3 = 0;
  s.l4 = 0;
  s.tags = 0;
  s.isFragment = false;
  s.fragmentOffset = 0;
  let at: number;
  let type: number;
  if (mode === 'ethernet') {
    s.ethernet = true;
    if (len < 14) return fail(s, 'truncated-ethernet', base);
    let off = base + 12;
    type = (d[off] << 8) | d[off + 1];
    while (isTpid(type)) {
      if (stop < off + 8) return fail(s, 'truncated-vlan', off);
      s.tags++;
      off += 4;
      type = (d[off] << 8) | d[off + 1];
    }
    s.etherType = type;
    at = off + 2;
    if (type === 0x0800) {
      if (!scanIpv4(d, s, at, stop)) return false;
    } else if (type === 0x86dd) {
      if (!scanIpv6(d, s, at, stop)) return false;
    } else {
      if (type === 0x0806) {
        if (stop < at + 8) return fail(s, 'truncated-arp', at);
        if (stop < at + 8 + 2 * (d[at + 4] + d[at + 5])) return fail(s, 'truncated-arp', at);
        s.l3 = L3_ARP;
        s.l3Offset = at;
      }
      return true;
    }
  } else {
    s.ethernet = false;
    if (len === 0) return fail(s, 'empty-ip', base);
    const version = d[base] >>> 4;
    if (version === 4) {
      s.etherType = 0x0800;
      if (!scanIpv4(d, s, base, stop)) return false;
    } else if (version === 6) {
      s.etherType = 0x86dd;
      if (!scanIpv6(d, s, base, stop)) return false;
    } else return fail(s, 'bad-ip-version', base);
  }
  return networkOnly || scanTransport(d, s);
};
