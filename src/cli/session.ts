import type { Subscription } from 'rxjs';
import { memif } from '../index';
import type { ConnectionState, MemifInterface, MemifOptions } from '../index';
import { Output } from './output';

/**
 * How long a command runs: `--secs`, or until SIGINT / SIGTERM. `done` settles with the cause;
 * `cancel()` ends the wait early (the command finished by itself).
 */
export class Stopper {
  readonly done: Promise<string>;
  private finish: (why: string) => void = () => undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly onInt = () => this.finish('SIGINT');
  private readonly onTerm = () => this.finish('SIGTERM');

  constructor(secs: number | undefined) {
    this.done = new Promise((resolve) => {
      this.finish = (why) => {
        clearTimeout(this.timer);
        process.off('SIGINT', this.onInt);
        process.off('SIGTERM', this.onTerm);
        resolve(why);
      };
    });
    process.on('SIGINT', this.onInt);
    process.on('SIGTERM', this.onTerm);
    if (secs !== undefined) this.timer = setTimeout(() => this.finish('secs'), secs * 1000);
  }

  cancel(): void {
    this.finish('done');
  }
}

/** Waits for `--secs` or a signal. */
export const untilStopped = (secs: number | undefined): Promise<string> => new Stopper(secs).done;

/**
 * One interface for the length of a command: prints its states, and remembers the latest one so
 * the summary can say whether it was connected when told to stop.
 */
export class Session {
  readonly iface: MemifInterface;
  readonly output: Output;
  private latest: ConnectionState | undefined;
  private everConnected = false;
  private readonly sub: Subscription;
  readonly started = process.hrtime.bigint();

  constructor(options: MemifOptions, json: boolean) {
    this.output = new Output(json);
    this.iface = memif(options);
    this.sub = this.iface.state$.subscribe((s) => {
      this.latest = s;
      if (s.status === 'connected') this.everConnected = true;
      this.output.state(s);
    });
  }

  get connected(): boolean {
    return this.latest?.status === 'connected';
  }

  get wasConnected(): boolean {
    return this.everConnected;
  }

  get state(): ConnectionState | undefined {
    return this.latest;
  }

  get secs(): number {
    return Number(process.hrtime.bigint() - this.started) / 1e9;
  }

  async close(): Promise<void> {
    await this.iface.close();
    this.sub.unsubscribe();
  }
}
