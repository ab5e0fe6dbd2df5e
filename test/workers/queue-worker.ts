// A worker thread for the worker specs: serves its queues as told by workerData.
import { parentPort } from 'node:worker_threads';
import { attach } from '../../src/worker';

/** What the spec asks of this worker. */
export interface QueueWorkerPlan {
  /** reflect: send back every packet on its queue; sink: count only. */
  readonly mode: 'reflect' | 'sink';
  /** After this many received packets: throw from a subscriber, exit, or hang in a busy loop. */
  readonly failAfter?: { readonly packets: number; readonly how: 'throw' | 'exit' | 'spin' };
}

const eth = attach();
const plan = eth.workerData as QueueWorkerPlan;
let received = 0;
for (const q of eth.queues) {
  const out = eth.txBursts(q);
  eth.rxBursts(q).subscribe((burst) => {
    received += burst.count;
    if (plan.mode === 'reflect') out.next(burst);
    const fail = plan.failAfter;
    if (fail && received >= fail.packets) {
      if (fail.how === 'throw') throw new Error(`worker gave up after ${received} packets`);
      if (fail.how === 'exit') process.exit(3);
      // 'spin': stuck mid-burst until terminated.
      for (;;);
    }
  });
}
// The spec's questions: state statuses seen, counters, and a close from inside.
const seen: string[] = [];
eth.state$.subscribe((s) => seen.push(s.status));
parentPort?.on('message', (m: string) => {
  if (m === 'report') parentPort?.postMessage({ received, seen, stats: eth.stats() });
  if (m === 'close') void eth.close().then(() => parentPort?.close());
});
