import { randomInt } from 'node:crypto';

/**
 * A small seeded PRNG (mulberry32) so that every fuzz run can be replayed: the seed is printed,
 * and `FUZZ_SEED=<seed>` runs the same frames again.
 */
export class Prng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform u32. */
  u32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in `0 .. n - 1`. */
  int(n: number): number {
    return Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** An integer in `lo .. hi` (both included). */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }

  /** Picks a key by weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as [K, number][];
    const total = entries.reduce((sum, [, w]) => sum + w, 0);
    let x = this.u32() / 0x1_0000_0000;
    for (const [key, w] of entries) {
      x -= w / total;
      if (x < 0) return key;
    }
    return entries[entries.length - 1][0];
  }
}

/** `FUZZ_SEED` when set (decimal or 0x hex), otherwise a fresh random u32. */
export const fuzzSeed = (): number => {
  const text = process.env.FUZZ_SEED;
  if (text === undefined || text === '') return randomInt(0, 0xffffffff);
  const seed = Number(text);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new Error(`FUZZ_SEED must be an integer in 0..4294967295, got ${JSON.stringify(text)}`);
  return seed;
};

/** A positive integer from the environment, or the default. */
export const envCount = (name: string, fallback: number): number => {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
};
