import type { MalformedPacket, MalformedReason } from './packet';

/**
 * Counts malformed frames by reason; pass it as `onMalformed` to {@link parse},
 * {@link filterPackets} and the other parsing operators.
 * @example
 * const bad = new MalformedCounter();
 * iface.rx().pipe(parse({ onMalformed: bad })).subscribe();
 * setInterval(() => console.log(bad.total, bad.byReason), 1000);
 */
export class MalformedCounter {
  /** Frames counted. */
  total = 0;
  /** Frames counted per reason (reasons never seen are absent). */
  readonly byReason: Partial<Record<MalformedReason, number>> = {};

  /** Counts one frame (bound, so it can be passed on as a callback). */
  readonly next = (m: MalformedPacket): void => {
    this.total++;
    this.byReason[m.reason] = (this.byReason[m.reason] ?? 0) + 1;
  };
}
