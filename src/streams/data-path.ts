import type { NativeBinding, NativeQueue } from '../native-bridge/native';
import type { DataPathHooks, RingHandle, SharedMemory } from '../control/runtime';
import { bufferOffset } from '../control/layout';
import type { ConnectedState, Role } from '../control/state';
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
  readonly lossless: boolean;
}

interface Live {
  readonly memory: SharedMemory;
  readonly rx: { port: RxPort; queue: NativeQueue; ring: RingHandle }[];
  readonly tx: { port: TxPort; queue: NativeQueue; ring: RingHandle }[];
  /** Zero-copy transmit view of each tx ring, by queue index. */
  readonly txLinks: ReadonlyMap<number, TxLink>;
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

  constructor(
    private readonly native: NativeBinding,
    private readonly options: DataPathOptions,
  ) {}

  /**
   * The port of queue `q`, created on first use. Every ring of a connection gets its port when
   * the link comes up, so a port asked for later either has a ring already or has none.
   */
  rxPort(q: number): RxPort {
    let port = this.rxPorts.get(q);
    if (!port) {
      port = new RxPort(q);
      this.rxPorts.set(q, port);
    }
    return port;
  }

  txPort(q: number): TxPort {
    let port = this.txPorts.get(q);
    if (!port) {
      port = new TxPort(q, {
        queueSize: this.options.txQueueSize,
        lossless: this.options.lossless,
      });
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

  start(memory: SharedMemory, _connected: ConnectedState): void {
    const rxDir = this.options.role === 'client' ? 'm2s' : 's2m';
    const rx: Live['rx'] = [];
    const tx: Live['tx'] = [];
    for (const ring of memory.rings) {
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
      });
      if (receives) rx.push({ port: port as RxPort, queue, ring });
      else tx.push({ port: port as TxPort, queue, ring });
    }
    const generation = ++this.generation;
    const region0 = new Uint8Array(memory.regions[0].buffer);
    const txLinks = new Map(
      tx.map((t) => [t.port.index, { queue: t.queue, data: region0, generation }] as const),
    );
    this.live = { memory, rx, tx, txLinks };
    const buffers = memory.regions.map((r) => r.buffer);
    for (const r of rx) {
      r.port.attach(r.queue, this.options.zeroCopyRx, buffers);
      // A client offers its receive buffers only now: a server may reset head before CONNECTED.
      if (this.options.role === 'client') r.queue.refill();
    }
    for (const t of tx) t.port.attach(t.queue);
    this.lastTraffic = performance.now();
    if (this.options.rxMode === 'interrupt') this.sleep();
    else this.wake();
  }

  stop(): void {
    const live = this.live;
    if (!live) return;
    this.live = undefined;
    this.stopPolling();
    for (const r of live.rx) {
      // Packets the peer published before the link went down are still mapped: deliver them
      // (a peer that stops sends DISCONNECT right after its last burst; see
      // docs/protocol.md#disconnect-and-teardown).
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

  /** Interface closed: the port streams complete. */
  close(): void {
    this.stop();
    for (const p of this.rxPorts.values()) p.complete();
    for (const p of this.txPorts.values()) p.complete();
  }

  /** One turn: drain every rx ring, retry every blocked tx port. */
  private service(): { received: number; blocked: boolean } {
    const live = this.live;
    if (!live) return { received: 0, blocked: false };
    let received = 0;
    let blocked = false;
    for (const r of live.rx) received += r.port.drain();
    for (const t of live.tx) if (t.port.waiting > 0 && t.port.flush()) blocked = true;
    return { received, blocked };
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
    const { received, blocked } = this.service();
    const now = performance.now();
    if (received > 0) this.lastTraffic = now;
    const idle = now - this.lastTraffic > this.options.adaptiveIdleMs;
    if (this.options.rxMode === 'polling' || blocked || !idle) {
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
      if (port) port.drain();
      else for (const r of this.live?.rx ?? []) r.port.drain();
      return;
    }
    this.lastTraffic = performance.now();
    this.wake();
  }
}
