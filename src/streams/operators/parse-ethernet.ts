import { u16 } from './bytes';
import { malformed, type EthernetLayer, type MalformedPacket, type VlanTag } from './packet';

/** TPIDs taken as VLAN tags: 802.1Q, 802.1ad, and the pre-standard QinQ values. */
export const VLAN_TPIDS: readonly number[] = [0x8100, 0x88a8, 0x9100, 0x9200];

const NO_TAGS: readonly VlanTag[] = Object.freeze([]);

/**
 * Parses the Ethernet header and any stack of VLAN tags (outermost first). Never throws: a frame
 * shorter than its header (or a tag cut short) comes back as a {@link MalformedPacket}.
 * @example
 * const eth = parseEthernet(frame);
 * if (eth.kind === 'ethernet') console.log(eth.etherType.toString(16), eth.tags.map((t) => t.vid));
 */
export const parseEthernet = (frame: Uint8Array): EthernetLayer | MalformedPacket => {
  if (frame.length < 14) return malformed(frame, 'truncated-ethernet', 0);
  let off = 12;
  let type = u16(frame, off);
  let tags = NO_TAGS;
  while (VLAN_TPIDS.includes(type)) {
    if (frame.length < off + 8) return malformed(frame, 'truncated-vlan', off);
    const tci = u16(frame, off + 2);
    const tag = {
      offset: off,
      tpid: type,
      pcp: tci >>> 13,
      dei: (tci & 0x1000) !== 0,
      vid: tci & 0xfff,
    };
    tags = tags === NO_TAGS ? [tag] : [...tags, tag];
    off += 4;
    type = u16(frame, off);
  }
  return {
    kind: 'ethernet',
    offset: 0,
    dst: frame.subarray(0, 6),
    src: frame.subarray(6, 12),
    tags,
    etherType: type,
    payloadOffset: off + 2,
  };
};
