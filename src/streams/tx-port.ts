import { Subject } from 'rxjs';
import type { Observable, Observer } from 'rxjs';
import { QueueCounter } from '../native-bridge/native';
import { Burst, sharedRegions } from './burst';
import type { NativeQueue } from '../native-bridge/native';
import { QueueCounters } from './counters';

/** Packets per native call from the backlog (each stays in its own buffer: no staging copy). */
const BATCH_PACKETS = 4096;
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
 */
export class TxPort {
  private queue: NativeQueue | undefined;
  private backlog: Uint8Array[] = [];
  private head = 0;
  private flushScheduled = false;
  private drainedScheduled = false;
  /** One native call's packets: `views[viewOf[i]]` stands for the buffer packet `i` lies in. */
  private readonly views: Uint8Array[] = [];
  private readonly viewOf = new Uint32Array(BATCH_PACKETS);
  private readonly offsets = new Uint32Array(BATCH_PACKETS);
  private readonly lengths = new Uint32Array(BATCH_PACKETS);
  /** Packets described by the last `gather`. */
  private gathered = 0;
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
    return this.backlog.length - this.head;
  }

  attach(queue: NativeQueue): void {
    this.queue = queue;
    this.scheduleFlush();
  }

  /** Link down: waiting packets are dropped and counted (they cannot be delivered). */
  detach(): void {
    this.queue = undefined;
    this.counters.linkDown += this.waiting;
    this.backlog = [];
    this.head = 0;
    this.settleIdle();
  }

  readonly observer: Observer<Uint8Array> = {
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
    if (packet.length === 0) {
      // memif has no empty packets (a zero-length descriptor is invalid for every peer).
      this.counters.live[QueueCounter.badLength]++;
      return;
    }
    if (!this.queue) {
      this.counters.linkDown++;
      return;
    }
    if (!lossless && this.waiting >= this.options.queueSize) {
      this.counters.queueFull++;
      return;
    }
    this.backlog.push(sharedRegions.holds(packet) ? packet.slice() : packet);
    this.scheduleFlush();
  }

  /** Moves as much of the backlog as fits into the ring; true when something is still waiting. */
  flush(): boolean {
    this.flushScheduled = false;
    if (!this.queue) return false;
    this.moveToRing();
    if (this.waiting > 0) {
      this.onBlocked();
      return true;
    }
    this.backlog = [];
    this.head = 0;
    this.announceDrained();
    return false;
  }

  complete(): void {
    this.ready.complete();
  }

  /**
   * Writes waiting packets into the ring straight from their own buffers, one native call per
   * ring's worth (docs/architecture.md, "The hot path"); returns how many were sent.
   */
  private moveToRing(): number {
    const q = this.queue;
    if (!q) return 0;
    let moved = 0;
    while (this.waiting > 0) {
      // No more than the ring can take now: a full ring costs one native call.
      const room = q.pending();
      if (room === 0) break;
      const views = this.gather(room);
      const count = this.gathered;
      if (count === 0) break;
      const sent = q.transmitViews(
        this.views,
        views,
        this.viewOf,
        this.offsets,
        this.lengths,
        count,
      );
      // Let go of the buffers: the ring has the bytes (or they wait in the backlog).
      this.views.fill(EMPTY, 0, views);
      this.head += sent;
      moved += sent;
      if (sent < count) break;
    }
    if (this.head > 4096 && this.head * 2 > this.backlog.length) {
      this.backlog = this.backlog.slice(this.head);
      this.head = 0;
    }
    return moved;
  }

  /**
   * Describes up to `max` waiting packets for `transmitViews`: consecutive packets in one
   * ArrayBuffer share a view (a burst's packets, a pool); returns the number of views.
   */
  private gather(max: number): number {
    const { views, viewOf, offsets, lengths } = this;
    const limit = Math.min(max, BATCH_PACKETS);
    let count = 0;
    let viewCount = 0;
    let buffer: ArrayBufferLike | undefined;
    let shared = false;
    while (count < limit && this.head + count < this.backlog.length) {
      const p = this.backlog[this.head + count];
      if (p.length === 0) {
        // Its buffer was transferred (detached) after it was queued: nothing left to send.
        if (count > 0) break;
        this.counters.live[QueueCounter.badLength]++;
        this.head++;
        continue;
      }
      if (p.buffer !== buffer || shared) {
        buffer = p.buffer;
        // A SharedArrayBuffer's view stands only for its own bytes (see transmitViews).
        shared = !(buffer instanceof ArrayBuffer);
        views[viewCount++] = p;
      }
      viewOf[count] = viewCount - 1;
      offsets[count] = p.byteOffset;
      lengths[count] = p.length;
      count++;
    }
    this.gathered = count;
    return viewCount;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
  }

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
