/**
 * Parses a MAC address written as six hex bytes separated by `:` or `-`
 * (`02:00:00:00:00:01`). Throws a `TypeError` on anything else: it is meant for configuration,
 * never for packet data.
 * @example
 * parseMac('02:00:00:00:00:01'); // Uint8Array [2, 0, 0, 0, 0, 1]
 */
export const parseMac = (mac: string): Uint8Array => {
  const parts = mac.split(/[:-]/);
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{1,2}$/.test(p)))
    throw new TypeError(`not a MAC address: ${JSON.stringify(mac)}`);
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
};

/** Formats 6 bytes (at `offset`) as `aa:bb:cc:dd:ee:ff`. */
export const formatMac = (bytes: Uint8Array, offset = 0): string => {
  const out: string[] = [];
  for (let i = 0; i < 6; i++) out.push((bytes[offset + i] ?? 0).toString(16).padStart(2, '0'));
  return out.join(':');
};
