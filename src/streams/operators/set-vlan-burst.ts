import type { OperatorFunction } from 'rxjs';
import { BurstData, BurstIndex, burstOperator } from './burst-out';
import { copyWithTags, tagWriter, untaggedAt } from './push-vlan-burst';
import { checkVid, isTaggedAt, tci, type VlanOptions } from './vlan';
import type { Burst } from '../burst';

/**
 * {@link setVlan} on every packet of each burst: the outer tag of tagged packets is rewritten
 * IN PLACE (`pcp` / `dei` kept unless given) and the same burst emitted; when some packets are
 * untagged, they get a tag pushed, which makes a NEW burst (every packet copied, see
 * {@link pushVlanBurst}). Throws a `RangeError` at once on a bad id.
 * @example
 * iface.rxBursts(0).pipe(setVlanBurst(200)).subscribe(iface.txBursts(0));
 */
export const setVlanBurst = (
  vid: number,
  options: VlanOptions = {},
): OperatorFunction<Burst, Burst> => {
  checkVid(vid);
  const push = tagWriter(options.tpid ?? 0x8100, tci(vid, options.pcp ?? 0, options.dei ?? false));
  return burstOperator(() => {
    const index = new BurstIndex();
    const out = new BurstData();
    return (b) => {
      const d = b.data;
      const offsets = b.offsets;
      const lengths = b.lengths;
      let untagged = false;
      for (let i = 0; i < b.count; i++) {
        const o = offsets[i];
        if (!isTaggedAt(d, o, lengths[i])) {
          untagged ||= lengths[i] >= 12;
          continue;
        }
        const old = (d[o + 14] << 8) | d[o + 15];
        const word = tci(vid, options.pcp ?? old >>> 13, options.dei ?? (old & 0x1000) !== 0);
        d[o + 14] = word >>> 8;
        d[o + 15] = word & 0xff;
      }
      return untagged ? copyWithTags(b, index, out, untaggedAt, push) : b;
    };
  });
};
