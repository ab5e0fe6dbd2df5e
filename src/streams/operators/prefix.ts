import { parseIPv4, parseIPv6 } from './ip-address';

/** An IPv4 or IPv6 prefix: the address bytes (host bits cleared) and the prefix length. */
export interface IpPrefix {
  readonly family: 4 | 6;
  readonly address: Uint8Array;
  readonly bits: number;
}

/**
 * Parses `a.b.c.d/n`, `x::y/n` or a plain address (a /32 or /128). Host bits are cleared, so
 * `10.1.2.3/8` is `10.0.0.0/8`. Throws a `TypeError` on bad input.
 * @example
 * parsePrefix('2001:db8::/32'); // { family: 6, bits: 32, address: … }
 */
export const parsePrefix = (text: string): IpPrefix => {
  const [addr, len, extra] = text.split('/');
  const family = addr.includes(':') ? 6 : 4;
  const address = family === 4 ? parseIPv4(addr) : parseIPv6(addr);
  const max = address.length * 8;
  if (extra !== undefined || (len !== undefined && !/^(0|[1-9][0-9]{0,2})$/.test(len)))
    throw new TypeError(`not a prefix: ${JSON.stringify(text)}`);
  const bits = len === undefined ? max : +len;
  if (bits > max) throw new TypeError(`prefix length over ${max}: ${JSON.stringify(text)}`);
  for (let i = 0; i < address.length; i++) {
    const keep = Math.min(8, Math.max(0, bits - 8 * i));
    address[i] &= (0xff00 >>> keep) & 0xff;
  }
  return { family, address, bits };
};

/**
 * Whether the address at `bytes[offset ..]` (4 bytes for an IPv4 prefix, 16 for IPv6) lies in
 * the prefix.
 */
export const prefixContains = (prefix: IpPrefix, bytes: Uint8Array, offset = 0): boolean => {
  const { address, bits } = prefix;
  const whole = bits >>> 3;
  for (let i = 0; i < whole; i++) if (bytes[offset + i] !== address[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff00 >>> rest) & 0xff;
  return ((bytes[offset + whole] ?? 0) & mask) === address[whole];
};
