import {
  Observable,
  concat,
  ReplaySubject,
  Subject,
  Subscription,
  defer,
  filter,
  from,
  interval,
  isObservable,
  map,
  startWith,
  take,
  takeUntil,
} from 'rxjs';
import type { ObservableInput, Observer, SchedulerLike } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { resolveOptions } from '../control/options';
import type { MemifOptions, ResolvedOptions } from '../control/options';
import type { ConnectedState, ConnectionState, DisconnectSide } from '../control/state';
import { MemifError } from '../native-bridge/errors';
import { QueueCounter } from '../native-bridge/native';
import type { NativeQueue } from '../native-bridge/native';
import { Burst } from '../streams/burst';
import { QueueCounters } from '../streams/counters';
import type { InterfaceStats, MemifInterface } from '../streams/memif';
import { MAX_PACKET, RX_BURST } from '../streams/rx-port';
import { ZeroCopyTx } from '../streams/zero-copy-tx';
import type { TxLink } from '../streams/zero-copy-tx';
import type { MemifWorker } from '../workers/memif-worker';

/** A state for {@link VirtualInterface.setState}: a whole `ConnectionState`, or just its status. */
export type StateInput = ConnectionState | ConnectionState['status'];

/** One packet transmitted by a {@link VirtualInterface}, with the scheduler's time then. */
export interface TxRecord {
  /** `scheduler.now()` when it was transmitted (the frame, with a `TestScheduler`). */
  readonly time: number;
  /** A copy of the packet (the sender may reuse its buffer, as with a real ring). */
  readonly packet: Uint8Array;
}

/** What {@link virtualInterface} takes: memif options (validated as `memif()` does) and a script. */
export interface VirtualInterfaceOptions extends MemifOptions {
  /**
   * Packets arriving from the peer: an Observable for queue 0, or one per queue index (same as
   * calling {@link VirtualInterface.feed} for each).
   */
  readonly rx?: Observable<Uint8Array> | Readonly<Record<number, Observable<Uint8Array>>>;
  /**
   * The lifecycle script: each value (a status such as `'connected'`, or a whole state) becomes
   * the current state when emitted. Without it the interface starts `connected`.
   */
  readonly states?: Observable<StateInput>;
}

/**
 * A {@link MemifInterface} with no native code and no peer, driven by a scheduler (usually a
 * `TestScheduler`): what arrives is scripted, what is transmitted is recorded, so protocol logic
 * is marble-tested exactly as it runs on a real interface.
 *
 * Faithful to the real one where a test can tell: packets arriving in the same frame are
 * delivered together as one {@link Burst} (at most 256) at the end of that frame; received
 * data is a copy owned by JS; only a `connected` interface receives and transmits (otherwise
 * packets are dropped and counted as `linkDown`); an empty packet is dropped as `badLength`;
 * `close()` emits `closed` and completes every stream. There is no ring to fill: every
 * transmitted packet is taken at once, and `txReady$(q)` emits at the end of each frame that
 * transmitted on `q`.
 *
 * Within one frame a `TestScheduler` runs actions in the order they were set up, and hot
 * observables are set up when the run flushes: `scheduler.schedule(() => vi.disconnect(), 4)`
 * written in the `run` callback runs before the packets a hot marble emits at frame 4. To act
 * after them, use a hot marble created after theirs: `hot('----x').subscribe(() => vi.close())`.
 *
 * @example
 * scheduler.run(({ hot, expectObservable }) => {
 *   const vi = virtualInterface(scheduler, {
 *     rx: hot('-a-b', { a: frame('01'), b: frame('02') }),
 *     states: hot('c-d', { c: 'connected', d: 'disconnected' }),
 *   });
 *   vi.rx().subscribe(vi.tx());
 *   expectObservable(vi.transmitted()).toBe('-a', { a: frame('01') }); // b: link down
 * });
 */
