import { Observable, type OperatorFunction } from 'rxjs';
import { FrameScan, scanFrame } from './frame-scan';
import { LazyPacket } from './lazy-packet';
import { malformed, type LinkMode, type MalformedPacket } from './packet';
import { sinkCallback, type Sink } from './sink';

/** Options of {@link parse} and {@link filterPackets}. */
export interface ParseOptions {
  /** How frames start: `'ethernet'` (default) or `'ip'` (memif `ip` mode). */
  readonly mode?: LinkMode;
  /**
   * Gets every frame that does not parse, with the reason (a callback, a `Subject`, a
   * {@link MalformedCounter}…). Without it they are dropped silently.
   */
  readonly onMalformed?: Sink<MalformedPacket>;
}

/**
 * Parses each frame and emits a {@link LazyPacket} (a {@link ParsedPacket} whose layers are
 * read from the bytes on first access: the same values as {@link parsePacket}, without building
 * the layers nobody reads); malformed frames never error the stream: they go to `onMalformed`
 * (if given) and are not emitted. The results are views over the frames, as stable as the
 * frames are (in zero-copy rx, during the emission): keep one with `p.copy()` or `p.toJSON()`.
 * @example
 * const bad = new MalformedCounter();
 * iface.rx(0).pipe(parse({ onMalformed: bad })).subscribe((p) => {
 *   if (p.transport?.kind === 'udp') console.log(p.transport.dstPort);
 * });
 */
export const parse = (options: ParseOptions = {}): OperatorFunction<Uint8Array, LazyPacket> => {
  const mode = options.mode ?? 'ethernet';
  const onMalformed = sinkCallback(options.onMalformed);
  return (source) =>
    new Observable<LazyPacket>((subscriber) => {
      // One scratch per subscription: the scan is done before anything is emitted.
      const s = new FrameScan();
      return source.subscribe({
        next: (frame) => {
          try {
            if (scanFrame(frame, 0, frame.length, mode, s))
              subscriber.next(new LazyPacket(frame, mode, s));
            else onMalformed?.(malformed(frame, s.reason, s.reasonOffset));
          } catch (err) {
            subscriber.error(err);
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
};
