import { SequenceCheck } from '../frames';
import type { SequenceTally } from '../frames';
import { untilStopped } from '../queue-io';
import type { QueueIo, QueueWork, WorkKind } from '../queue-io';

export interface SinkParams {
  readonly check: boolean;
}

export interface SinkTally extends SequenceTally {
  /** Sequence numbers accounted for (see SequenceCheck.accounted). */
  accounted: number;
  /** performance.timeOrigin + now of the first and last checked frame, in ms; 0: none yet. */
  first: number;
  last: number;
}

const zero = (): SinkTally => ({
  received: 0,
  lost: 0,
  corrupt: 0,
  outOfOrder: 0,
  foreign: 0,
  bytes: 0,
  accounted: 0,
  first: 0,
  last: 0,
});

/** Wall-clock ms, comparable between threads (performance.now() is per thread). */
const now = (): number => performance.timeOrigin + performance.now();

/**
 * Takes queue `q`'s bursts; with `check`, verifies them as gen frames numbered on this queue.
 * Without it the queue counters do the counting.
 */
const start = (
  io: QueueIo,
  q: number,
  p: SinkParams,
  changed: () => void,
): QueueWork<SinkTally> => {
  const checker = p.check ? new SequenceCheck() : undefined;
  let first = 0;
  let last = 0;
  const sub = io.rxBursts(q).subscribe((b) => {
    if (!checker) return;
    if (first === 0) first = now();
    for (let i = 0; i < b.count; i++) checker.take(b.data, b.offsets[i], b.lengths[i], b.queue);
    last = now();
    changed();
  });
  const tally = (): SinkTally =>
    checker ? { ...checker.tally, accounted: checker.accounted, first, last } : zero();
  return untilStopped(sub, tally);
};

const earliest = (a: number, b: number): number => (a === 0 ? b : b === 0 ? a : Math.min(a, b));

export const sinkWork: WorkKind<SinkParams, SinkTally> = {
  start,
  zero,
  add: (a, b) => ({
    received: a.received + b.received,
    lost: a.lost + b.lost,
    corrupt: a.corrupt + b.corrupt,
    outOfOrder: a.outOfOrder + b.outOfOrder,
    foreign: a.foreign + b.foreign,
    bytes: a.bytes + b.bytes,
    accounted: a.accounted + b.accounted,
    first: earliest(a.first, b.first),
    last: Math.max(a.last, b.last),
  }),
};
