import { filter, type MonoTypeOperatorFunction } from 'rxjs';
import { FrameScan, scanFrame } from './frame-scan';
import { malformed } from './packet';
import { parsePacket } from './parse-packet';
import { sinkCallback } from './sink';
import type { ParseOptions } from './parse';
import type { PacketPredicate } from './predicates';

/**
 * Keeps the frames whose parse matches the predicate, like a BPF filter; emits the frames
 * themselves (unchanged, uncopied), so the result can go straight to `iface.tx()` or
 * {@link toPcap}. Malformed frames never match; they go to `onMalformed` if given.
 *
 * The built-in predicates are evaluated on the frame's bytes (one scan per frame, no parse
 * result); a hand-written predicate gets a full {@link parsePacket}.
 * @example
 * iface.rx().pipe(filterPackets(and(ipProto('udp'), port(53)))).subscribe(dns$);
 */
export const filterPackets = (
  predicate: PacketPredicate,
  options: ParseOptions = {},
): MonoTypeOperatorFunction<Uint8Array> => {
  const mode = options.mode ?? 'ethernet';
  const onMalformed = sinkCallback(options.onMalformed);
  const test = predicate.onBytes;
  if (test === undefined)
    return filter((frame: Uint8Array) => {
      const p = parsePacket(frame, mode);
      if (p.kind === 'packet') return predicate(p);
      onMalformed?.(p);
      return false;
    });
  // Built once per operator: the scan is finished before the test or the sink runs.
  const s = new FrameScan();
  return filter((frame: Uint8Array) => {
    if (scanFrame(frame, 0, frame.length, mode, s)) return test(frame, s);
    onMalformed?.(malformed(frame, s.reason, s.reasonOffset));
    return false;
  });
};