export interface VirtualInterface extends MemifInterface {
  /** The scheduler that times deliveries, transmissions and `stats$`. */
  readonly scheduler: SchedulerLike;
  /** Whether `close()` was called. */
  readonly closed: boolean;
  /**
   * Packets from the peer on rx queue `q`, each delivered when `source` emits it (packets of
   * one frame form one burst). Errors of `source` error the queue's `rx(q)`/`rxBursts(q)`; its
   * completion is ignored (rx completes on `close()`, as on a real interface). Unsubscribe the
   * result to stop feeding.
   *
   * @example
   * vi.feed(0, hot('-a-b', { a: frame('01'), b: frame('02') }));
   */
  feed(q: number, source: Observable<Uint8Array>): Subscription;
  /**
   * Same, from marbles (a `TestScheduler` only): `feed(q, m, v)` is `feed(q, hot(m, v))`.
   *
   * @example
   * vi.feed(0, '-a-b', { a: frame('01'), b: frame('02') });
   */
  feed(q: number, marbles: string, values?: Readonly<Record<string, Uint8Array>>): Subscription;
  /**
   * Packets from the peer on rx queue `q`, now (delivered as one burst at the end of the
   * current frame).
   *
   * @example
   * vi.inject(0, frame('01'), frame('02'));
   */
  inject(q: number, ...packets: Uint8Array[]): void;
  /**
   * Every packet transmitted on queue `q` from now on (copies), emitted when it is transmitted.
   * Hot, except that a subscriber also gets what was transmitted earlier in the current frame
   * (so `expectObservable` sees frame 0 whatever the order of set-up). Completes on `close()`.
   *
   * @example
   * expectObservable(vi.transmitted(0)).toBe('--x', { x: frame('02') });
   */
  transmitted(q?: number): Observable<Uint8Array>;
  /**
   * Everything transmitted on queue `q` so far, with times.
   *
   * @example
   * expect(vi.txLog(0).map((r) => r.time)).to.deep.equal([2, 5]);
   */
  txLog(q?: number): readonly TxRecord[];
  /**
   * Makes `state` the current state now. A status is completed from the options (`connected`:
   * the options' queues, ring and buffer sizes, peer `virtual-peer`/`virtual`; `disconnected`:
   * reason `scripted`, by the peer). `'closed'` is `close()`. `'listening'` is for a server only,
   * `'connecting'` for a client only (a TypeError otherwise).
   *
   * @example
   * vi.setState({ status: 'disconnected', role: 'client', reason: 'bye', by: 'peer', retry: null });
   */
  setState(state: StateInput): void;
  /**
   * `setState('connected')`.
   *
   * @example
   * scheduler.schedule(() => vi.connect(), 3);
   */
  connect(): void;
  /**
   * The link goes down now: `disconnected` with this reason and side (packets received in
   * this frame are delivered first, as a real interface drains its rings).
   *
   * @example
   * scheduler.schedule(() => vi.disconnect('peer restarted'), 4);
   */
  disconnect(reason?: string, by?: DisconnectSide): void;
}

const checkQueue = (q: number): number => {
  if (!Number.isInteger(q) || q < 0 || q > 254)
    throw new RangeError(`queue index must be an integer in 0..254, got ${q}`);
  return q;
};

const copy = (packet: Uint8Array): Uint8Array => {
  const c = new Uint8Array(packet.length);
  c.set(packet);
  return c;
};

const isIterable = (x: unknown): x is Iterable<Uint8Array> =>
  typeof x === 'object' && x !== null && Symbol.iterator in x && !Array.isArray(x);

const isTestScheduler = (s: SchedulerLike): s is TestScheduler =>
  typeof (s as Partial<TestScheduler>).createHotObservable === 'function';

class RxQueue {
  readonly subject = new Subject<Burst>();
  readonly counters = new QueueCounters();
  pending: Uint8Array[] = [];
  flushScheduled = false;
  constructor(readonly index: number) {}
}

class TxQueue {
  readonly subject = new Subject<Uint8Array>();
  readonly ready = new Subject<number>();
  readonly counters = new QueueCounters();
  readonly log: TxRecord[] = [];
  /** A burst is open: this frame already transmitted on the queue. */
  inBurst = false;
  zeroCopy: ZeroCopyTx | undefined;
  link: TxLink | undefined;
  readonly observer: Observer<Uint8Array>;
  readonly burstObserver: Observer<readonly Uint8Array[] | Burst>;

