import type { MemifInterface } from '../index';
import { UsageError, integerOption } from './args';
import type { ParsedValues } from './args';
import type { Output } from './output';
import type { WorkKind } from './queue-io';
import { allQueues, runInWorkers, runLocal } from './runner';
import type { Runner, WorkerEnd } from './runner';
import { threadCpuMs } from './thread-cpu';
import type { WorkName } from './per-queue';

/** `--workers N`, for the commands that move traffic (echo, gen, sink, respond). */
export const workersOption = { workers: { type: 'string' } } as const;

export const workersHelp = `  --workers N              run the queues in N worker threads, queue q in worker q mod N,
                           1..--queues; the main thread keeps the control socket and prints
                           [0: every queue on the main thread]; the summary's "cpuMs"
                           {"main","workers":[...]} is each thread's CPU time in ms`;

/** `--workers`: 0 when absent, else 1..queues. */
export const workerCount = (values: ParsedValues, queues: number): number => {
  const text = values.workers as string | undefined;
  const n = integerOption('workers', text, 0, 255) ?? 0;
  if (n > queues)
    throw new UsageError(
      `--workers must be at most --queues (${queues}): a worker serves whole queues, got ${n}`,
    );
  return n;
};

/**
 * Starts `kind` on every queue of `iface`: on this thread when `workers` is 0, else in that many
 * worker threads. A worker that ends before it was told to stop is reported as a `worker` event
 * and makes `failed()` true.
 */
export const startWork = <P, T>(
  kind: WorkKind<P, T>,
  name: WorkName,
  iface: MemifInterface,
  output: Output,
  workers: number,
  paramsOf: (q: number) => P,
  changed?: () => void,
): Runner<T> & { failed(): boolean } => {
  const queues = allQueues(Math.max(iface.options.rxQueues, iface.options.txQueues));
  if (workers === 0)
    return { ...runLocal(kind, iface, queues, paramsOf, changed), failed: () => false };
  let failed = false;
  const onExit = (end: WorkerEnd): void => {
    failed = true;
    output.event(
      'worker',
      { ...end, status: 'exited' },
      `worker ${end.worker} (queues ${end.queues.join(',')}) exited with code ${end.code}` +
        (end.error ? `: ${end.error}` : ''),
    );
  };
  const runner = runInWorkers(kind, iface, name, workers, queues, paramsOf, changed, onExit);
  return { ...runner, failed: () => failed };
};

/**
 * The summary's `cpuMs`: CPU time of the main thread and of each worker thread (after
 * `runner.stop()`), so that a reader can work out the CPU time per packet of each thread.
 */
export const cpuField = (runner: Runner<unknown>): { main: number; workers: number[] } => ({
  main: threadCpuMs(),
  workers: runner.workerCpuMs(),
});
