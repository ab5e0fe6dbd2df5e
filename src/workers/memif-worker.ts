import { MessageChannel, Worker } from 'node:worker_threads';
import type { MessagePort, WorkerOptions } from 'node:worker_threads';
import { ReplaySubject } from 'rxjs';
import type { Observable } from 'rxjs';
import type { ResolvedOptions } from '../control/options';
import { ENVELOPE } from './messages';
import type { FromWorker, SharedQueueCounters, ToWorker, WorkerEnvelope } from './messages';

/** What `eth.worker(filename, options)` takes: Node's WorkerOptions and the queues to serve. */
export interface MemifWorkerOptions extends Omit<WorkerOptions, 'workerData'> {
  /** Queue indices (rx and tx of each index) this worker serves; one worker per queue. */
  readonly queues: readonly number[];
  /** Given to the worker as `attach().workerData` (structured clone). */
  readonly workerData?: unknown;
}

/** Why a worker's thread ended, as far as Node reported it. */
export interface MemifWorkerError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
}

/**
 * A worker's life: `starting` (thread created, `attach()` not yet called in it), `running`
 * (`attach()` called), `exited` (the thread is gone: normally, by throwing, or terminated).
 */
export type MemifWorkerState =
  | { readonly status: 'starting' }
  | { readonly status: 'running' }
  | { readonly status: 'exited'; readonly code: number; readonly error?: MemifWorkerError };

/** A worker thread serving some queues of an interface; see `MemifInterface.worker`. */
export interface MemifWorker {
  /** The queue indices it serves. */
  readonly queues: readonly number[];
  readonly threadId: number;
  /** The node:worker_threads Worker, for the application's own messages (postMessage/parentPort). */
  readonly thread: Worker;
  /** Replays the current state; completes after `exited`. */
  readonly state$: Observable<MemifWorkerState>;
  /** Resolves with the exit code once the thread is gone (never rejects). */
  readonly exited: Promise<number>;
  /** Stops the thread at once (mid-burst if need be); resolves once it is gone. */
  terminate(): Promise<void>;
}

const describe = (e: unknown): MemifWorkerError => {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(e) };
};

/**
 * The main thread's side of one worker: the thread, the port the lifecycle messages go on, and
 * its state. Every outcome of the thread ('error', 'exit') is listened to: an unlistened
 * 'error' would take the whole process down.
 */
export class WorkerLink implements MemifWorker {
  readonly thread: Worker;
  readonly threadId: number;
  readonly exited: Promise<number>;
  private readonly subject = new ReplaySubject<MemifWorkerState>(1);
  private readonly port: MessagePort;
  private error: MemifWorkerError | undefined;
  private gone = false;

  constructor(
    filename: string | URL,
    options: MemifWorkerOptions,
    resolved: ResolvedOptions,
    readonly queues: readonly number[],
    counters: readonly SharedQueueCounters[],
    onExit: (link: WorkerLink) => void,
  ) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const envelope: WorkerEnvelope = {
      port: port2,
      queues,
      options: resolved,
      counters,
      workerData: options.workerData,
    };
    const rest: WorkerOptions = { ...options };
    delete (rest as { queues?: unknown }).queues;
    this.subject.next({ status: 'starting' });
    this.thread = new Worker(filename, {
      ...rest,
      workerData: { [ENVELOPE]: envelope },
      transferList: [port2, ...(options.transferList ?? [])],
    });
    this.threadId = this.thread.threadId;
    this.port.on('message', (m: FromWorker) => {
      if (m.type === 'attached' && !this.gone) this.subject.next({ status: 'running' });
    });
    // The port must not keep the main thread alive: the Worker does while it runs.
    this.port.unref();
    this.exited = new Promise<number>((resolve) => {
      this.thread.on('error', (e) => {
        this.error ??= describe(e);
      });
      this.thread.on('exit', (code) => {
        this.gone = true;
        this.port.close();
        onExit(this);
        this.subject.next({
          status: 'exited',
          code,
          ...(this.error ? { error: this.error } : {}),
        });
        this.subject.complete();
        resolve(code);
      });
    });
  }

  get state$(): Observable<MemifWorkerState> {
    return this.subject.asObservable();
  }

  get alive(): boolean {
    return !this.gone;
  }

  /** Posts a lifecycle message (dropped once the thread is gone). */
  post(message: ToWorker): void {
    if (!this.gone) this.port.postMessage(message);
  }

  async terminate(): Promise<void> {
    if (!this.gone) await this.thread.terminate();
    await this.exited;
  }
}
