/**
 * Receive memory over a long copy-mode run (issue 11 part 3): testpmd txonly (64 B) feeds an
 * rx-memif server that counts packets with the burst API, for SECS seconds. Prints, every 5 s,
 * packets, RSS and heap; at the end the GC share of the wall time (from `gc` performance
 * entries) and one JSON line.
 *   taskset -c 0 node -r ts-node/register/transpile-only scripts/rx-memory.ts [secs] [size]
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { firstValueFrom, filter } from 'rxjs';
import { memif } from '../src/index';
import { Testpmd } from '../test/helpers/testpmd';

const secs = Number(process.argv[2] ?? 60);
const size = Number(process.argv[3] ?? 64);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const main = async () => {
  let gcMs = 0;
  let gcs = 0;
  /** Milliseconds by kind (perf_hooks constants: 1 minor, 2 major, 4 incremental, 8 weak callbacks). */
  const byKind: Record<string, number> = {};
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      gcs++;
      const kind = String((e as unknown as { detail?: { kind?: number } }).detail?.kind);
      byKind[kind] = (byKind[kind] ?? 0) + e.duration;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const socket = `/tmp/rx-memory-${process.pid}.sock`;
  const iface = memif({ role: 'server', socket, rxMode: 'polling' });
  let packets = 0;
  iface.rxBursts().subscribe((b) => (packets += b.count));
  const tx = new Testpmd({
    role: 'client',
    socket,
    forwardMode: 'txonly',
    mainLcore: 0,
    args: [`--txpkts=${size}`, '--burst=32'],
  });
  await firstValueFrom(iface.state$.pipe(filter((s) => s.status === 'connected')));
  const mib = (n: number) => (n / 1048576).toFixed(0);
  const t0 = performance.now();
  const samples: { rss: number; heap: number }[] = [];
  for (let t = 5; t <= secs; t += 5) {
    await sleep(5000);
    const m = process.memoryUsage();
    samples.push({ rss: m.rss, heap: m.heapUsed });
    console.log(
      `${t} s  ${(packets / 1e6).toFixed(1)} M packets  rss ${mib(m.rss)} MiB  heap ${mib(m.heapUsed)} MiB  external ${mib(m.external + m.arrayBuffers)} MiB`,
    );
  }
  const wall = performance.now() - t0;
  await tx.stop();
  await iface.close();
  observer.disconnect();
  const rss = samples.map((s) => s.rss);
  const result = {
    secs: wall / 1000,
    packets,
    mpps: packets / wall / 1000,
    gcCount: gcs,
    gcShare: gcMs / wall,
    gcMsByKind: byKind,
    rssMiB: { min: Number(mib(Math.min(...rss))), max: Number(mib(Math.max(...rss))) },
  };
  console.log(
    `GC ${gcs} times, ${(result.gcShare * 100).toFixed(1)} % of wall time; RSS ${result.rssMiB.min}..${result.rssMiB.max} MiB`,
  );
  console.log(JSON.stringify(result));
};
void main();
