import { filter, type MonoTypeOperatorFunction } from 'rxjs';
import { parsePacket } from './parse-packet';
import { sinkCallback } from './sink';
import type { ParseOptions } from './parse';
import type { PacketPredicate } from './predicates';

/**
 * Keeps the frames whose parse matches the predicate, like a BPF filter; emits the frames
 * themselves (unchanged, uncopied), so the result can go straight to `iface.tx()` or
 * {@link toPcap}. Malformed frames never match; they go to `onMalformed` if given.
 * @example
 * iface.rx().pipe(filterPackets(and(ipProto('udp'), port(53)))).subscribe(dns$);
 */
export const filterPackets = (
  predicate: PacketPredicate,
  options: ParseOptions = {},
): MonoTypeOperatorFunction<Uint8Array> => {
  const mode = options.mode ?? 'ethernet';
  const onMalformed = sinkCallback(options.onMalformed);
  return filter((frame: Uint8Array) => {
    const p = parsePacket(frame, mode);
    if (p.kind === 'packet') return predicate(p);
    onMalformed?.(p);
    return false;
  });
};
