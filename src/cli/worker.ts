import { parentPort } from 'node:worker_threads';
import { attach } from '../worker';
import type { FromWorker, ToWorker, WorkerData } from './runner';
import { threadCpuMs } from './thread-cpu';
import { workNamed } from './per-queue';

/**
 * The CLI's worker thread (`--workers N`): runs the command's per-queue work on the queues
 * `eth.worker()` gave it, and posts its tallies to the main thread, which prints the stats and
 * the summary (docs/architecture.md, "The command line's workers"). A tally goes at most every
 * TALLY_MS while it changes, then once more, final, when the main thread says stop.
 */
const TALLY_MS = 20;

const run = (): void => {
  const port = parentPort;
  if (!port) throw new Error('rx-memif: src/cli/worker runs only in a worker thread');
  const eth = attach();
  const data = eth.workerData as WorkerData;
  const kind = workNamed(data.work);
  let dirty = false;
  const works = eth.queues.map((q) =>
    kind.start(eth, q, data.params[q], () => {
      dirty = true;
    }),
  );
  const sum = (tallies: unknown[]): unknown =>
    tallies.reduce((a, b) => kind.add(a, b), kind.zero());
  const post = (message: FromWorker<unknown>): void => port.postMessage(message);
  const timer = setInterval(() => {
    if (!dirty) return;
    dirty = false;
    post({ type: 'tally', tally: sum(works.map((w) => w.tally())) });
  }, TALLY_MS);
  void Promise.all(works.map((w) => w.finished)).then(() =>
    post({ type: 'finished', tally: sum(works.map((w) => w.tally())) }),
  );
  const onMessage = (m: ToWorker): void => {
    if (m.type !== 'stop') return;
    port.off('message', onMessage);
    clearInterval(timer);
    void Promise.all(works.map((w) => w.stop())).then(async (finals) => {
      post({ type: 'final', tally: sum(finals), cpuMs: threadCpuMs() });
      // Its queues closed, nothing keeps the thread: it ends by itself.
      await eth.close();
    });
  };
  port.on('message', onMessage);
};

run();
