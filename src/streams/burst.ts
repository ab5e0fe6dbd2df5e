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

  /**
   * A view of packet `i` (no copy). Empty once the memory is gone (a zero-copy burst whose
   * interface was closed during the emission: the region is unmapped, its buffer detached).
   */
  packet(i: number): Uint8Array {
    const d = this.data;
    if (d.length === 0) return new Uint8Array(0);
    // A view made from the buffer costs half of `subarray` (no species lookup; docs/tuning.md).
    return new Uint8Array(d.buffer, d.byteOffset + this.offsets[i], this.lengths[i]);
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

/**
 * The mapped regions that zero-copy bursts point into. A packet lying in one of them is valid
 * only during its emission (its slot then goes back to the peer, who may rewrite it at once), so
 * whatever keeps it past the emission (the tx backlog) must keep a copy.
 */
class SharedRegions {
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private any = false;

  add(buffer: ArrayBufferLike): void {
    this.buffers.add(buffer);
    this.any = true;
  }

  /** True for a view into a region that zero-copy rx hands out. */
  holds(packet: Uint8Array): boolean {
    return this.any && this.buffers.has(packet.buffer);
  }

  /** The same for a view's buffer, when it is known already. */
  holdsBuffer(buffer: ArrayBufferLike): boolean {
    return this.any && this.buffers.has(buffer);
  }
}

export const sharedRegions = new SharedRegions();
