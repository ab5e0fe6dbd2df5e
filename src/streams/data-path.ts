import type { NativeBinding, NativeQueue } from '../native-bridge/native';
import type { DataPathHooks, RingHandle, SharedMemory } from '../control/runtime';
import { bufferOffset } from '../control/layout';
import type { ConnectedState, Role } from '../control/state';
import type { QueueCounters } from './counters';
import { MAX_PACKET, RxPort } from './rx-port';
import { TxPort } from './tx-port';
import type { TxLink } from './zero-copy-tx';

/**
 * How received packets are noticed:
 * - `interrupt`: the peer signals the ring's eventfd (uv_poll wakes us); no CPU when idle.
 * - `polling`: rings are checked on every turn of the event loop (setImmediate), our rx rings
 *   masked so the peer does not signal; lowest latency, one core busy.
 * - `adaptive`: polling while traffic flows, interrupts after `adaptiveIdleMs` without any.
 */
export type RxMode = 'interrupt' | 'polling' | 'adaptive';

export interface DataPathOptions {
  readonly role: Role;
  readonly rxMode: RxMode;
  readonly adaptiveIdleMs: number;
  readonly zeroCopyRx: boolean;
  readonly txQueueSize: number;
  /** Backlogged packets (in any tx queue) at which rx reads pause; see {@link Backpressure}. */
  readonly txHighWater: number;
  readonly lossless: boolean;
}

/**
 * Which queues a data path serves, and where their counters are. The main thread's serves every
 * queue no worker thread took; a worker's serves its own, counting into the main thread's
 * counters (docs/architecture.md "Queues in worker threads").
 */
export interface DataPathScope {
  /** Whether the rings of queue `q` (rx and tx) are served here. */
  serves(q: number): boolean;
  /** The counters for queue `q`'s port in `direction` (new ones when undefined). */
  counters?(direction: 'rx' | 'tx', q: number): QueueCounters | undefined;
}

const everyQueue: DataPathScope = { serves: () => true };

/**
 * Packets one rx queue reads per service turn (one native read): then the tx backlogs flush
 * and the next queue, timers and user code get their turn. Reading until the ring is empty let
 * a peer that keeps refilling it hold the loop in rx while tx starved (receive livelock: the
 * reflector forwarded 1-10 % of what it read); a larger budget bought nothing measurable
 * (docs/tuning.md).
 */
export const RX_BUDGET = 256;

/**
 * How long a paused rx may wait for the tx ring to move before reading again: a peer that does
 * not take what we send may itself be waiting for us to read (two reflectors, or a lossless
 * sender through a reflector), and both holding would be a deadlock (docs/tuning.md).
 */
export const TX_STALL_MS = 2;

/**
 * How long tx may stay stuck before a paused rx reads even what its backlog has no room for,
 * dropping it (`queueFull`): only a peer that never reads, or two sides whose backlogs are both
 * full, wait that long. Shorter stalls (a GC pause, a busy peer) resume reading into the room
 * that is left, so they cost no packet (docs/tuning.md).
 */
export const TX_DROP_STALL_MS = 50;

const now = (): number => performance.now();

/**
 * Backpressure from tx to rx: reading pauses, for every rx queue, while a tx backlog holds
 * `high` packets or more, and resumes once every backlog is down to `low` (half of it). Every
 * queue, because which rx queue feeds which tx queue is the application's business (a router
 * sends anywhere): pausing only the same-numbered one would let the others keep filling it.
 */
class Backpressure {
  paused = false;
  /** Overridden because tx stalled; re-armed by tx progress or drained backlogs. */
  private suspended = false;
  private lastProgress = 0;
  private readonly low: number;

  constructor(private readonly high: number) {
    this.low = Math.floor(high / 2);
  }

  /** Updates the state from the largest backlog after a flush; `moved`: tx made progress. */
  update(largest: number, moved: boolean, now: () => number): void {
    if (largest <= this.low) {
      this.paused = false;
      this.suspended = false;
      return;
    }
    // The peer takes packets again: what held it is gone, backpressure applies again.
    if (moved) this.suspended = false;
    if (!this.paused) {
      if (largest < this.high || this.suspended) return;
      this.paused = true;
      this.lastProgress = now();
      return;
    }
    const t = now();
    if (moved) this.lastProgress = t;
    else if (t - this.lastProgress > TX_STALL_MS) {
      this.paused = false;
      this.suspended = true;
    }
  }

