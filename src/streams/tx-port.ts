import { Subject } from 'rxjs';
import type { Observable, Observer } from 'rxjs';
import { QueueCounter } from '../native-bridge/native';
import { Burst, sharedRegions } from './burst';
import type { NativeQueue } from '../native-bridge/native';
import { QueueCounters } from './counters';
import { emittedView } from './emitted-view';

/** Packets per native call from the backlog (each stays in its own buffer: no staging copy). */
const BATCH_PACKETS = 4096;
/** Backlog entries allocated at first; it doubles when `queueSize` or `lossless` need more. */
const INITIAL_CAPACITY = 1024;
const EMPTY = new Uint8Array(0);

export interface TxPortOptions {
  /** Packets that may wait for ring space; beyond it they are dropped as `queueFull`. */
  readonly queueSize: number;
  /** Never drop for lack of space: the backlog grows instead (the producer waits). */
  readonly lossless: boolean;
}

/**
 * The transmit side of queue `q`, for the life of the interface. Packets handed over in one
 * tick go to the ring in one native call; what does not fit waits in a bounded backlog that is
 * retried as the peer frees slots (it never signals that, so the poll loop retries).
 *
 * The backlog is kept in the form `transmitViews` takes (docs/tuning.md, "Per-packet tx"): per
 * packet its offset and length in preallocated typed arrays, and per run of packets lying in one
 * ArrayBuffer (a received burst sent one by one, a pool) a single view that stands for that
 * buffer. `next` appends, a flush passes the arrays as they are: nothing is allocated or walked
 * per packet beyond the append, and nothing is reallocated per flush.
 */
export class TxPort {
  private queue: NativeQueue | undefined;
  /** Waiting packets are entries `head .. tail - 1`; `viewOf[i]` indexes `views`. */
  private head = 0;
  private tail = 0;
  private viewOf = new Uint32Array(INITIAL_CAPACITY);
  private offsets = new Uint32Array(INITIAL_CAPACITY);
  private lengths = new Uint32Array(INITIAL_CAPACITY);
  /** One view per run of consecutive packets in one buffer; `viewCount` are in use. */
  private views: Uint8Array[] = [];
  private viewCount = 0;
  /** The buffer of the last run, and whether a new packet may join it. */
  private lastBuffer: ArrayBufferLike | undefined;
  private lastJoinable = false;
  /** One call's views and view indices when the batch does not start at entry 0. */
  private readonly batchViews: Uint8Array[] = [];
  private readonly batchViewOf = new Uint32Array(BATCH_PACKETS);
  /** The last flush found the ring full: the next one asks for room before sending. */
  private ringWasFull = false;
  private flushScheduled = false;
  private drainedScheduled = false;
  private readonly ready = new Subject<number>();
  private readonly idle: (() => void)[] = [];
  /** Called when packets are left waiting for ring space (the poll loop then retries). */
  onBlocked: () => void = () => undefined;

  constructor(
    readonly index: number,
    private readonly options: TxPortOptions,
    readonly counters = new QueueCounters(),
  ) {}

  /** Emits the free room of the backlog each time a flush leaves it empty. */
  get ready$(): Observable<number> {
    return this.ready.asObservable();
  }

  get waiting(): number {
    return this.tail - this.head;
  }

  /** Packets the backlog can still take before it drops (`queueFull`); unbounded when lossless. */
  get room(): number {
    return this.options.lossless ? Infinity : Math.max(0, this.options.queueSize - this.waiting);
  }

  attach(queue: NativeQueue): void {
    this.queue = queue;
    this.ringWasFull = false;
    this.scheduleFlush();
  }

  /** Link down: waiting packets are dropped and counted (they cannot be delivered). */
  detach(): void {
    this.queue = undefined;
    this.counters.linkDown += this.waiting;
    this.clear();
    this.settleIdle();
  }

  /** What `tx(q)` hands out; from then on `rx()` records its views for it (emitted-view.ts). */
  get observer(): Observer<Uint8Array> {
    emittedView.wanted = true;
    return this.packetObserver;
  }

  private readonly packetObserver: Observer<Uint8Array> = {
    next: (packet) => this.push(packet),
    error: () => undefined,
    complete: () => undefined,
  };

