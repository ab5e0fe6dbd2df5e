import { Observable, Subject } from 'rxjs';
import { loadNative } from '../native-bridge/load';
import type { NativeQueue } from '../native-bridge/native';
import { Burst, sharedRegions } from './burst';
import { QueueCounters } from './counters';

/** Packets read per native call. */
export const RX_BURST = 256;
/** Largest packet accepted (all chain segments together); larger ones are dropped as tooBig. */
export const MAX_PACKET = 256 * 1024;
/** Packet bytes per slab, so that one allocation serves many bursts. */
const SLAB_BYTES = 4 * 1024 * 1024;
const INDEX_ENTRIES = 64 * 1024;
/** A slab holds its packets and their offsets and lengths (native/slab_pool.cc agrees). */
export const SLAB_TOTAL = SLAB_BYTES + 2 * 4 * INDEX_ENTRIES;

const EMPTY_BYTES = new Uint8Array(0);
const EMPTY_INDEX = new Uint32Array(0);

let takeSlab: (() => ArrayBuffer | undefined) | undefined;

/**
 * A slab's memory: from the addon's pool (reused once no view of an earlier slab is reachable:
 * no fresh pages, no zeroing in steady state, see docs/architecture.md "The hot path"), or from
 * JS where the addon cannot hand out external buffers.
 */
const newSlab = (): ArrayBuffer => {
  if (takeSlab === undefined) {
    try {
      const native = loadNative();
      takeSlab = () => native.takeSlab();
    } catch {
      takeSlab = () => undefined;
    }
  }
  return takeSlab() ?? new ArrayBuffer(SLAB_TOTAL);
};

/**
 * Bump allocation of receive memory: packets are copied into the current slab and handed out as
 * views, with their offsets and lengths in index arrays of the same slab; a full slab is simply
 * replaced (views keep theirs alive, and only then does it go back to the pool), so nothing a
 * subscriber holds is ever overwritten.
 */
class Slabs {
  /** The current slab's packet bytes; the next call writes from `at`. */
  data = EMPTY_BYTES;
  at = 0;
  /** The RX_BURST index entries the next call writes (fresh views after each commit). */
  offsets = EMPTY_INDEX;
  lengths = EMPTY_INDEX;
  private allOffsets = EMPTY_INDEX;
  private allLengths = EMPTY_INDEX;
  private entries = 0;

  /**
   * Room for one call: at least MAX_PACKET bytes and RX_BURST index entries. Allocates nothing
   * unless the last call used some (a poll that finds the ring empty costs no garbage).
   */
  reserve(): this {
    if (this.data.length - this.at < MAX_PACKET || INDEX_ENTRIES - this.entries < RX_BURST) {
      const buffer = newSlab();
      this.data = new Uint8Array(buffer, 0, SLAB_BYTES);
      this.allOffsets = new Uint32Array(buffer, SLAB_BYTES, INDEX_ENTRIES);
      this.allLengths = new Uint32Array(buffer, SLAB_BYTES + 4 * INDEX_ENTRIES, INDEX_ENTRIES);
      this.at = 0;
      this.entries = 0;
      this.window();
    }
    return this;
  }

  /** Marks what a call used: `count` entries and the bytes up to the end of its last packet. */
  commit(count: number, offsets: Uint32Array, lengths: Uint32Array): void {
    if (count === 0) return;
    this.entries += count;
    this.at = offsets[count - 1] + lengths[count - 1];
    // New views: the arrays of the call just made now belong to the burst handed out.
    this.window();
  }

  /**
   * Lets go of the current slab (link down, interface closed): a port keeps no pool slab while
   * it cannot read, so closed interfaces and idle connections do not hold the pool's 32 slabs;
   * views handed out keep theirs as always.
   */
  release(): void {
    this.data = EMPTY_BYTES;
    this.allOffsets = EMPTY_INDEX;
    this.allLengths = EMPTY_INDEX;
    this.at = 0;
    this.entries = 0;
    this.window();
  }

  private window(): void {
    const e = this.entries;
    this.offsets = this.allOffsets.subarray(e, e + RX_BURST);
    this.lengths = this.allLengths.subarray(e, e + RX_BURST);
  }
}

/**
 * The receive side of queue `q`, for the life of the interface: bursts are emitted on one hot
 * subject whatever connection they came from; a native queue is attached while the link is up.
 */
