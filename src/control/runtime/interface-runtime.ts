import { ReplaySubject } from 'rxjs';
import type { Observable, SchedulerLike } from 'rxjs';
import type { NativeBinding } from '../../native-bridge/native';
import { clientStep, initialClientState } from '../handshake/client';
import type { ClientState } from '../handshake/client';
import type { HandshakeConfig } from '../handshake/config';
import { HandshakeDriver } from '../handshake/driver';
import { initialServerState, serverStep } from '../handshake/server';
import type { ServerState } from '../handshake/server';
import type { HandshakeCommand, HandshakeEvent, Machine } from '../handshake/types';
import type { InitMessage } from '../messages';
import { toDisconnectReason } from '../brands';
import type { U32 } from '../brands';
import type { ResolvedOptions } from '../options';
import type { ConnectedState, ConnectionState } from '../state';
import { encodeFrame } from '../codec';
import { ControlConnection, peerOf } from './connection';
import { peerRefusal } from './peer-access';
import { createClientMemory, mapPeerMemory } from './memory';
import type { SharedMemory } from './memory';
import { listeners } from './listener';

/** Where the data path plugs in: called when rings go live and when they stop. */
export interface DataPathHooks {
  start(memory: SharedMemory, connected: ConnectedState): void;
  stop(): void;
}

const noDataPath: DataPathHooks = { start: () => undefined, stop: () => undefined };

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export const handshakeConfig = (o: ResolvedOptions, cacheLineSize: number): HandshakeConfig => ({
  id: o.id,
  mode: o.mode,
  secret: o.secret,
  appName: o.appName,
  interfaceName: o.interfaceName,
  // A client transmits on S2M and receives on M2S; a server the other way round.
  s2mRings: o.role === 'client' ? o.txQueues : o.rxQueues,
  m2sRings: o.role === 'client' ? o.rxQueues : o.txQueues,
  log2RingSize: o.log2RingSize,
  bufferSize: o.bufferSize,
  cacheLineSize,
  retry: o.retry,
  handshakeTimeoutMs: o.handshakeTimeoutMs,
});

/**
 * Runs one interface: its handshake machine, the control connection, the shared memory and the
 * state stream. Every command of the machine is carried out here; every outcome of I/O comes
 * back to the machine as an event.
 */
export class InterfaceRuntime {
  readonly config: HandshakeConfig;
  private readonly subject = new ReplaySubject<ConnectionState>(1);
  private readonly driver: HandshakeDriver<ClientState | ServerState>;
  private connection: ControlConnection | undefined;
  private memory: SharedMemory | undefined;
  private closing: Promise<void> | undefined;
  private dataPathLive = false;
  private refused = 0;

  constructor(
    private readonly native: NativeBinding,
    readonly options: ResolvedOptions,
    private readonly dataPath: DataPathHooks = noDataPath,
    scheduler?: SchedulerLike,
  ) {
    this.config = handshakeConfig(options, native.cacheLineSize);
    const cfg = this.config;
    const machine: Machine<ClientState | ServerState> =
      options.role === 'client'
        ? (s, e) => clientStep(cfg, s as ClientState, e)
        : (s, e) => serverStep(cfg, s as ServerState, e);
    this.driver = new HandshakeDriver(
      machine,
      options.role === 'client' ? initialClientState : initialServerState,
      (c) => this.execute(c),
      scheduler,
    );
  }

  /** Replays the current state; completes after `closed`. */
  get states(): Observable<ConnectionState> {
    return this.subject.asObservable();
  }

  /** A server interface is busy while a connection is bound to it. */
  get busy(): boolean {
    const phase = this.driver.state.phase;
    return phase === 'handshaking' || phase === 'mapping' || phase === 'connected';
  }

  /**
   * Starts the interface. A server registers with the socket's listener first, which throws a
   * MemifError when the socket cannot be listened on (bad path, live listener of another
   * process, id already taken on that socket in this process).
   */
  start(): void {
    if (this.options.role === 'server') listeners.attach(this.native, this);
    // One microtask later, so that whoever subscribes to `states` right after creating the
    // interface sees its first state (`connecting` / `listening`) too.
    queueMicrotask(() => this.driver.dispatch({ kind: 'start' }));
  }

  /** Server: the socket routed a connection here by its INIT. */
  attach(connection: ControlConnection, init: InitMessage): void {
    if (this.busy) {
      // The listener routes only to idle interfaces; refuse rather than drop the live link.
      connection.send({
        type: 'disconnect',
        code: 0 as U32,
        reason: toDisconnectReason('already connected'),
      });
      connection.close();
      return;
    }
    this.connection = connection;
    connection.handOver((e) => this.onConnectionEvent(connection, e));
    this.driver.dispatch({ kind: 'bind', init });
  }

