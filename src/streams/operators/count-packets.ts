import { scan, type OperatorFunction } from 'rxjs';
import { Burst } from '../burst';

/** Running totals of {@link countPackets}. */
export interface PacketCount {
  readonly packets: number;
  readonly bytes: number;
}

/** Packets and bytes of one emission: a frame is one packet, a burst its `count`. */
export const sizeOf = (v: Uint8Array | Burst): PacketCount =>
  v instanceof Burst ? { packets: v.count, bytes: v.bytes } : { packets: 1, bytes: v.length };

/**
 * Emits the running totals after each frame or burst. At packet rates, sample it rather than
 * rendering every emission.
 * @example
 * iface.rx().pipe(countPackets(), auditTime(1000)).subscribe(({ packets, bytes }) => …);
 */
export const countPackets = (): OperatorFunction<Uint8Array | Burst, PacketCount> =>
  scan<Uint8Array | Burst, PacketCount>(
    (acc, v) => {
      const n = sizeOf(v);
      return { packets: acc.packets + n.packets, bytes: acc.bytes + n.bytes };
    },
    { packets: 0, bytes: 0 },
  );
