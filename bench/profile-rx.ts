/**
 * Profiles the receive path against testpmd txonly (client, forwarding on CPU 1):
 *   taskset -c 0 node --cpu-prof --cpu-prof-dir=prof -r ts-node/register/transpile-only bench/profile-rx.ts
 * Environment: `ZC=1` receives with zeroCopyRx, `PACKET=1` with `rx()`; `SIZE` frame bytes [64];
 * `SECS` measured seconds [4]; `HOLD=n` keeps the last n bursts alive (a subscriber that holds
 * packets). Prints the rate, CPU and GC per packet, the GC pauses (perf_hooks) and memory (RSS
 * and heap once a second: a soak with a large `SECS`), one JSON line; add
 * `--trace-gc` to see each GC and its reason, and open the .cpuprofile in DevTools.
 */
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { memif } from '../src/index';
import type { Burst } from '../src/index';
import { firstValueFrom, filter } from 'rxjs';
import { generatorArgs, sleep, socketPath, testpmd } from './peers';

const main = async () => {
  const size = Number(process.env.SIZE ?? 64);
  const secs = Number(process.env.SECS ?? 4);
  const hold = Number(process.env.HOLD ?? 0);
  const socket = socketPath();
  const iface = memif({
    role: 'server',
    socket,
    rxMode: 'polling',
    zeroCopyRx: process.env.ZC === '1',
  });
  let n = 0;
  const held: Burst[] = [];
  const sub =
    process.env.PACKET === '1'
      ? iface.rx().subscribe(() => n++)
      : iface.rxBursts().subscribe((b) => {
          n += b.count;
          if (hold > 0) {
            held.push(b);
            if (held.length > hold) held.shift();
          }
        });
  const gc = { ms: 0, major: 0, minor: 0, on: false };
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (!gc.on) continue;
      gc.ms += e.duration;
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
      else gc.minor++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  // `GEN_CPU=0` (and this process under `taskset -c 1`) swaps the CPUs on a shared machine.
  const tx = testpmd(
    'client',
    socket,
    'txonly',
    process.env.GEN_CPU === '0' ? 0 : 1,
    generatorArgs(size),
  );
  await firstValueFrom(iface.state$.pipe(filter((s) => s.status === 'connected')));
  await sleep(700);
  const m0 = process.memoryUsage();
  const n0 = n;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  gc.on = true;
  // Memory sampled once a second: flat means the same at the end as after the first second.
  const samples: { rss: number; heap: number }[] = [];
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    samples.push({ rss: m.rss, heap: m.heapUsed });
  }, 1000);
  await sleep(secs * 1000);
  clearInterval(sampler);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const got = n - n0;
  await sleep(50);
  gc.on = false;
  const m1 = process.memoryUsage();
  sub.unsubscribe();
  await tx.stop();
  await iface.close();
  await tx.closed;
  obs.disconnect();
  const mib = (b: number) => Math.round(b / 1048576);
  console.log(
    JSON.stringify({
      size,
      mpps: +(got / wall / 1000).toFixed(2),
      gcShare: +((100 * gc.ms) / wall).toFixed(1),
      major: gc.major,
      minor: gc.minor,
      cpu: +((cpu.user + cpu.system) / 1000 / wall).toFixed(2),
      cpuNsPerPacket: got > 0 ? Math.round(((cpu.user + cpu.system) * 1000) / got) : 0,
      gcNsPerPacket: got > 0 ? Math.round((gc.ms * 1e6) / got) : 0,
      packets: got,
      rss: `${mib(m0.rss)}->${mib(m1.rss)}`,
      rssPerSecond: samples.map((x) => mib(x.rss)).join(' '),
      heapPerSecond: samples.map((x) => mib(x.heap)).join(' '),
      heap: `${mib(m0.heapUsed)}->${mib(m1.heapUsed)}`,
      external: `${mib(m0.external + m0.arrayBuffers)}->${mib(m1.external + m1.arrayBuffers)}`,
    }),
  );
};
void main();
