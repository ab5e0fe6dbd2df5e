import { Observable, type OperatorFunction } from 'rxjs';
import { BurstIndex, Kept, keptOf } from './burst-out';
import { replierAt, type IcmpResponderOptions } from './icmp-responder';
import { parseMac } from './mac';
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
/** The first byte of a MAC given as text, or -1 (none, or invalid: `replierAt` throws then). */
const macFirstByte = (mac: string | undefined): number => {
  if (mac === undefined) return -1;
  try {
    return parseMac(mac)[0];
  } catch {
    return -1;
  }
};

export const icmpResponderBurst = (
  options: IcmpResponderBurstOptions,
): OperatorFunction<Burst, readonly Uint8Array[]> => {
  const reply = replierAt(options);
  const pass = sinkCallback(options.passThrough);
  // The first byte of our MAC: most frames that are not for us differ there, and are decided
  // in the loop without a call (the same test as the replier's, which makes the rest of it).
  const m0 = (options.mode ?? 'ethernet') === 'ethernet' ? macFirstByte(options.mac) : -1;
  return (source) =>
    new Observable<readonly Uint8Array[]>((subscriber) => {
      const index = new BurstIndex();
      return source.subscribe({
        next: (b) => {
          let replies: Uint8Array[] | undefined;
          try {
            const n = b.count;
            const d = b.data;
            if (d.length === 0) {
              // A zero-copy burst whose region is gone: nothing to read, nothing answered.
              pass?.(b);
              return;
            }
            const offsets = b.offsets;
            const lengths = b.lengths;
            let others: Kept | undefined;
            for (let i = 0; i < n; i++) {
              const o = offsets[i];
              const l = lengths[i];
              const x = d[o];
              const r = m0 >= 0 && x !== m0 && (x & 1) === 0 ? undefined : reply(d, o, l);
              if (r === undefined) others?.keep(o, l);
              else {
                others ??= new Kept(index, b, i);
                (replies ??= []).push(r);
              }
            }
            const rest = keptOf(b, others);
            if (pass && rest !== undefined) pass(rest);
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
