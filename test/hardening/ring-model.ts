import { DESC_FLAG_NEXT } from '../../src/control/layout';
import { QUEUE_COUNTERS, QueueCounter } from '../../src/native-bridge/native';
import type { Desc } from './ring-rig';

/**
 * What a receiving queue must make of a stream of descriptors (docs/protocol.md#data-path-per-ring
 * "server rx", docs/protocol.md#chained-buffers, and native/queue.cc RxWalk), independent of how
 * the stream is cut into bursts.
 *
 * The stream is a sequence of units; a unit is what the receiver treats as one packet:
 * consecutive descriptors up to the first one without NEXT, or exactly N descriptors that all
 * carry NEXT (a chain that fills the whole ring and so can never end: counted badChain and
 * consumed). A unit is delivered only if every descriptor is valid and the sum of lengths is at
 * most maxPacketSize; otherwise each bad descriptor counts once under its first failing check,
 * and a unit of valid descriptors that is too long counts once as tooBig.
 */

export type Reason = 'badFlags' | 'badRegion' | 'badLength' | 'badBounds';
export const REASONS: readonly Reason[] = ['badFlags', 'badRegion', 'badLength', 'badBounds'];

/** The receiver's checks, in its order (the first failing one names the descriptor). */
export const classify = (d: Desc, sizes: readonly number[]): Reason | undefined => {
  if ((d.flags & ~DESC_FLAG_NEXT) !== 0) return 'badFlags';
  if (d.region >= sizes.length) return 'badRegion';
  if (d.length === 0) return 'badLength';
  // Plain numbers: offset + length is exact (no u32 wrap), as in the 64-bit native check.
  if (d.offset + d.length > sizes[d.region]) return 'badBounds';
  return undefined;
};

export interface Seg {
  readonly desc: Desc;
  readonly reason: Reason | undefined;
  /** Delivered units: the bytes this segment must yield (pattern or a static part of a region). */
  readonly data?: Uint8Array;
  /**
   * Delivered units: the segment is a buffer overlapping the receiving ring itself; its bytes are
   * the ring's from this offset, as they were when the call that delivers it began.
   */
  readonly fromRing?: number;
  /** The peer copies `data` to the descriptor's region and offset before publishing. */
  readonly write?: boolean;
  /** Client rx: the server writes only length and flags, region/offset stay as offered. */
  readonly lengthFlagsOnly?: boolean;
}

export type Outcome = 'deliver' | 'drop' | 'tooBig' | 'badChain';

export interface Unit {
  /** Stream position of the first descriptor. */
  readonly start: number;
  readonly segs: readonly Seg[];
  readonly outcome: Outcome;
  /** Sum of lengths (meaningful when every descriptor is valid). */
  readonly total: number;
  /** How the generator made it (for the figures). */
  readonly kind: string;
  /** The peer stops a burst once right before this segment (a chain cut by head). */
  readonly cutAt?: number;
}

const hasNext = (s: Seg): boolean => (s.desc.flags & DESC_FLAG_NEXT) !== 0;

export const outcomeOf = (segs: readonly Seg[], n: number, maxPacket: number): Outcome => {
  if (segs.length === n && segs.every(hasNext)) return 'badChain';
  const last = segs.length - 1;
  if (
    segs.length === 0 ||
    segs.length > n ||
    hasNext(segs[last]) ||
    !segs.slice(0, last).every(hasNext)
  )
    throw new Error('generator bug: not a unit');
  if (segs.some((s) => s.reason !== undefined)) return 'drop';
  return segs.reduce((sum, s) => sum + s.desc.length, 0) > maxPacket ? 'tooBig' : 'deliver';
};

export type CounterName = keyof typeof QueueCounter;

/** The rx drop reasons, in the order the campaign reports them. */
export const BAD_REASONS = [
  'badFlags',
  'badRegion',
  'badLength',
  'badBounds',
  'tooBig',
  'badChain',
  'badIndex',
] as const;

/** Counter values as a plain record (all 14). */
export type Counts = Record<CounterName, number>;

export const zeroCounts = (): Counts =>
  Object.fromEntries(Object.keys(QueueCounter).map((k) => [k, 0])) as Counts;

export const countsOf = (c: Float64Array): Counts => {
  if (c.length !== QUEUE_COUNTERS) throw new Error('counters of the wrong length');
  const out = zeroCounts();
  for (const [k, i] of Object.entries(QueueCounter)) out[k as CounterName] = c[i];
  return out;
};

export const diffCounts = (after: Counts, before: Counts): Counts => {
  const out = zeroCounts();
  for (const k of Object.keys(out) as CounterName[]) out[k] = after[k] - before[k];
  return out;
};

/** Adds what consuming `unit` must do to the rx counters (not bursts: that is per call). */
export const addUnit = (c: Counts, unit: Unit): void => {
  c.descriptors += unit.segs.length;
  if (unit.outcome === 'deliver') {
    c.packets++;
    c.bytes += unit.total;
    return;
  }
  for (const s of unit.segs) if (s.reason !== undefined) c[s.reason]++;
  if (unit.outcome === 'tooBig') c.tooBig++;
  if (unit.outcome === 'badChain') c.badChain++;
};
