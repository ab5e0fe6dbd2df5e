import { BurstIndex, Kept, burstOperator, keptOf } from './burst-out';
import { FrameScan, scanFrame } from './frame-scan';
import { malformed, type ParsedPacket } from './packet';
import { parsePacket } from './parse-packet';
import { sinkCallback, type Sink } from './sink';
import type { ParseOptions } from './parse';
import type { ByteTest, PacketPredicate } from './predicates';
import type { Burst } from '../burst';
import type { OperatorFunction } from 'rxjs';

/** Options of {@link filterBurst}. */
export interface FilterBurstOptions extends ParseOptions {
  /** Gets the well-formed packets that did not match (a view of each), `next` only. */
  readonly onDrop?: Sink<Uint8Array>;
}

/**
 * {@link filterPackets} on whole bursts: emits a burst of the packets that match (the same
 * burst when all do, none when none do). Nothing is copied and no object is made per packet:
 * the packets are tested on the burst's bytes in place and the kept ones indexed by new
 * `offsets` / `lengths` over the same `data`, so the result goes to `txBursts(q)` in one native
 * call. Malformed packets go to `onMalformed`, the others dropped to `onDrop`, if given.
 * @example
 * iface.rxBursts(0).pipe(filterBurst(ipProto('udp')), swapMacsBurst()).subscribe(iface.txBursts(0));
 */
export const filterBurst = (
  predicate: PacketPredicate,
  options: FilterBurstOptions = {},
): OperatorFunction<Burst, Burst> => {
  const mode = options.mode ?? 'ethernet';
  const onMalformed = sinkCallback(options.onMalformed);
  const onDrop = sinkCallback(options.onDrop);
  // A hand-written predicate gets a parse of the (already checked) packet.
  const test: ByteTest =
    predicate.onBytes ??
    ((d, s) => predicate(parsePacket(d.subarray(s.base, s.base + s.len), mode) as ParsedPacket));
  return burstOperator(() => {
    const s = new FrameScan();
    const index = new BurstIndex();
    return (b) => {
      const n = b.count;
      const d = b.data;
      if (d.length === 0) return undefined; // a zero-copy burst whose region is gone
      const offsets = b.offsets;
      const lengths = b.lengths;
      let kept: Kept | undefined;
      for (let i = 0; i < n; i++) {
        const o = offsets[i];
        const l = lengths[i];
        if (!scanFrame(d, o, l, mode, s)) {
          kept ??= new Kept(index, b, i);
          onMalformed?.(malformed(d.subarray(o, o + l), s.reason, s.reasonOffset));
        } else if (test(d, s)) kept?.keep(o, l);
        else {
          kept ??= new Kept(index, b, i);
          onDrop?.(d.subarray(o, o + l));
        }
      }
      return keptOf(b, kept);
    };
  });
};