export class RxPort {
  private readonly subject = new Subject<Burst>();
  private readonly slabs = new Slabs();
  private queue: NativeQueue | undefined;
  private zeroCopy = false;
  private readonly zc = {
    regions: new Int32Array(1),
    offsets: new Uint32Array(RX_BURST),
    lengths: new Uint32Array(RX_BURST),
  };
  /** Region buffers for zero-copy views, by region index. */
  private regionViews: Uint8Array[] = [];
  /** The last {@link RxPort.drain} stopped at its budget with packets still in the ring. */
  more = false;

  constructor(
    readonly index: number,
    readonly counters = new QueueCounters(),
  ) {}

  get bursts(): Observable<Burst> {
    return this.subject.asObservable();
  }

  get attached(): NativeQueue | undefined {
    return this.queue;
  }

  attach(queue: NativeQueue, zeroCopy: boolean, regions: readonly ArrayBuffer[]): void {
    this.queue = queue;
    this.zeroCopy = zeroCopy;
    this.regionViews = regions.map((b) => {
      if (zeroCopy) sharedRegions.add(b);
      return new Uint8Array(b);
    });
  }

  detach(): void {
    this.queue = undefined;
    this.regionViews = [];
    this.slabs.release();
  }

  /**
   * Reads up to `budget` packets (rounded up to a whole read); returns the number delivered.
   * Without a budget it reads until the ring holds no complete packet: the link-down drain,
   * which must deliver everything the peer published. A short read is not the end: a copy-mode
   * read also stops where the slab runs out of room (256 KiB may hold only 29 jumbo frames), a
   * zero-copy one where the region changes. Stopping there would strand the rest until the next
   * wake, which may never come (the link going down, a peer that signalled once and now waits
   * for room). `more` then tells whether the budget, not the ring, ended it (docs/tuning.md).
   */
  drain(budget = Infinity): number {
    let total = 0;
    this.more = false;
    while (total < budget) {
      const max = Math.min(RX_BURST, budget - total);
      const n = this.zeroCopy ? this.readInPlace(max) : this.readCopy(max);
      total += n;
      // 0: empty, or only a chain whose end the peer has not published yet.
      if (n === 0 || (n < RX_BURST && (this.queue?.pending() ?? 0) === 0)) return total;
    }
    // Stopped by the budget: the peer will not signal again for what is already in the ring.
    this.more = (this.queue?.pending() ?? 0) > 0;
    return total;
  }

  complete(): void {
    this.slabs.release();
    this.subject.complete();
  }

  private readCopy(max: number): number {
    const q = this.queue;
    if (!q) return 0;
    // A port takes a pool slab only once it has something to read: idle queues hold none.
    if (this.slabs.data.length === 0 && q.pending() === 0) return 0;
    const slabs = this.slabs.reserve();
    const { data, offsets, lengths } = slabs;
    const n = q.receive(data, slabs.at, offsets, lengths, max);
    if (n === 0) return 0;
    slabs.commit(n, offsets, lengths);
    // A full read hands out the call's own index views; a short one, views of its length.
    const full = n === RX_BURST;
    this.subject.next(
      new Burst(
        this.index,
        n,
        data,
        full ? offsets : offsets.subarray(0, n),
        full ? lengths : lengths.subarray(0, n),
      ),
    );
    return n;
  }

  private readInPlace(max: number): number {
    const q = this.queue;
    if (!q) return 0;
    // A port takes a pool slab only once it has something to read: idle queues hold none.
    if (this.slabs.data.length === 0 && q.pending() === 0) return 0;
    const slabs = this.slabs.reserve();
    const slab = slabs.data;
    const { regions, offsets, lengths } = this.zc;
    const n = q.peek(slab, slabs.at, regions, offsets, lengths, max);
    if (n === 0) return 0;
    const inSlab = regions[0] < 0;
    if (inSlab) slabs.commit(n, offsets, lengths);
    const data = inSlab ? slab : this.regionViews[regions[0]];
    try {
      // Views into the shared region are valid only while this emission runs.
      this.subject.next(
        new Burst(this.index, n, data, offsets.subarray(0, n), lengths.subarray(0, n)),
      );
    } finally {
      q.release();
    }
    return n;
  }
}
