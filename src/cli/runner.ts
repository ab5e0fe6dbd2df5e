import * as path from 'node:path';
import type { MemifInterface } from '../index';
import type { QueueIo, QueueWork, WorkKind } from './queue-io';
import type { WorkName } from './per-queue';

/**
 * Where a command's per-queue works run: all on the main thread (no --workers), or spread over
 * worker threads (queue q to worker q mod N), which post their tallies to the main thread.
 */
export interface Runner<T> {
  /** Worker threads (0: the queues run on the main thread). */
  readonly workers: number;
  /** The tallies so far, added up (a worker's as last posted). */
  tally(): T;
  /** Settles when every queue's work is done by itself (gen --count). */
  readonly finished: Promise<void>;
  /** Stops every queue's work and resolves with the final tallies added up. */
  stop(): Promise<T>;
  /** After stop(): each worker thread's CPU time in ms (NaN: unknown); [] without workers. */
  workerCpuMs(): number[];
}

/** The queues 0..n-1. */
export const allQueues = (n: number): number[] => Array.from({ length: n }, (_, q) => q);

/** Runs `kind` on each of `queues` on this thread. `changed` as in WorkKind.start. */
export const runLocal = <P, T>(
  kind: WorkKind<P, T>,
  io: QueueIo,
  queues: readonly number[],
  paramsOf: (q: number) => P,
  changed: () => void = () => undefined,
): Runner<T> => {
  const works: QueueWork<T>[] = queues.map((q) => kind.start(io, q, paramsOf(q), changed));
  const sum = (tallies: T[]): T => tallies.reduce((a, b) => kind.add(a, b), kind.zero());
  let stopping: Promise<T> | undefined;
  return {
    workers: 0,
    tally: () => sum(works.map((w) => w.tally())),
    finished: Promise.all(works.map((w) => w.finished)).then(() => undefined),
    stop: () => (stopping ??= Promise.all(works.map((w) => w.stop())).then(sum)),
    workerCpuMs: () => [],
  };
};

/** What the CLI's worker script gets as `attach().workerData`. */
export interface WorkerData {
  readonly work: WorkName;
  /** Parameters by queue index (only this worker's queues are used). */
  readonly params: Record<number, unknown>;
}

/** Worker → main thread. */
export type FromWorker<T> =
  | { readonly type: 'tally'; readonly tally: T }
  | { readonly type: 'finished'; readonly tally: T }
  | { readonly type: 'final'; readonly tally: T; readonly cpuMs: number };

/** Main thread → worker. */
export type ToWorker = { readonly type: 'stop' };

/** How a worker thread's end looks from the main thread (MemifWorker.state$'s last state). */
export interface WorkerEnd {
  readonly worker: number;
  readonly queues: readonly number[];
  readonly code: number;
  /** What it threw, when it threw. */
  readonly error?: string;
}

/** The part of MemifInterface the runner uses. */
export type WorkerSpawner = Pick<MemifInterface, 'worker'>;

/** The CLI's worker script, next to this file (worker.ts under ts-node, worker.js built). */
export const workerScript = (): string => path.join(__dirname, `worker${path.extname(__filename)}`);

/**
 * Runs `work` on `queues` in `n` worker threads, queue q in worker q mod n. `changed` is called
 * each time a worker posts a tally; `onExit` when a worker thread ends before its final tally
 * (it threw or was terminated: its last posted tally stands).
 */
export const runInWorkers = <P, T>(
  kind: WorkKind<P, T>,
  iface: WorkerSpawner,
  work: WorkName,
  n: number,
  queues: readonly number[],
  paramsOf: (q: number) => P,
  changed: () => void = () => undefined,
  onExit: (end: WorkerEnd) => void = () => undefined,
): Runner<T> => {
  const groups = allQueues(n).map((w) => queues.filter((q) => q % n === w));
  const tallies: T[] = groups.map(() => kind.zero());
  const finals: (T | undefined)[] = groups.map(() => undefined);
  const cpuMs: number[] = groups.map(() => NaN);
  const workers = groups.map((group, w) => {
    const params: Record<number, unknown> = {};
    for (const q of group) params[q] = paramsOf(q);
    const data: WorkerData = { work, params };
    const spawned = iface.worker(workerScript(), { queues: group, workerData: data });
    let finished: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (finished = resolve));
    let final: (t: T) => void = () => undefined;
    const gotFinal = new Promise<T>((resolve) => (final = resolve));
    // Reported through MemifWorker's state$ below; an unheard 'error' event would throw here.
    spawned.thread.on('error', () => undefined);
    spawned.thread.on('message', (m: FromWorker<T>) => {
      tallies[w] = m.tally;
      if (m.type === 'finished') finished();
      else if (m.type === 'final') {
        finals[w] = m.tally;
        cpuMs[w] = m.cpuMs;
        final(m.tally);
      }
      changed();
    });
    spawned.state$.subscribe((state) => {
      // A worker gone without its final tally: what it posted last is all there is.
      if (state.status !== 'exited' || finals[w] !== undefined) return;
      const error = state.error ? { error: `${state.error.name}: ${state.error.message}` } : {};
      onExit({ worker: w, queues: group, code: state.code, ...error });
      finished();
      final(tallies[w]);
    });
    return { spawned, done, gotFinal };
  });
  const sum = (ts: T[]): T => ts.reduce((a, b) => kind.add(a, b), kind.zero());
  let stopping: Promise<T> | undefined;
  return {
    workers: n,
    tally: () => sum(tallies),
    finished: Promise.all(workers.map((w) => w.done)).then(() => undefined),
    stop: () =>
      (stopping ??= (() => {
        const stop: ToWorker = { type: 'stop' };
        for (const w of workers) w.spawned.thread.postMessage(stop);
        return Promise.all(workers.map((w) => w.gotFinal)).then(sum);
      })()),
    workerCpuMs: () => [...cpuMs],
  };
};
