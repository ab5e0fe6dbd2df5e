import { setU16, u16 } from './bytes';
import { VLAN_TPIDS } from './parse-ethernet';

/** Tag fields for {@link pushVlan} / {@link setVlan}. */
export interface VlanOptions {
  /** Priority code point 0..7 (push: default 0; set: kept when omitted). */
  readonly pcp?: number;
  /** Drop eligible indicator (push: default false; set: kept when omitted). */
  readonly dei?: boolean;
  /** TPID of a pushed tag: 0x8100 (default) or 0x88a8 for an 802.1ad S-tag. */
  readonly tpid?: number;
}

/** Throws a `RangeError` unless `vid` is a VLAN id (0..4095). */
export const checkVid = (vid: number): void => {
  if (!Number.isInteger(vid) || vid < 0 || vid > 4095) throw new RangeError(`VLAN id ${vid}`);
};

/** The tag control information word. */
export const tci = (vid: number, pcp: number, dei: boolean): number =>
  ((pcp & 7) << 13) | (dei ? 0x1000 : 0) | vid;

/** Whether the frame carries a VLAN tag (outermost TPID at byte 12). */
export const isTagged = (frame: Uint8Array): boolean =>
  frame.length >= 18 && VLAN_TPIDS.includes(u16(frame, 12));

/** {@link isTagged} for the packet `d[o .. o + len)` of a burst. */
export const isTaggedAt = (d: Uint8Array, o: number, len: number): boolean => {
  if (len < 18) return false;
  const t = (d[o + 12] << 8) | d[o + 13];
  return t === 0x8100 || t === 0x88a8 || t === 0x9100 || t === 0x9200;
};

/**
 * Returns a NEW frame with a tag pushed outermost (after the MACs): a tag adds 4 bytes, so it
 * cannot be done in place. Frames under 12 bytes are returned as they are.
 * @example
 * map((f: Uint8Array) => pushVlan(f, 100, { pcp: 5 }))
 */
export const pushVlan = (frame: Uint8Array, vid: number, options: VlanOptions = {}): Uint8Array => {
  checkVid(vid);
  if (frame.length < 12) return frame;
  const out = new Uint8Array(frame.length + 4);
  out.set(frame.subarray(0, 12));
  setU16(out, 12, options.tpid ?? 0x8100);
  setU16(out, 14, tci(vid, options.pcp ?? 0, options.dei ?? false));
  out.set(frame.subarray(12), 16);
  return out;
};

/**
 * Removes the outermost tag IN PLACE: the MACs move 4 bytes up and the result is
 * `frame.subarray(4)`, a view of the same memory (no copy of the payload). Untagged frames are
 * returned as they are.
 */
export const popVlan = (frame: Uint8Array): Uint8Array => {
  if (!isTagged(frame)) return frame;
  frame.copyWithin(4, 0, 12);
  return frame.subarray(4);
};

/**
 * Sets the outermost tag's VLAN id (and `pcp` / `dei` if given) IN PLACE and returns the frame;
 * an untagged frame gets a tag pushed, which returns a NEW frame (see {@link pushVlan}).
 * @example
 * map((f: Uint8Array) => setVlan(f, 200))
 */
export const setVlan = (frame: Uint8Array, vid: number, options: VlanOptions = {}): Uint8Array => {
  checkVid(vid);
  if (!isTagged(frame)) return pushVlan(frame, vid, options);
  const old = u16(frame, 14);
  setU16(frame, 14, tci(vid, options.pcp ?? old >>> 13, options.dei ?? (old & 0x1000) !== 0));
  return frame;
};
