import { Subject } from 'rxjs';
import type { Observable, Observer } from 'rxjs';
import { QueueCounter } from '../native-bridge/native';
import { Burst, sharedRegions } from './burst';
import type { NativeQueue } from '../native-bridge/native';
import { QueueCounters } from './counters';

/** Staging memory for one native call (packets are copied here, then into the ring). */
const STAGING_BYTES = 2 * 1024 * 1024;
const STAGING_PACKETS = 4096;

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
  readonly counters = new QueueCounters();
  private queue: NativeQueue | undefined;
  private backlog: Uint8Array[] = [];
  private head = 0;
  private flushScheduled = false;
  private drainedScheduled = false;
  private readonly staging = new Uint8Array(STAGING_BYTES);
  private readonly offsets = new Uint32Array(STAGING_PACKETS);
  private readonly lengths = new Uint32Array(STAGING_PACKETS);
  private readonly ready = new Subject<number>();
  private readonly idle: (() => void)[] = [];
  /** Called when packets are left waiting for ring space (the poll loop then retries). */
  onBlocked: () => void = () => undefined;

  constructor(
    readonly index: number,
    private readonly options: TxPortOptions,
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
    const q = this.queue;
    if (!q) return false;
    while (this.waiting > 0) {
      // Stage no more than the ring can take now: a full ring costs one native call, no copies.
      const room = q.pending();
      if (room === 0) break;
      const count = this.stage(room);
      if (count === 0) break;
      const sent = q.transmit(this.staging, this.offsets, this.lengths, count);
      this.head += sent;
      if (sent < count) break;
    }
    if (this.head > 4096 && this.head * 2 > this.backlog.length) {
      this.backlog = this.backlog.slice(this.head);
      this.head = 0;
    }
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

  /** Copies waiting packets into the staging area; returns how many. */
  private stage(max: number): number {
    let used = 0;
    let count = 0;
    const limit = Math.min(max, STAGING_PACKETS);
    for (let i = this.head; i < this.backlog.length && count < limit; i++) {
      const p = this.backlog[i];
      if (used + p.length > STAGING_BYTES) {
        if (count > 0) break;
        // A packet larger than the whole staging area can never be sent.
        this.counters.queueFull++;
        this.head++;
        continue;
      }
      this.staging.set(p, used);
      this.offsets[count] = used;
      this.lengths[count] = p.length;
      used += p.length;
      count++;
    }
    return count;
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
