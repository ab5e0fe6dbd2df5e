import { setU16 } from './bytes';
import { internetChecksum, onesComplementSum } from './checksum';
import { setIpv4Scanned } from './checksum-scanned';
import { FrameScan, L3_IPV4, scanFrame } from './frame-scan';
import { parseNetwork, parsePacket } from './parse-packet';
import type { Ipv4Layer, LinkMode, ParsedPacket } from './packet';

/** The scan of the set-checksum helpers (nothing they call can re-enter them). */
const scratch = new FrameScan();

/** A frame to parse (with its link mode), or a packet already parsed. */
export type ChecksumTarget = Uint8Array | ParsedPacket;

/** The parsed form of a target (undefined when malformed), to the network layer or deeper. */
export const parsedOf = (
  target: ChecksumTarget,
  mode: LinkMode,
  networkOnly = false,
): ParsedPacket | undefined => {
  if (!(target instanceof Uint8Array)) return target;
  const p = (networkOnly ? parseNetwork : parsePacket)(target, mode);
  return p.kind === 'packet' ? p : undefined;
};

const ipv4Of = (target: ChecksumTarget, mode: LinkMode): [Uint8Array, Ipv4Layer] | undefined => {
  const p = parsedOf(target, mode, true);
  return p?.network?.kind === 'ipv4' ? [p.frame, p.network] : undefined;
};

const compute = (frame: Uint8Array, ip: Ipv4Layer): number =>
  internetChecksum(
    frame,
    ip.offset + 12,
    ip.headerLength - 12,
    onesComplementSum(frame, ip.offset, 10),
  );

/**
 * The header checksum an IPv4 packet should carry (computed with its checksum field taken as
 * zero), or `undefined` if the frame is not a well-formed IPv4 packet.
 */
export const ipv4Checksum = (
  target: ChecksumTarget,
  mode: LinkMode = 'ethernet',
): number | undefined => {
  const found = ipv4Of(target, mode);
  return found && compute(...found);
};

/**
 * Whether the IPv4 header checksum is right; `undefined` if the frame is not IPv4.
 * @example
 * iface.rx().pipe(filter((f) => verifyIpv4Checksum(f) !== false))
 */
export const verifyIpv4Checksum = (
  target: ChecksumTarget,
  mode: LinkMode = 'ethernet',
): boolean | undefined => {
  const found = ipv4Of(target, mode);
  if (!found) return undefined;
  const [frame, ip] = found;
  return onesComplementSum(frame, ip.offset, ip.headerLength) === 0xffff;
};

/** Writes the right IPv4 header checksum in place and returns the frame (unchanged if not IPv4). */
export const setIpv4Checksum = (
  target: ChecksumTarget,
  mode: LinkMode = 'ethernet',
): Uint8Array => {
  if (target instanceof Uint8Array) {
    // From one scan of the bytes, as setChecksumsBurst does: no parse result made.
    const s = scratch;
    if (scanFrame(target, 0, target.length, mode, s, true) && s.l3 === L3_IPV4)
      setIpv4Scanned(target, s);
    return target;
  }
  const frame = target.frame;
  const found = ipv4Of(target, mode);
  if (found) setU16(frame, found[1].offset + 10, compute(...found));
  return frame;
};
