import { isLeft } from 'fp-ts/lib/Either';
import { decodeFrame, encodeFrame } from '../codec';
import type { ControlMessage } from '../messages';
import { FRAME_SIZE } from '../messages';
import type { HandshakeEvent } from '../handshake/types';
import type {
  NativeBinding,
  NativeControlChannel,
  PeerCredentials,
} from '../../native-bridge/native';

/** Receives the events of one control connection: decoded frames and its end. */
export type ConnectionSink = (event: HandshakeEvent) => void;

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The channel's peer credentials; undefined if the kernel cannot tell (never expected). */
export const peerOf = (channel: NativeControlChannel): PeerCredentials | undefined => {
  try {
    return channel.peer;
  } catch {
    return undefined;
  }
};

/**
 * One control socket with the codec in front of it: datagrams become `frame`/`malformed`
 * events, the end of the socket a `socket-closed` event, and messages are encoded on the way
 * out. The sink can be handed over (a server connection belongs to the socket until INIT, then
 * to an interface).
 */
export class ControlConnection {
  private sink: ConnectionSink;
  private ended = false;
  /** Who is on the other end (SO_PEERCRED), read once: the kernel fixed it at connect(). */
  readonly peer: PeerCredentials | undefined;

  constructor(
    private readonly native: NativeBinding,
    private readonly channel: NativeControlChannel,
    sink: ConnectionSink,
  ) {
    this.sink = sink;
    this.peer = peerOf(channel);
    channel.start(
      (frame, fds, truncated) => this.onFrame(frame, fds, truncated),
      (error) => this.end(error ? error.message : null),
    );
  }

  get closed(): boolean {
    return this.ended;
  }

  handOver(sink: ConnectionSink): void {
    this.sink = sink;
  }

  /**
   * Sends a message; a failure (peer gone) is reported as `socket-closed` to the sink,
   * after the current step, rather than thrown into the machine. It is reported only after the
   * channel has read what is queued: a peer that closed (EPIPE) usually said why first, and
   * its DISCONNECT, then EOF, end the connection with its reason instead.
   */
  send(message: ControlMessage, fd?: number): void {
    if (this.ended) return;
    try {
      this.channel.send(encodeFrame(message), fd);
    } catch (e) {
      setImmediate(() => this.end(`cannot send ${message.type}: ${errorText(e)}`));
    }
  }

  close(): void {
    this.ended = true;
    this.channel.close();
  }

  private end(reason: string | null): void {
    if (this.ended) return;
    this.ended = true;
    this.channel.close();
    this.sink({ kind: 'socket-closed', reason });
  }

  private onFrame(frame: Uint8Array, fds: readonly number[], truncated: boolean): void {
    if (this.ended) {
      for (const fd of fds) this.native.closeFd(fd);
      return;
    }
    if (truncated) {
      this.sink({
        kind: 'malformed',
        reason: `datagram longer than ${FRAME_SIZE} bytes (or its fds were cut off)`,
        fds,
      });
      return;
    }
    const decoded = decodeFrame(frame);
    this.sink(
      isLeft(decoded)
        ? { kind: 'malformed', reason: decoded.left.message, fds }
        : { kind: 'frame', message: decoded.right, fds },
    );
  }
}
