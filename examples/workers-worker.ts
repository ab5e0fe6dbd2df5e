/**
 * The worker thread of examples/workers.ts: a macswap forwarder on the queues the main thread
 * gave it, with the same RxJS shape as on the main thread.
 */
import { parentPort } from 'node:worker_threads';
import { attach } from '../src/worker';
import { swapMacsBurst } from '../src/index';

const eth = attach();

// The operators of the package root work unchanged in a worker.
for (const q of eth.queues) {
  eth.rxBursts(q).pipe(swapMacsBurst()).subscribe(eth.txBursts(q));
}
// The link as the main thread sees it, in order: connected, disconnected, connected, ..., closed.
eth.state$.subscribe((s) => parentPort?.postMessage(`queues ${eth.queues.join(',')}: ${s.status}`));
