import { Observable, defer, filter, firstValueFrom, from, interval, map, startWith } from 'rxjs';
import type { ObservableInput, Observer } from 'rxjs';
import { MemifError } from '../native-bridge/errors';
import type { ResolvedOptions } from '../control/options';
import type { ConnectionState } from '../control/state';
import type { Burst } from './burst';
import type { QueueStats } from './counters';
import type { DataPath } from './data-path';
import { perPacket } from './per-packet';
import type { TxPort } from './tx-port';
import { ZeroCopyTx } from './zero-copy-tx';

/** Counters of every queue that has been used, since the interface was created. */
export interface InterfaceStats {
  readonly rx: readonly (QueueStats & { readonly queue: number })[];
  readonly tx: readonly (QueueStats & { readonly queue: number })[];
  /**
   * Peers refused by `allowUids` / `allowGids` (a client counts servers it refused). Absent on
   * interfaces without a control socket (`rx-memif/testing`).
   */
  readonly refusedPeers?: number;
}

/**
 * The queue part of an interface: its state and its queues as streams. The main thread's
 * {@link MemifInterface} is one, and so is what `attach()` of `rx-memif/worker` returns in a
 * worker thread (for the queues that worker serves).
 */
export interface MemifQueues extends AsyncDisposable {
  /** The options in force, defaults applied. */
  readonly options: ResolvedOptions;
  /**
   * The lifecycle: `listening` / `connecting` → `handshaking` → `connected` → `disconnected` →
   * ... → `closed`. Replays the current state to a late subscriber; completes after `closed`.
   */
  readonly state$: Observable<ConnectionState>;
  /**
   * Packets received on queue `q`, one per emission (a view into a burst's memory; see
   * {@link MemifQueues.rxBursts}). Hot: it carries traffic of every connection of the
   * interface and completes on close.
   */
  rx(q?: number): Observable<Uint8Array>;
  /** Received packets of queue `q`, one {@link Burst} per native read. */
  rxBursts(q?: number): Observable<Burst>;
  /**
   * Transmit on queue `q`: packets handed to `next` in one tick reach the ring in one native
   * call. The observer never blocks: a full ring leaves packets waiting (up to `txQueueSize`,
   * then they are dropped and counted, unless `lossless`). A backlog of `txHighWater` packets
   * pauses receiving on every rx queue until it drains to half of that, so that packets wait in
   * the peer's ring rather than being copied in only to be dropped (docs/tuning.md). While the
   * link is down packets are dropped and counted as `linkDown`.
   */
  tx(q?: number): Observer<Uint8Array>;
  /**
   * Like {@link MemifQueues.tx}, a burst at a time. A received {@link Burst} may be passed
   * as it is: it then goes from its memory to the ring in one native call (in copy mode).
   */
  txBursts(q?: number): Observer<readonly Uint8Array[] | Burst>;
  /**
   * Zero-copy transmit on queue `q` (a client created with `zeroCopy: true` only; throws
   * otherwise): the application writes packets straight into the client's buffers in the shared
   * region and commits them, no copy. Slots are valid only while connected; after a
   * reconnection they come from the new region. The same object for every call with `q`.
   * See {@link ZeroCopyTx}.
   *
   * @example
   * const zc = eth.txZeroCopy();
   * const s = zc.alloc(64);
   * for (let i = 0; i < s.count; i++) s.lengths[i] = build(s.slot(i)); // bytes written
   * zc.commit(s.count);
   */
  txZeroCopy(q?: number): ZeroCopyTx;
  /**
   * Emits each time queue `q`'s backlog has drained into the ring (or a Burst went to the ring
   * whole): a producer may send more.
   */
  txReady$(q?: number): Observable<number>;
  /**
   * Sends every packet of `source` on queue `q` without loss for lack of ring space (waiting,
   * however long the backlog) and resolves with the count once all reached the ring. It first
   * waits for the link (rejecting with `ECANCELED` if the interface closes before); packets
   * that meet a link going down are dropped and counted as `linkDown`. Iterables are pulled
   * only as fast as the ring takes them.
   */
  send(source: ObservableInput<Uint8Array> | Iterable<Uint8Array>, q?: number): Promise<number>;
  /** Counters now. */
  stats(): InterfaceStats;
  /** Counters every `periodMs` (1000), starting now. */
  stats$(periodMs?: number): Observable<InterfaceStats>;
  /** Closes the interface (tells the peer, frees memory and sockets). Idempotent. */
  close(): Promise<void>;
}

