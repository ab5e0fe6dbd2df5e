import type { OperatorFunction } from 'rxjs';
import { burstOperator } from './burst-out';
import type { Burst } from '../burst';

/**
 * {@link swapMacs} on every packet of each burst, in place, and emits the same burst (packets
 * under 12 bytes are left alone).
 * @example
 * iface.rxBursts(0).pipe(swapMacsBurst()).subscribe(iface.txBursts(0)); // a reflector
 */
export const swapMacsBurst = (): OperatorFunction<Burst, Burst> =>
  burstOperator(() => (b) => {
    const d = b.data;
    const offsets = b.offsets;
    const lengths = b.lengths;
    for (let i = 0; i < b.count; i++) {
      if (lengths[i] < 12) continue;
      const o = offsets[i];
      for (let k = o; k < o + 6; k++) {
        const t = d[k];
        d[k] = d[k + 6];
        d[k + 6] = t;
      }
    }
    return b;
  });
