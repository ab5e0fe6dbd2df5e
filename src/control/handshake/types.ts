import type { ClientLayout } from '../layout';
import type { ControlMessage, InitMessage, RingDirection } from '../messages';
import type { ConnectionState } from '../state';

/**
 * The handshake as data: a machine is `(state, event) → { state, commands }` with no I/O.
 * The runtime feeds it events (decoded frames, socket and timer outcomes, local close) and
 * carries out the commands. fds appear as plain numbers: the machine decides who owns them and
 * says so with `close-fds` and `map-memory`.
 */

export type TimerName = 'retry' | 'handshake';

/** A region the client announced (server side), with its fd until mapped. */
export interface PeerRegion {
  readonly index: number;
  readonly size: number;
  readonly fd: number;
}

/** A ring the client announced (server side), with its interrupt eventfd until adopted. */
export interface PeerRing {
  readonly direction: RingDirection;
  readonly index: number;
  readonly region: number;
  readonly offset: number;
  readonly log2RingSize: number;
  readonly fd: number;
}

/** What the client runtime created for one connection: fds of its own region and eventfds. */
export interface ClientMemory {
  readonly layout: ClientLayout;
  readonly regions: readonly {
    readonly index: number;
    readonly size: number;
    readonly fd: number;
  }[];
  /** Same order as `layout.rings`. */
  readonly ringFds: readonly number[];
}

export type HandshakeEvent =
  /** Begin: a client connects, a server starts listening. */
  | { readonly kind: 'start' }
  /** Client: the control socket connected. */
  | { readonly kind: 'socket-connected' }
  /** Client: connect() failed (no listener, no file, ...). */
  | { readonly kind: 'socket-failed'; readonly reason: string }
  /** Server: a connection passed INIT routing (version, id, not busy) and is now ours. */
  | { readonly kind: 'bind'; readonly init: InitMessage }
  /** A decoded control message with the fds that came with it (now owned by the machine). */
  | { readonly kind: 'frame'; readonly message: ControlMessage; readonly fds: readonly number[] }
  /** A datagram that did not decode; `reason` says why. */
  | { readonly kind: 'malformed'; readonly reason: string; readonly fds: readonly number[] }
  /** The control socket ended: `reason` null for an orderly EOF. */
  | { readonly kind: 'socket-closed'; readonly reason: string | null }
  /** Client: the memory asked for by `create-memory` exists. */
  | { readonly kind: 'memory-ready'; readonly memory: ClientMemory }
  | { readonly kind: 'memory-failed'; readonly reason: string }
  /** Server: `map-memory` mapped every region and found every ring sound. */
  | { readonly kind: 'mapped' }
  | { readonly kind: 'map-failed'; readonly reason: string }
  | { readonly kind: 'timer'; readonly timer: TimerName }
  /** The application closes the interface. */
  | { readonly kind: 'close' };

export type HandshakeCommand =
  /** Client: open the control socket; answer with `socket-connected` or `socket-failed`. */
  | { readonly kind: 'connect-socket' }
  /** Send one message; `fd` stays owned by whoever owns it now. */
  | { readonly kind: 'send'; readonly message: ControlMessage; readonly fd?: number }
  /** Close the control socket (after any `send` before it). */
  | { readonly kind: 'close-socket' }
  /** Close fds the machine received and does not keep. */
  | { readonly kind: 'close-fds'; readonly fds: readonly number[] }
  /** Client: create region(s), rings and eventfds for `layout`; answer `memory-ready|failed`. */
  | { readonly kind: 'create-memory'; readonly layout: ClientLayout }
  /** Client: free what `create-memory` made. */
  | { readonly kind: 'free-memory' }
  /**
   * Server: map the regions and adopt the eventfds (ownership of every fd passes with this
   * command, also on failure), check cookies and reset head/tail; answer `mapped|map-failed`.
   */
  | {
      readonly kind: 'map-memory';
      readonly regions: readonly PeerRegion[];
      readonly rings: readonly PeerRing[];
    }
  /** Server: unmap what `map-memory` mapped. */
  | { readonly kind: 'unmap-memory' }
  /** Rings are live: start moving packets. */
  | { readonly kind: 'start-data-path'; readonly connected: ConnectionState }
  | { readonly kind: 'stop-data-path' }
  | { readonly kind: 'set-timer'; readonly timer: TimerName; readonly ms: number }
  | { readonly kind: 'cancel-timer'; readonly timer: TimerName }
  /** A new public state. */
  | { readonly kind: 'publish'; readonly state: ConnectionState };

export interface Step<S> {
  readonly state: S;
  readonly commands: readonly HandshakeCommand[];
}

export type Machine<S> = (state: S, event: HandshakeEvent) => Step<S>;

/** Retry delays: `initialMs * factor^(attempt-2)`, capped at `maxMs`; `maxAttempts` 0 = forever. */
export interface RetryPolicy {
  readonly initialMs: number;
  readonly factor: number;
  readonly maxMs: number;
  readonly maxAttempts: number;
}

export const retryDelay = (policy: RetryPolicy, nextAttempt: number): number | null => {
  if (policy.maxAttempts > 0 && nextAttempt > policy.maxAttempts) return null;
  const exp = Math.max(0, nextAttempt - 2);
  return Math.min(policy.maxMs, Math.round(policy.initialMs * Math.pow(policy.factor, exp)));
};
