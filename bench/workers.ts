// CPU time per received packet with queue 0's data path on the main thread vs in a worker
// thread (issue 14: within 10 %). The sender is another process (bench/workers-peer.ts), so the
// CPU time of this process (process.cpuUsage, every thread) is the receiver's: its data path,
// plus, in worker mode, the main thread's control plane (idle while traffic flows).
//
//   node -r ts-node/register/transpile-only bench/workers.ts [--count 2000000] [--size 64] [--rounds 5]
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { filter, firstValueFrom } from 'rxjs';
import { memif } from '../src/index';
import type { MemifInterface } from '../src/index';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const count = arg('count', 2_000_000);
const size = arg('size', 64);
const rounds = arg('rounds', 5);
// Interrupts by default: CPU time then goes to packets, not to polling an empty ring.
const rxMode = (process.argv.includes('--adaptive') ? 'adaptive' : 'interrupt') as 'interrupt';
const execArgv = ['-r', 'ts-node/register/transpile-only'];
const socket = `@rx-memif-bench-workers-${process.pid}`;

const peer = spawn(
  process.execPath,
  [...execArgv, path.join(__dirname, 'workers-peer.ts'), socket, String(count), String(size)],
  { stdio: ['pipe', 'pipe', 'inherit'] },
);
const peerLines = readline.createInterface({ input: peer.stdout });
const peerSent = (): Promise<void> =>
  new Promise((resolve) => peerLines.once('line', () => resolve()));

/** One round: `count` packets received where `done` says; CPU µs of this process per packet. */
const round = async (done: () => Promise<void>): Promise<{ cpuNs: number; mpps: number }> => {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  peer.stdin.write('go\n');
  await Promise.all([done(), peerSent()]);
  const ms = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  return { cpuNs: ((used.user + used.system) * 1000) / count, mpps: count / ms / 1000 };
};

const connected = (eth: MemifInterface) =>
  firstValueFrom(eth.state$.pipe(filter((s) => s.status === 'connected')));

const main = async (): Promise<void> => {
  const results: Record<'main' | 'worker', { cpuNs: number; mpps: number }[]> = {
    main: [],
    worker: [],
  };
  const eth = memif({
    role: 'client',
    socket,
    rxQueues: 1,
    txQueues: 1,
    retry: { initialMs: 50 },
    rxMode,
    // Room for large bursts: fewer wake-ups per packet whichever thread reads.
    log2RingSize: 12,
  });
  await connected(eth);
  const onMain = (): Promise<{ cpuNs: number; mpps: number }> => {
    // Main thread: queue 0 on this loop.
    let received = 0;
    let finish: () => void = () => undefined;
    const sub = eth.rxBursts(0).subscribe((b) => {
      received += b.count;
      if (received >= count) finish();
    });
    return round(() => new Promise<void>((resolve) => (finish = resolve))).finally(() =>
      sub.unsubscribe(),
    );
  };
  const inWorker = async (): Promise<{ cpuNs: number; mpps: number }> => {
    // A worker thread: the same queue, served there (taken from the main thread mid-connection
    // and given back when it exits).
    const w = eth.worker(path.join(__dirname, 'workers-sink.ts'), {
      queues: [0],
      workerData: count,
      execArgv,
    });
    await firstValueFrom(w.state$.pipe(filter((s) => s.status === 'running')));
    // Its first round warms its JIT up, as the main thread's warm-up round does there.
    const done = () => new Promise<void>((resolve) => w.thread.once('message', () => resolve()));
    await round(done);
    const result = await round(done);
    await w.terminate();
    return result;
  };
  await onMain(); // warm-up
  for (let r = 0; r < rounds; r++) {
    // Alternating which goes first, so that neither always meets the same machine state.
    if (r % 2 === 0) {
      results.main.push(await onMain());
      results.worker.push(await inWorker());
    } else {
      results.worker.push(await inWorker());
      results.main.push(await onMain());
    }
  }
  await eth.close();
  peer.stdin.end();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  // Other load on the machine only ever adds CPU time: the least of the rounds is the cost
  // itself, the median what a shared machine gave.
  const summary = (pick: (xs: number[]) => number, digits: number) => {
    const m = pick(results.main.map((x) => x.cpuNs));
    const w = pick(results.worker.map((x) => x.cpuNs));
    return { main: +m.toFixed(digits), worker: +w.toFixed(digits), ratio: +(w / m).toFixed(3) };
  };
  console.log(
    JSON.stringify({
      count,
      size,
      rounds,
      rxMode,
      cpuNsPerPacket: { least: summary((xs) => Math.min(...xs), 1), median: summary(median, 1) },
      // Each round ran both, one after the other: the median of their ratios cancels slow drift.
      pairedRatio: +median(results.worker.map((w, i) => w.cpuNs / results.main[i].cpuNs)).toFixed(
        3,
      ),
      mpps: {
        main: +median(results.main.map((x) => x.mpps)).toFixed(3),
        worker: +median(results.worker.map((x) => x.mpps)).toFixed(3),
      },
      raw: results,
    }),
  );
};

void main();
