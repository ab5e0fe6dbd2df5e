// The worker of bench/workers.ts: counts what arrives on its queues and says when `count` came.
import { parentPort } from 'node:worker_threads';
import { attach } from '../src/worker';

const eth = attach();
const count = eth.workerData as number;
let received = 0;
for (const q of eth.queues)
  eth.rxBursts(q).subscribe((b) => {
    received += b.count;
    if (received >= count) {
      received -= count;
      parentPort?.postMessage('done');
    }
  });
parentPort?.unref();
