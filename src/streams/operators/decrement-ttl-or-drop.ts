import { filter, type MonoTypeOperatorFunction } from 'rxjs';
import { sinkCallback, type Sink } from './sink';
import { decrementTtl } from './ttl';
import type { LinkMode } from './packet';

/** Options of {@link decrementTtlOrDrop}. */
export interface DecrementTtlOptions {
  /** How frames start (default `'ethernet'`). */
  readonly mode?: LinkMode;
  /** Gets the frames dropped (expiring TTL, not IP), unchanged. */
  readonly onDrop?: Sink<Uint8Array>;
}

/**
 * Decrements the TTL / hop limit of each frame in place ({@link decrementTtl}) and passes it on;
 * frames whose TTL expires, and non-IP frames, are dropped (to `onDrop` if given).
 * @example
 * iface.rx().pipe(decrementTtlOrDrop(), map(swapMacs)).subscribe(iface.tx());
 */
export const decrementTtlOrDrop = (
  options: DecrementTtlOptions = {},
): MonoTypeOperatorFunction<Uint8Array> => {
  const mode = options.mode ?? 'ethernet';
  const onDrop = sinkCallback(options.onDrop);
  return filter((frame: Uint8Array) => {
    if (decrementTtl(frame, mode)) return true;
    onDrop?.(frame);
    return false;
  });
};
