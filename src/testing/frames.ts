/** Bytes for tests: hex in, hex out, and Ethernet frames made of them. */

/** What {@link frame} takes: hex text, or bytes. */
export type Bytes = string | ArrayLike<number>;

const SEPARATORS = /[\s:._-]/g;

const parseHex = (text: string): Uint8Array => {
  const digits = text.replace(SEPARATORS, '');
  if (digits.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(digits))
    throw new TypeError(
      `frame: ${JSON.stringify(text)} is not hex bytes (pairs of 0-9a-f, separators :.-_ and spaces allowed)`,
    );
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
};

/**
 * Concatenates `parts` into one packet: a string is hex (`'02fe00000001'`, `'02:fe:00:00:00:01'`,
 * `'0800 4500'`; spaces and `: . - _` are ignored), anything else is taken as bytes. Always a
 * fresh plain `Uint8Array` (never a Buffer), so that it compares with chai's `deep.equal`.
 *
 * @example
 * const ping = frame('ffffffffffff 02fe00000001 88b5', [1, 2, 3]);
 */
export const frame = (...parts: Bytes[]): Uint8Array => {
  const chunks = parts.map((p) => (typeof p === 'string' ? parseHex(p) : Uint8Array.from(p)));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
};

/** The fields of {@link ethernet}: each one has a default. */
export interface EthernetFields {
  /** Destination MAC, hex or bytes [ff:ff:ff:ff:ff:ff]. */
  readonly dst?: Bytes;
  /** Source MAC, hex or bytes [02:fe:00:00:00:01]. */
  readonly src?: Bytes;
  /** EtherType [0x88b5, the IEEE "local experimental" type]. */
  readonly type?: number;
  /** What follows the header, hex or bytes [empty]. */
  readonly payload?: Bytes;
}

/**
 * An Ethernet II frame: `dst`, `src`, `type` (big-endian), then `payload`. No padding, no FCS
 * (memif carries frames without one).
 *
 * @example
 * const arp = ethernet({ src: '02:fe:00:00:00:02', type: 0x0806, payload: '0001 0800 0604 0001' });
 */
export const ethernet = ({
  dst = 'ff:ff:ff:ff:ff:ff',
  src = '02:fe:00:00:00:01',
  type = 0x88b5,
  payload = '',
}: EthernetFields = {}): Uint8Array => {
  const d = frame(dst);
  const s = frame(src);
  if (d.length !== 6 || s.length !== 6)
    throw new TypeError(`ethernet: MAC addresses are 6 bytes (dst ${d.length}, src ${s.length})`);
  if (!Number.isInteger(type) || type < 0 || type > 0xffff)
    throw new RangeError(`ethernet: type must be an integer in 0..0xffff, got ${type}`);
  return frame(d, s, [type >> 8, type & 0xff], payload);
};

/**
 * Lower-case hex of `bytes`, `separator` between bytes [none]: the inverse of {@link frame},
 * handy in assertion messages.
 *
 * @example
 * hex(frame('02:FE:00:00:00:01'), ':'); // '02:fe:00:00:00:01'
 */
export const hex = (bytes: ArrayLike<number>, separator = ''): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(separator);