  constructor(
    readonly index: number,
    push: (q: number, packet: Uint8Array) => void,
  ) {
    this.observer = {
      next: (packet) => push(index, packet),
      error: () => undefined,
      complete: () => undefined,
    };
    this.burstObserver = {
      next: (packets) => {
        if (packets instanceof Burst) for (const p of packets) push(index, p);
        else for (let i = 0; i < packets.length; i++) push(index, packets[i]);
      },
      error: () => undefined,
      complete: () => undefined,
    };
  }
}

/**
 * A stand-in for the native transmit ring of a zero-copy client: `ringSize` slots of
 * `bufferSize` bytes, always all free (the virtual peer takes packets at once).
 */
const virtualZeroCopyRing = (
  slots: number,
  bufferSize: number,
  region: Uint8Array,
  send: (packet: Uint8Array) => void,
): NativeQueue => {
  let reserved = 0;
  const ring: Pick<NativeQueue, 'reserve' | 'commit' | 'pending'> = {
    pending: () => slots,
    reserve: (offsets, capacities, max) => {
      reserved = Math.min(max, slots);
      for (let i = 0; i < reserved; i++) {
        offsets[i] = i * bufferSize;
        capacities[i] = bufferSize;
      }
      return reserved;
    },
    commit: (lengths, count) => {
      if (count > reserved)
        throw new MemifError(`commit: ${count} slots, ${reserved} reserved`, 'EINVAL');
      for (let i = 0; i < count; i++)
        if (!(lengths[i] >= 1 && lengths[i] <= bufferSize))
          throw new MemifError(`commit: length ${lengths[i]} is not in 1..${bufferSize}`, 'EINVAL');
      for (let i = 0; i < count; i++)
        send(region.subarray(i * bufferSize, i * bufferSize + lengths[i]));
      reserved = 0;
      return count;
    },
  };
  return ring as NativeQueue;
};

class Virtual implements VirtualInterface {
  readonly options: ResolvedOptions;
  closed = false;
  private readonly states = new ReplaySubject<ConnectionState>(1);
  private current: ConnectionState | undefined;
  private readonly closing = new ReplaySubject<void>(1);
  private readonly rxQueues = new Map<number, RxQueue>();
  private readonly txQueues = new Map<number, TxQueue>();
  private readonly feeds = new Subscription();
  private attempts = 0;
  private generation = 0;

  constructor(
    readonly scheduler: SchedulerLike,
    options: VirtualInterfaceOptions,
  ) {
    const { rx, states, ...memifOptions } = options;
    this.options = resolveOptions(memifOptions);
    if (states)
      this.feeds.add(
        states.subscribe({
          next: (s) => this.setState(s),
          error: (e: unknown) => this.states.error(e),
        }),
      );
    else this.setState('connected');
    if (isObservable(rx)) this.feed(0, rx);
    else if (rx) for (const [q, source] of Object.entries(rx)) this.feed(Number(q), source);
  }

  get state$(): Observable<ConnectionState> {
    return this.states.asObservable();
  }

  // --- scripting --------------------------------------------------------------------------

  readonly feed: VirtualInterface['feed'] = (
    q: number,
    source: Observable<Uint8Array> | string,
    values?: Readonly<Record<string, Uint8Array>>,
  ): Subscription => {
    this.checkRxQueue(q, 'feed');
    let packets: Observable<Uint8Array>;
    if (typeof source === 'string') {
      if (!isTestScheduler(this.scheduler))
        throw new TypeError(
          'feed(q, marbles): marbles need a TestScheduler; pass an Observable with this scheduler',
        );
      packets = this.scheduler.createHotObservable<Uint8Array>(source, values);
    } else packets = source;
    const port = this.rxQueue(q);
    const sub = packets.subscribe({
      next: (p) => this.arrive(port, p),
      error: (e: unknown) => {
        this.flushRx(port);
        port.subject.error(e);
      },
    });
    this.feeds.add(sub);
    return sub;
  };

  readonly inject = (q: number, ...packets: Uint8Array[]): void => {
    this.checkRxQueue(q, 'inject');
    const port = this.rxQueue(q);
    for (const p of packets) this.arrive(port, p);
  };

