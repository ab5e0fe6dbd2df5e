/**
 * Big-endian reads and writes straight on a `Uint8Array`, with no DataView to allocate per
 * packet. Reads past the end give garbage (NaN-free, `undefined` becomes 0 through the bit
 * operators), so callers check lengths first.
 */

/** The big-endian 16-bit word at `i`. */
export const u16 = (b: Uint8Array, i: number): number => (b[i] << 8) | b[i + 1];

/** The big-endian 32-bit word at `i`, as an unsigned number. */
export const u32 = (b: Uint8Array, i: number): number =>
  ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;

/** Writes `v` as a big-endian 16-bit word at `i`. */
export const setU16 = (b: Uint8Array, i: number, v: number): void => {
  b[i] = (v >>> 8) & 0xff;
  b[i + 1] = v & 0xff;
};

/** Writes `v` as a big-endian 32-bit word at `i`. */
export const setU32 = (b: Uint8Array, i: number, v: number): void => {
  b[i] = (v >>> 24) & 0xff;
  b[i + 1] = (v >>> 16) & 0xff;
  b[i + 2] = (v >>> 8) & 0xff;
  b[i + 3] = v & 0xff;
};

/** Whether `a[ai .. ai + n)` equals `b[bi .. bi + n)`. */
export const bytesEqual = (
  a: Uint8Array,
  ai: number,
  b: Uint8Array,
  bi: number,
  n: number,
): boolean => {
  for (let k = 0; k < n; k++) if (a[ai + k] !== b[bi + k]) return false;
  return true;
};
