import { Writable } from 'node:stream';
import type { MemifInterface } from '../index';
import { Output } from './output';
import { TrafficReport } from './report';

const CLEAR = '\r\x1b[K';

/**
 * A one-line live status at the bottom of a terminal, rewritten in place with `\r`. Only when
 * stdout is a TTY and the output is not JSON (`live`); other lines written to stdout meanwhile
 * are printed above it (the line is cleared, the text written, the status drawn again).
 */
export class StatusLine {
  readonly live: boolean;
  private text = '';
  private readonly write: (chunk: string) => boolean;
  private readonly original: NodeJS.WriteStream['write'];

  constructor(
    json: boolean,
    private readonly out: NodeJS.WriteStream = process.stdout,
  ) {
    this.live = !json && out.isTTY === true;
    this.original = out.write;
    this.write = (chunk) => this.original.call(out, chunk);
    if (this.live) {
      const patched = (chunk: unknown, ...rest: unknown[]): boolean => {
        if (this.text) this.write(CLEAR);
        const ok = (this.original as (...a: unknown[]) => boolean).call(out, chunk, ...rest);
        if (this.text) this.write(this.text);
        return ok;
      };
      out.write = patched as NodeJS.WriteStream['write'];
    }
  }

  /** Shows `text` as the status (live only). */
  set(text: string): void {
    if (!this.live) return;
    this.text = text;
    this.write(CLEAR + text);
  }

  /** A stream whose every line becomes the status. */
  stream(): NodeJS.WritableStream {
    return new Writable({
      write: (chunk: Buffer | string, _encoding, callback) => {
        const line = chunk.toString().trimEnd().split('\n').pop() ?? '';
        this.set(line);
        callback();
      },
    });
  }

  /** Clears the status and gives stdout back. */
  stop(): void {
    if (!this.live) return;
    if (this.text) this.write(CLEAR);
    this.text = '';
    this.out.write = this.original;
  }
}

/**
 * The stats a second of {@link TrafficReport}: on a terminal, as a live status line; otherwise
 * (not a TTY, or `--json`) as one line a second, as the other commands print them.
 */
export class LiveReport {
  readonly status: StatusLine;
  readonly report: TrafficReport;

  constructor(iface: MemifInterface, output: Output) {
    this.status = new StatusLine(output.json);
    this.report = new TrafficReport(
      iface,
      this.status.live ? new Output(false, this.status.stream()) : output,
    );
  }

  get secs(): number {
    return this.report.secs;
  }

  stop(): void {
    this.report.stop();
    this.status.stop();
  }

  summary(secs: number): Record<string, unknown> {
    return this.report.summary(secs);
  }
}