/** Checks a queue index's range. */
export const checkQueue = (q: number): number => {
  if (!Number.isInteger(q) || q < 0 || q > 254)
    throw new RangeError(`queue index must be an integer in 0..254, got ${q}`);
  return q;
};

/** What {@link queueApi} builds the queue part from. */
export interface QueueParts {
  readonly options: ResolvedOptions;
  readonly states: Observable<ConnectionState>;
  readonly dataPath: DataPath;
  /** Throws when queue `q` may not be used here (range, or another thread serves it). */
  readonly check: (q: number) => void;
  /** Added to every stats snapshot. */
  readonly refusedPeers?: () => number | undefined;
  readonly close: () => Promise<void>;
}

/** The queue methods over a data path: the same on the main thread and in a worker. */
export const queueApi = (parts: QueueParts): MemifQueues => {
  const { options: resolved, states, dataPath } = parts;
  const use = (q: number): number => {
    checkQueue(q);
    parts.check(q);
    return q;
  };
  const rxBursts = (q = 0) => dataPath.rxPort(use(q)).bursts;
  const stats = (): InterfaceStats => {
    const refusedPeers = parts.refusedPeers?.();
    return {
      rx: [...dataPath.ports.rx.values()].map((p) => ({
        queue: p.index,
        ...p.counters.snapshot(),
      })),
      tx: [...dataPath.ports.tx.values()].map((p) => ({
        queue: p.index,
        ...p.counters.snapshot(),
      })),
      ...(refusedPeers === undefined ? {} : { refusedPeers }),
    };
  };
  const zeroCopyTx = new Map<number, ZeroCopyTx>();
  const txZeroCopy = (q = 0): ZeroCopyTx => {
    use(q);
    if (resolved.role !== 'client' || !resolved.zeroCopy)
      throw new Error(
        `txZeroCopy() needs a client created with zeroCopy: true (this interface is a ${resolved.role}` +
          `${resolved.role === 'client' ? ' without zeroCopy' : ''}); use tx() to transmit`,
      );
    let zc = zeroCopyTx.get(q);
    if (!zc) {
      zc = new ZeroCopyTx(q, () => dataPath.txLink(q), dataPath.txPort(q).counters);
      zeroCopyTx.set(q, zc);
    }
    return zc;
  };
  return {
    options: resolved,
    state$: states,
    rxBursts,
    rx: (q = 0) => perPacket(rxBursts(q)),
    tx: (q = 0) => dataPath.txPort(use(q)).observer,
    txBursts: (q = 0) => dataPath.txPort(use(q)).burstObserver,
    txZeroCopy,
    txReady$: (q = 0) => dataPath.txPort(use(q)).ready$,
    send: async (source, q = 0) => {
      const port = dataPath.txPort(use(q));
      const state = await firstValueFrom(
        states.pipe(filter((st) => st.status === 'connected' || st.status === 'closed')),
        { defaultValue: undefined },
      );
      if (state?.status !== 'connected')
        throw new MemifError('send: the interface was closed before it connected', 'ECANCELED');
      return sendAll(port, source);
    },
    stats,
    stats$: (periodMs = 1000) => defer(() => interval(periodMs).pipe(startWith(0), map(stats))),
    close: parts.close,
    [Symbol.asyncDispose]: parts.close,
  };
};

const isIterable = (x: unknown): x is Iterable<Uint8Array> =>
  typeof x === 'object' && x !== null && Symbol.iterator in x && !Array.isArray(x);

/**
 * Iterables are pulled a chunk at a time, each chunk waiting until the ring took the one
 * before; any other source is subscribed at once and its packets wait in the backlog.
 */
const sendAll = async (
  port: TxPort,
  source: ObservableInput<Uint8Array> | Iterable<Uint8Array>,
): Promise<number> => {
  let count = 0;
  if (isIterable(source)) {
    let chunk = 0;
    for (const packet of source) {
      port.push(packet, true);
      count++;
      if (++chunk === 1024) {
        chunk = 0;
        await port.whenIdle();
      }
    }
  } else {
    await new Promise<void>((resolve, reject) =>
      from(source).subscribe({
        next: (packet) => {
          port.push(packet, true);
          count++;
        },
        error: reject,
        complete: resolve,
      }),
    );
  }
  await port.whenIdle();
  return count;
};