  readonly transmitted = (q = 0): Observable<Uint8Array> => {
    const port = this.txQueue(checkQueue(q));
    return defer(() => {
      // "From now on" includes what this instant already transmitted, so that a subscription
      // made at frame t sees all of frame t whatever the order of actions within it.
      const now = this.scheduler.now();
      let first = port.log.length;
      while (first > 0 && port.log[first - 1].time === now) first--;
      const earlier = port.log.slice(first).map((r) => r.packet);
      return earlier.length > 0 ? concat(from(earlier), port.subject) : port.subject;
    });
  };

  readonly txLog = (q = 0): readonly TxRecord[] => [...this.txQueue(checkQueue(q)).log];

  readonly setState = (input: StateInput): void => {
    if (this.closed) return;
    const state = typeof input === 'string' ? this.fullState(input) : input;
    if (state.status === 'closed') {
      void this.close();
      return;
    }
    // A link going down: what arrived in this frame is delivered first (real rings are drained).
    if (this.current?.status === 'connected')
      for (const p of this.rxQueues.values()) this.flushRx(p);
    this.current = state;
    if (state.status === 'connected') {
      this.attempts = 0;
      this.generation++;
      // A real interface has a port for every queue of the connection from then on.
      for (let q = 0; q < state.queues.rx; q++) this.rxQueue(q);
      for (let q = 0; q < state.queues.tx; q++) this.txQueue(q);
    }
    this.states.next(state);
  };

  readonly connect = (): void => this.setState('connected');

  readonly disconnect = (reason = 'scripted', by: DisconnectSide = 'peer'): void =>
    this.setState(this.disconnected(reason, by));

  // --- MemifInterface ---------------------------------------------------------------------

  readonly rxBursts = (q = 0): Observable<Burst> =>
    this.rxQueue(checkQueue(q)).subject.asObservable();

  readonly rx = (q = 0): Observable<Uint8Array> => {
    const bursts = this.rxBursts(q);
    return new Observable<Uint8Array>((subscriber) =>
      bursts.subscribe({
        next: (b) => {
          for (let i = 0; i < b.count && !subscriber.closed; i++) subscriber.next(b.packet(i));
        },
        error: (e: unknown) => subscriber.error(e),
        complete: () => subscriber.complete(),
      }),
    );
  };

  readonly tx = (q = 0): Observer<Uint8Array> => this.txQueue(checkQueue(q)).observer;

  readonly txBursts = (q = 0): Observer<readonly Uint8Array[] | Burst> =>
    this.txQueue(checkQueue(q)).burstObserver;

  readonly txZeroCopy = (q = 0): ZeroCopyTx => {
    checkQueue(q);
    const o = this.options;
    if (o.role !== 'client' || !o.zeroCopy)
      throw new Error(
        `txZeroCopy() needs a client created with zeroCopy: true (this interface is a ${o.role}` +
          `${o.role === 'client' ? ' without zeroCopy' : ''}); use tx() to transmit`,
      );
    const port = this.txQueue(q);
    port.zeroCopy ??= new ZeroCopyTx(q, () => this.zeroCopyLink(port), port.counters);
    return port.zeroCopy;
  };

  /** A virtual interface has no shared memory for a worker thread: always throws `ENOTSUP`. */
  readonly worker = (): MemifWorker => {
    throw new MemifError(
      'worker(): a virtual interface has no shared memory to serve in a worker thread',
      'ENOTSUP',
    );
  };

  readonly txReady$ = (q = 0): Observable<number> =>
    this.txQueue(checkQueue(q)).ready.asObservable();

  readonly send = (
    source: ObservableInput<Uint8Array> | Iterable<Uint8Array>,
    q = 0,
  ): Promise<number> => {
    checkQueue(q);
    // Synchronous as far as possible, so that packets go out in the frame they are sent in.
    return new Promise<number>((resolve, reject) => {
      this.states
        .pipe(
          filter((s) => s.status === 'connected' || s.status === 'closed'),
          take(1),
        )
        .subscribe({
          next: (state) => {
            if (state.status !== 'connected') {
              reject(
                new MemifError('send: the interface was closed before it connected', 'ECANCELED'),
              );
              return;
            }
            let count = 0;
            if (isIterable(source)) {
              for (const packet of source) {
                this.push(q, packet);
                count++;
              }
              resolve(count);
              return;
            }
            from(source).subscribe({
              next: (packet) => {
                this.push(q, packet);
                count++;
              },
              error: reject,
              complete: () => resolve(count),
            });
          },
          error: reject,
        });
    });
  };

