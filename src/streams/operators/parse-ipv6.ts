import { u16, u32 } from './bytes';
import { malformed, type Ipv6Extension, type Ipv6Layer, type MalformedPacket } from './packet';

/** Hop-by-hop, routing, fragment, destination options, AH, mobility, HIP, shim6. */
const EXTENSIONS = new Set([0, 43, 44, 60, 51, 135, 139, 140]);
const FRAGMENT = 44;
const AH = 51;

/**
 * Parses an IPv6 header at `offset` and walks its extension headers (hop-by-hop, routing,
 * fragment, destination options, AH, …) to the upper protocol, which becomes `protocol` /
 * `payloadOffset`. A fragment header sets `isFragment` & co.; behind a non-first fragment the
 * walk stops (what follows is not headers). Never throws: truncation and a hop-by-hop header
 * anywhere but first give a {@link MalformedPacket}.
 */
export const parseIpv6 = (frame: Uint8Array, offset: number): Ipv6Layer | MalformedPacket => {
  if (frame.length - offset < 40) return malformed(frame, 'truncated-ipv6', offset);
  if (frame[offset] >>> 4 !== 6) return malformed(frame, 'bad-ip-version', offset);
  const payloadLength = u16(frame, offset + 4);
  const end = offset + 40 + payloadLength;
  if (end > frame.length) return malformed(frame, 'truncated-ipv6', offset);
  const nextHeader = frame[offset + 6];
  const extensions: Ipv6Extension[] = [];
  let next = nextHeader;
  let pos = offset + 40;
  let fragment: { offset: number; more: boolean; id: number } | undefined;
  while (EXTENSIONS.has(next) && !(fragment && fragment.offset !== 0)) {
    if (next === 0 && extensions.length > 0) return malformed(frame, 'misplaced-hop-by-hop', pos);
    if (pos + 8 > end) return malformed(frame, 'truncated-ipv6-extension', pos);
    const length =
      next === FRAGMENT ? 8 : next === AH ? (frame[pos + 1] + 2) * 4 : (frame[pos + 1] + 1) * 8;
    if (pos + length > end) return malformed(frame, 'truncated-ipv6-extension', pos);
    if (next === FRAGMENT) {
      const fo = u16(frame, pos + 2);
      fragment = { offset: fo & 0xfff8, more: (fo & 1) !== 0, id: u32(frame, pos + 4) };
    }
    extensions.push({ type: next, offset: pos, length });
    next = frame[pos];
    pos += length;
  }
  const vtf = u32(frame, offset);
  return {
    kind: 'ipv6',
    offset,
    trafficClass: (vtf >>> 20) & 0xff,
    flowLabel: vtf & 0xfffff,
    payloadLength,
    nextHeader,
    hopLimit: frame[offset + 7],
    src: frame.subarray(offset + 8, offset + 24),
    dst: frame.subarray(offset + 24, offset + 40),
    extensions,
    protocol: next,
    payloadOffset: pos,
    end,
    isFragment: fragment !== undefined && (fragment.more || fragment.offset !== 0),
    fragmentOffset: fragment?.offset ?? 0,
    moreFragments: fragment?.more ?? false,
    fragmentId: fragment?.id,
  };
};
