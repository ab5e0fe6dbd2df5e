/**
 * Queues in worker threads: each queue pair's data path (a macswap forwarder,
 * examples/workers-worker.ts) runs in its own worker thread, the control plane stays here, and
 * the counters of every queue are read here without a message.
 *
 *   npx ts-node examples/workers.ts --socket /tmp/memif.sock --queues 2
 *
 * A peer with two queues:
 *   dpdk-testpmd -l 0-2 --no-huge -m 1024 --no-pci \
 *     --vdev=net_memif0,role=client,socket=/tmp/memif.sock,socket-abstract=no \
 *     -- --forward-mode=flowgen --rxq=2 --txq=2 --nb-cores=2 --stats-period=1
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { memif } from '../src/index';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'server' },
    socket: { type: 'string', default: '/tmp/memif.sock' },
    queues: { type: 'string', default: '2' },
  },
});
const queues = Number(values.queues);

const eth = memif({
  role: values.role as 'client' | 'server',
  socket: values.socket,
  rxQueues: queues,
  txQueues: queues,
});
eth.state$.subscribe((s) => console.log('state:', s.status));

// Run as TypeScript (ts-node) or as compiled JavaScript: the worker file is the same kind.
const ts = path.extname(__filename) === '.ts';
const file = path.join(__dirname, `workers-worker${ts ? '.ts' : '.js'}`);
for (let q = 0; q < queues; q++) {
  const worker = eth.worker(file, {
    queues: [q],
    execArgv: ts ? ['-r', 'ts-node/register/transpile-only'] : undefined,
  });
  worker.thread.on('message', (m) => console.log(`worker ${worker.threadId}: ${String(m)}`));
  // A worker that throws or exits is reported here; its queue goes back to this thread.
  worker.state$.subscribe((s) =>
    console.log(`worker ${worker.threadId} (queue ${q}): ${JSON.stringify(s)}`),
  );
}

// The workers count into shared memory: stats() here covers their queues.
eth.stats$(1000).subscribe((s) => {
  console.log(s.rx.map((r, i) => `q${r.queue} rx ${r.packets} tx ${s.tx[i]?.packets}`).join('; '));
});
// Closes every worker's side first, then the interface.
process.once('SIGINT', () => void eth.close());
