import { filter, map, pipe, type OperatorFunction } from 'rxjs';
import { arpReply, echoReply4, echoReply6, forUs } from './icmp-replies';
import { neighborAdvertisement } from './neighbor-advertisement';
import { parsePacket } from './parse-packet';
import { FrameScan, L3_ARP, L3_IPV4, L3_IPV6, scanFrame } from './frame-scan';
import { prefixContains, type IpPrefix } from './prefix';
import { responderConfig, type ResponderConfig } from './responder-config';
import { sinkCallback, type Sink } from './sink';
import type { LinkMode } from './packet';

/** Options of {@link icmpResponder}. */
export interface IcmpResponderOptions {
  /**
   * Our addresses, IPv4 and / or IPv6: plain (`'10.0.0.1'`, `'fd00::1'`) or CIDR, which answers
   * for EVERY address of the prefix (`'10.0.0.0/24'`: 256 hosts; host bits are ignored, so
   * `'10.0.0.1/24'` is the same /24 — write `'10.0.0.1'` for one interface address).
   */
  readonly ip: string | readonly string[];
  /** Our MAC, required in `ethernet` mode (replies come from it; ARP / NA announce it). */
  readonly mac?: string;
  /** How frames start (default `'ethernet'`; in `ip` mode only echo requests are answered). */
  readonly mode?: LinkMode;
  /** Gets every frame that got no reply (a callback, a `Subject`…), unchanged; `next` only. */
  readonly passThrough?: Sink<Uint8Array>;
}

const ownsAt = (prefixes: readonly IpPrefix[], d: Uint8Array, at: number): boolean => {
  for (let i = 0; i < prefixes.length; i++) if (prefixContains(prefixes[i], d, at)) return true;
  return false;
};

/**
 * Whether a scanned frame (to our MAC or a group address) may get an answer: ARP, an ICMP
 * echo request to one of our IPv4 addresses, an ICMPv6 echo request to one of our IPv6
 * addresses or a neighbor solicitation. Never false for a frame {@link icmpReplier} answers.
 */
const mayAnswer = (d: Uint8Array, s: FrameScan, cfg: ResponderConfig): boolean => {
  if (s.l3 === L3_ARP) return true;
  const t = s.l4Offset;
  if (s.l3 === L3_IPV4) return s.l4 === 1 && d[t] === 8 && ownsAt(cfg.v4, d, s.l3Offset + 16);
  if (s.l3 !== L3_IPV6 || s.l4 !== 58) return false;
  return d[t] === 135 || (d[t] === 128 && ownsAt(cfg.v6, d, s.l3Offset + 24));
};

/**
 * The reply function behind {@link icmpResponder}: a new frame answering `frame`, or
 * `undefined`. Answers ARP who-has for our IPv4 addresses, ICMP echo requests to them, ICMPv6
 * echo requests to our IPv6 addresses and Neighbor Solicitations for them, with right checksums
 * (requests with a wrong one are not answered). Ethernet frames must be sent to our MAC or a
 * group address; VLAN tags are kept. Throws a `TypeError` at once on bad options.
 * @example
 * const reply = icmpReplier({ ip: '10.0.0.1', mac: '02:00:00:00:00:01' });
 * for (const f of burst) { const r = reply(f); if (r) tx.next(r); }
 */
export const icmpReplier = (
  options: Omit<IcmpResponderOptions, 'passThrough'>,
): ((frame: Uint8Array) => Uint8Array | undefined) => {
  const at = replierAt(options);
  return (frame) => at(frame, 0, frame.length);
};

/**
 * {@link icmpReplier} for the packet `d[o .. o + len)` (a burst's): "not for us" is decided on
 * the bytes (one scan, the destination MAC, the protocol and ICMP type, the address) with no
 * view or parse made; only a frame that may get an answer is parsed (see docs/architecture.md,
 * operators).
 */
export const replierAt = (
  options: Omit<IcmpResponderOptions, 'passThrough'>,
): ((d: Uint8Array, o: number, len: number) => Uint8Array | undefined) => {
  const cfg = responderConfig(options.ip, options.mac, options.mode ?? 'ethernet');
  const s = new FrameScan();
  const mac = cfg.mac; // undefined in ip mode
  return (d, o, len) => {
    // The destination MAC first (a frame too short to have one never gets an answer anyway).
    if (mac !== undefined && (d[o] & 1) === 0)
      for (let k = 0; k < 6; k++) if (d[o + k] !== mac[k]) return undefined;
    if (!scanFrame(d, o, len, cfg.mode, s) || !mayAnswer(d, s, cfg)) return undefined;
    const frame = d.subarray(o, o + len);
    const p = parsePacket(frame, cfg.mode);
    if (p.kind !== 'packet' || !forUs(p, cfg.mac)) return undefined;
    const net = p.network;
    const t = p.transport;
    if (net?.kind === 'arp') return arpReply(p, net, cfg);
    if (net?.kind === 'ipv4' && t?.kind === 'icmp') return echoReply4(p, net, t, cfg);
    if (net?.kind === 'ipv6' && t?.kind === 'icmpv6')
      return t.type === 135 ? neighborAdvertisement(p, net, t, cfg) : echoReply6(p, net, t, cfg);
    return undefined;
  };
};

/**
 * An answering host, like testpmd's icmpecho or libmemif's icmp_responder: emits the replies
 * (new frames) to ARP requests, pings and IPv6 neighbor solicitations for its addresses (see
 * {@link icmpReplier}); every other frame goes to `passThrough` if given, else is dropped.
 * @example
 * const others = new Subject<Uint8Array>();
 * others.pipe(toPcap('others.pcap')).subscribe();
 * iface.rx()
 *   .pipe(icmpResponder({ ip: ['10.0.0.1', 'fd00::1'], mac: '02:fe:00:00:00:01', passThrough: others }))
 *   .subscribe(iface.tx());
 */
export const icmpResponder = (
  options: IcmpResponderOptions,
): OperatorFunction<Uint8Array, Uint8Array> => {
  const reply = icmpReplier(options);
  const pass = sinkCallback(options.passThrough);
  return pipe(
    map((frame: Uint8Array) => {
      const r = reply(frame);
      if (r === undefined) pass?.(frame);
      return r;
    }),
    filter((r): r is Uint8Array => r !== undefined),
  );
};
