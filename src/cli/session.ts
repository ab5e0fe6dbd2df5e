import type { Subscription } from 'rxjs';
import { memif } from '../index';
import type { ConnectionState, MemifInterface, MemifOptions } from '../index';
import { Output } from './output';

/** How long a command runs: `--secs`, or until SIGINT / SIGTERM. */
export const untilStopped = (secs: number | undefined): Promise<string> =>
  new Promise((resolve) => {
    const done = (why: string) => {
      clearTimeout(timer);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(why);
    };
    const onInt = () => done('SIGINT');
    const onTerm = () => done('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const timer = secs === undefined ? undefined : setTimeout(() => done('secs'), secs * 1000);
  });

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
