import type { OperatorFunction } from 'rxjs';
import { BurstIndex, Kept, burstOperator, keptOf } from './burst-out';
import { FrameScan, scanFrame } from './frame-scan';
import { decrementScanned } from './ttl';
import { sinkCallback } from './sink';
import type { DecrementTtlOptions } from './decrement-ttl-or-drop';
import type { Burst } from '../burst';

/**
 * {@link decrementTtlOrDrop} on whole bursts: decrements the IPv4 TTL (with the incremental
 * header checksum update, RFC 1624) or the IPv6 hop limit of every packet IN PLACE; packets
 * whose TTL expires, and packets that are not well-formed IP, are dropped (to `onDrop`, a view
 * each, if given). Emits the same burst when none is dropped, else a new index over the same
 * `data`.
 * @example
 * iface.rxBursts(0).pipe(decrementTtlBurst(), swapMacsBurst()).subscribe(iface.txBursts(0));
 */
export const decrementTtlBurst = (
  options: DecrementTtlOptions = {},
): OperatorFunction<Burst, Burst> => {
  const mode = options.mode ?? 'ethernet';
  const onDrop = sinkCallback(options.onDrop);
  return burstOperator(() => {
    const s = new FrameScan();
    const index = new BurstIndex();
    return (b) => {
      const n = b.count;
      const d = b.data;
      if (d.length === 0) return undefined;
      const offsets = b.offsets;
      const lengths = b.lengths;
      let kept: Kept | undefined;
      for (let i = 0; i < n; i++) {
        const o = offsets[i];
        const l = lengths[i];
        if (scanFrame(d, o, l, mode, s, true) && decrementScanned(d, s)) kept?.keep(o, l);
        else {
          kept ??= new Kept(index, b, i);
          onDrop?.(d.subarray(o, o + l));
        }
      }
      return keptOf(b, kept);
    };
  });
};