  /** Peers refused by the allow-lists (`allowUids` / `allowGids`) since the interface started. */
  get refusedPeers(): number {
    return this.refused;
  }

  /**
   * Server: the listener refused a peer for this interface (see peer-access.ts). Counted; when
   * idle the interface shows it as `disconnected` (then `listening` again), never while a
   * connection it allowed is up.
   */
  refusedPeer(reason: string): void {
    this.refused++;
    if (this.driver.state.phase !== 'listening') return;
    this.subject.next({ status: 'disconnected', role: 'server', reason, by: 'local', retry: null });
    this.subject.next({ status: 'listening', role: 'server' });
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.driver.dispatch({ kind: 'close' });
      // Called from inside a step (a state$ subscriber, an rx callback run by a step), the
      // close event is only queued: disposing now would drop it, leaving the socket and the
      // memory open. Finish once it has run.
      this.driver.whenIdle(() => {
        this.driver.dispose();
        if (this.options.role === 'server') listeners.detach(this);
        this.subject.complete();
        resolve();
      });
    });
    return this.closing;
  }

  /** Events of a connection reach the machine only while it is the current one. */
  private onConnectionEvent(connection: ControlConnection, event: HandshakeEvent): void {
    if (connection !== this.connection) {
      if (event.kind === 'frame' || event.kind === 'malformed')
        for (const fd of event.fds) this.native.closeFd(fd);
      return;
    }
    this.driver.dispatch(event);
  }

  private execute(command: HandshakeCommand): void {
    switch (command.kind) {
      case 'publish':
        this.subject.next(this.withPeerCredentials(command.state));
        return;
      case 'send':
        this.connection?.send(command.message, command.fd);
        return;
      case 'close-socket':
        this.connection?.close();
        this.connection = undefined;
        return;
      case 'close-fds':
        for (const fd of command.fds) this.native.closeFd(fd);
        return;
      case 'connect-socket':
        return this.connectSocket();
      case 'create-memory':
        try {
          const { memory, announce } = createClientMemory(
            this.native,
            command.layout,
            `rx-memif ${this.options.interfaceName} region 0`,
          );
          this.memory = memory;
          this.driver.dispatch({ kind: 'memory-ready', memory: announce });
        } catch (e) {
          this.driver.dispatch({ kind: 'memory-failed', reason: errorText(e) });
        }
        return;
      case 'map-memory':
        try {
          this.memory = mapPeerMemory(this.native, command.regions, command.rings);
          this.driver.dispatch({ kind: 'mapped' });
        } catch (e) {
          this.driver.dispatch({ kind: 'map-failed', reason: errorText(e) });
        }
        return;
      case 'free-memory':
      case 'unmap-memory':
        this.memory?.close();
        this.memory = undefined;
        return;
      case 'start-data-path':
        if (this.memory && command.connected.status === 'connected') {
          this.dataPathLive = true;
          this.dataPath.start(this.memory, command.connected);
        }
        return;
      case 'stop-data-path':
        if (this.dataPathLive) {
          this.dataPathLive = false;
          this.dataPath.stop();
        }
        return;
      case 'set-timer':
      case 'cancel-timer':
        return; // the driver runs timers
    }
  }

  /** A `connected` state carries who the peer is, as the kernel saw it (SO_PEERCRED). */
  private withPeerCredentials(state: ConnectionState): ConnectionState {
    const peer = this.connection?.peer;
    if (state.status !== 'connected' || !peer) return state;
    return { ...state, peer: { ...state.peer, pid: peer.pid, uid: peer.uid, gid: peer.gid } };
  }

  private connectSocket(): void {
    let channel;
    try {
      channel = this.native.ControlChannel.connect(this.options.socket);
    } catch (e) {
      this.driver.dispatch({ kind: 'socket-failed', reason: errorText(e) });
      return;
    }
    // A server we do not allow gets a DISCONNECT and nothing else: no INIT, no memory.
    const refused = peerRefusal(this.options, peerOf(channel), 'server');
    if (refused) {
      this.refused++;
      try {
        channel.send(
          encodeFrame({ type: 'disconnect', code: 0 as U32, reason: toDisconnectReason(refused) }),
        );
      } catch {
        // The server is gone already: nothing more to tell it.
      }
      channel.close();
      this.driver.dispatch({ kind: 'socket-failed', reason: refused });
      return;
    }
    const connection: ControlConnection = new ControlConnection(this.native, channel, (e) =>
      this.onConnectionEvent(connection, e),
    );
    this.connection = connection;
    this.driver.dispatch({ kind: 'socket-connected' });
  }
}
