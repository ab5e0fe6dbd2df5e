import type { InterfaceMode } from './brands';

/**
 * The public lifecycle of one memif interface, as a discriminated union on `status`.
 * `state$` emits one of these at every change and replays the current one to late subscribers.
 */
export type ConnectionState =
  | ListeningState
  | ConnectingState
  | HandshakingState
  | ConnectedState
  | DisconnectedState
  | ClosedState;

export type Role = 'server' | 'client';

/** A server interface waiting for a client on its socket. */
export interface ListeningState {
  readonly status: 'listening';
  readonly role: 'server';
}

/** A client interface opening its control connection (attempt 1, 2, ... since the last link). */
export interface ConnectingState {
  readonly status: 'connecting';
  readonly role: 'client';
  readonly attempt: number;
}

/** Where a handshake stands: the message the interface waits for or is about to send. */
export type HandshakeStep = 'hello' | 'init' | 'memory' | 'regions' | 'rings' | 'connect';

export interface HandshakingState {
  readonly status: 'handshaking';
  readonly role: Role;
  readonly step: HandshakeStep;
}

export interface RegionInfo {
  readonly index: number;
  readonly size: number;
}

/** The link is up: both sides agreed on the layout, rings are mapped. */
export interface ConnectedState {
  readonly status: 'connected';
  readonly role: Role;
  readonly peer: {
    /** The peer's app name (HELLO for a client, INIT for a server). */
    readonly appName: string;
    /** The peer's interface name (CONNECTED for a client, CONNECT for a server). */
    readonly interfaceName: string;
    /**
     * The peer process as the kernel saw it on the control socket (SO_PEERCRED): the process
     * that connected (for a server) or that listens (for a client), its uid and primary gid.
     * Absent only if the kernel could not tell.
     */
    readonly pid?: number;
    readonly uid?: number;
    readonly gid?: number;
  };
  readonly mode: InterfaceMode;
  /** Queue counts from this interface's point of view. */
  readonly queues: { readonly rx: number; readonly tx: number };
  readonly log2RingSize: number;
  readonly ringSize: number;
  /** The client's buffer size (a server reports its own setting: it is not negotiated). */
  readonly bufferSize: number;
  readonly regions: readonly RegionInfo[];
}

/** Who ended the link: we did (validation, timeout, failure) or the peer did (DISCONNECT, EOF). */
export type DisconnectSide = 'local' | 'peer';

export interface DisconnectedState {
  readonly status: 'disconnected';
  readonly role: Role;
  readonly reason: string;
  readonly by: DisconnectSide;
  /**
   * For a client: the next attempt and its delay. `null` for a server (it keeps listening) and
   * for a client whose retries are off.
   */
  readonly retry: { readonly attempt: number; readonly inMs: number } | null;
}

/** The interface was closed locally; `state$` completes after this. */
export interface ClosedState {
  readonly status: 'closed';
  readonly role: Role;
}
