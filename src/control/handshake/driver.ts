import { Observable, asyncScheduler } from 'rxjs';
import type { SchedulerLike, Subscription } from 'rxjs';
import type { HandshakeCommand, HandshakeEvent, Machine, TimerName } from './types';

/**
 * Runs a handshake machine: feeds it events one at a time (events raised while a step's commands
 * run are queued, so the machine never re-enters), carries out the timer commands on a
 * scheduler and hands every other command to `execute`.
 */
export class HandshakeDriver<S> {
  private current: S;
  private readonly queue: HandshakeEvent[] = [];
  private running = false;
  private readonly timers = new Map<TimerName, Subscription>();
  private readonly afterRun: (() => void)[] = [];

  constructor(
    private readonly machine: Machine<S>,
    initial: S,
    private readonly execute: (command: HandshakeCommand) => void,
    private readonly scheduler: SchedulerLike = asyncScheduler,
  ) {
    this.current = initial;
  }

  get state(): S {
    return this.current;
  }

  dispatch(event: HandshakeEvent): void {
    this.queue.push(event);
    if (this.running) return;
    this.running = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        const { state, commands } = this.machine(this.current, next);
        this.current = state;
        for (const command of commands) this.run(command);
      }
    } finally {
      this.running = false;
      for (let fn = this.afterRun.shift(); fn; fn = this.afterRun.shift()) fn();
    }
  }

  /**
   * Runs `fn` once no step is running: at once, or, when called from inside a step (a command's
   * callback, such as a state$ subscriber), right after the queued events have all been run.
   */
  whenIdle(fn: () => void): void {
    if (this.running) this.afterRun.push(fn);
    else fn();
  }

  /** Cancels pending timers (the machine's state is left as it is). */
  dispose(): void {
    for (const timer of this.timers.values()) timer.unsubscribe();
    this.timers.clear();
    this.queue.length = 0;
  }

  private run(command: HandshakeCommand): void {
    switch (command.kind) {
      case 'set-timer': {
        this.cancel(command.timer);
        const timer = command.timer;
        this.timers.set(
          timer,
          this.scheduler.schedule(() => {
            this.timers.delete(timer);
            this.dispatch({ kind: 'timer', timer });
          }, command.ms),
        );
        return;
      }
      case 'cancel-timer':
        this.cancel(command.timer);
        return;
      default:
        this.execute(command);
    }
  }

  private cancel(timer: TimerName): void {
    this.timers.get(timer)?.unsubscribe();
    this.timers.delete(timer);
  }
}

/**
 * The machine as an operator: events in, commands out (timers handled inside, on `scheduler`).
 * Made for marble tests of the handshake; the runtime uses {@link HandshakeDriver} directly.
 */
export const runMachine =
  <S>(machine: Machine<S>, initial: S, scheduler?: SchedulerLike) =>
  (events: Observable<HandshakeEvent>): Observable<HandshakeCommand> =>
    new Observable<HandshakeCommand>((subscriber) => {
      const driver = new HandshakeDriver(machine, initial, (c) => subscriber.next(c), scheduler);
      const sub = events.subscribe({
        next: (e) => driver.dispatch(e),
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => {
        sub.unsubscribe();
        driver.dispose();
      };
    });
