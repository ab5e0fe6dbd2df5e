import { QUEUE_COUNTERS, QueueCounter } from '../native-bridge/native';

/**
 * Drop and error reasons, by name: what was lost or refused, and why. `linkDown` on tx: packets
 * handed over while the link was down or still waiting when it went down; on rx: a packet left
 * in the ring when the link went down (a chain the peer never finished).
 */
export type DropReason =
  | 'ringFull'
  | 'queueFull'
  | 'linkDown'
  | 'badRegion'
  | 'badBounds'
  | 'badLength'
  | 'badFlags'
  | 'badChain'
  | 'badIndex'
  | 'tooBig'
  | 'badOffer';

/** One direction of one queue, since the interface was created (across reconnections). */
export interface QueueStats {
  readonly packets: number;
  readonly bytes: number;
  readonly bursts: number;
  /** Packets lost or refused, by reason (only reasons that occurred). */
  readonly drops: Readonly<Partial<Record<DropReason, number>>>;
}

const NATIVE_REASONS = [
  'badRegion',
  'badBounds',
  'badLength',
  'badFlags',
  'badChain',
  'badIndex',
  'tooBig',
  'badOffer',
] as const;

/** Doubles in a queue direction's shared counters: live, carried, queueFull, linkDown. */
export const COUNTER_SLOTS = 2 * QUEUE_COUNTERS + 2;
const CARRIED = QUEUE_COUNTERS;
const QUEUE_FULL = 2 * QUEUE_COUNTERS;
const LINK_DOWN = 2 * QUEUE_COUNTERS + 1;

/**
 * Counters of one queue direction: a Float64Array the native core increments in place (so
 * reading costs no native call), totals carried over from earlier connections, and the drops
 * counted in JS (`queueFull`, `linkDown`). All of it lives in one SharedArrayBuffer, so that a
 * queue served in a worker thread counts where the main thread reads (`eth.stats()` sends no
 * message; docs/architecture.md "Queues in worker threads"). One thread writes at a time: the
 * one whose data path serves the queue.
 */
export class QueueCounters {
  /** The whole store: give it to another thread to count into the same place. */
  readonly shared: SharedArrayBuffer;
  private readonly all: Float64Array;
  /** Handed to the native queue of the current connection. */
  readonly live: Float64Array;
  private readonly carried: Float64Array;

  constructor(shared = new SharedArrayBuffer(COUNTER_SLOTS * 8)) {
    if (shared.byteLength < COUNTER_SLOTS * 8)
      throw new RangeError(`queue counters need ${COUNTER_SLOTS * 8} bytes`);
    this.shared = shared;
    this.all = new Float64Array(shared, 0, COUNTER_SLOTS);
    this.live = this.all.subarray(0, QUEUE_COUNTERS);
    this.carried = this.all.subarray(CARRIED, CARRIED + QUEUE_COUNTERS);
  }

  get queueFull(): number {
    return this.all[QUEUE_FULL];
  }
  set queueFull(n: number) {
    this.all[QUEUE_FULL] = n;
  }
  get linkDown(): number {
    return this.all[LINK_DOWN];
  }
  set linkDown(n: number) {
    this.all[LINK_DOWN] = n;
  }

  /**
   * Folds the live counters into the totals and zeroes them in place for a new connection (the
   * queue of the previous one is closed, so nothing counts into them any more).
   */
  renew(): Float64Array {
    for (let i = 0; i < QUEUE_COUNTERS; i++) {
      this.carried[i] += this.live[i];
      this.live[i] = 0;
    }
    return this.live;
  }

  private total(i: number): number {
    return this.carried[i] + this.live[i];
  }

  /** Counts packets and bytes moved by JS itself (not through a native queue). */
  add(packets: number, bytes: number): void {
    this.live[QueueCounter.packets] += packets;
    this.live[QueueCounter.bytes] += bytes;
    this.live[QueueCounter.bursts] += 1;
  }

  snapshot(): QueueStats {
    const drops: Partial<Record<DropReason, number>> = {};
    for (const reason of NATIVE_REASONS) {
      const n = this.total(QueueCounter[reason]);
      if (n > 0) drops[reason] = n;
    }
    if (this.queueFull > 0) drops.queueFull = this.queueFull;
    if (this.linkDown > 0) drops.linkDown = this.linkDown;
    return {
      packets: this.total(QueueCounter.packets),
      bytes: this.total(QueueCounter.bytes),
      bursts: this.total(QueueCounter.bursts),
      drops,
    };
  }
}