  /**
   * How many packets an rx queue may read now: none while paused; after a stall, only what the
   * fullest backlog can still take (`room`), or a whole budget once tx has been stuck for
   * {@link TX_DROP_STALL_MS}.
   */
  budget(room: number, now: () => number): number {
    if (this.paused) return 0;
    if (!this.suspended || room >= RX_BUDGET) return RX_BUDGET;
    if (room > 0) return room;
    return now() - this.lastProgress > TX_DROP_STALL_MS ? RX_BUDGET : 0;
  }

  reset(): void {
    this.paused = false;
    this.suspended = false;
  }
}

interface Live {
  readonly memory: SharedMemory;
  rx: { port: RxPort; queue: NativeQueue; ring: RingHandle }[];
  tx: { port: TxPort; queue: NativeQueue; ring: RingHandle }[];
  /** Zero-copy transmit view of each tx ring, by queue index. */
  readonly txLinks: Map<number, TxLink>;
  /** Changes with every connection (zero-copy slots of an earlier one are refused). */
  readonly generation: number;
  readonly region0: Uint8Array;
  readonly buffers: readonly ArrayBuffer[];
}

/**
 * The packet side of an interface: persistent rx/tx ports by queue index, and while the link is
 * up, one native queue per ring and the loop that services them.
 */
export class DataPath implements DataPathHooks {
  private readonly rxPorts = new Map<number, RxPort>();
  private readonly txPorts = new Map<number, TxPort>();
  private live: Live | undefined;
  private polling = false;
  private pollHandle: ReturnType<typeof setImmediate> | undefined;
  private lastTraffic = 0;
  private generation = 0;
  private readonly backpressure: Backpressure;
  /** What the fullest tx backlog can still take, as of the last flush (see Backpressure.budget). */
  private room = Infinity;
  /** Where the next turn starts reading, so that no queue is always served first. */
  private nextRx = 0;

  constructor(
    private readonly native: NativeBinding,
    private readonly options: DataPathOptions,
    private readonly scope: DataPathScope = everyQueue,
  ) {
    this.backpressure = new Backpressure(options.txHighWater);
  }

  /**
   * The port of queue `q`, created on first use. Every ring of a connection gets its port when
   * the link comes up, so a port asked for later either has a ring already or has none.
   */
  rxPort(q: number): RxPort {
    let port = this.rxPorts.get(q);
    if (!port) {
      port = new RxPort(q, this.scope.counters?.('rx', q));
      this.rxPorts.set(q, port);
    }
    return port;
  }

  txPort(q: number): TxPort {
    let port = this.txPorts.get(q);
    if (!port) {
      port = new TxPort(
        q,
        { queueSize: this.options.txQueueSize, lossless: this.options.lossless },
        this.scope.counters?.('tx', q),
      );
      port.onBlocked = () => this.wake();
      this.txPorts.set(q, port);
    }
    return port;
  }

  get ports(): { rx: ReadonlyMap<number, RxPort>; tx: ReadonlyMap<number, TxPort> } {
    return { rx: this.rxPorts, tx: this.txPorts };
  }

  /**
   * Queue `q`'s live transmit ring and the region of the client's buffers, for zero-copy
   * transmit; undefined while the link is down or when the connection has no such queue.
   */
  txLink(q: number): TxLink | undefined {
    return this.live?.txLinks.get(q);
  }

  /**
   * Serves the rings of a new connection, or (`resume`) of a running one whose queues another
   * thread served until now (see {@link NativeQueueConfig.resume}).
   */
  start(memory: SharedMemory, _connected: ConnectedState, resume = false): void {
    const generation = ++this.generation;
    const live: Live = {
      memory,
      rx: [],
      tx: [],
      txLinks: new Map(),
      generation,
      region0: new Uint8Array(memory.regions[0].buffer),
      buffers: memory.regions.map((r) => r.buffer),
    };
    this.live = live;
    this.open(
      live,
      memory.rings.filter((r) => this.scope.serves(r.index)),
      resume,
    );
    this.lastTraffic = performance.now();
    if (this.options.rxMode === 'interrupt') this.sleep();
    else this.wake();
  }

