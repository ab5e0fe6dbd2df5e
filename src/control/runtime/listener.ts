import * as fs from 'node:fs';
import { MemifError } from '../../native-bridge/errors';
import type {
  NativeBinding,
  NativeControlChannel,
  NativeControlListener,
  SocketFileAccess,
} from '../../native-bridge/native';
import { toDisconnectReason } from '../brands';
import type { U32 } from '../brands';
import { helloMessage, routeFirstMessage } from '../handshake/accept';
import type { HandshakeEvent } from '../handshake/types';
import { ControlConnection } from './connection';
import type { InterfaceRuntime } from './interface-runtime';
import { peerRefusal } from './peer-access';

/**
 * One listening socket shared by every server interface on its address
 * (docs/protocol.md#several-interfaces-on-one-socket). A new connection gets HELLO and belongs to
 * the socket until its INIT names an interface; the socket file goes away with the last interface.
 */
class SharedListener {
  readonly interfaces = new Map<number, InterfaceRuntime>();
  private readonly pending = new Map<ControlConnection, ReturnType<typeof setTimeout>>();
  private listener: NativeControlListener;
  /** The socket file as bound (undefined for an abstract name, which cannot be removed). */
  private file: { dev: number; ino: number } | undefined;

  constructor(
    private readonly native: NativeBinding,
    readonly address: string,
    /** Mode and group of the socket file, from the interface that created the listener. */
    readonly access: SocketFileAccess,
  ) {
    this.listener = this.listen();
  }

  private listen(): NativeControlListener {
    const listener = this.native.ControlListener.listen(
      this.address,
      (channel) => this.accept(channel),
      () => undefined, // accept() failures (EMFILE, ...) leave the listener up; nothing to undo
      this.access,
    );
    const stat = this.address.startsWith('@') ? undefined : fs.statSync(this.address);
    this.file = stat && { dev: stat.dev, ino: stat.ino };
    return listener;
  }

  /** False once our socket file was removed or replaced: no new client can reach us. */
  get reachable(): boolean {
    if (!this.file) return true;
    try {
      const stat = fs.lstatSync(this.address);
      return stat.dev === this.file.dev && stat.ino === this.file.ino;
    } catch {
      return false;
    }
  }

  /**
   * Binds the address again for a new interface, after someone deleted our socket file.
   * Established connections are separate sockets and carry on; if another live listener now
   * holds the path, listen() throws EADDRINUSE and the old listener stays as it was.
   */
  rebind(): void {
    const fresh = this.listen();
    this.listener.close(); // unlinks nothing: the path is no longer its file
    this.listener = fresh;
  }

  close(): void {
    for (const [connection, timer] of this.pending) {
      clearTimeout(timer);
      connection.close();
    }
    this.pending.clear();
    this.listener.close();
  }

  private get first(): InterfaceRuntime | undefined {
    return this.interfaces.values().next().value;
  }

  private accept(channel: NativeControlChannel): void {
    const first = this.first;
    if (!first) return channel.close();
    const connection: ControlConnection = new ControlConnection(this.native, channel, (e) =>
      this.onFirstEvent(connection, e),
    );
    // A peer that no interface on this socket allows gets nothing, not even HELLO.
    const refusals = [...this.interfaces.values()].map((i) => ({
      iface: i,
      reason: peerRefusal(i.options, connection.peer, 'peer'),
    }));
    const reason = refusals.every((r) => r.reason !== null) ? refusals[0].reason : null;
    if (reason !== null) {
      connection.send({ type: 'disconnect', code: 0 as U32, reason: toDisconnectReason(reason) });
      connection.close();
      for (const r of refusals) r.iface.refusedPeer(r.reason ?? reason);
      return;
    }
    const timeoutMs = Math.min(
      ...[...this.interfaces.values()].map((i) => i.config.handshakeTimeoutMs),
    );
    this.pending.set(
      connection,
      setTimeout(() => this.reject(connection, 'handshake timed out waiting for INIT'), timeoutMs),
    );
    connection.send(helloMessage(first.config.appName));
  }

  private settle(connection: ControlConnection): void {
    clearTimeout(this.pending.get(connection));
    this.pending.delete(connection);
  }

  private reject(connection: ControlConnection, reason: string): void {
    this.settle(connection);
    connection.send({ type: 'disconnect', code: 0 as U32, reason: toDisconnectReason(reason) });
    connection.close();
  }

  private onFirstEvent(connection: ControlConnection, event: HandshakeEvent): void {
    if (event.kind === 'frame' || event.kind === 'malformed')
      for (const fd of event.fds) this.native.closeFd(fd);
    switch (event.kind) {
      case 'socket-closed':
        return this.settle(connection);
      case 'malformed':
        return this.reject(connection, `malformed message: ${event.reason}`);
      case 'frame': {
        const route = routeFirstMessage(event.message, {
          lookup: (id) => this.interfaces.get(id),
        });
        if (route.kind === 'reject') return this.reject(connection, route.reason);
        const target = this.interfaces.get(route.init.id);
        const refused = target && peerRefusal(target.options, connection.peer, 'peer');
        if (target && refused) {
          this.reject(connection, refused);
          return target.refusedPeer(refused);
        }
        this.settle(connection);
        target?.attach(connection, route.init);
        return;
      }
      default:
        return;
    }
  }
}

/** The listeners of this process, by address. */
class ListenerRegistry {
  private readonly byAddress = new Map<string, SharedListener>();

  attach(native: NativeBinding, iface: InterfaceRuntime): void {
    const { socket, id } = iface.options;
    let shared = this.byAddress.get(socket);
    if (shared?.interfaces.has(id))
      throw new MemifError(
        `a server interface with id ${id} already exists on ${socket} in this process`,
        'EEXIST',
      );
    const access: SocketFileAccess = {
      ...(iface.options.socketMode === undefined ? {} : { mode: iface.options.socketMode }),
      ...(iface.options.socketGroup === undefined ? {} : { group: iface.options.socketGroup }),
    };
    if (
      shared &&
      (shared.access.mode !== access.mode || shared.access.group !== access.group) &&
      (access.mode !== undefined || access.group !== undefined)
    )
      throw new MemifError(
        `${socket} is already listened on in this process with socketMode ` +
          `${shared.access.mode?.toString(8) ?? '(umask)'} and socketGroup ` +
          `${shared.access.group ?? '(ours)'}: give every interface on it the same ones`,
        'EINVAL',
      );
    if (!shared) {
      shared = new SharedListener(native, socket, access);
      this.byAddress.set(socket, shared);
    } else if (!shared.reachable) shared.rebind();
    shared.interfaces.set(id, iface);
  }

  detach(iface: InterfaceRuntime): void {
    const { socket, id } = iface.options;
    const shared = this.byAddress.get(socket);
    if (!shared || shared.interfaces.get(id) !== iface) return;
    shared.interfaces.delete(id);
    if (shared.interfaces.size === 0) {
      shared.close();
      this.byAddress.delete(socket);
    }
  }
}

export const listeners = new ListenerRegistry();
