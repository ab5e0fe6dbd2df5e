/**
 * A filter pipeline: keeps UDP only (counting what it drops by reason), counts packets per
 * destination port, and prints the top ports every second.
 *
 *   npx ts-node examples/filter-pipeline.ts --socket /tmp/memif.sock
 *
 * Traffic for it: a testpmd client sending UDP (txonly sends to port 9):
 *   dpdk-testpmd -l 0-1 --no-huge -m 1024 --no-pci \
 *     --vdev=net_memif0,role=client,socket=/tmp/memif.sock,socket-abstract=no \
 *     -- --forward-mode=txonly --stats-period=1
 */
import { parseArgs } from 'node:util';
import { filter } from 'rxjs';
import { MalformedCounter, ipProto, memif, parse } from '../src/index';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'server' },
    socket: { type: 'string', default: '/tmp/memif.sock' },
  },
});

const iface = memif({ role: values.role as 'client' | 'server', socket: values.socket });
iface.state$.subscribe((s) => console.log('state:', s.status));

const malformed = new MalformedCounter();
let notUdp = 0;
const byPort = new Map<number, number>();

iface
  .rx()
  .pipe(
    // Frames that do not parse go to the counter, with the reason.
    parse({ onMalformed: malformed }),
    // Drop everything but UDP (`filterPackets(ipProto('udp'))` does the same on raw frames).
    filter((p) => ipProto('udp')(p) || (notUdp++, false)),
  )
  .subscribe((p) => {
    // Parsed layers are views, valid during the emission only: count right away.
    if (p.transport?.kind !== 'udp') return;
    const port = p.transport.dstPort;
    byPort.set(port, (byPort.get(port) ?? 0) + 1);
  });

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
