/**
 * IPv4 and IPv6 addresses between text and bytes. The parsers throw a `TypeError` on bad input:
 * they are meant for configuration (responder addresses, filter prefixes), never packet data.
 */

/** Parses a dotted-quad IPv4 address into 4 bytes. */
export const parseIPv4 = (text: string): Uint8Array => {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && +p <= 255))
    throw new TypeError(`not an IPv4 address: ${JSON.stringify(text)}`);
  return Uint8Array.from(parts, Number);
};

/**
 * Parses an IPv6 address (with `::` and an optional dotted IPv4 tail, no zone) into 16 bytes.
 * @example
 * parseIPv6('fe80::1')[15]; // 1
 */
export const parseIPv6 = (text: string): Uint8Array => {
  const bad = (): never => {
    throw new TypeError(`not an IPv6 address: ${JSON.stringify(text)}`);
  };
  const halves = text.split('::');
  if (halves.length > 2) bad();
  const words = (s: string): number[] => {
    if (s === '') return [];
    const out: number[] = [];
    const groups = s.split(':');
    groups.forEach((g, i) => {
      if (i === groups.length - 1 && g.includes('.')) {
        const v4 = parseIPv4(g);
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(parseInt(g, 16));
      else bad();
    });
    return out;
  };
  const head = words(halves[0]);
  const tail = halves.length === 2 ? words(halves[1]) : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) bad();
  const all = [...head, ...new Array<number>(fill).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[2 * i] = w >>> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
};

/** Parses an IPv4 or IPv6 address (IPv6 if it contains a `:`). */
export const parseIp = (text: string): Uint8Array =>
  text.includes(':') ? parseIPv6(text) : parseIPv4(text);

/** Formats 4 bytes (at `offset`) as a dotted quad. */
export const formatIPv4 = (b: Uint8Array, offset = 0): string =>
  `${b[offset]}.${b[offset + 1]}.${b[offset + 2]}.${b[offset + 3]}`;

/** Formats 16 bytes (at `offset`) in the RFC 5952 form (longest zero run as `::`, lower case). */
export const formatIPv6 = (b: Uint8Array, offset = 0): string => {
  const w = Array.from({ length: 8 }, (_, i) => (b[offset + 2 * i] << 8) | b[offset + 2 * i + 1]);
  let best = -1;
  let bestLen = 1; // a single zero word is not compressed
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = (ws: number[]): string => ws.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(w);
  return `${hex(w.slice(0, best))}::${hex(w.slice(best + bestLen))}`;
};

/** Formats a 4- or 16-byte address view. */
export const formatIp = (b: Uint8Array): string => (b.length === 4 ? formatIPv4(b) : formatIPv6(b));
