/**
 * `npm run bench`: rx-memif against DPDK testpmd, with testpmd against testpmd as the reference
 * measured in the same run, interleaved (A B A B), because these 2 vCPUs move between placements
 * that change shared-memory throughput several times over. Figures are quoted as ratios.
 *
 * - one way: testpmd txonly → {testpmd rxonly | rx-memif rxBursts | rx-memif rx()} (receiver Mpps)
 * - round trip: testpmd flowgen ↔ {testpmd io | rx-memif echo, burst API | rx-memif echo,
 *   per-packet Observable} (flowgen's receive rate: Mpps per direction)
 * - latency: one frame in flight, rx-memif client ↔ testpmd io, per rx mode (median, p99)
 *
 * The bench process is pinned to CPU 0 (taskset in the npm script); each testpmd forwards on
 * the other core, the generator on CPU 1.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { firstValueFrom, filter } from 'rxjs';
import { memif } from '../src/index';
import type { MemifInterface, RxMode } from '../src/index';
import { Testpmd, testpmdPath } from '../test/helpers/testpmd';
import { writeSection } from './results-file';

const SECS = Number(process.env.BENCH_SECS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const SIZES = (process.env.BENCH_SIZES ?? '64,1500').split(',').map(Number);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rx-memif-bench-'));
let sockets = 0;
const socketPath = () => path.join(tmp, `b${++sockets}.sock`);

/** Median of testpmd's per-second "Rx-pps" lines, skipping the first (warm-up) ones. */
const rxPps = (t: Testpmd): number => {
  const values = [...t.output.matchAll(/Rx-pps:\s+(\d+)/g)].map((m) => Number(m[1]));
  const steady = values.slice(1).filter((v) => v > 0);
  if (steady.length === 0) return 0;
  steady.sort((a, b) => a - b);
  return steady[Math.floor(steady.length / 2)];
};

const connected = (i: MemifInterface) =>
  firstValueFrom(i.state$.pipe(filter((s) => s.status === 'connected')));

/** Our receive rate over SECS seconds, after a short warm-up. */
const ourRate = async (iface: MemifInterface): Promise<number> => {
  const packets = () => iface.stats().rx.reduce((n, q) => n + q.packets, 0);
  await sleep(700);
  const a = packets();
  const t0 = performance.now();
  await sleep(SECS * 1000);
  return (packets() - a) / ((performance.now() - t0) / 1000);
};

/** `burst-zc`: the burst API with zeroCopyRx (no copy into JS memory), to see what the copy costs. */
type Api = 'burst' | 'packet' | 'burst-zc';

/** The traffic source: a testpmd client in `mode`, forwarding on CPU 1. */
const generator = (socket: string, mode: 'txonly' | 'flowgen', size: number): Testpmd =>
  new Testpmd({
    role: 'client',
    socket,
    forwardMode: mode,
    mainLcore: 0,
    args: [`--txpkts=${size}`, '--burst=32'],
  });

/**
 * testpmd ↔ testpmd: a server in `serverMode` (forwarding on CPU 0) fed by a generator; the
 * rate is read from the side that receives the traffic being measured.
 */
const reference = async (
  serverMode: 'rxonly' | 'io',
  generatorMode: 'txonly' | 'flowgen',
  size: number,
): Promise<number> => {
  const socket = socketPath();
  const server = new Testpmd({ role: 'server', socket, forwardMode: serverMode, mainLcore: 1 });
  await server.ready();
  const gen = generator(socket, generatorMode, size);
  await server.waitFor(/memif_connect\(\): Connected/);
  await sleep((SECS + 1.5) * 1000);
  // Stop the measured side first: a memif port's counters read 0 once its peer is gone.
  const measured = serverMode === 'rxonly' ? server : gen;
  await measured.stop();
  await (measured === server ? gen : server).stop();
  return rxPps(measured);
};

const oneWayReference = (size: number) => reference('rxonly', 'txonly', size);
const roundTripReference = (size: number) => reference('io', 'flowgen', size);

const oneWayOurs = async (size: number, api: Api): Promise<number> => {
  const socket = socketPath();
  const iface = memif({
    role: 'server',
    socket,
    rxMode: 'polling',
    zeroCopyRx: api === 'burst-zc',
  });
  let count = 0;
  const sub =
    api !== 'packet'
      ? iface.rxBursts().subscribe((b) => (count += b.count))
      : iface.rx().subscribe(() => count++);
  const tx = generator(socket, 'txonly', size);
  await connected(iface);
  const rate = await ourRate(iface);
  await tx.stop();
  sub.unsubscribe();
  await iface.close();
  return count > 0 ? rate : 0;
};

const roundTripOurs = async (size: number, api: Api): Promise<number> => {
  const socket = socketPath();
  const iface = memif({ role: 'server', socket, rxMode: 'polling' });
  const sub =
    api === 'burst'
      ? iface.rxBursts().subscribe((b) => iface.txBursts().next(b))
      : iface.rx().subscribe((p) => iface.tx().next(p));
  const gen = generator(socket, 'flowgen', size);
  await connected(iface);
  await sleep((SECS + 1.5) * 1000);
  await gen.stop();
  sub.unsubscribe();
  await iface.close();
  return rxPps(gen);
};

