/**
 * A filter pipeline on whole bursts: keeps UDP only (counting what it drops, and the malformed
 * frames by reason), counts packets per destination port reading the bytes in place, and with
 * --reflect sends the UDP packets back with their MACs swapped, still as bursts (one native call
 * per burst, no object per packet). Prints the top ports every second.
 *
 *   npx ts-node examples/filter-pipeline.ts --socket /tmp/memif.sock [--reflect]
 *
 * Traffic for it: a testpmd client sending UDP (txonly sends to port 9):
 *   dpdk-testpmd -l 0-1 --no-huge -m 1024 --no-pci \
 *     --vdev=net_memif0,role=client,socket=/tmp/memif.sock,socket-abstract=no \
 *     -- --forward-mode=txonly --stats-period=1
 */
import { parseArgs } from 'node:util';
import { tap } from 'rxjs';
import {
  FrameScan,
  MalformedCounter,
  filterBurst,
  ipProto,
  memif,
  scanFrame,
  swapMacsBurst,
} from '../src/index';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'server' },
    socket: { type: 'string', default: '/tmp/memif.sock' },
    reflect: { type: 'boolean', default: false },
  },
});

const iface = memif({ role: values.role as 'client' | 'server', socket: values.socket });
iface.state$.subscribe((s) => console.log('state:', s.status));

const malformed = new MalformedCounter();
let notUdp = 0;
const byPort = new Map<number, number>();
const scan = new FrameScan();

const udp$ = iface.rxBursts(0).pipe(
  // Tested on the bytes in place; the kept packets are indexed anew over the same memory.
  filterBurst(ipProto('udp'), { onMalformed: malformed, onDrop: () => notUdp++ }),
  tap((b) => {
    // The burst is valid during its emission: count right away, reading the UDP header where
    // the scan says it is.
    for (let i = 0; i < b.count; i++) {
      scanFrame(b.data, b.offsets[i], b.lengths[i], 'ethernet', scan);
      const at = scan.l4Offset + 2;
      const port = (b.data[at] << 8) | b.data[at + 1];
      byPort.set(port, (byPort.get(port) ?? 0) + 1);
    }
  }),
);
if (values.reflect) udp$.pipe(swapMacsBurst()).subscribe(iface.txBursts(0));
else udp$.subscribe();

const timer = setInterval(() => {
  const top = [...byPort.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
  console.log(
    `udp by port ${top.map(([p, n]) => `${p}:${n}`).join(' ') || '-'}; not udp ${notUdp}; ` +
      `malformed ${JSON.stringify(malformed.byReason)}`,
  );
}, 1000);
process.once('SIGINT', () => {
  clearInterval(timer);
  void iface.close();
});
