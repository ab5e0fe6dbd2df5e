import type { NativeQueue } from '../native-bridge/native';
import type { QueueCounters } from './counters';

/** Slots one `alloc` can hand out: a ring has at most 2^14 slots. */
const MAX_SLOTS = 1 << 14;
const EMPTY = new Uint8Array(0);

/** The live transmit ring of a queue while the link is up (see `DataPath.txLink`). */
export interface TxLink {
  readonly queue: NativeQueue;
  /** The region holding the client's buffers (region 0). */
  readonly data: Uint8Array;
  /** Changes with every connection, so slots of an earlier one are recognised. */
  readonly generation: number;
}

/**
 * Free transmit slots handed out by {@link ZeroCopyTx.alloc}: `count` buffers in the shared
 * region, slot `i` at `data[offsets[i] .. offsets[i] + capacity)`. Write each packet into its
 * slot (from the slot's start), put its length in `lengths[i]`, then commit. The same object is
 * returned by every `alloc` of its queue (no allocation per call); its views are valid until
 * the next `alloc`/`commit` and only while the connection they came from is up.
 */
export class TxSlots {
  /** Slots handed out (0 when the ring is full or the link is down; 0 again after a commit). */
  count = 0;
  /** The shared region (zero length while the link is down). */
  data: Uint8Array = EMPTY;
  /** Region offset of each slot's buffer. */
  readonly offsets = new Uint32Array(MAX_SLOTS);
  /** Lengths to commit, filled in by the caller (see {@link ZeroCopyTx.commit}). */
  readonly lengths = new Uint32Array(MAX_SLOTS);
  /** Bytes each slot holds: the interface's `bufferSize`. A packet must fit in one slot. */
  capacity = 0;
  /** @internal Connection the slots belong to (-1: none). */
  generation = -1;

  /** A view of slot `i`'s whole buffer (`capacity` bytes); write the packet from its start. */
  slot(i: number): Uint8Array {
    if (!(i >= 0 && i < this.count))
      throw new RangeError(`slot ${i} is not one of the ${this.count} allocated`);
    return this.data.subarray(this.offsets[i], this.offsets[i] + this.capacity);
  }
}

/**
 * Zero-copy transmit on one queue of a client created with `zeroCopy: true`: packets are
 * written straight into the client's own S2M buffers in the shared region, and `commit`
 * publishes them (one native call, no copy).
 *
 * On the wire this is ordinary memif: the buffers are the client's slot buffers in region 0, so
 * every peer (VPP, libmemif, DPDK) takes it. Each packet takes exactly one slot (at most
 * `bufferSize` bytes; larger packets need `tx()`, which chains). Do not mix `tx()`/`send()` and
 * zero-copy on the same queue while slots are allocated: a copy-mode transmit fills the same
 * slots and ends the allocation (a later `commit` then fails with EINVAL).
 *
 * @example
 * const zc = eth.txZeroCopy(0);
 * const s = zc.alloc(32);
 * for (let i = 0; i < s.count; i++) s.lengths[i] = writeFrame(s.slot(i));
 * zc.commit(s.count);
 */
export class ZeroCopyTx {
  private readonly slots = new TxSlots();
  private readonly capacities = new Uint32Array(MAX_SLOTS);
  private readonly scratch = new Uint32Array(MAX_SLOTS);

  /** @internal Made by `iface.txZeroCopy(q)`. */
  constructor(
    /** The queue index. */
    readonly queue: number,
    private readonly link: () => TxLink | undefined,
    private readonly counters: QueueCounters,
  ) {}

  /** Whether the link is up (slots can be allocated). */
  get connected(): boolean {
    return this.link() !== undefined;
  }

  /**
   * Free slots in the ring right now (0 while the link is down). The peer frees slots without
   * signalling: a producer that finds none retries later (e.g. on `setImmediate`).
   */
  get room(): number {
    return this.link()?.queue.pending() ?? 0;
  }

  /**
   * Hands out up to `n` free slots (fewer when the ring has less room, 0 while the link is
   * down). Allocating again without a commit hands out the same slots. After a reconnection
   * slots come from the new connection's region; slots of an earlier one cannot be committed.
   */
  alloc(n: number): TxSlots {
    if (!Number.isInteger(n) || n < 0)
      throw new RangeError(`alloc: n must be a non-negative integer, got ${n}`);
    const s = this.slots;
    const link = this.link();
    if (!link) {
      s.count = 0;
      s.data = EMPTY;
      s.capacity = 0;
      s.generation = -1;
      return s;
    }
    s.count = link.queue.reserve(s.offsets, this.capacities, Math.min(n, MAX_SLOTS));
    s.data = link.data;
    s.capacity = s.count > 0 ? this.capacities[0] : 0;
    s.generation = link.generation;
    return s;
  }

  /**
   * Publishes the first `count` allocated slots, packet `i` being `lengths[i]` bytes from the
   * start of slot `i` (`lengths` defaults to the slots' own `lengths` array; a length must be
   * 1..capacity, else a `MemifError` EINVAL and nothing is sent). Slots not committed go back
   * (the next `alloc` hands them out again). Returns the number published: `count`, or 0 when
   * the connection the slots came from is gone (they are then counted as `linkDown`).
   */
  commit(count: number): number;
  commit(lengths: ArrayLike<number>, count?: number): number;
  commit(a: number | ArrayLike<number>, b?: number): number {
    const s = this.slots;
    let lengths: Uint32Array;
    let count: number;
    if (typeof a === 'number') {
      lengths = s.lengths;
      count = a;
    } else {
      count = b ?? a.length;
      if (count > a.length)
        throw new RangeError(`commit: count ${count} exceeds lengths (${a.length} entries)`);
      if (a instanceof Uint32Array) lengths = a;
      else {
        lengths = this.scratch;
        for (let i = 0; i < Math.min(count, MAX_SLOTS); i++) lengths[i] = a[i];
      }
    }
    if (!Number.isInteger(count) || count < 0 || count > s.count)
      throw new RangeError(`commit: count ${count} is not in 0..${s.count} (the slots allocated)`);
    const link = this.link();
    if (!link || link.generation !== s.generation) {
      this.counters.linkDown += count;
      s.count = 0;
      return 0;
    }
    const sent = link.queue.commit(lengths, count);
    s.count = 0;
    return sent;
  }
}
