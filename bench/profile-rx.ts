/**
 * Profiles the receive path against testpmd txonly (64 B) for 4 s:
 *   taskset -c 0 node --cpu-prof --cpu-prof-dir=prof -r ts-node/register/transpile-only bench/profile-rx.ts
 * `ZC=1` receives with zeroCopyRx. Prints the packet count; open the .cpuprofile in DevTools.
 */
import { memif } from '../src/index';
import { Testpmd } from '../test/helpers/testpmd';
import { firstValueFrom, filter } from 'rxjs';
const main = async () => {
  const socket = `/tmp/prof-${process.pid}.sock`;
  const iface = memif({
    role: 'server',
    socket,
    rxMode: 'polling',
    zeroCopyRx: process.env.ZC === '1',
  });
  let n = 0;
  iface.rxBursts().subscribe((b) => (n += b.count));
  const tx = new Testpmd({
    role: 'client',
    socket,
    forwardMode: 'txonly',
    mainLcore: 0,
    args: ['--txpkts=64', '--burst=32'],
  });
  await firstValueFrom(iface.state$.pipe(filter((s) => s.status === 'connected')));
  await new Promise((r) => setTimeout(r, 4000));
  await tx.stop();
  await iface.close();
  console.log('packets', n);
};
void main();
