/**
 * A child of `npm run bench:operators` (bench/operators.ts), run from the transpiled tree:
 * `node operator-child.js 3,4,5` measures those rows of bench/operator-rows.ts in this process,
 * in that order, and prints one JSON line per row (ns per packet, mean and best sample).
 */
import { Bench } from 'tinybench';
import { N, rows, sink } from './operator-rows';

const TIME = Number(process.env.BENCH_MS ?? 400);

/**
 * CPU time of this process (ms), not wall time: the machine's vCPUs are shared and oversubscribed,
 * so a sample's wall time counts the time other processes ran; CPU time counts ours only.
 */
const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const main = async (which: readonly number[]): Promise<void> => {
  const bench = new Bench({ time: TIME, warmupTime: 100, now: cpuNow });
  for (const i of which) {
    const { run, beforeEach } = rows[i].setup();
    bench.add(String(i), run, beforeEach ? { beforeEach } : {});
  }
  await bench.warmup();
  await bench.run();
  const ns = (ms: number | undefined) => (ms === undefined ? null : (ms * 1e6) / N);
  bench.tasks.forEach((t, k) => {
    console.log(
      JSON.stringify({ row: which[k], mean: ns(t.result?.mean), min: ns(t.result?.min) }),
    );
  });
  if (sink.n < 0) console.log(sink.n);
};

void main(process.argv[2].split(',').map(Number));
