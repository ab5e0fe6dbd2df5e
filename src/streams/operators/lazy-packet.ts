import { FrameScan, L3_ARP, L3_IPV4, scanFrame } from './frame-scan';
import { parseArp } from './parse-arp';
import { parseEthernet } from './parse-ethernet';
import { parseIpv4 } from './parse-ipv4';
import { parseIpv6 } from './parse-ipv6';
import { parsePacket } from './parse-packet';
import { parseTransport } from './parse-transport';
import type { EthernetLayer, LinkMode, NetworkLayer, ParsedPacket, TransportLayer } from './packet';

/** A plain, JSON-safe copy of a value: byte views become arrays of numbers, `undefined` goes. */
const plain = (v: unknown): unknown => {
  if (v instanceof Uint8Array) return Array.from(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k in v) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = plain(x); // as JSON leaves them out
    }
    return out;
  }
  return v;
};

/**
 * What {@link parse} emits: a {@link ParsedPacket} whose layers are read from the frame's bytes
 * when first accessed (then kept), so that a packet that is only filtered, counted or passed on
 * costs one small object and no layer objects (see docs/architecture.md#operators). The frame
 * has been checked as {@link parsePacket} checks it: every layer is there and gives the same
 * values as `parsePacket`'s.
 *
 * It is a view, as parse results always were: valid as long as the frame's bytes are (in
 * zero-copy rx, during the emission). To keep one, call {@link LazyPacket.copy} (an eager
 * `ParsedPacket` over a copy of the frame) or {@link LazyPacket.toJSON} (plain data). The
 * layers are getters (enumerable, so deep equality and `for...in` see them): a spread
 * (`{ ...p }`) copies none of them.
 */
export class LazyPacket implements ParsedPacket {
  readonly kind = 'packet' as const;
  readonly #l3: number;
  readonly #l3Offset: number;
  readonly #protocol: number;
  readonly #l4Offset: number;
  readonly #end: number;
  readonly #fragmentOffset: number;
  readonly #isFragment: boolean;
  #ethernet: EthernetLayer | undefined | null = null;
  #network: NetworkLayer | undefined | null = null;
  #transport: TransportLayer | undefined | null = null;

  /** From a frame that `scanFrame` accepted into `s` (`s.base` 0). */
  constructor(
    readonly frame: Uint8Array,
    readonly mode: LinkMode,
    s: FrameScan,
  ) {
    this.#l3 = s.l3;
    this.#l3Offset = s.l3Offset;
    this.#protocol = s.protocol;
    this.#l4Offset = s.l4Offset;
    this.#end = s.end;
    this.#fragmentOffset = s.fragmentOffset;
    this.#isFragment = s.isFragment;
  }

  /** The Ethernet layer (absent in `ip` mode). */
  get ethernet(): EthernetLayer | undefined {
    if (this.#ethernet === null) {
      const e = this.mode === 'ethernet' ? parseEthernet(this.frame) : undefined;
      this.#ethernet = e?.kind === 'ethernet' ? e : undefined;
    }
    return this.#ethernet;
  }

  /** The network layer (absent for EtherTypes other than ARP, IPv4, IPv6). */
  get network(): NetworkLayer | undefined {
    if (this.#network === null) {
      const f = this.frame;
      const at = this.#l3Offset;
      const n =
        this.#l3 === 0
          ? undefined
          : this.#l3 === L3_ARP
            ? parseArp(f, at)
            : this.#l3 === L3_IPV4
              ? parseIpv4(f, at)
              : parseIpv6(f, at);
      this.#network = n?.kind === 'malformed' ? undefined : n;
    }
    return this.#network;
  }

  /** The transport layer (absent for ARP, non-first fragments, short first fragments). */
  get transport(): TransportLayer | undefined {
    if (this.#transport === null) {
      // From the scan's offsets: the network layer need not be built to read the transport.
      const t =
        this.#l3 <= L3_ARP
          ? undefined
          : parseTransport(this.frame, {
              kind: this.#l3 === L3_IPV4 ? 'ipv4' : 'ipv6',
              protocol: this.#protocol,
              payloadOffset: this.#l4Offset,
              end: this.#end,
              fragmentOffset: this.#fragmentOffset,
              isFragment: this.#isFragment,
            });
      this.#transport = t?.kind === 'malformed' ? undefined : t;
    }
    return this.#transport;
  }

  /** Scans the frame again into `s` (for the byte forms of the predicates). */
  scanInto(s: FrameScan): FrameScan {
    scanFrame(this.frame, 0, this.frame.length, this.mode, s);
    return s;
  }

  /** An eager `ParsedPacket` over a copy of the frame: stays valid after the emission. */
  copy(): ParsedPacket {
    return parsePacket(this.frame.slice(), this.mode) as ParsedPacket;
  }

  /** Plain data (layers as objects, byte views as arrays of numbers), for `JSON.stringify`. */
  toJSON(): Record<string, unknown> {
    return plain({
      kind: this.kind,
      mode: this.mode,
      frame: this.frame,
      ethernet: this.ethernet,
      network: this.network,
      transport: this.transport,
    }) as Record<string, unknown>;
  }
}

// The layers are enumerable, as on an eager ParsedPacket, so that deep equality and `for...in`
// see the same keys.
for (const key of ['ethernet', 'network', 'transport'] as const) {
  const d = Object.getOwnPropertyDescriptor(LazyPacket.prototype, key);
  if (d) Object.defineProperty(LazyPacket.prototype, key, { ...d, enumerable: true });
}
