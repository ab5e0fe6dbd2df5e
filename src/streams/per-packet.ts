import { Observable } from 'rxjs';
import type { Burst } from './burst';
import { emittedView, startEmitting, stopEmitting } from './emitted-view';

/**
 * The packets of each burst, one per emission: what `rx(q)` is over `rxBursts(q)`. Per packet
 * only a view made from the burst's buffer and the subscriber's `next` (docs/tuning.md): the
 * buffer, its offset and the index arrays are read once per burst; the view is also recorded in
 * `emittedView` for a `tx()` it is handed to, once any `tx()` observer exists.
 */
export const perPacket = (bursts: Observable<Burst>): Observable<Uint8Array> =>
  new Observable<Uint8Array>((subscriber) =>
    bursts.subscribe({
      next: (b) => {
        const data = b.data;
        const buffer = data.buffer;
        const base = data.byteOffset;
        const { offsets, lengths, count } = b;
        // Stops if the subscriber left, or if it closed the interface (zero-copy memory is
        // then unmapped: its view reads as empty).
        if (!emittedView.wanted) {
          for (let i = 0; i < count && !subscriber.closed && data.length > 0; i++)
            subscriber.next(new Uint8Array(buffer, base + offsets[i], lengths[i]));
          return;
        }
        const made = startEmitting(buffer);
        for (let i = 0; i < count && !subscriber.closed && data.length > 0; i++) {
          const offset = base + offsets[i];
          const view = new Uint8Array(buffer, offset, lengths[i]);
          made.view = view;
          made.offset = offset;
          subscriber.next(view);
        }
        stopEmitting();
      },
      error: (e: unknown) => subscriber.error(e),
      complete: () => subscriber.complete(),
    }),
  );