  readonly burstObserver: Observer<readonly Uint8Array[] | Burst> = {
    next: (packets) => {
      if (packets instanceof Burst) return this.pushBurst(packets);
      for (let i = 0; i < packets.length; i++) this.push(packets[i]);
    },
    error: () => undefined,
    complete: () => undefined,
  };

  /**
   * A received burst goes straight from its memory to the ring when nothing is waiting (one
   * native call, no staging copy: the reflector's path); what does not fit joins the backlog.
   */
  pushBurst(burst: Burst): void {
    const q = this.queue;
    let sent = 0;
    if (q && this.waiting === 0 && burst.count > 0 && !burst.lengths.includes(0))
      sent = q.transmit(burst.data, burst.offsets, burst.lengths, burst.count);
    for (let i = sent; i < burst.count; i++) this.push(burst.packet(i));
    // All of it in the ring: as good as a drained backlog for a producer waiting on ready$.
    if (sent > 0 && sent === burst.count) this.announceDrained();
  }

  /** Resolves once every packet handed over so far has reached the ring (or was dropped). */
  whenIdle(): Promise<void> {
    if (this.waiting === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /**
   * Queues one packet; `lossless` ignores the backlog bound for this packet. A zero-copy rx view
   * is copied: it is valid only during its emission, the backlog is sent later.
   */
  push(packet: Uint8Array, lossless = this.options.lossless): void {
    const length = packet.length;
    if (length === 0) {
      // memif has no empty packets (a zero-length descriptor is invalid for every peer).
      this.counters.live[QueueCounter.badLength]++;
      return;
    }
    if (!this.queue) {
      this.counters.linkDown++;
      return;
    }
    if (!lossless && this.tail - this.head >= this.options.queueSize) {
      this.counters.queueFull++;
      return;
    }
    let buffer: ArrayBufferLike;
    let offset: number;
    const made = emittedView.current;
    if (packet === made.view) {
      // The view rx() is emitting: its origin is known (the getters cost ~20 ns a packet).
      buffer = made.buffer;
      offset = made.offset;
    } else {
      buffer = packet.buffer;
      offset = packet.byteOffset;
    }
    if (sharedRegions.holdsBuffer(buffer)) {
      packet = packet.slice();
      buffer = packet.buffer;
      offset = 0;
    }
    if (this.tail === this.viewOf.length) this.makeRoom();
    const t = this.tail;
    if (buffer !== this.lastBuffer || !this.lastJoinable) {
      this.lastBuffer = buffer;
      // A SharedArrayBuffer's view stands only for its own bytes (see transmitViews).
      this.lastJoinable = buffer instanceof ArrayBuffer;
      this.views[this.viewCount++] = packet;
    }
    this.viewOf[t] = this.viewCount - 1;
    this.offsets[t] = offset;
    this.lengths[t] = length;
    this.tail = t + 1;
    if (!this.flushScheduled) this.scheduleFlush();
  }

  /** Moves as much of the backlog as fits into the ring; true when something is still waiting. */
  flush(): boolean {
    if (!this.queue) return false;
    this.moveToRing();
    if (this.waiting > 0) {
      this.onBlocked();
      return true;
    }
    this.clear();
    this.announceDrained();
    return false;
  }

  complete(): void {
    this.ready.complete();
  }

  /**
   * Writes waiting packets into the ring straight from their own buffers, one native call per
   * batch (docs/architecture.md, "The hot path"); returns how many were sent.
   */
  private moveToRing(): number {
    const q = this.queue;
    if (!q) return 0;
    let moved = 0;
    while (this.waiting > 0) {
      // A ring found full costs one small call to ask, not a whole batch checked and refused.
      if (this.ringWasFull && q.pending() === 0) break;
      // The sent prefix is moved out once it is as long as what waits (amortised: a large
      // lossless backlog is not moved again for every ring's worth sent).
      if (this.head > 0 && this.head * 2 >= this.tail) this.compact();
      const head = this.head;
      // Packets whose buffer was transferred (detached) after they were queued: nothing left.
      if (this.views[this.viewOf[head]].length === 0) {
        this.dropRun();
        continue;
      }
      const count = this.batch();
      const sent =
        head === 0
          ? q.transmitViews(
              this.views,
              this.viewOf[count - 1] + 1,
              this.viewOf,
              this.offsets,
              this.lengths,
              count,
            )
          : this.transmitFrom(q, head, count);
      this.head += sent;
      moved += sent;
      this.ringWasFull = sent < count;
      if (sent < count) break;
    }
    return moved;
  }

  /** `count` packets from entry `head` > 0: their views and view indices rebased to 0. */
  private transmitFrom(q: NativeQueue, head: number, count: number): number {
    const { views, viewOf, batchViews, batchViewOf } = this;
    const first = viewOf[head];
    const viewCount = viewOf[head + count - 1] - first + 1;
    for (let v = 0; v < viewCount; v++) batchViews[v] = views[first + v];
    for (let i = 0; i < count; i++) batchViewOf[i] = viewOf[head + i] - first;
    const sent = q.transmitViews(
      batchViews,
      viewCount,
      batchViewOf,
      this.offsets.subarray(head, head + count),
      this.lengths.subarray(head, head + count),
      count,
    );
    batchViews.fill(EMPTY, 0, viewCount);
    return sent;
  }

  /** Packets from `head` that one native call may take: up to a view that was detached. */
  private batch(): number {
    const { viewOf, views, head } = this;
    const end = Math.min(this.tail, head + BATCH_PACKETS);
    // Views are few (one per buffer run): check them, not the packets.
    const lastView = viewOf[end - 1];
    for (let v = viewOf[head] + 1; v <= lastView; v++) {
      if (views[v].length > 0) continue;
      let i = head;
      while (viewOf[i] < v) i++;
      return i - head;
    }
    return end - head;
  }

  /** Drops the run of packets at `head` whose buffer is gone, counting each. */
  private dropRun(): void {
    const run = this.viewOf[this.head];
    let n = this.head;
    while (n < this.tail && this.viewOf[n] === run) n++;
    this.counters.live[QueueCounter.badLength] += n - this.head;
    this.head = n;
    if (this.head === this.tail) this.clear();
  }

  /** Moves the waiting entries to the front, their views too (after a partial send). */
  private compact(): void {
    const { head, tail, viewOf, views } = this;
    if (head === tail) return this.clear();
    const base = viewOf[head];
    viewOf.copyWithin(0, head, tail);
    this.offsets.copyWithin(0, head, tail);
    this.lengths.copyWithin(0, head, tail);
    const n = tail - head;
    if (base > 0) {
      for (let i = 0; i < n; i++) viewOf[i] -= base;
      for (let v = base; v < this.viewCount; v++) views[v - base] = views[v];
      views.fill(EMPTY, this.viewCount - base, this.viewCount);
      this.viewCount -= base;
    }
    this.head = 0;
    this.tail = n;
  }

  /** The backlog is full up to its capacity: compact, or double it. */
  private makeRoom(): void {
    if (this.head > 0) {
      this.compact();
      return;
    }
    const grow = (a: Uint32Array) => {
      const b = new Uint32Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.viewOf = grow(this.viewOf);
    this.offsets = grow(this.offsets);
    this.lengths = grow(this.lengths);
  }

  /** Empty: lets go of the buffers (the ring has the bytes, or they were dropped). */
  private clear(): void {
    this.views.fill(EMPTY, 0, this.viewCount);
    this.viewCount = 0;
    this.head = 0;
    this.tail = 0;
    this.lastBuffer = undefined;
    this.lastJoinable = false;
  }

  /**
   * At most one microtask per tick, made once: the service loop flushes after every rx burst
   * without cancelling it, so a turn of many bursts does not queue one per burst.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(this.flushTask);
  }

  private readonly flushTask = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  /**
   * Tells producers the backlog drained, one macrotask later: a producer that refills at once
   * would otherwise run in a chain of microtasks and starve the poll loop (and the rx side).
   */
  private announceDrained(): void {
    if (this.drainedScheduled) return;
    this.drainedScheduled = true;
    setImmediate(() => {
      this.drainedScheduled = false;
      if (this.waiting > 0) return;
      this.settleIdle();
      this.ready.next(this.options.queueSize);
    });
  }

  private settleIdle(): void {
    for (const resolve of this.idle.splice(0)) resolve();
  }
}
