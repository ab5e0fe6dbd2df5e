/**
 * The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of 16-bit
 * big-endian words, and its incremental update (RFC 1624).
 */

/** Folds a sum of 16-bit words to 16 bits with end-around carry. */
export const foldSum = (sum: number): number => {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
};

/**
 * The folded (not complemented) ones' complement sum of `data[offset .. offset + length)`,
 * added to `initial`; an odd last byte is padded with zero. Chain calls over pieces whose
 * lengths are even.
 */
export const onesComplementSum = (
  data: Uint8Array,
  offset = 0,
  length = data.length - offset,
  initial = 0,
): number => {
  let sum = initial;
  const end = offset + length;
  let i = offset;
  for (; i + 1 < end; i += 2) sum += (data[i] << 8) | data[i + 1];
  if (i < end) sum += data[i] << 8;
  return foldSum(sum);
};

/**
 * The Internet checksum of `data[offset .. offset + length)` (its checksum field, if inside,
 * must be zero), starting from the partial sum `initial` (a pseudo-header).
 * @example
 * internetChecksum(Uint8Array.of(0x45, 0x00)); // 0xbaff
 */
export const internetChecksum = (
  data: Uint8Array,
  offset = 0,
  length = data.length - offset,
  initial = 0,
): number => ~onesComplementSum(data, offset, length, initial) & 0xffff;

/**
 * RFC 1624 eqn. 3: the checksum after one 16-bit word of the covered data changes from
 * `oldWord` to `newWord`, without summing the data again: HC' = ~(~HC + ~m + m').
 * @example
 * // TTL is the high byte of the word at IPv4 offset 8
 * const hc = updateChecksum(oldHc, (ttl << 8) | proto, ((ttl - 1) << 8) | proto);
 */
export const updateChecksum = (checksum: number, oldWord: number, newWord: number): number =>
  ~foldSum((~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff)) & 0xffff;