/** One frame in flight between our client and testpmd io; RTTs in µs. */
const latency = async (
  rxMode: RxMode,
  samples = 20000,
): Promise<{ median: number; p99: number }> => {
  const socket = socketPath();
  const io = new Testpmd({ role: 'server', socket, forwardMode: 'io', mainLcore: 0 });
  await io.ready();
  const iface = memif({ role: 'client', socket, rxMode });
  await connected(iface);
  await io.waitFor(/memif_connect\(\): Connected/);
  await sleep(300);
  const frame = new Uint8Array(64).fill(0xab);
  const rtts = new Float64Array(samples);
  const warmup = 1000;
  let n = -warmup;
  let sent = 0n;
  const tx = iface.tx();
  await new Promise<void>((resolve) => {
    const sub = iface.rxBursts().subscribe((b) => {
      const now = process.hrtime.bigint();
      if (n >= 0) rtts[n] = Number(now - sent) / 1000;
      n += b.count;
      if (n >= samples) {
        sub.unsubscribe();
        return resolve();
      }
      sent = process.hrtime.bigint();
      tx.next(frame);
    });
    sent = process.hrtime.bigint();
    tx.next(frame);
  });
  await iface.close();
  await io.stop();
  const sorted = Array.from(rtts).sort((a, b) => a - b);
  return { median: sorted[Math.floor(samples / 2)], p99: sorted[Math.floor(samples * 0.99)] };
};

const fmt = (x: number) => (x / 1e6).toFixed(2);
const ratio = (a: number[], b: number[]) => {
  const sa = a.reduce((x, y) => x + y, 0);
  const sb = b.reduce((x, y) => x + y, 0);
  return sb > 0 ? (sa / sb).toFixed(2) : 'n/a';
};

const main = async () => {
  if (!testpmdPath()) {
    console.error('bench: dpdk-testpmd is missing (apt-get install -y dpdk dpdk-dev)');
    process.exitCode = 1;
    return;
  }
  const rows: string[] = [];
  const log = (s: string) => {
    console.log(s);
    rows.push(s);
  };
  log(
    '| traffic | size | reference testpmd↔testpmd Mpps | rx-memif burst API Mpps (ratio) | rx-memif per-packet Observable Mpps (ratio) | burst API with zeroCopyRx (ratio) |',
  );
  log('| --- | --- | --- | --- | --- | --- |');
  for (const kind of ['one way', 'round trip'] as const) {
    for (const size of SIZES) {
      const ref: number[] = [];
      const burst: number[] = [];
      const packet: number[] = [];
      const zc: number[] = [];
      // Interleaved A B C A B C, so a placement change hits all three alike.
      for (let round = 0; round < ROUNDS; round++) {
        if (kind === 'one way') {
          ref.push(await oneWayReference(size));
          burst.push(await oneWayOurs(size, 'burst'));
          packet.push(await oneWayOurs(size, 'packet'));
          zc.push(await oneWayOurs(size, 'burst-zc'));
        } else {
          ref.push(await roundTripReference(size));
          burst.push(await roundTripOurs(size, 'burst'));
          packet.push(await roundTripOurs(size, 'packet'));
        }
        console.error(
          `  ${kind} ${size} B round ${round + 1}: ref ${fmt(ref.at(-1)!)} burst ${fmt(burst.at(-1)!)} packet ${fmt(packet.at(-1)!)}`,
        );
      }
      const avg = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
      log(
        `| ${kind} | ${size} B | ${fmt(avg(ref))} | ${fmt(avg(burst))} (${ratio(burst, ref)}) | ${fmt(avg(packet))} (${ratio(packet, ref)}) | ${zc.length ? `${fmt(avg(zc))} (${ratio(zc, ref)})` : '—'} |`,
      );
    }
  }
  log('');
  log('| latency, 64 B, one frame in flight, rx-memif client ↔ testpmd io | median µs | p99 µs |');
  log('| --- | --- | --- |');
  for (const mode of ['adaptive', 'polling', 'interrupt'] as const) {
    const l = await latency(mode);
    log(`| rx mode ${mode} | ${l.median.toFixed(1)} | ${l.p99.toFixed(1)} |`);
  }
  const cpu =
    (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ??
    'unknown CPU';
  const header = [
    `Latest run: ${new Date().toISOString()}, \`npm run bench\` (BENCH_SECS=${SECS}, BENCH_ROUNDS=${ROUNDS}),`,
    `on ${os.cpus().length} vCPU (${cpu}), Node ${process.version}, DPDK testpmd 22.11 (Debian).`,
    'Reference = the same traffic between two testpmd processes, measured in the same run,',
    'interleaved; ratios are rx-memif / reference (Mpps per direction for round trips).',
    '',
  ];
  writeSection('bench', [...header, ...rows]);
  console.log('\nwritten to bench/RESULTS.md (section "bench")');
};

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => fs.rmSync(tmp, { recursive: true, force: true }));
