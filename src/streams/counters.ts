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

/**
 * Counters of one queue direction: a Float64Array the native core increments in place (so
 * reading costs no native call), totals carried over from earlier connections, and the drops
 * counted in JS (`queueFull`, `linkDown`).
 */
export class QueueCounters {
  /** Handed to the native queue of the current connection. */
  live = new Float64Array(QUEUE_COUNTERS);
  private readonly carried = new Float64Array(QUEUE_COUNTERS);
  queueFull = 0;
  linkDown = 0;

  /** Folds the live counters into the totals and starts a fresh array for a new connection. */
  renew(): Float64Array {
    for (let i = 0; i < QUEUE_COUNTERS; i++) this.carried[i] += this.live[i];
    this.live = new Float64Array(QUEUE_COUNTERS);
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
