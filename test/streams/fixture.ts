import { expect } from 'chai';
import * as path from 'node:path';
import { memif } from '../../src/index';
import type { MemifInterface, MemifOptions, InterfaceStats } from '../../src/index';
import { loadNative } from '../../src/native-bridge';
import { checkGenFrame, writeGenFrame } from '../../src/cli/frames';
import { tempDir, waitForState } from '../helpers/states';
import { deadline, pollUntil } from '../helpers/deadline';

/**
 * Shared set-up of the data-path specs: interfaces made through `make` are closed after each
 * test, the temp directory removed, and the native handle count must be back to its baseline.
 */
export const useInterfaces = (
  retryMs = 50,
): {
  make: (options: MemifOptions) => MemifInterface;
  socket: (name?: string) => string;
  pair: (
    server?: MemifOptions,
    client?: MemifOptions,
  ) => Promise<{ server: MemifInterface; client: MemifInterface; socket: string }>;
} => {
  const native = loadNative();
  let dir = '';
  let cleanup: () => void = () => undefined;
  let open: MemifInterface[] = [];
  let baseline = 0;
  let sockets = 0;

  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    baseline = native.liveHandles();
  });

  afterEach(async () => {
    await Promise.all(open.map((i) => i.close()));
    open = [];
    cleanup();
    expect(native.liveHandles(), 'native handles left open').to.equal(baseline);
  });

  const make = (options: MemifOptions): MemifInterface => {
    const iface = memif({ retry: { initialMs: retryMs }, ...options });
    open.push(iface);
    return iface;
  };
  const socket = (name = `s${++sockets}.sock`) => path.join(dir, name);
  const pair = async (server: MemifOptions = {}, client: MemifOptions = {}) => {
    const s = socket();
    const srv = make({ role: 'server', socket: s, ...server });
    const cli = make({ role: 'client', socket: s, ...client });
    await Promise.all([waitForState(srv, 'connected'), waitForState(cli, 'connected')]);
    return { server: srv, client: cli, socket: s };
  };
  return { make, socket, pair };
};

export const RUN_ID = 0x1234abcd;
const SRC = [2, 0xfe, 1, 2, 3, 4];

/** Frame `seq` of `size` bytes (gen's format: sequence number, filler checked to the byte). */
export const genFrame = (seq: number, size: number): Uint8Array => {
  const f = new Uint8Array(size);
  writeGenFrame(f, size, seq, RUN_ID, SRC);
  return f;
};

/** Frames `from .. from + count - 1`, made lazily (an iterable, as `send` pulls it). */
export function* genFrames(count: number, size: number, from = 0): Iterable<Uint8Array> {
  for (let seq = from; seq < from + count; seq++) yield genFrame(seq, size);
}

/**
 * Checks arriving frames: each must be intact and carry the next sequence number. Failures are
 * recorded (not thrown inside a subscriber) and reported by `assertComplete`.
 */
export class SequenceChecker {
  next = 0;
  bytes = 0;
  readonly problems: string[] = [];
  private resolveDone: (() => void) | undefined;
  readonly done: Promise<void>;

  constructor(
    readonly expected: number,
    readonly size?: number,
  ) {
    this.done = new Promise((r) => (this.resolveDone = r));
    if (expected === 0) this.resolveDone?.();
  }

  check(frame: Uint8Array): void {
    const v = checkGenFrame(frame, RUN_ID);
    if (v.kind !== 'ok') this.problem(`frame #${this.next}: ${v.kind} (length ${frame.length})`);
    else if (v.seq !== this.next) this.problem(`expected seq ${this.next}, got ${v.seq}`);
    else if (this.size !== undefined && frame.length !== this.size)
      this.problem(`seq ${v.seq}: length ${frame.length}, expected ${this.size}`);
    if (v.kind === 'ok') this.next = v.seq + 1;
    else this.next++;
    this.bytes += frame.length;
    if (this.next === this.expected) this.resolveDone?.();
  }

  private problem(text: string): void {
    if (this.problems.length < 10) this.problems.push(text);
  }

  assertComplete(): void {
    expect(this.problems, 'sequence/content problems').to.deep.equal([]);
    expect(this.next, 'frames received').to.equal(this.expected);
  }
}

/** Resolves when `done` does, or rejects after `ms` with `what()` in the message. */
export const within = <T>(done: Promise<T>, ms: number, what: () => string): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    done,
    new Promise<T>((_, reject) => {
      const waited = deadline(ms);
      timer = setTimeout(
        () => reject(new Error(`timed out after ${waited} ms: ${what()}`)),
        waited,
      );
    }),
  ]).finally(() => clearTimeout(timer));
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond()` holds, polling every 5 ms. */
export const until = (cond: () => boolean, ms: number, what: () => string): Promise<void> =>
  pollUntil(cond, ms, (waited) => `timed out after ${waited} ms: ${what()}`, 5);

/** Totals of one direction over every queue. */
export const totals = (
  s: InterfaceStats,
  dir: 'rx' | 'tx',
): { packets: number; bytes: number; drops: Record<string, number> } => {
  const drops: Record<string, number> = {};
  let packets = 0;
  let bytes = 0;
  for (const q of s[dir]) {
    packets += q.packets;
    bytes += q.bytes;
    for (const [k, v] of Object.entries(q.drops)) drops[k] = (drops[k] ?? 0) + (v ?? 0);
  }
  return { packets, bytes, drops };
};
