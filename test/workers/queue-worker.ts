// A worker thread for the worker specs: serves its queues as workerData says.
import { parentPort } from 'node:worker_threads';
import { attach } from '../../src/worker';
import { loadNative } from '../../src/native-bridge/load';

/** What the spec asks of this worker. */
export interface QueueWorkerPlan {
  /** reflect: send back every packet on its queue; sink: count only. */
  readonly mode: 'reflect' | 'sink';
  /** After this many received packets: throw from a subscriber, exit, or spin until terminated. */
  readonly failAfter?: { readonly packets: number; readonly how: 'throw' | 'exit' | 'spin' };
  /** Keep the thread alive after the interface closes (it must then be terminated). */
  readonly linger?: boolean;
}

/** What a worker answers to 'report'. */
export interface QueueWorkerReport {
  readonly received: number;
  readonly states: string[];
  readonly completed: boolean;
  readonly stats: ReturnType<ReturnType<typeof attach>['stats']>;
}

const eth = attach();
const plan = eth.workerData as QueueWorkerPlan;
let received = 0;
let completed = false;
for (const q of eth.queues) {
  const out = eth.txBursts(q);
  eth.rxBursts(q).subscribe({
    next: (burst) => {
      received += burst.count;
      if (plan.mode === 'reflect') out.next(burst);
      const fail = plan.failAfter;
      if (fail && received >= fail.packets) {
        if (fail.how === 'throw') throw new Error(`worker gave up after ${received} packets`);
        if (fail.how === 'exit') process.exit(3);
        for (;;); // 'spin': stuck mid-burst until terminated
      }
    },
    complete: () => {
      completed = true;
    },
  });
}
const states: string[] = [];
eth.state$.subscribe((s) => states.push(s.status));
parentPort?.on('message', (m: string) => {
  if (m === 'report') {
    const report: QueueWorkerReport = { received, states, completed, stats: eth.stats() };
    parentPort?.postMessage(report);
  }
  // Closing its own side frees every native object of this thread (attachments, queues).
  if (m === 'close')
    void eth
      .close()
      .then(() => parentPort?.postMessage({ liveHandles: loadNative().liveHandles(), completed }));
});
// The application's own channel must not keep the thread alive once the interface is closed.
if (!plan.linger) parentPort?.unref();
