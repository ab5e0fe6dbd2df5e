import type { OperatorFunction } from 'rxjs';
import { BurstIndex, burstOperator } from './burst-out';
import { isTaggedAt } from './vlan';
import type { Burst } from '../burst';

/**
 * {@link popVlan} on every packet of each burst, in place: the MACs of a tagged packet move 4
 * bytes up and its entry then starts 4 bytes later (a new index over the same `data`; the same
 * burst when no packet was tagged). Untagged packets are left as they are.
 * @example
 * iface.rxBursts(0).pipe(popVlanBurst()).subscribe(iface.txBursts(0));
 */
export const popVlanBurst = (): OperatorFunction<Burst, Burst> =>
  burstOperator(() => {
    const index = new BurstIndex();
    return (b) => {
      const n = b.count;
      const d = b.data;
      const offsets = b.offsets;
      const lengths = b.lengths;
      let i = 0;
      while (i < n && !isTaggedAt(d, offsets[i], lengths[i])) i++;
      if (i === n) return b;
      const w = index.take(n);
      const O = index.offsets;
      const L = index.lengths;
      O.set(offsets.subarray(0, i), w);
      L.set(lengths.subarray(0, i), w);
      for (; i < n; i++) {
        const o = offsets[i];
        const l = lengths[i];
        if (isTaggedAt(d, o, l)) {
          d.copyWithin(o + 4, o, o + 12);
          O[w + i] = o + 4;
          L[w + i] = l - 4;
        } else {
          O[w + i] = o;
          L[w + i] = l;
        }
      }
      return index.commit(b.queue, d, w, n);
    };
  });