  readonly stats = (): InterfaceStats => {
    const sorted = <P extends RxQueue | TxQueue>(ports: Map<number, P>) =>
      [...ports.values()]
        .sort((a, b) => a.index - b.index)
        .map((p) => ({ queue: p.index, ...p.counters.snapshot() }));
    return { rx: sorted(this.rxQueues), tx: sorted(this.txQueues) };
  };

  readonly stats$ = (periodMs = 1000): Observable<InterfaceStats> =>
    defer(() =>
      interval(periodMs, this.scheduler).pipe(
        startWith(0),
        map(() => this.stats()),
        takeUntil(this.closing),
      ),
    );

  readonly close = (): Promise<void> => {
    if (this.closed) return Promise.resolve();
    for (const p of this.rxQueues.values()) this.flushRx(p);
    this.feeds.unsubscribe();
    this.closed = true;
    this.current = { status: 'closed', role: this.options.role };
    this.states.next(this.current);
    this.states.complete();
    for (const p of this.rxQueues.values()) p.subject.complete();
    for (const p of this.txQueues.values()) {
      p.subject.complete();
      p.ready.complete();
    }
    this.closing.next();
    this.closing.complete();
    return Promise.resolve();
  };

  readonly [Symbol.asyncDispose] = (): Promise<void> => this.close();

  // --- internals --------------------------------------------------------------------------

  /** A whole state for a status, completed from the options. */
  private fullState(status: ConnectionState['status']): ConnectionState {
    const o = this.options;
    const role = o.role;
    switch (status) {
      case 'listening':
        if (role !== 'server')
          throw new TypeError(`'listening' is a server state; this virtual interface is a client`);
        return { status, role };
      case 'connecting':
        if (role !== 'client')
          throw new TypeError(`'connecting' is a client state; this virtual interface is a server`);
        return { status, role, attempt: ++this.attempts };
      case 'handshaking':
        return { status, role, step: 'hello' };
      case 'connected':
        return {
          status,
          role,
          peer: { appName: 'virtual-peer', interfaceName: 'virtual' },
          mode: o.mode,
          queues: { rx: o.rxQueues, tx: o.txQueues },
          log2RingSize: o.log2RingSize,
          ringSize: 1 << o.log2RingSize,
          bufferSize: o.bufferSize,
          regions: [],
        } satisfies ConnectedState;
      case 'disconnected':
        return this.disconnected('scripted', 'peer');
      case 'closed':
        return { status, role };
      default:
        throw new TypeError(`unknown connection status ${JSON.stringify(status)}`);
    }
  }

  private disconnected(reason: string, by: DisconnectSide): ConnectionState {
    const o = this.options;
    return o.role === 'client'
      ? {
          status: 'disconnected',
          role: 'client',
          reason,
          by,
          retry: { attempt: this.attempts + 1, inMs: o.retry.initialMs },
        }
      : { status: 'disconnected', role: 'server', reason, by, retry: null };
  }

  private checkRxQueue(q: number, what: string): void {
    checkQueue(q);
    if (q >= this.options.rxQueues)
      throw new RangeError(
        `${what}(${q}): this virtual interface has ${this.options.rxQueues} rx queue(s) (options.rxQueues)`,
      );
  }

  private connected(): ConnectedState | undefined {
    return !this.closed && this.current?.status === 'connected' ? this.current : undefined;
  }

  private rxQueue(q: number): RxQueue {
    let port = this.rxQueues.get(q);
    if (!port) {
      port = new RxQueue(q);
      this.rxQueues.set(q, port);
      if (this.closed) port.subject.complete();
    }
    return port;
  }

  private txQueue(q: number): TxQueue {
    let port = this.txQueues.get(q);
    if (!port) {
      port = new TxQueue(q, (index, packet) => this.push(index, packet));
      this.txQueues.set(q, port);
      if (this.closed) {
        port.subject.complete();
        port.ready.complete();
      }
    }
    return port;
  }

