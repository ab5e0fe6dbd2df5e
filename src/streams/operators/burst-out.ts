import { Observable, type OperatorFunction } from 'rxjs';
import { Burst } from '../burst';

/** Entries (bytes) per slab: a new one is made when a burst does not fit in what is left. */
const INDEX_SLAB = 8192;
const DATA_SLAB = 1 << 20;

/**
 * Where burst operators write the index (offsets, lengths) of the bursts they emit: slices of
 * a slab that is never reused (a new slab replaces a full one, the old one lives as long as a
 * burst points into it), so an emitted burst stays valid as long as its data does, like the
 * bursts rx emits, at the cost of two `subarray` per burst (see docs/architecture.md#operators).
 */
export class BurstIndex {
  offsets = new Uint32Array(INDEX_SLAB);
  lengths = new Uint32Array(INDEX_SLAB);
  /** Where the next burst's entries start in `offsets` / `lengths`. */
  used = 0;

  /**
   * Room for `n` entries: returns where they start in `offsets` / `lengths` (read those after
   * the call: a full slab is replaced). Taken at once, so that a sink called in the middle of
   * a burst that feeds the same operator again gets entries of its own.
   */
  take(n: number): number {
    if (this.used + n > this.offsets.length) {
      const size = Math.max(INDEX_SLAB, n);
      this.offsets = new Uint32Array(size);
      this.lengths = new Uint32Array(size);
      this.used = 0;
    }
    const at = this.used;
    this.used += n;
    return at;
  }

  /** The burst of the `count` entries written from `at` (from {@link take}), over `data`. */
  commit(queue: number, data: Uint8Array, at: number, count: number): Burst {
    return new Burst(
      queue,
      count,
      data,
      this.offsets.subarray(at, at + count),
      this.lengths.subarray(at, at + count),
    );
  }
}

/**
 * The packets an operator keeps of one burst, once it has dropped one: the index of the kept
 * packets is written only from the first drop (packets before it are copied in then), so a burst
 * that keeps every packet costs no index write and comes out as itself (see {@link keptOf}).
 * Holds its own arrays and entries: a sink called in the middle of a burst may feed the same
 * operator again.
 */
export class Kept {
  private readonly O: Uint32Array;
  private readonly L: Uint32Array;
  private readonly w0: number;
  private w: number;

  constructor(
    index: BurstIndex,
    private readonly b: Burst,
    first: number,
  ) {
    this.w0 = index.take(b.count);
    this.O = index.offsets;
    this.L = index.lengths;
    this.O.set(b.offsets.subarray(0, first), this.w0);
    this.L.set(b.lengths.subarray(0, first), this.w0);
    this.w = this.w0 + first;
  }

  /** Keeps packet `d[o .. o + l)`. */
  keep(o: number, l: number): void {
    this.O[this.w] = o;
    this.L[this.w] = l;
    this.w++;
  }

  /** The burst of the kept packets (over the same data), or `undefined` when none was kept. */
  burst(): Burst | undefined {
    const k = this.w - this.w0;
    if (k === 0) return undefined;
    const end = this.w;
    return new Burst(
      this.b.queue,
      k,
      this.b.data,
      this.O.subarray(this.w0, end),
      this.L.subarray(this.w0, end),
    );
  }
}

/**
 * What an operator loop that keeps some packets of `b` emits: `b` itself when it dropped none
 * (`kept` never made), else the kept ones. The loop reads: on a kept packet `kept?.keep(o, l)`;
 * on the first dropped packet `i`, `kept ??= new Kept(index, b, i)`.
 */
export const keptOf = (b: Burst, kept: Kept | undefined): Burst | undefined =>
  kept === undefined ? b : kept.burst();

/** Bytes for bursts that must be copied (a packet that grows): slices of never-reused slabs. */
export class BurstData {
  data = new Uint8Array(0);
  used = 0;

  /** Makes room for `n` bytes at `used`. */
  reserve(n: number): void {
    if (this.used + n <= this.data.length) return;
    this.data = new Uint8Array(Math.max(DATA_SLAB, n));
    this.used = 0;
  }
}

/**
 * An operator on bursts from a step made per subscription (its scratch and slabs): the step
 * returns the burst to emit (the same one when it changed nothing but bytes in place), or
 * `undefined` to emit nothing; an empty burst is not emitted. A throwing step errors the stream.
 */
export const burstOperator =
  (makeStep: () => (b: Burst) => Burst | undefined): OperatorFunction<Burst, Burst> =>
  (source) =>
    new Observable<Burst>((subscriber) => {
      const step = makeStep();
      return source.subscribe({
        next: (b) => {
          if (b.data.length === 0) return; // a zero-copy burst whose region is gone
          let out: Burst | undefined;
          try {
            out = step(b);
          } catch (err) {
            subscriber.error(err);
            return;
          }
          if (out !== undefined && out.count > 0) subscriber.next(out);
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
