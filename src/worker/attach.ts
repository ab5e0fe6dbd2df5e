import { isMainThread, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { ReplaySubject } from 'rxjs';
import { loadNative } from '../native-bridge/load';
import { MemifError, isMemifError } from '../native-bridge/errors';
import type { NativeBinding, NativeEventFd, NativeRegion } from '../native-bridge/native';
import { SharedMemory } from '../control/runtime';
import type { RingHandle } from '../control/runtime';
import type { ConnectionState } from '../control/state';
import { QueueCounters } from '../streams/counters';
import { DataPath } from '../streams/data-path';
import { queueApi } from '../streams/queues';
import type { MemifQueues } from '../streams/queues';
import { ENVELOPE } from '../workers/messages';
import type { StartMessage, ToWorker, WorkerEnvelope } from '../workers/messages';

/** In a thread started by `eth.worker()`: the interface's queues this worker serves. */
export interface MemifWorkerInterface extends MemifQueues {
  /** The queue indices this worker serves (the others throw). */
  readonly queues: readonly number[];
  /** What the main thread gave as `workerData` in `eth.worker()`. */
  readonly workerData: unknown;
}

const envelope = (): WorkerEnvelope | undefined => {
  if (isMainThread || typeof workerData !== 'object' || workerData === null) return undefined;
  return (workerData as Record<string, WorkerEnvelope | undefined>)[ENVELOPE];
};

const closeAll = (things: readonly { close(): void }[]): void => {
  for (const thing of things) thing.close();
};

/**
 * This thread's own objects over the connection's memory: attachments of the main thread's
 * regions and of the eventfds of the rings it serves. Undefined when the main thread has closed
 * that memory already (a `stop` is then next on the port).
 */
const attachMemory = (
  native: NativeBinding,
  m: StartMessage,
  serves: (q: number) => boolean,
): SharedMemory | undefined => {
  const regions: NativeRegion[] = [];
  const eventFds: NativeEventFd[] = [];
  try {
    for (const token of m.regions) regions.push(native.Region.attach(token));
    const rings: RingHandle[] = [];
    for (const r of m.rings) {
      if (!serves(r.index)) continue;
      const eventFd = native.EventFd.attach(r.eventFd);
      eventFds.push(eventFd);
      rings.push({ ...r, eventFd });
    }
    return new SharedMemory(regions, rings, m.cacheLineSize, m.layout);
  } catch (e) {
    closeAll(eventFds);
    closeAll(regions);
    if (isMemifError(e) && e.code === 'ENOENT') return undefined;
    throw e;
  }
};

let attached: MemifWorkerInterface | undefined;

/**
 * In a worker thread started by `eth.worker(filename, { queues })`: the queues this worker
 * serves, with the same methods as on the main thread (`rx`, `rxBursts`, `tx`, `txBursts`,
 * `txZeroCopy`, `txReady$`, `send`, `stats`, `stats$`) and the interface's `state$`, which
 * mirrors the main thread's in order (a worker created while connected starts with
 * `connected`). The queues move while the link is up, again after every reconnection.
 * `close()` completes this worker's streams and frees its native objects; the interface's close
 * on the main thread does the same. Every call returns the same object.
 *
 * Throws a `MemifError` with code `ENOTWORKER` anywhere else (the main thread, a worker not
 * started by `eth.worker()`).
 *
 * @example
 * import { attach } from 'rx-memif/worker';
 * const eth = attach();
 * for (const q of eth.queues) eth.rxBursts(q).subscribe(eth.txBursts(q)); // reflect
 */
export const attach = (): MemifWorkerInterface => {
  if (attached) return attached;
  const env = envelope();
  if (!env)
    throw new MemifError(
      'attach(): not in a worker thread started by eth.worker() of rx-memif',
      'ENOTWORKER',
    );
  const native = loadNative();
  const queues = new Set(env.queues);
  const counters = new Map(env.counters.map((c) => [c.queue, c]));
  const serves = (q: number): boolean => queues.has(q);
  const dataPath = new DataPath(native, env.options, {
    serves,
    counters: (direction, q) => {
      const c = counters.get(q);
      return c ? new QueueCounters(c[direction]) : undefined;
    },
  });
  const states = new ReplaySubject<ConnectionState>(1);
  const port: MessagePort = env.port;
  let memory: SharedMemory | undefined;
  let closed = false;
  let lastStatus: ConnectionState['status'] | undefined;

  const stop = (): void => {
    dataPath.stop();
    memory?.close();
    memory = undefined;
  };
  const close = (): Promise<void> => {
    if (!closed) {
      closed = true;
      stop();
      dataPath.close();
      if (lastStatus !== 'closed') states.next({ status: 'closed', role: env.options.role });
      states.complete();
      port.postMessage({ type: 'closed' });
      port.close();
    }
    return Promise.resolve();
  };
  const onMessage = (m: ToWorker): void => {
    if (closed) return;
    switch (m.type) {
      case 'state':
        lastStatus = m.state.status;
        states.next(m.state);
        return;
      case 'start':
        stop();
        memory = attachMemory(native, m, serves);
        if (memory) dataPath.start(memory, m.connected, m.resume === true);
        return;
      case 'stop':
        stop();
        return;
      case 'close':
        void close();
        return;
    }
  };
  // What the main thread said before this call (the state, the live connection) is applied now,
  // so that the queues move from the moment the main thread sees `running`.
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port))
    onMessage(m.message as ToWorker);
  port.on('message', onMessage);
  port.postMessage({ type: 'attached' });

  const queueIndices = [...env.queues];
  attached = {
    ...queueApi({
      options: env.options,
      states: states.asObservable(),
      dataPath,
      check: (q) => {
        if (!queues.has(q))
          throw new Error(
            `queue ${q} is not served by this worker (it serves ${queueIndices.join(', ')})`,
          );
      },
      close,
    }),
    queues: queueIndices,
    workerData: env.workerData,
  };
  return attached;
};
