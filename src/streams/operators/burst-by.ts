import {
  Observable,
  asyncScheduler,
  type OperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';

/**
 * Groups values into arrays of up to `count`, emitted as soon as `count` is reached or `timeMs`
 * after the first value of the group, whichever comes first — `bufferTime(timeMs, null, count)`
 * without the empty arrays, and with the time bound measured from the group's first value (its
 * latency). What is pending is emitted on completion, dropped on error.
 * @example
 * frames$.pipe(burstBy(32, 1)).subscribe((batch) => batch.forEach((f) => tx.next(f)));
 */
export const burstBy = <T>(
  count: number,
  timeMs: number,
  scheduler: SchedulerLike = asyncScheduler,
): OperatorFunction<T, T[]> => {
  if (!(count >= 1)) throw new RangeError(`burstBy: count ${count} < 1`);
  return (source) =>
    new Observable<T[]>((subscriber) => {
      let batch: T[] = [];
      let timer: Subscription | undefined;
      const flush = (): void => {
        timer?.unsubscribe();
        timer = undefined;
        const out = batch;
        batch = [];
        subscriber.next(out);
      };
      const sub = source.subscribe({
        next: (v) => {
          batch.push(v);
          if (batch.length >= count) flush();
          else timer ??= scheduler.schedule(flush, timeMs);
        },
        error: (err) => {
          batch = [];
          subscriber.error(err);
        },
        complete: () => {
          if (batch.length > 0) flush();
          subscriber.complete();
        },
      });
      return () => {
        sub.unsubscribe();
        timer?.unsubscribe();
        batch = [];
      };
    });
};
