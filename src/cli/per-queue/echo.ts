import type { Burst } from '../../index';
import { untilStopped } from '../queue-io';
import type { QueueIo, QueueWork, WorkKind } from '../queue-io';

export interface EchoParams {
  readonly swapMac: boolean;
}

/** Echo counts nothing itself: the queue counters do. */
export type EchoTally = Record<string, never>;

const swapInPlace = (b: Burst): void => {
  const d = b.data;
  for (let i = 0; i < b.count; i++) {
    const o = b.offsets[i];
    if (b.lengths[i] < 12) continue;
    for (let k = 0; k < 6; k++) {
      const t = d[o + k];
      d[o + k] = d[o + 6 + k];
      d[o + 6 + k] = t;
    }
  }
};

/** Sends every burst received on queue `q` back on the same queue (or the last tx queue). */
const start = (io: QueueIo, q: number, p: EchoParams): QueueWork<EchoTally> => {
  const out = io.txBursts(Math.min(q, io.options.txQueues - 1));
  const sub = io.rxBursts(q).subscribe((b) => {
    if (p.swapMac) swapInPlace(b);
    out.next(b);
  });
  return untilStopped(sub, () => ({}));
};

export const echoWork: WorkKind<EchoParams, EchoTally> = {
  start,
  zero: () => ({}),
  add: () => ({}),
};