  /**
   * Serves queue `q` again mid-connection (the worker thread that had it exited): a new native
   * queue per ring starts from the ring's indices (docs/architecture.md "Queues in worker
   * threads").
   */
  claim(q: number): void {
    const live = this.live;
    if (!live || live.rx.some((r) => r.port.index === q) || live.tx.some((t) => t.port.index === q))
      return;
    const added = this.open(
      live,
      live.memory.rings.filter((r) => r.index === q),
      true,
    );
    if (!this.polling) this.sleep();
    else if (this.options.rxMode !== 'interrupt')
      for (const r of added) r.queue.setInterruptMask(true);
  }

  /** Opens a native queue for each of `rings` and attaches it to its port; returns the rx ones. */
  private open(live: Live, rings: readonly RingHandle[], resume: boolean): Live['rx'] {
    const rxDir = this.options.role === 'client' ? 'm2s' : 's2m';
    const { memory } = live;
    const rx: Live['rx'] = [];
    const tx: Live['tx'] = [];
    for (const ring of rings) {
      const receives = ring.direction === rxDir;
      const port = receives ? this.rxPort(ring.index) : this.txPort(ring.index);
      const queue = this.native.Queue.create({
        role: this.options.role,
        direction: receives ? 'rx' : 'tx',
        regions: memory.regions,
        ringRegion: ring.region,
        ringOffset: ring.offset,
        log2RingSize: ring.log2RingSize,
        bufferSize: memory.layout?.bufferSize ?? 0,
        bufferRegion: 0,
        bufferBase: memory.layout ? bufferOffset(memory.layout, ring, 0) : 0,
        eventFd: ring.eventFd,
        maxPacketSize: MAX_PACKET,
        counters: port.counters.renew(),
        resume,
      });
      if (receives) rx.push({ port: port as RxPort, queue, ring });
      else tx.push({ port: port as TxPort, queue, ring });
    }
    for (const t of tx)
      live.txLinks.set(t.port.index, {
        queue: t.queue,
        data: live.region0,
        generation: live.generation,
      });
    for (const r of rx) {
      r.port.attach(r.queue, this.options.zeroCopyRx, live.buffers);
      // A client offers its receive buffers only now: a server may reset head before CONNECTED.
      if (this.options.role === 'client') r.queue.refill();
    }
    for (const t of tx) t.port.attach(t.queue);
    live.rx.push(...rx);
    live.tx.push(...tx);
    return rx;
  }

  stop(): void {
    const live = this.live;
    if (!live) return;
    this.live = undefined;
    this.stopPolling();
    this.backpressure.reset();
    for (const r of live.rx) {
      // Packets the peer published before the link went down are still mapped: deliver them
      // (a peer that stops sends DISCONNECT right after its last burst; see
      // docs/protocol.md#disconnect-and-teardown), all of them: no budget here, nothing will come
      // back to read the rest.
      r.port.drain();
      // What is left is a chain the peer never finished (or a burst racing the link going
      // down): it cannot be delivered now, so it is counted, not silently left behind.
      if (r.queue.pending() > 0) r.port.counters.linkDown++;
      r.ring.eventFd.unwatch();
      r.port.detach();
      r.queue.close();
    }
    for (const t of live.tx) {
      t.port.detach();
      t.queue.close();
    }
  }

  /**
   * Stops serving queue `q` mid-connection (a worker thread takes it): its native queues close,
   * what is still in its rx ring stays there for the new owner, its tx backlog is dropped
   * (counted `linkDown`). The next `start` asks the scope again.
   */
  release(q: number): void {
    const live = this.live;
    if (!live) return;
    for (const r of live.rx) {
      if (r.port.index !== q) continue;
      r.ring.eventFd.unwatch();
      r.port.detach();
      r.queue.close();
    }
    for (const t of live.tx) {
      if (t.port.index !== q) continue;
      t.port.detach();
      t.queue.close();
    }
    live.rx = live.rx.filter((r) => r.port.index !== q);
    live.tx = live.tx.filter((t) => t.port.index !== q);
    live.txLinks.delete(q);
  }

