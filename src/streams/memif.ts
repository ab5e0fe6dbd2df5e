import { loadNative } from '../native-bridge/load';
import { resolveOptions } from '../control/options';
import type { MemifOptions } from '../control/options';
import { InterfaceRuntime } from '../control/runtime';
import { DataPath } from './data-path';
import { queueApi } from './queues';
import type { MemifQueues } from './queues';
import { WorkerHub } from '../workers/hub';
import type { MemifWorker, MemifWorkerOptions } from '../workers/memif-worker';

export type { InterfaceStats, MemifQueues } from './queues';

/** One memif interface: its lifecycle as a stream, and its queues as streams. */
export interface MemifInterface extends MemifQueues {
  /**
   * Runs the data path of `options.queues` (rx and tx of each index) in a new worker thread that
   * runs `filename`; there, `attach()` of `rx-memif/worker` gives the same queue methods for
   * those queues. The control plane (socket, handshake, `state$`) stays on this thread, which
   * tells the worker every state, link up and down, and the close, in order. While the worker
   * lives, those queues are its own: using them here throws. `stats()` here still counts them.
   * Throws for a queue index out of range, listed twice or already served by a live worker.
   * See README "Queues in worker threads" and docs/architecture.md.
   *
   * @example
   * const w = eth.worker(new URL('./queue-worker.js', import.meta.url), { queues: [1] });
   * w.state$.subscribe((s) => console.log('worker', w.threadId, s.status));
   */
  worker(filename: string | URL, options: MemifWorkerOptions): MemifWorker;
  /**
   * Closes the interface (tells the peer, frees memory and sockets). Its workers close first:
   * their streams complete and each thread gets 2 s (`WORKER_CLOSE_MS`) to exit by itself before
   * it is terminated. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Creates a memif interface and starts it: a server listens on `options.socket`, a client
 * connects there (retrying every second by default).
 *
 * Throws `OptionsError` for invalid options and, for a server, a `MemifError` when the socket
 * cannot be listened on (`ENOENT`, `EADDRINUSE`, `ENAMETOOLONG`, ...).
 *
 * @example
 * const eth = memif({ role: 'client', socket: '/run/vpp/memif.sock', id: 0 });
 * eth.rx().subscribe((frame) => eth.tx().next(frame)); // a reflector
 * await eth.close();
 */
export const memif = (options: MemifOptions = {}): MemifInterface => {
  const resolved = resolveOptions(options);
  const native = loadNative();
  const scope = { serves: (_q: number): boolean => true };
  const dataPath = new DataPath(native, resolved, scope);
  const hub = new WorkerHub(resolved, dataPath);
  scope.serves = hub.serves;
  const runtime = new InterfaceRuntime(native, resolved, hub);
  hub.follow(runtime.states);
  runtime.start();

  let closing: Promise<void> | undefined;
  const shut = async (): Promise<void> => {
    await runtime.close();
    dataPath.close();
  };
  const close = (): Promise<void> => (closing ??= hub.close()?.then(shut) ?? shut());
  return {
    ...queueApi({
      options: resolved,
      states: runtime.states,
      dataPath,
      check: hub.check,
      refusedPeers: () => runtime.refusedPeers,
      close,
    }),
    close,
    worker: (filename, workerOptions) => hub.spawn(filename, workerOptions),
  };
};
