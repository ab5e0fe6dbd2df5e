import type { Observable } from 'rxjs';
import { loadNative } from '../native-bridge/load';
import { resolveOptions } from '../control/options';
import type { MemifOptions, ResolvedOptions } from '../control/options';
import { InterfaceRuntime } from '../control/runtime';
import type { ConnectionState } from '../control/state';

/** One memif interface: its lifecycle as a stream, and its queues (see the data path). */
export interface MemifInterface extends AsyncDisposable {
  /** The options in force, defaults applied. */
  readonly options: ResolvedOptions;
  /**
   * The lifecycle: `listening` / `connecting` → `handshaking` → `connected` → `disconnected` →
   * ... → `closed`. Replays the current state to a late subscriber; completes after `closed`.
   */
  readonly state$: Observable<ConnectionState>;
  /** Closes the interface (tells the peer, frees memory and sockets). Idempotent. */
  close(): Promise<void>;
}

/**
 * Creates a memif interface and starts it: a server listens on `options.socket`, a client
 * connects there (retrying every second by default).
 *
 * Throws `OptionsError` for invalid options and, for a server, a `MemifError` when the socket
 * cannot be listened on (`ENOENT`, `EADDRINUSE`, `ENAMETOOLONG`, ...).
 *
 * @example
 * const eth = memif({ role: 'client', socket: '/run/vpp/memif.sock', id: 0 });
 * eth.state$.subscribe((s) => console.log(s.status));
 * await eth.close();
 */
export const memif = (options: MemifOptions = {}): MemifInterface => {
  const resolved = resolveOptions(options);
  const runtime = new InterfaceRuntime(loadNative(), resolved);
  runtime.start();
  return {
    options: resolved,
    state$: runtime.states,
    close: () => runtime.close(),
    [Symbol.asyncDispose]: () => runtime.close(),
  };
};
