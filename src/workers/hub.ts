import type { Observable, Subscription } from 'rxjs';
import type { DataPathHooks, SharedMemory } from '../control/runtime';
import type { ResolvedOptions } from '../control/options';
import type { ConnectedState, ConnectionState } from '../control/state';
import { checkQueue } from '../streams/queues';
import type { DataPath } from '../streams/data-path';
import type { StartMessage, ToWorker } from './messages';
import { WorkerLink } from './memif-worker';
import type { MemifWorker, MemifWorkerOptions } from './memif-worker';

/** How long `eth.close()` lets a worker finish by itself before terminating it. */
export const WORKER_CLOSE_MS = 2000;

/**
 * The main thread's side of an interface's worker threads: which worker serves which queue, and
 * the lifecycle each is told, in order, on its own port: every state, `start` with the memory
 * as tokens, `stop` at link down, `close` at the end (docs/architecture.md "Queues in worker
 * threads"). It sits between the runtime and the main data path, which serves only the queues
 * no live worker took.
 */
export class WorkerHub implements DataPathHooks {
  private readonly owners = new Map<number, WorkerLink>();
  private readonly links = new Set<WorkerLink>();
  private memory: SharedMemory | undefined;
  private connected: ConnectedState | undefined;
  /** The current connection as tokens, made when a worker first needs it. */
  private startMessage: StartMessage | undefined;
  private lastState: ConnectionState | undefined;
  private states: Subscription | undefined;
  private closed = false;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly dataPath: DataPath,
  ) {}

  /** Follows the interface's states (forwarded to every worker). */
  follow(states: Observable<ConnectionState>): void {
    this.states = states.subscribe((state) => {
      this.lastState = state;
      this.broadcast({ type: 'state', state });
    });
  }

  /** Whether the main thread's data path serves queue `q`. */
  readonly serves = (q: number): boolean => !this.owners.has(q);

  /** Throws when a live worker serves queue `q` (main-thread use of that queue). */
  readonly check = (q: number): void => {
    const owner = this.owners.get(q);
    if (owner)
      throw new Error(
        `queue ${q} is served by worker thread ${owner.threadId}: use it there (attach() of ` +
          `rx-memif/worker), or after that worker exits`,
      );
  };

  start(memory: SharedMemory, connected: ConnectedState): void {
    this.memory = memory;
    this.connected = connected;
    this.startMessage = undefined;
    this.dataPath.start(memory, connected);
    for (const link of this.links) link.post(this.start$());
  }

  stop(): void {
    this.dataPath.stop();
    this.memory = undefined;
    this.connected = undefined;
    this.startMessage = undefined;
    this.broadcast({ type: 'stop' });
  }

  spawn(filename: string | URL, options: MemifWorkerOptions): MemifWorker {
    if (this.closed) throw new Error('worker(): the interface is closed');
    const queues = this.claimable(options.queues);
    const counters = queues.map((q) => ({
      queue: q,
      rx: this.dataPath.rxPort(q).counters.shared,
      tx: this.dataPath.txPort(q).counters.shared,
    }));
    const link = new WorkerLink(filename, options, this.options, queues, counters, (l) =>
      this.onExit(l),
    );
    this.links.add(link);
    for (const q of queues) {
      this.owners.set(q, link);
      this.dataPath.release(q);
    }
    // A worker created mid-connection starts from where the interface is.
    if (this.lastState) link.post({ type: 'state', state: this.lastState });
    if (this.memory) link.post({ ...this.start$(), resume: true });
    return link;
  }

  /**
   * Tells every worker to close and waits for each thread to exit (terminating one still running
   * after {@link WORKER_CLOSE_MS}). Undefined when no worker is alive: the interface then closes
   * in the same tick, as it always did (a close from inside an rx emission stops it at once).
   */
  close(): Promise<void> | undefined {
    this.closed = true;
    this.states?.unsubscribe();
    const links = [...this.links];
    if (links.length === 0) return undefined;
    this.broadcast({ type: 'close' });
    return Promise.all(links.map(closeOrTerminate)).then(() => undefined);
  }

  private claimable(queues: readonly number[]): number[] {
    if (!Array.isArray(queues) || queues.length === 0)
      throw new RangeError('worker(): options.queues must list at least one queue index');
    const seen = new Set<number>();
    for (const q of queues) {
      checkQueue(q);
      if (seen.has(q)) throw new RangeError(`worker(): queue ${q} is listed twice`);
      seen.add(q);
      const owner = this.owners.get(q);
      if (owner)
        throw new Error(
          `worker(): queue ${q} is already served by worker thread ${owner.threadId}; ` +
            'one worker per queue (a queue is free again once its worker exits)',
        );
    }
    return [...queues];
  }

  private onExit(link: WorkerLink): void {
    this.links.delete(link);
    for (const q of link.queues) {
      if (this.owners.get(q) !== link) continue;
      this.owners.delete(q);
      // Its native queues died with its thread: the main thread serves the rings again.
      if (!this.closed) this.dataPath.claim(q);
    }
  }

  private broadcast(message: ToWorker): void {
    for (const link of this.links) link.post(message);
  }

  /** The current connection as tokens (made once per connection, for every worker). */
  private start$(): StartMessage {
    const memory = this.memory;
    const connected = this.connected;
    if (!memory || !connected) throw new Error('no live connection');
    this.startMessage ??= {
      type: 'start',
      connected,
      regions: memory.regions.map((r) => r.share()),
      rings: memory.rings.map((r) => ({
        direction: r.direction,
        index: r.index,
        region: r.region,
        offset: r.offset,
        log2RingSize: r.log2RingSize,
        eventFd: r.eventFd.share(),
      })),
      cacheLineSize: memory.cacheLineSize,
      layout: memory.layout,
    };
    return this.startMessage;
  }
}

const closeOrTerminate = async (link: WorkerLink): Promise<void> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), WORKER_CLOSE_MS);
  });
  const outcome = await Promise.race([link.exited, late]);
  clearTimeout(timer);
  if (outcome === 'late') await link.terminate();
};