  /** Interface closed: the port streams complete. */
  close(): void {
    this.stop();
    for (const p of this.rxPorts.values()) p.complete();
    for (const p of this.txPorts.values()) p.complete();
  }

  /**
   * One service turn: each rx queue (or only `only`) reads at most {@link RX_BUDGET} packets,
   * the tx backlogs flush before and after every read, and no read happens while backpressure
   * holds. `more`: a queue stopped at its budget with packets left, or reads were held back,
   * so the caller must come back on the next turn (the peer will not signal again).
   */
  private service(only?: RxPort): { received: number; blocked: boolean; more: boolean } {
    const live = this.live;
    if (!live) return { received: 0, blocked: false, more: false };
    let received = 0;
    let more = false;
    let blocked = this.flushTx(live);
    const n = live.rx.length;
    const start = this.nextRx < n ? this.nextRx : 0;
    this.nextRx = start + 1;
    for (let k = 0; k < n; k++) {
      const port = live.rx[(start + k) % n].port;
      if (only && port !== only) continue;
      const budget = this.backpressure.budget(this.room, now);
      if (budget === 0) {
        more = true;
        break;
      }
      received += port.drain(budget);
      if (port.more) more = true;
      blocked = this.flushTx(live);
    }
    return { received, blocked, more };
  }

  /** Flushes every waiting tx backlog; true when one is still waiting. Updates backpressure. */
  private flushTx(live: Live): boolean {
    let blocked = false;
    let largest = 0;
    let moved = false;
    let room = Infinity;
    for (const t of live.tx) {
      const before = t.port.waiting;
      if (before === 0) continue;
      if (t.port.flush()) blocked = true;
      const after = t.port.waiting;
      if (after < before) moved = true;
      if (after > largest) largest = after;
      room = Math.min(room, t.port.room);
    }
    this.room = room;
    this.backpressure.update(largest, moved, now);
    return blocked;
  }

  /** Enters polling: masks our rx rings (the peer need not signal) and loops on setImmediate. */
  private wake(): void {
    if (!this.live || this.polling) return;
    if (this.options.rxMode !== 'interrupt') {
      for (const r of this.live.rx) r.queue.setInterruptMask(true);
    }
    this.polling = true;
    this.pollHandle = setImmediate(() => this.poll());
  }

  private poll(): void {
    this.pollHandle = undefined;
    if (!this.live || !this.polling) return;
    const { received, blocked, more } = this.service();
    const t = now();
    if (received > 0) this.lastTraffic = t;
    const idle = t - this.lastTraffic > this.options.adaptiveIdleMs;
    if (this.options.rxMode === 'polling' || blocked || more || !idle) {
      this.pollHandle = setImmediate(() => this.poll());
      return;
    }
    this.polling = false;
    this.sleep();
  }

  private stopPolling(): void {
    this.polling = false;
    if (this.pollHandle) clearImmediate(this.pollHandle);
    this.pollHandle = undefined;
  }

  /**
   * Waits for interrupts: unmasks every rx ring and watches its eventfd. A packet published while
   * unmasking is caught by the check `setInterruptMask` makes after a full fence.
   */
  private sleep(): void {
    const live = this.live;
    if (!live) return;
    let pending = 0;
    for (const r of live.rx) {
      pending += r.queue.setInterruptMask(false);
      r.ring.eventFd.watch(() => this.onInterrupt(r.port));
    }
    if (pending > 0) this.onInterrupt(undefined);
  }

  private onInterrupt(port: RxPort | undefined): void {
    if (this.options.rxMode === 'interrupt') {
      // What one turn leaves (a budget's worth read, a backlog, held reads) needs the next.
      const { blocked, more } = this.service(port);
      if (blocked || more) this.wake();
      return;
    }
    this.lastTraffic = performance.now();
    this.wake();
  }
}
