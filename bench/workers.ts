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
  const eth = memif({ role: 'client', socket, rxQueues: 1, txQueues: 1, retry: { initialMs: 50 } });
  await connected(eth);
  for (let r = 0; r < rounds; r++) {
    // Main thread: queue 0 on this loop.
    let received = 0;
    let finish: () => void = () => undefined;
    const sub = eth.rxBursts(0).subscribe((b) => {
      received += b.count;
      if (received >= count) finish();
    });
    results.main.push(await round(() => new Promise<void>((resolve) => (finish = resolve))));
    sub.unsubscribe();
    // Worker thread: the same queue, served there.
    const w = eth.worker(path.join(__dirname, 'workers-sink.ts'), {
      queues: [0],
      workerData: count,
      execArgv,
    });
    await firstValueFrom(w.state$.pipe(filter((s) => s.status === 'running')));
    results.worker.push(
      await round(() => new Promise<void>((resolve) => w.thread.once('message', () => resolve()))),
    );
    await w.terminate();
  }
  await eth.close();
  peer.stdin.end();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const m = median(results.main.map((x) => x.cpuNs));
  const w = median(results.worker.map((x) => x.cpuNs));
  console.log(
    JSON.stringify(
      {
        count,
        size,
        rounds,
        cpuNsPerPacket: { main: +m.toFixed(1), worker: +w.toFixed(1), ratio: +(w / m).toFixed(3) },
        mpps: {
          main: +median(results.main.map((x) => x.mpps)).toFixed(3),
          worker: +median(results.worker.map((x) => x.mpps)).toFixed(3),
        },
        raw: results,
      },
      null,
      1,
    ),
  );
};

void main();
