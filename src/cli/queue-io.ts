import type { Unsubscribable } from 'rxjs';
import type { MemifQueues } from '../index';

/**
 * What a command's per-queue work uses of an interface: the queue part, which the main thread's
 * interface and a worker's `attach()` both offer (docs/architecture.md, "The command line's
 * workers").
 */
export type QueueIo = Pick<
  MemifQueues,
  'options' | 'state$' | 'rx' | 'rxBursts' | 'tx' | 'txBursts' | 'txReady$' | 'send' | 'stats'
>;

/**
 * One queue's share of a command (echo's reflect, gen's send and check, ...): started on a
 * queue, it runs until it finishes by itself or is stopped. Its tally is a plain object, so
 * that a worker can post it to the main thread.
 */
export interface QueueWork<T> {
  /** The counts so far. */
  tally(): T;
  /** Settles when the work is done by itself (gen's --count); never, for the others. */
  readonly finished: Promise<void>;
  /** Stops (unsubscribes) and resolves with the final tally. Idempotent. */
  stop(): Promise<T>;
}

/** A command's per-queue work: how to start it on a queue, and how tallies add up. */
export interface WorkKind<P, T> {
  /** `changed` is called when the tally moved in a way a watcher may care about (sink's count). */
  start(io: QueueIo, q: number, params: P, changed: () => void): QueueWork<T>;
  zero(): T;
  add(a: T, b: T): T;
}

/** Never settles: the `finished` of a work that runs until stopped. */
const never: Promise<void> = new Promise<void>(() => undefined);

/** The work of a subscription that runs until stopped (echo, sink, respond). */
export const untilStopped = <T>(sub: Unsubscribable, tally: () => T): QueueWork<T> => ({
  tally,
  finished: never,
  stop: () => {
    sub.unsubscribe();
    return Promise.resolve(tally());
  },
});
