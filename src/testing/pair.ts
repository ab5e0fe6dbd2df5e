import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { filter, take } from 'rxjs';
import type { MemifOptions } from '../control/options';
import { memif } from '../streams/memif';
import type { MemifInterface } from '../streams/memif';

/** Options of one side of a {@link connectedPair}: memif options but the role and socket. */
export type PairSideOptions = Omit<MemifOptions, 'role' | 'socket'>;

/** What {@link connectedPair} takes; every field is optional. */
export interface ConnectedPairOptions {
  /** Options of both sides (`server` and `client` override them field by field). */
  readonly both?: PairSideOptions;
  /** Options of the server. */
  readonly server?: PairSideOptions;
  /** Options of the client (its `retry` defaults to every 50 ms). */
  readonly client?: PairSideOptions;
  /**
   * The control socket. Default: a fresh abstract name (`@rx-memif-pair-...`); with
   * `abstract: false`, a socket file in a fresh temporary directory that `close()` removes.
   * A socket given here is the caller's to clean up.
   */
  readonly socket?: string;
  /** Use an abstract socket name rather than a file [true]. Ignored when `socket` is given. */
  readonly abstract?: boolean;
  /** How long both sides may take to connect before the pair is closed and the promise rejects, in ms [10000]. */
  readonly timeoutMs?: number;
}

/** Two real memif interfaces connected to each other in this process. */
export interface ConnectedPair extends AsyncDisposable {
  readonly server: MemifInterface;
  readonly client: MemifInterface;
  /** The control socket they use. */
  readonly socket: string;
  /** Closes both interfaces and removes the temporary directory, if any. Idempotent. */
  close(): Promise<void>;
}

let pairs = 0;

const uniqueAbstract = (): string =>
  `@rx-memif-pair-${process.pid}-${++pairs}-${randomBytes(4).toString('hex')}`;

const connected = (iface: MemifInterface, side: string): Promise<void> =>
  new Promise((resolve, reject) => {
    iface.state$
      .pipe(
        filter((s) => s.status === 'connected' || s.status === 'closed'),
        take(1),
      )
      .subscribe({
        next: (s) =>
          s.status === 'connected'
            ? resolve()
            : reject(new Error(`connectedPair: the ${side} was closed before it connected`)),
        error: reject,
      });
  });

/**
 * A real server and client (the native addon, loaded now) connected over a unique temporary
 * socket, resolved once both are `connected`: integration tests of code that takes a
 * {@link MemifInterface}. Rejects (having closed both) if they are not connected within
 * `timeoutMs`, e.g. for mismatched options.
 *
 * @example
 * await using pair = await connectedPair({ both: { rxQueues: 2, txQueues: 2 } });
 * pair.server.rx().subscribe(pair.server.tx()); // an echo
 * pair.client.tx().next(frame('ffffffffffff 02fe00000001 88b5 01'));
 */
export const connectedPair = async (options: ConnectedPairOptions = {}): Promise<ConnectedPair> => {
  let dir: string | undefined;
  let socket = options.socket;
  if (socket === undefined && options.abstract === false) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rx-memif-pair-'));
    socket = path.join(dir, 'memif.sock');
  }
  socket ??= uniqueAbstract();

  const opened: MemifInterface[] = [];
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= Promise.all(opened.map((i) => i.close())).then(() => {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }));

  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const server = memif({ ...options.both, ...options.server, role: 'server', socket });
    opened.push(server);
    const client = memif({
      retry: { initialMs: 50 },
      ...options.both,
      ...options.client,
      role: 'client',
      socket,
    });
    opened.push(client);
    const timeoutMs = options.timeoutMs ?? 10_000;
    await Promise.race([
      Promise.all([connected(server, 'server'), connected(client, 'client')]),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(`connectedPair: server and client not connected within ${timeoutMs} ms`),
            ),
          timeoutMs,
        );
      }),
    ]);
    return { server, client, socket, close, [Symbol.asyncDispose]: close };
  } catch (e) {
    await close();
    throw e;
  } finally {
    clearTimeout(timer);
  }
};
