import { ETHERTYPE } from './parse-packet';
import type { ParsedPacket } from './packet';

/**
 * A test on a parsed packet. Predicates compose with {@link and}, {@link or} and {@link not},
 * filter raw frames with {@link filterPackets}, and work as they are with RxJS `filter` on a
 * stream of {@link ParsedPacket}s.
 */
export type PacketPredicate = (p: ParsedPacket) => boolean;

/** Matches when every predicate does (`and()` matches everything). */
export const and =
  (...preds: PacketPredicate[]): PacketPredicate =>
  (p) =>
    preds.every((f) => f(p));

/** Matches when any predicate does (`or()` matches nothing). */
export const or =
  (...preds: PacketPredicate[]): PacketPredicate =>
  (p) =>
    preds.some((f) => f(p));

/** Matches when the predicate does not. */
export const not =
  (pred: PacketPredicate): PacketPredicate =>
  (p) =>
    !pred(p);

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
  return (p) =>
    p.ethernet
      ? p.ethernet.etherType === value
      : (value === ETHERTYPE.ipv4 && p.network?.kind === 'ipv4') ||
        (value === ETHERTYPE.ipv6 && p.network?.kind === 'ipv6');
};

/**
 * Matches VLAN-tagged frames: with an id, those carrying a tag with that id at any level of the
 * stack; without, any tagged frame.
 * @example
 * filterPackets(and(vlan(100), ipProto('udp')))
 */
export const vlan =
  (id?: number): PacketPredicate =>
  (p) => {
    const tags = p.ethernet?.tags ?? [];
    return id === undefined ? tags.length > 0 : tags.some((t) => t.vid === id);
  };
