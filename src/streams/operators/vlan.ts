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

/** Bytes of the slabs pushed frames are cut from. */
const PUSH_SLAB = 64 * 1024;
let pushSlab = new ArrayBuffer(0);
let pushUsed = 0;

/**
 * `n` bytes of fresh memory, as a view of a slab that is never reused (a full one is replaced;
 * a frame kept keeps its slab alive, as a kept rx packet does): no allocation per frame, which
 * for a frame over 64 bytes means a backing store of its own (malloc, and GC work to free it).
 */
const freshBytes = (n: number): Uint8Array => {
  if (n > PUSH_SLAB / 4) return new Uint8Array(n);
  if (pushUsed + n > pushSlab.byteLength) {
    pushSlab = new ArrayBuffer(PUSH_SLAB);
    pushUsed = 0;
  }
  const out = new Uint8Array(pushSlab, pushUsed, n);
  pushUsed += n;
  return out;
};

/**
 * Returns a NEW frame with a tag pushed outermost (after the MACs): a tag adds 4 bytes, so it
 * cannot be done in place. The new frame is a view of its own bytes in a shared slab (its
 * `buffer` is larger than it). Frames under 12 bytes are returned as they are.
 * @example
 * map((f: Uint8Array) => pushVlan(f, 100, { pcp: 5 }))
 */
export const pushVlan = (frame: Uint8Array, vid: number, options: VlanOptions = {}): Uint8Array => {
  checkVid(vid);
  const n = frame.length;
  if (n < 12) return frame;
  const out = freshBytes(n + 4);
  for (let k = 0; k < 12; k++) out[k] = frame[k];
  const tpid = options.tpid ?? 0x8100;
  const t = tci(vid, options.pcp ?? 0, options.dei ?? false);
  out[12] = tpid >>> 8;
  out[13] = tpid & 0xff;
  out[14] = t >>> 8;
  out[15] = t & 0xff;
  // A loop for small frames: a `subarray` view for `set` costs more than the copy.
  if (n > 256) out.set(frame.subarray(12), 16);
  else for (let k = 12; k < n; k++) out[k + 4] = frame[k];
  return out;
};

/**
 * Removes the outermost tag IN PLACE: the MACs move 4 bytes up and the result is a view of
 * the same memory from byte 4 (no copy of the payload). Untagged frames are returned as they
 * are.
 */
export const popVlan = (frame: Uint8Array): Uint8Array => {
  if (!isTaggedAt(frame, 0, frame.length)) return frame;
  // Last byte first: the ranges overlap.
  for (let k = 11; k >= 0; k--) frame[k + 4] = frame[k];
  // A view made from the buffer costs half of `subarray` (no species lookup; docs/tuning.md);
  // a subclass (a Buffer) gets its own kind back, as `subarray` gives.
  if (frame.constructor !== Uint8Array) return frame.subarray(4);
  return new Uint8Array(frame.buffer, frame.byteOffset + 4, frame.length - 4);
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
