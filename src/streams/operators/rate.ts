import {
  Observable,
  asyncScheduler,
  interval,
  type OperatorFunction,
  type SchedulerLike,
} from 'rxjs';
import { sizeOf } from './count-packets';
import type { Burst } from '../burst';

/** One period of {@link rate}. */
export interface PacketRate {
  /** Packets in the period. */
  readonly packets: number;
  /** Bytes in the period. */
  readonly bytes: number;
  /** Packets per second. */
  readonly pps: number;
  /** Bits per second (bytes × 8; no Ethernet preamble / gap). */
  readonly bps: number;
}

/**
 * Emits the traffic of each `periodMs` period (frames or bursts), zeros included; on
 * completion, the last partial period if it saw traffic (its rates over its real length).
 * @example
 * const rx = iface.rx().pipe(share());
 * rx.pipe(rate(1000)).subscribe(({ pps, bps }) => console.log(pps, bps / 1e6, 'Mb/s'));
 */
export const rate =
  (
    periodMs: number,
    scheduler: SchedulerLike = asyncScheduler,
  ): OperatorFunction<Uint8Array | Burst, PacketRate> =>
  (source) =>
    new Observable<PacketRate>((subscriber) => {
      let packets = 0;
      let bytes = 0;
      let since = scheduler.now();
      const emit = (ms: number): void => {
        const perSec = 1000 / ms;
        subscriber.next({ packets, bytes, pps: packets * perSec, bps: bytes * 8 * perSec });
        packets = 0;
        bytes = 0;
        since = scheduler.now();
      };
      const tick = interval(periodMs, scheduler).subscribe(() => emit(periodMs));
      const sub = source.subscribe({
        next: (v) => {
          const n = sizeOf(v);
          packets += n.packets;
          bytes += n.bytes;
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          const ms = scheduler.now() - since;
          if (packets > 0 && ms > 0) emit(ms);
          subscriber.complete();
        },
      });
      return () => {
        tick.unsubscribe();
        sub.unsubscribe();
      };
    });
