/**
 * A macswap forwarder (like testpmd --forward-mode=macswap): every received burst goes back on
 * the queue it came from, destination and source MAC swapped, one burst per native call.
 *
 *   npx ts-node examples/macswap.ts --socket /tmp/memif.sock
 *
 * Traffic for it: `rx-memif gen --socket /tmp/memif.sock --role client --secs 5` with this
 * example as `--role server` (the default), or a testpmd client in flowgen mode:
 *   dpdk-testpmd -l 0-1 --no-huge -m 1024 --no-pci \
 *     --vdev=net_memif0,role=client,socket=/tmp/memif.sock,socket-abstract=no \
 *     -- --forward-mode=flowgen --stats-period=1
 */
import { parseArgs } from 'node:util';
import { memif } from '../src/index';
import type { Burst } from '../src/index';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'server' },
    socket: { type: 'string', default: '/tmp/memif.sock' },
  },
});

const iface = memif({ role: values.role as 'client' | 'server', socket: values.socket });
iface.state$.subscribe((s) => console.log('state:', s.status));

const swap = (b: Burst): Burst => {
  for (let i = 0; i < b.count; i++) {
    if (b.lengths[i] < 12) continue;
    const o = b.offsets[i];
    const dst = b.data.slice(o, o + 6);
    b.data.copyWithin(o, o + 6, o + 12);
    b.data.set(dst, o + 6);
  }
  return b;
};

// A received Burst passed to txBursts goes from its memory to the ring in one native call.
const out = iface.txBursts();
iface.rxBursts().subscribe((b) => out.next(swap(b)));

iface.stats$(1000).subscribe((s) => {
  console.log(`rx ${s.rx[0].packets} packets, tx ${s.tx[0].packets} packets`);
});
process.once('SIGINT', () => void iface.close());
