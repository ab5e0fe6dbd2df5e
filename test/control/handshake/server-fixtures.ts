import type { HandshakeCommand, HandshakeEvent } from '../../../src/control/handshake/types';
import { addRegion, addRing, cmd, connect, ev, init, st } from './fixtures';

/**
 * A client announcing 1 S2M + 2 M2S rings of 1024 slots (stride 2 * 64 + 16 * 1024 = 16512) in
 * one region of 3 * 16512 + 3 * 1024 * 2048 = 6340992 bytes: region fd 100, ring eventfds
 * 101 (S2M 0), 102 (M2S 0), 103 (M2S 1).
 */
export const REGION_SIZE = 6340992;
export const STRIDE = 16512;

export const region0 = ev.frame(addRegion(0, REGION_SIZE), 100);
export const s2m0 = ev.frame(addRing('s2m', 0, 0), 101);
export const m2s0 = ev.frame(addRing('m2s', 0, STRIDE), 102);
export const m2s1 = ev.frame(addRing('m2s', 1, 2 * STRIDE), 103);

export const toListening: readonly HandshakeEvent[] = [ev.start];
export const toBound: readonly HandshakeEvent[] = [ev.start, ev.bind(init())];
export const toRegion: readonly HandshakeEvent[] = [...toBound, region0];
export const toRings: readonly HandshakeEvent[] = [...toRegion, s2m0, m2s0, m2s1];
export const toMapping: readonly HandshakeEvent[] = [...toRings, ev.frame(connect())];
export const toConnected: readonly HandshakeEvent[] = [...toMapping, ev.mapped];

/** The fds a state reached by `toRings` owns. */
export const RING_FDS = [100, 101, 102, 103] as const;

export type BoundPhase = 'handshaking' | 'mapping' | 'connected';

/**
 * What the rules say a server does when a bound connection ends (independent of the machine):
 * close the offending message's fds, tell the client why when we end it, close the socket,
 * release what the connection holds (collected fds while handshaking, the mapping afterwards,
 * the data path when connected), publish disconnected (no retry) and listening again.
 */
export const serverTeardown = (o: {
  readonly phase: BoundPhase;
  readonly reason: string;
  readonly by: 'local' | 'peer';
  readonly messageFds?: readonly number[];
  readonly collected?: readonly number[];
}): HandshakeCommand[] => {
  const out: HandshakeCommand[] = [];
  if (o.messageFds && o.messageFds.length > 0) out.push(cmd.closeFds(...o.messageFds));
  if (o.by === 'local') out.push(cmd.sendDisconnect(o.reason));
  out.push(cmd.closeSocket);
  if (o.phase === 'handshaking' && o.collected && o.collected.length > 0)
    out.push(cmd.closeFds(...o.collected));
  if (o.phase === 'connected') out.push(cmd.stopDataPath);
  if (o.phase !== 'handshaking') out.push(cmd.unmapMemory);
  out.push(cmd.publish(st.disconnected('server', o.reason, o.by, null)));
  out.push(cmd.publish(st.listening));
  return out;
};

/** A refused INIT: nothing was bound, nothing to release. */
export const serverRefusal = (reason: string): HandshakeCommand[] => [
  cmd.sendDisconnect(reason),
  cmd.closeSocket,
  cmd.publish(st.disconnected('server', reason, 'local', null)),
  cmd.publish(st.listening),
];

/** Commands as marble keys `A`, `B`, ... and the `(AB...)` group for one frame. */
export const keyed = (
  commands: readonly HandshakeCommand[],
): { readonly group: string; readonly values: Record<string, HandshakeCommand> } => {
  const values: Record<string, HandshakeCommand> = {};
  let keys = '';
  commands.forEach((c, i) => {
    const key = String.fromCharCode(65 + i);
    values[key] = c;
    keys += key;
  });
  return { group: keys.length === 1 ? keys : `(${keys})`, values };
};
