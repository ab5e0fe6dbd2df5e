import { bytesEqual, setU16 } from './bytes';
import { internetChecksum, updateChecksum } from './checksum';
import { verifyL4Checksum } from './l4-checksum';
import { owns, type ResponderConfig } from './responder-config';
import type { ArpLayer, IcmpLayer, Ipv4Layer, Ipv6Layer, ParsedPacket } from './packet';

/** Whether an Ethernet frame is for us: our MAC, or a group (broadcast / multicast) address. */
export const forUs = (p: ParsedPacket, mac: Uint8Array | undefined): boolean =>
  !p.ethernet || !mac || (p.ethernet.dst[0] & 1) === 1 || bytesEqual(p.ethernet.dst, 0, mac, 0, 6);

/** Copies the frame and readdresses its Ethernet header back to the sender. */
const turnAround = (p: ParsedPacket, mac: Uint8Array | undefined): Uint8Array => {
  const out = p.frame.slice();
  if (p.ethernet && mac) {
    out.set(p.ethernet.src, 0);
    out.set(mac, 6);
  }
  return out;
};

/**
 * The ARP reply to an Ethernet/IPv4 who-has for one of our addresses (a copy of the request,
 * same length and VLAN tags), else `undefined`. Announcements (sender = target) get none.
 */
export const arpReply = (
  p: ParsedPacket,
  arp: ArpLayer,
  cfg: ResponderConfig,
): Uint8Array | undefined => {
  const mac = cfg.mac;
  if (!mac || arp.op !== 1 || arp.htype !== 1 || arp.ptype !== 0x0800) return undefined;
  if (arp.hlen !== 6 || arp.plen !== 4 || !owns(cfg.v4, arp.tpa)) return undefined;
  if (bytesEqual(arp.spa, 0, arp.tpa, 0, 4)) return undefined;
  const out = turnAround(p, mac);
  const o = arp.offset;
  setU16(out, o + 6, 2);
  out.set(mac, o + 8);
  out.set(arp.tpa, o + 14);
  out.set(arp.sha, o + 18);
  out.set(arp.spa, o + 24);
  return out;
};

/** The echo reply to an unfragmented ICMP echo request (right checksum) to one of our addresses. */
export const echoReply4 = (
  p: ParsedPacket,
  ip: Ipv4Layer,
  icmp: IcmpLayer,
  cfg: ResponderConfig,
): Uint8Array | undefined => {
  if (icmp.type !== 8 || icmp.code !== 0 || ip.isFragment || !owns(cfg.v4, ip.dst))
    return undefined;
  if (verifyL4Checksum(p) !== true) return undefined;
  const out = turnAround(p, cfg.mac);
  out.set(ip.dst, ip.offset + 12);
  out.set(ip.src, ip.offset + 16);
  out[ip.offset + 8] = 64;
  setU16(out, ip.offset + 10, 0);
  setU16(out, ip.offset + 10, internetChecksum(out, ip.offset, ip.headerLength));
  out[icmp.offset] = 0;
  setU16(out, icmp.offset + 2, updateChecksum(icmp.checksum, 0x0800, 0x0000));
  return out;
};

/** The echo reply to an unfragmented, unrouted ICMPv6 echo request to one of our addresses. */
export const echoReply6 = (
  p: ParsedPacket,
  ip: Ipv6Layer,
  icmp: IcmpLayer,
  cfg: ResponderConfig,
): Uint8Array | undefined => {
  if (icmp.type !== 128 || icmp.code !== 0 || ip.isFragment || !owns(cfg.v6, ip.dst))
    return undefined;
  if (ip.extensions.some((e) => e.type === 43 || e.type === 44)) return undefined;
  if (verifyL4Checksum(p) !== true) return undefined;
  const out = turnAround(p, cfg.mac);
  out.set(ip.dst, ip.offset + 8);
  out.set(ip.src, ip.offset + 24);
  out[ip.offset + 7] = 64;
  out[icmp.offset] = 129;
  // Swapping the addresses leaves the pseudo-header sum as it was; only the type word changes.
  setU16(out, icmp.offset + 2, updateChecksum(icmp.checksum, 0x8000, 0x8100));
  return out;
};