  private arrive(port: RxQueue, packet: Uint8Array): void {
    if (!(packet instanceof Uint8Array))
      throw new TypeError(
        `rx queue ${port.index}: got ${JSON.stringify(packet)}, not a Uint8Array ` +
          `(give marble values, e.g. { a: frame('0102') })`,
      );
    if (this.closed) return;
    const link = this.connected();
    if (!link || port.index >= link.queues.rx) {
      port.counters.linkDown++;
      return;
    }
    const c = port.counters.live;
    if (packet.length === 0) {
      c[QueueCounter.badLength]++;
      return;
    }
    if (packet.length > MAX_PACKET) {
      c[QueueCounter.tooBig]++;
      return;
    }
    port.pending.push(copy(packet));
    if (!port.flushScheduled) {
      port.flushScheduled = true;
      this.scheduler.schedule(() => this.flushRx(port), 0);
    }
  }

  /** Delivers what arrived on `port` as bursts of at most RX_BURST packets. */
  private flushRx(port: RxQueue): void {
    port.flushScheduled = false;
    const packets = port.pending;
    if (packets.length === 0) return;
    port.pending = [];
    for (let first = 0; first < packets.length; first += RX_BURST) {
      const chunk = packets.slice(first, first + RX_BURST);
      const offsets = new Uint32Array(chunk.length);
      const lengths = new Uint32Array(chunk.length);
      let bytes = 0;
      for (let i = 0; i < chunk.length; i++) {
        offsets[i] = bytes;
        lengths[i] = chunk[i].length;
        bytes += chunk[i].length;
      }
      const data = new Uint8Array(bytes);
      for (let i = 0; i < chunk.length; i++) data.set(chunk[i], offsets[i]);
      port.counters.add(chunk.length, bytes);
      port.subject.next(new Burst(port.index, chunk.length, data, offsets, lengths));
    }
  }

  /** Transmits one packet now: recorded, counted, emitted on `transmitted(q)`. */
  private push(q: number, packet: Uint8Array): void {
    const port = this.txQueue(q);
    const c = port.counters.live;
    if (packet.length === 0) {
      c[QueueCounter.badLength]++;
      return;
    }
    const link = this.connected();
    if (!link || q >= link.queues.tx) {
      port.counters.linkDown++;
      return;
    }
    const sent = copy(packet);
    c[QueueCounter.packets]++;
    c[QueueCounter.bytes] += sent.length;
    if (!port.inBurst) {
      // One burst per queue and frame; the backlog (never any) is announced drained after it.
      c[QueueCounter.bursts]++;
      port.inBurst = true;
      this.scheduler.schedule(() => {
        port.inBurst = false;
        port.ready.next(this.options.txQueueSize);
      }, 0);
    }
    port.log.push({ time: this.scheduler.now(), packet: sent });
    port.subject.next(sent);
  }

  private zeroCopyLink(port: TxQueue): TxLink | undefined {
    const link = this.connected();
    if (!link || port.index >= link.queues.tx) return undefined;
    if (port.link?.generation !== this.generation) {
      const data = new Uint8Array(link.ringSize * link.bufferSize);
      const queue = virtualZeroCopyRing(link.ringSize, link.bufferSize, data, (p) =>
        this.push(port.index, p),
      );
      port.link = { queue, data, generation: this.generation };
    }
    return port.link;
  }
}

/**
 * A virtual memif interface for marble tests of protocol logic: no native addon, no peer.
 * `scheduler` (a `TestScheduler`, or any scheduler) times everything; `options` are memif
 * options (role, queues, sizes...) plus the scripted `rx` and `states`. It starts `connected`
 * unless `states` says otherwise.
 *
 * @example
 * const scheduler = new TestScheduler((a, b) => {
 *   expect(a).to.deep.equal(b);
 * });
 * scheduler.run(({ hot, expectObservable }) => {
 *   const vi = virtualInterface(scheduler);
 *   vi.feed(0, hot('-a--b', { a: frame('01'), b: frame('02') }));
 *   vi.rx().pipe(map((p) => frame(p, 'ff'))).subscribe(vi.tx());
 *   expectObservable(vi.transmitted()).toBe('-x--y', { x: frame('01ff'), y: frame('02ff') });
 * });
 */
export const virtualInterface = (
  scheduler: SchedulerLike,
  options: VirtualInterfaceOptions = {},
): VirtualInterface => new Virtual(scheduler, options);
