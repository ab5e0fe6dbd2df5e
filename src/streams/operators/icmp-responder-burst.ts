import { Observable, type OperatorFunction } from 'rxjs';
import { BurstIndex } from './burst-out';
import { replierAt, type IcmpResponderOptions } from './icmp-responder';
import { sinkCallback, type Sink } from './sink';
import type { Burst } from '../burst';

/** Options of {@link icmpResponderBurst}. */
export interface IcmpResponderBurstOptions extends Omit<IcmpResponderOptions, 'passThrough'> {
  /**
   * Gets, per burst, the packets that got no reply, as a burst over the same memory (the same
   * burst when none did; nothing when all did): hand it to `txBursts(q)` to send them back in
   * one native call, as `rx-memif respond --echo-other` does. `next` only.
   */
  readonly passThrough?: Sink<Burst>;
}

/**
 * {@link icmpResponder} a burst at a time: emits, per burst that asks for any, the array of
 * replies (new frames; `txBursts(q)` takes it as it is). "Not for us" is decided on each
 * packet's bytes in place (see {@link icmpReplier}), with no view or object made for it; the
 * others go to `passThrough` as one burst. Throws a `TypeError` at once on bad options.
 * @example
 * const tx = iface.txBursts(0);
 * iface.rxBursts(0)
 *   .pipe(icmpResponderBurst({ ip: '10.0.0.1', mac: '02:fe:00:00:00:01', passThrough: tx }))
 *   .subscribe(tx);
 */
export const icmpResponderBurst = (
  options: IcmpResponderBurstOptions,
): OperatorFunction<Burst, readonly Uint8Array[]> => {
  const reply = replierAt(options);
  const pass = sinkCallback(options.passThrough);
  return (source) =>
    new Observable<readonly Uint8Array[]>((subscriber) => {
      const index = new BurstIndex();
      return source.subscribe({
        next: (b) => {
          let replies: Uint8Array[] | undefined;
          try {
            const n = b.count;
            const d = b.data;
            const offsets = b.offsets;
            const lengths = b.lengths;
            const w0 = index.take(n);
            const O = index.offsets;
            const L = index.lengths;
            let w = w0;
            for (let i = 0; i < n; i++) {
              const o = offsets[i];
              const l = lengths[i];
              const r = d.length === 0 ? undefined : reply(d, o, l);
              if (r !== undefined) (replies ??= []).push(r);
              else {
                O[w] = o;
                L[w] = l;
                w++;
              }
            }
            const k = w - w0;
            if (pass && k > 0) pass(k === n ? b : index.commit(b.queue, d, w0, k));
          } catch (err) {
            subscriber.error(err);
            return;
          }
          if (replies) subscriber.next(replies);
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
};
