/**
 * An answering host on a memif interface: replies to ARP, ping (ICMP echo) and, with an IPv6
 * address, ICMPv6 echo and neighbor solicitation. Everything else is counted and dropped.
 *
 *   npx ts-node examples/icmp-responder.ts --role client --socket /run/vpp/memif.sock --ip 192.0.2.1
 *
 * Peers (192.0.2.1 is us, 192.0.2.2 the peer):
 *
 * - FD.io VPP as the server (we are the client; VPP's default socket is /run/vpp/memif.sock):
 *     vpp# create interface memif id 0 socket-id 0 master
 *     vpp# set int state memif0/0 up
 *     vpp# set int ip address memif0/0 192.0.2.2/24
 *     vpp# ping 192.0.2.1
 * - FD.io VPP as the client (we are the server: `--role server --socket /tmp/memif.sock`):
 *     vpp# create memif socket id 1 filename /tmp/memif.sock
 *     vpp# create interface memif id 0 socket-id 1 slave
 *     vpp# set int state memif1/0 up
 *     vpp# set int ip address memif1/0 192.0.2.2/24
 *     vpp# ping 192.0.2.1
 * - DPDK testpmd answers pings too (the other way round: ping it with `rx-memif ping`):
 *     dpdk-testpmd -l 0-1 --no-huge -m 1024 --no-pci \
 *       --vdev=net_memif0,role=server,socket=/tmp/memif.sock,socket-abstract=no \
 *       -- --forward-mode=icmpecho --stats-period=1
 * - libmemif's example `icmp_responder` is the C counterpart of this file; to have it ping us,
 *   start it in the other role (`icmp_responder -r slave` / `-r master`, see its --help).
 */
import { parseArgs } from 'node:util';
import { icmpResponder, memif } from '../src/index';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'client' },
    socket: { type: 'string', default: '/run/vpp/memif.sock' },
    id: { type: 'string', default: '0' },
    ip: { type: 'string', multiple: true, default: ['192.0.2.1'] },
    mac: { type: 'string', default: '02:fe:00:00:00:01' },
  },
});

const iface = memif({
  role: values.role as 'client' | 'server',
  socket: values.socket,
  id: Number(values.id),
  mac: values.mac,
});
iface.state$.subscribe((s) => console.log('state:', s.status));

let others = 0;
let replies = 0;
iface
  .rx()
  .pipe(icmpResponder({ ip: values.ip, mac: values.mac, passThrough: () => others++ }))
  .subscribe((reply) => {
    replies++;
    iface.tx().next(reply);
  });

const timer = setInterval(() => console.log(`replies ${replies}, other frames ${others}`), 1000);
process.once('SIGINT', () => {
  clearInterval(timer);
  void iface.close();
});
