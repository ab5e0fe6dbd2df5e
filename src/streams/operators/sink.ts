/**
 * Where an operator sends what it does not emit (malformed frames, frames it does not answer):
 * a callback, or anything with a `next` method — a `Subject`, an `Observer`, a
 * {@link MalformedCounter}. Only `next` is ever called: completion and errors stay on the main
 * stream, so one sink can collect from several streams.
 */
export type Sink<T> = ((value: T) => void) | { next(value: T): void };

/** The sink as a plain callback (undefined stays undefined). */
export const sinkCallback = <T>(sink: Sink<T> | undefined): ((value: T) => void) | undefined =>
  sink === undefined ? undefined : typeof sink === 'function' ? sink : (v: T) => sink.next(v);
