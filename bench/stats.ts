/** Small statistics for the bench: no timing, no I/O, unit-tested in test/bench/stats.spec.ts. */

/** The middle value (the upper one of an even count); undefined when there is none. */
export const median = (values: readonly number[]): number | undefined => quantile(values, 0.5);

/** The value below which a fraction `q` (0..1) of the sorted values lie (nearest rank). */
export const quantile = (values: readonly number[], q: number): number | undefined => {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
};

export const mean = (values: readonly number[]): number | undefined =>
  values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0) / values.length;

/**
 * Ours over the reference, from rounds measured A B A B: sums over the rounds whose reference
 * read a rate (a reference that reads 0 crashed, and a round without one says nothing), so a
 * placement change that hits one round weighs both sides alike. Undefined when no round counts.
 */
export const pairedRatio = (
  ours: readonly number[],
  reference: readonly number[],
): number | undefined => {
  let a = 0;
  let b = 0;
  for (let i = 0; i < Math.min(ours.length, reference.length); i++) {
    if (!(reference[i] > 0) || !Number.isFinite(ours[i])) continue;
    a += ours[i];
    b += reference[i];
  }
  return b > 0 ? a / b : undefined;
};

/**
 * The steady rate from a series of per-second rates: the median after dropping the first
 * `warmup` samples (link coming up) and the zeros (before traffic, after the peer left).
 */
export const steadyRate = (perSecond: readonly number[], warmup = 1): number =>
  median(perSecond.slice(warmup).filter((v) => v > 0)) ?? 0;
