/**
 * Two queue pairs, each its own stream: queue 0 is echoed back as it is, queue 1 is only
 * counted. A peer spreads its traffic over the queues (testpmd with --rxq=2 --txq=2 does).
 *
 *   npx ts-node examples/two-queues.ts --socket /tmp/memif.sock
 *
 * A peer with two queues:
 *   dpdk-testpmd -l 0-2 --no-huge -m 1024 --no-pci \
 *     --vdev=net_memif0,role=client,socket=/tmp/memif.sock,socket-abstract=no \
 *     -- --forward-mode=flowgen --rxq=2 --txq=2 --nb-cores=2 --stats-period=1
 */
import { parseArgs } from 'node:util';
import { memif } from '../src/index';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'server' },
    socket: { type: 'string', default: '/tmp/memif.sock' },
  },
});

// A server offers at most this many queues; the client asks for what it wants.
const iface = memif({
  role: values.role as 'client' | 'server',
  socket: values.socket,
  rxQueues: 2,
  txQueues: 2,
});
iface.state$.subscribe((s) =>
  console.log('state:', s.status, s.status === 'connected' ? s.queues : ''),
);

// Queue 0: echo (a received burst goes back in one native call).
const tx0 = iface.txBursts(0);
iface.rxBursts(0).subscribe((b) => tx0.next(b));

// Queue 1: count only.
let q1 = 0;
iface.rx(1).subscribe(() => q1++);

iface.stats$(1000).subscribe((s) => {
  const rx = s.rx.map((q) => `q${q.queue} ${q.packets}`).join(', ');
  console.log(`rx ${rx}; counted on queue 1: ${q1}`);
});
process.once('SIGINT', () => void iface.close());
