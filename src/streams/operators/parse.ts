import { filter, map, pipe, type OperatorFunction } from 'rxjs';
import { parsePacket } from './parse-packet';
import { sinkCallback, type Sink } from './sink';
import type { LinkMode, MalformedPacket, ParsedPacket, ParseResult } from './packet';

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
 * Parses each frame ({@link parsePacket}) and emits the {@link ParsedPacket}s; malformed frames
 * never error the stream: they go to `onMalformed` (if given) and are not emitted. The results
 * are views over the frames, as stable as the frames are.
 * @example
 * const bad = new MalformedCounter();
 * iface.rx(0).pipe(parse({ onMalformed: bad })).subscribe((p) => {
 *   if (p.transport?.kind === 'udp') console.log(p.transport.dstPort);
 * });
 */
export const parse = (options: ParseOptions = {}): OperatorFunction<Uint8Array, ParsedPacket> => {
  const mode = options.mode ?? 'ethernet';
  const onMalformed = sinkCallback(options.onMalformed);
  return pipe(
    map((frame: Uint8Array) => parsePacket(frame, mode)),
    filter((r: ParseResult): r is ParsedPacket => {
      if (r.kind === 'packet') return true;
      onMalformed?.(r);
      return false;
    }),
  );
};
