/**
 * The packets of one native read: `count` packets laid out in `data`, packet `i` at
 * `data[offsets[i] .. offsets[i] + lengths[i])`.
 *
 * Iterating with the arrays costs no allocation per packet:
 * @example
 * iface.rxBursts(0).subscribe((b) => {
 *   for (let i = 0; i < b.count; i++) bytes += b.lengths[i];
 * });
 *
 * `packet(i)` (and iteration with `for...of`) makes a `Uint8Array` view per packet. In copy mode
 * (the default) the data belongs to JS and stays valid after the emission; with `zeroCopyRx` it
 * lies in the shared region and is valid only until the emission returns.
 */
export class Burst {
  constructor(
    /** The queue it came from. */
    readonly queue: number,
    /** Number of packets. */
    readonly count: number,
    /** The bytes (a slab owned by JS, or the shared region in zero-copy mode). */
    readonly data: Uint8Array,
    /** Start of each packet in `data`. */
    readonly offsets: Uint32Array,
    /** Length of each packet. */
    readonly lengths: Uint32Array,
  ) {}

  /** A view of packet `i` (no copy). */
  packet(i: number): Uint8Array {
    return this.data.subarray(this.offsets[i], this.offsets[i] + this.lengths[i]);
  }

  /** Sum of the packet lengths. */
  get bytes(): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) n += this.lengths[i];
    return n;
  }

  *[Symbol.iterator](): IterableIterator<Uint8Array> {
    for (let i = 0; i < this.count; i++) yield this.packet(i);
  }
}
