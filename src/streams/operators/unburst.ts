import { Observable, type OperatorFunction } from 'rxjs';
import type { Burst } from '../burst';

/**
 * Splits each {@link Burst} into its packets (views, `burst.packet(i)`), emitted synchronously
 * in order, so in zero-copy rx each is valid as long as the burst is: until its emission returns.
 * Stops mid-burst if the subscriber unsubscribes.
 * @example
 * iface.rxBursts(0).pipe(unburst(), filterPackets(ipProto('udp'))).subscribe(handle);
 */
export const unburst = (): OperatorFunction<Burst, Uint8Array> => (source) =>
  new Observable<Uint8Array>((subscriber) =>
    source.subscribe({
      next: (burst) => {
        try {
          for (let i = 0; i < burst.count && !subscriber.closed; i++)
            subscriber.next(burst.packet(i));
        } catch (err) {
          subscriber.error(err);
        }
      },
      error: (err) => subscriber.error(err),
      complete: () => subscriber.complete(),
    }),
  );
