import { ETHERTYPE } from './parse-packet';
import { FrameScan, L3_IPV4, L3_IPV6 } from './frame-scan';
import { LazyPacket } from './lazy-packet';
import type { ParsedPacket } from './packet';

/**
 * The byte form of a predicate: the same test read straight from a frame that {@link scanFrame}
 * accepted (`s` says where its layers are in `d`), with no parse result built.
 */
export type ByteTest = (d: Uint8Array, s: FrameScan) => boolean;

/**
 * A test on a parsed packet. Predicates compose with {@link and}, {@link or} and {@link not},
 * filter raw frames with {@link filterPackets} and bursts with {@link filterBurst}, and work as
 * they are with RxJS `filter` on a stream of {@link ParsedPacket}s.
 *
 * The built-in predicates also carry `onBytes`, the same test on the frame's bytes, which the
 * filters use so that no parse result is built per packet; a predicate written by hand (a plain
 * function of a `ParsedPacket`) works too, through a full parse.
 */
export interface PacketPredicate {
  (p: ParsedPacket): boolean;
  /** The same test on the bytes (see {@link ByteTest}); absent on hand-written predicates. */
  readonly onBytes?: ByteTest;
}

const scratch = new FrameScan();

/**
 * A predicate from its two forms. A lazy packet (from {@link parse}) is tested on its bytes;
 * an eager {@link ParsedPacket} on its layers, as it always was.
 */
export const predicate = (
  onParsed: (p: ParsedPacket) => boolean,
  onBytes: ByteTest,
): PacketPredicate =>
  Object.assign(
    (p: ParsedPacket): boolean =>
      p instanceof LazyPacket ? onBytes(p.frame, p.scanInto(scratch)) : onParsed(p),
    { onBytes },
  );

/** The byte forms of all the predicates, or undefined if one is hand-written. */
const byteForms = (preds: readonly PacketPredicate[]): ByteTest[] | undefined => {
  const out: ByteTest[] = [];
  for (const p of preds) {
    if (p.onBytes === undefined) return undefined;
    out.push(p.onBytes);
  }
  return out;
};

const always: ByteTest = () => true;
const never: ByteTest = () => false;

/** Matches when every predicate does (`and()` matches everything). */
export const and = (...preds: PacketPredicate[]): PacketPredicate => {
  const onParsed = (p: ParsedPacket): boolean => preds.every((f) => f(p));
  const t = byteForms(preds);
  if (t === undefined) return onParsed;
  // Unrolled for the common sizes: a closure call per term, no array walk.
  if (t.length === 0) return predicate(onParsed, always);
  if (t.length === 1) return predicate(onParsed, t[0]);
  const [a, b] = t;
  if (t.length === 2) return predicate(onParsed, (d, s) => a(d, s) && b(d, s));
  return predicate(onParsed, (d, s) => {
    for (let i = 0; i < t.length; i++) if (!t[i](d, s)) return false;
    return true;
  });
};

/** Matches when any predicate does (`or()` matches nothing). */
export const or = (...preds: PacketPredicate[]): PacketPredicate => {
  const onParsed = (p: ParsedPacket): boolean => preds.some((f) => f(p));
  const t = byteForms(preds);
  if (t === undefined) return onParsed;
  if (t.length === 0) return predicate(onParsed, never);
  if (t.length === 1) return predicate(onParsed, t[0]);
  const [a, b] = t;
  if (t.length === 2) return predicate(onParsed, (d, s) => a(d, s) || b(d, s));
  return predicate(onParsed, (d, s) => {
    for (let i = 0; i < t.length; i++) if (t[i](d, s)) return true;
    return false;
  });
};

/** Matches when the predicate does not. */
export const not = (pred: PacketPredicate): PacketPredicate => {
  const onParsed = (p: ParsedPacket): boolean => !pred(p);
  const t = pred.onBytes;
  return t === undefined ? onParsed : predicate(onParsed, (d, s) => !t(d, s));
};

/** EtherType names {@link etherType} takes. */
export type EtherTypeName = keyof typeof ETHERTYPE;

/**
 * Matches the EtherType after any VLAN tags (a number, or `'ipv4'`, `'ipv6'`, `'arp'`). In `ip`
 * mode there is no Ethernet header: `'ipv4'` / `'ipv6'` (0x0800 / 0x86dd) match by IP version.
 * @example
 * filterPackets(etherType('arp'))
 */
export const etherType = (type: number | EtherTypeName): PacketPredicate => {
  const value = typeof type === 'number' ? type : ETHERTYPE[type];
  return predicate(
    (p) =>
      p.ethernet
        ? p.ethernet.etherType === value
        : (value === ETHERTYPE.ipv4 && p.network?.kind === 'ipv4') ||
          (value === ETHERTYPE.ipv6 && p.network?.kind === 'ipv6'),
    (_d, s) =>
      s.ethernet
        ? s.etherType === value
        : (value === ETHERTYPE.ipv4 && s.l3 === L3_IPV4) ||
          (value === ETHERTYPE.ipv6 && s.l3 === L3_IPV6),
  );
};

/**
 * Matches VLAN-tagged frames: with an id, those carrying a tag with that id at any level of the
 * stack; without, any tagged frame.
 * @example
 * filterPackets(and(vlan(100), ipProto('udp')))
 */
export const vlan = (id?: number): PacketPredicate =>
  predicate(
    (p) => {
      const tags = p.ethernet?.tags ?? [];
      return id === undefined ? tags.length > 0 : tags.some((t) => t.vid === id);
    },
    id === undefined
      ? (_d, s) => s.tags > 0
      : (d, s) => {
          for (let k = 0, at = s.base + 14; k < s.tags; k++, at += 4)
            if ((((d[at] << 8) | d[at + 1]) & 0xfff) === id) return true;
          return false;
        },
  );
