import { setU16 } from './bytes';
import { setL4Checksum, verifyL4Checksum } from './l4-checksum';
import { owns, type ResponderConfig } from './responder-config';
import type { IcmpLayer, Ipv6Layer, ParsedPacket } from './packet';

const ALL_NODES = Uint8Array.of(0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
const ALL_NODES_MAC = Uint8Array.of(0x33, 0x33, 0, 0, 0, 1);

/** The source link-layer address option of an NS (null: malformed options). */
const sourceLinkLayer = (
  frame: Uint8Array,
  from: number,
  end: number,
): Uint8Array | undefined | null => {
  let found: Uint8Array | undefined;
  for (let at = from; at < end;) {
    const len = (frame[at + 1] ?? 0) * 8;
    if (len === 0 || at + len > end) return null;
    if (frame[at] === 1 && len === 8) found = frame.subarray(at + 2, at + 8);
    at += len;
  }
  return found;
};

/**
 * The Neighbor Advertisement (RFC 4861 §7.2.4) answering a valid Neighbor Solicitation for one
 * of our IPv6 addresses: solicited and override flags, our MAC as target link-layer address,
 * hop limit 255, to the solicitor (or to all-nodes for a DAD probe), with the request's VLAN
 * tags. A new frame; `undefined` when the NS is not for us or not valid.
 */
export const neighborAdvertisement = (
  p: ParsedPacket,
  ip: Ipv6Layer,
  icmp: IcmpLayer,
  cfg: ResponderConfig,
): Uint8Array | undefined => {
  const { mac } = cfg;
  const eth = p.ethernet;
  const f = p.frame;
  const t = icmp.offset + 8;
  if (!mac || !eth || icmp.type !== 135 || icmp.code !== 0 || ip.hopLimit !== 255) return undefined;
  if (ip.isFragment || icmp.end - icmp.offset < 24 || f[t] === 0xff) return undefined;
  const target = f.subarray(t, t + 16);
  if (!owns(cfg.v6, target) || verifyL4Checksum(p) !== true) return undefined;
  const slla = sourceLinkLayer(f, t + 16, icmp.end);
  const dad = ip.src.every((b) => b === 0);
  if (slla === null || (dad && slla)) return undefined;
  const l3 = eth.payloadOffset;
  const out = new Uint8Array(l3 + 72);
  out.set(f.subarray(0, l3)); // MACs, tags, EtherType
  out.set(dad ? ALL_NODES_MAC : (slla ?? eth.src), 0);
  out.set(mac, 6);
  out[l3] = 0x60;
  setU16(out, l3 + 4, 32);
  out[l3 + 6] = 58;
  out[l3 + 7] = 255;
  out.set(target, l3 + 8);
  out.set(dad ? ALL_NODES : ip.src, l3 + 24);
  const na = l3 + 40;
  out[na] = 136;
  out[na + 4] = dad ? 0x20 : 0x60; // S (solicited) unless DAD, O (override)
  out.set(target, na + 8);
  out[na + 24] = 2; // target link-layer address option, 8 bytes
  out[na + 25] = 1;
  out.set(mac, na + 26);
  return setL4Checksum(out);
};
