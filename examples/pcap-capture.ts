/**
 * Captures received frames to a pcap file (open it with `tshark -r` or Wireshark), optionally
 * only the ones matching a port, and stops after --count frames or on Ctrl-C.
 *
 *   npx ts-node examples/pcap-capture.ts --socket /tmp/memif.sock --out /tmp/capture.pcap
 *
 * Traffic for it: `rx-memif ping --role client --socket /tmp/memif.sock --ip 192.0.2.2/24
 * --target 192.0.2.1` (its ARP requests get captured), or a testpmd txonly client.
 */
import { parseArgs } from 'node:util';
import { take } from 'rxjs';
import { filterPackets, memif, port, toPcap } from '../src/index';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'server' },
    socket: { type: 'string', default: '/tmp/memif.sock' },
    out: { type: 'string', default: 'capture.pcap' },
    count: { type: 'string', default: '100' },
    port: { type: 'string' },
  },
});

const iface = memif({ role: values.role as 'client' | 'server', socket: values.socket });
iface.state$.subscribe((s) => console.log('state:', s.status));

const wanted = values.port === undefined ? undefined : port(Number(values.port));
const frames = wanted ? iface.rx().pipe(filterPackets(wanted)) : iface.rx();
let n = 0;
const capture = frames
  .pipe(
    take(Number(values.count)),
    // The file is flushed and closed when the stream completes or is unsubscribed.
    toPcap(values.out, { linkType: iface.options.mode === 'ip' ? 'raw' : 'ethernet' }),
  )
  .subscribe({
    next: () => n++,
    complete: () => {
      console.log(`${n} frames written to ${values.out}`);
      void iface.close();
    },
  });

process.once('SIGINT', () => {
  capture.unsubscribe();
  console.log(`${n} frames written to ${values.out}`);
  void iface.close();
});
