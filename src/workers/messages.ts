import type { MessagePort } from 'node:worker_threads';
import type { ClientLayout } from '../control/layout';
import type { RingDirection } from '../control/messages';
import type { ResolvedOptions } from '../control/options';
import type { ConnectionState, ConnectedState } from '../control/state';

/**
 * What the main thread tells a worker, in order, on the worker's own MessagePort
 * (docs/architecture.md "Queues in worker threads"): every connection state; `start` when the
 * rings go live (the memory as tokens to attach); `stop` at link down; `close` at the end.
 */
export type ToWorker =
  | { readonly type: 'state'; readonly state: ConnectionState }
  | StartMessage
  | { readonly type: 'stop' }
  | { readonly type: 'close' };

/** The memory of one connection, by token: enough to open native queues over it. */
export interface StartMessage {
  readonly type: 'start';
  readonly connected: ConnectedState;
  /** Region tokens, by region index. */
  readonly regions: readonly number[];
  readonly rings: readonly RingShare[];
  readonly cacheLineSize: number;
  /** The client's buffer layout (a server follows descriptors). */
  readonly layout: ClientLayout | undefined;
  /** The connection is running and the main thread served these queues until now. */
  readonly resume?: boolean;
}

export interface RingShare {
  readonly direction: RingDirection;
  readonly index: number;
  readonly region: number;
  readonly offset: number;
  readonly log2RingSize: number;
  /** The ring's eventfd token. */
  readonly eventFd: number;
}

/** What a worker tells the main thread: `attached` once `attach()` ran, `closed` after close. */
export type FromWorker = { readonly type: 'attached' } | { readonly type: 'closed' };

/** Counters of one served queue, in the main thread's SharedArrayBuffers. */
export interface SharedQueueCounters {
  readonly queue: number;
  readonly rx: SharedArrayBuffer;
  readonly tx: SharedArrayBuffer;
}

/** What `eth.worker()` puts in the thread's `workerData`, under {@link ENVELOPE}. */
export interface WorkerEnvelope {
  readonly port: MessagePort;
  readonly queues: readonly number[];
  readonly options: ResolvedOptions;
  readonly counters: readonly SharedQueueCounters[];
  readonly workerData: unknown;
}

/** The key of the envelope in `workerData`. */
export const ENVELOPE = 'rx-memif/worker';
