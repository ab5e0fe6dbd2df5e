import type { OperatorFunction } from 'rxjs';
import { BurstData, BurstIndex, burstOperator } from './burst-out';
import { checkVid, isTaggedAt, tci, type VlanOptions } from './vlan';
import type { Burst } from '../burst';

/** Copies `n` bytes: a loop for small packets (a `subarray` view per `set` costs more). */
const copy = (src: Uint8Array, from: number, dst: Uint8Array, to: number, n: number): void => {
  if (n > 256) dst.set(src.subarray(from, from + n), to);
  else for (let k = 0; k < n; k++) dst[to + k] = src[from + k];
};

/**
 * Copies the burst into fresh memory with room for a 4-byte tag after the MACs of every packet
 * that `wants` one (written by `tag`), the others copied as they are. A burst's packets lie
 * back to back, so a longer packet cannot grow in place: this is the one copy (see
 * docs/architecture.md#operators), into slabs that are never reused.
 */
export const copyWithTags = (
  b: Burst,
  index: BurstIndex,
  out: BurstData,
  wants: (d: Uint8Array, o: number, l: number) => boolean,
  tag: (dst: Uint8Array, at: number) => void,
): Burst => {
  const n = b.count;
  const d = b.data;
  const offsets = b.offsets;
  const lengths = b.lengths;
  out.reserve(b.bytes + 4 * n);
  const w = index.take(n);
  const dst = out.data;
  const O = index.offsets;
  const L = index.lengths;
  const at0 = out.used;
  let at = at0;
  let contiguous = true;
  for (let i = 0; i < n; i++) {
    const o = offsets[i];
    const l = lengths[i];
    if (i > 0 && o !== offsets[i - 1] + lengths[i - 1]) contiguous = false;
    O[w + i] = at;
    L[w + i] = wants(d, o, l) ? l + 4 : l;
    at += L[w + i];
  }
  if (contiguous && n > 0) {
    // Packets back to back (as rx lays them out): one copy of the lot, then each packet moved
    // up to its place, last first (places only move up), with memmove (copyWithin): no view
    // and no byte loop per packet.
    const o0 = offsets[0];
    dst.set(d.subarray(o0, offsets[n - 1] + lengths[n - 1]), at0);
    for (let i = n - 1; i >= 0; i--) {
      const from = at0 + offsets[i] - o0;
      const to = O[w + i];
      const l = lengths[i];
      if (L[w + i] === l) {
        if (to !== from) dst.copyWithin(to, from, from + l);
        continue;
      }
      dst.copyWithin(to + 16, from + 12, from + l);
      dst.copyWithin(to, from, from + 12);
      tag(dst, to + 12);
    }
  } else
    for (let i = 0; i < n; i++) {
      const o = offsets[i];
      const l = lengths[i];
      const to = O[w + i];
      if (L[w + i] === l) copy(d, o, dst, to, l);
      else {
        copy(d, o, dst, to, 12);
        tag(dst, to + 12);
        copy(d, o + 12, dst, to + 16, l - 12);
      }
    }
  out.used = at;
  return index.commit(b.queue, dst, w, n);
};

/** Writes a tag (TPID, TCI) at `at`. */
export const tagWriter =
  (tpid: number, word: number) =>
  (dst: Uint8Array, at: number): void => {
    dst[at] = tpid >>> 8;
    dst[at + 1] = tpid & 0xff;
    dst[at + 2] = word >>> 8;
    dst[at + 3] = word & 0xff;
  };

/**
 * {@link pushVlan} on every packet of each burst (outermost tag, TPID 0x8100 or `tpid`): emits
 * a NEW burst, the packets copied 4 bytes longer into fresh memory (never reused); packets under 12
 * bytes are copied unchanged. Throws a `RangeError` at once on a bad id.
 * @example
 * iface.rxBursts(0).pipe(pushVlanBurst(100)).subscribe(iface.txBursts(0));
 */
export const pushVlanBurst = (
  vid: number,
  options: VlanOptions = {},
): OperatorFunction<Burst, Burst> => {
  checkVid(vid);
  const tag = tagWriter(options.tpid ?? 0x8100, tci(vid, options.pcp ?? 0, options.dei ?? false));
  const wants = (_d: Uint8Array, _o: number, l: number): boolean => l >= 12;
  return burstOperator(() => {
    const index = new BurstIndex();
    const out = new BurstData();
    return (b) => copyWithTags(b, index, out, wants, tag);
  });
};

/** Whether a burst packet gets a tag pushed by {@link setVlanBurst} (untagged, 12 bytes or more). */
export const untaggedAt = (d: Uint8Array, o: number, l: number): boolean =>
  l >= 12 && !isTaggedAt(d, o, l);
