import { MEMIF_VERSION, toDisconnectReason } from '../brands';
import type { Secret, U32, RegionIndex, RingIndex, U64, Log2RingSize, U16 } from '../brands';
import { clientLayout } from '../layout';
import type { ClientLayout } from '../layout';
import type { ControlMessage, HelloMessage } from '../messages';
import type { ConnectedState, DisconnectSide, HandshakeStep } from '../state';
import type { HandshakeConfig } from './config';
import { retryDelay } from './types';
import type { ClientMemory, HandshakeCommand, HandshakeEvent, Step } from './types';

/**
 * The client (slave) side of the handshake (docs/protocol.md#handshake): connect, read HELLO, clamp
 * to its limits, create the memory, then INIT, ADD_REGION*, ADD_RING (S2M*, M2S*), CONNECT, one
 * message per ACK. Any failure tears the connection down and schedules a retry.
 */
export type ClientState =
  | { readonly phase: 'idle' }
  | { readonly phase: 'connecting'; readonly attempt: number }
  | { readonly phase: 'waiting-retry'; readonly attempt: number }
  | { readonly phase: 'awaiting-hello'; readonly attempt: number }
  | {
      readonly phase: 'allocating';
      readonly attempt: number;
      readonly hello: HelloMessage;
      readonly layout: ClientLayout;
    }
  | {
      readonly phase: 'announcing';
      readonly attempt: number;
      readonly hello: HelloMessage;
      readonly memory: ClientMemory;
      /** Messages still to send, each after the ACK of the one before. */
      readonly pending: readonly Outgoing[];
      readonly awaiting: 'ack' | 'connected';
    }
  | {
      readonly phase: 'connected';
      readonly attempt: number;
      readonly hello: HelloMessage;
      readonly memory: ClientMemory;
    }
  | { readonly phase: 'closed' };

interface Outgoing {
  readonly message: ControlMessage;
  readonly fd?: number;
  readonly step: HandshakeStep;
}

export const initialClientState: ClientState = { phase: 'idle' };

const step = (state: ClientState, ...commands: HandshakeCommand[]): Step<ClientState> => ({
  state,
  commands,
});

const hasSocket = (s: ClientState): boolean =>
  s.phase === 'awaiting-hello' ||
  s.phase === 'allocating' ||
  s.phase === 'announcing' ||
  s.phase === 'connected';

const hasMemory = (s: ClientState): boolean => s.phase === 'announcing' || s.phase === 'connected';

const attemptOf = (s: ClientState): number => ('attempt' in s ? s.attempt : 0);

const closeFds = (fds: readonly number[]): HandshakeCommand[] =>
  fds.length > 0 ? [{ kind: 'close-fds', fds }] : [];

const connectAttempt = (attempt: number): Step<ClientState> =>
  step(
    { phase: 'connecting', attempt },
    { kind: 'connect-socket' },
    { kind: 'publish', state: { status: 'connecting', role: 'client', attempt } },
  );

/**
 * Ends the current connection: tells the peer why when we are the side ending it, frees what
 * this connection holds and schedules the next attempt.
 */
const teardown = (
  cfg: HandshakeConfig,
  s: ClientState,
  reason: string,
  by: DisconnectSide,
): Step<ClientState> => {
  const commands: HandshakeCommand[] = [{ kind: 'cancel-timer', timer: 'handshake' }];
  if (s.phase === 'connected') commands.push({ kind: 'stop-data-path' });
  if (hasSocket(s)) {
    if (by === 'local') commands.push(sendDisconnect(reason));
    commands.push({ kind: 'close-socket' });
  }
  if (hasMemory(s)) commands.push({ kind: 'free-memory' });
  // After a link was up, counting starts again; otherwise this was one more failed attempt.
  const next = s.phase === 'connected' ? 1 : attemptOf(s) + 1;
  const inMs = retryDelay(cfg.retry, next);
  const retry = inMs === null ? null : { attempt: next, inMs };
  commands.push({
    kind: 'publish',
    state: { status: 'disconnected', role: 'client', reason, by, retry },
  });
  if (retry) commands.push({ kind: 'set-timer', timer: 'retry', ms: retry.inMs });
  return { state: { phase: 'waiting-retry', attempt: next }, commands };
};

const sendDisconnect = (reason: string): HandshakeCommand => ({
  kind: 'send',
  message: { type: 'disconnect', code: 0 as U32, reason: toDisconnectReason(reason) },
});

const handshaking = (step: HandshakeStep): HandshakeCommand => ({
  kind: 'publish',
  state: { status: 'handshaking', role: 'client', step },
});

/**
 * docs/protocol.md#client-checks-of-hello: the client accepts HELLO when 0x0200 lies in
 * `[min, max]`, then clamps to its limits.
 */
const onHello = (
  cfg: HandshakeConfig,
  attempt: number,
  hello: HelloMessage,
): Step<ClientState> | string => {
  if (hello.minVersion > MEMIF_VERSION || hello.maxVersion < MEMIF_VERSION)
    return `incompatible protocol version: server speaks 0x${hello.minVersion.toString(16)}..0x${hello.maxVersion.toString(16)}, we speak 0x0200`;
  if (hello.maxLog2RingSize < 1)
    return `server allows no ring (max log2 ring size ${hello.maxLog2RingSize})`;
  const layout = clientLayout({
    cacheLineSize: cfg.cacheLineSize,
    bufferSize: cfg.bufferSize,
    s2mRings: Math.min(cfg.s2mRings, hello.maxS2MRing + 1),
    m2sRings: Math.min(cfg.m2sRings, hello.maxM2SRing + 1),
    log2RingSize: Math.min(cfg.log2RingSize, hello.maxLog2RingSize),
  });
  if (layout.regionSize > 2 ** 32)
    return `shared memory of ${layout.regionSize} bytes does not fit the 32-bit offsets of memif`;
  return step(
    { phase: 'allocating', attempt, hello, layout },
    { kind: 'create-memory', layout },
    handshaking('memory'),
  );
};

/**
 * The messages of docs/protocol.md#client-sequence in order, each sent after the previous one is
 * acknowledged.
 */
const announcements = (cfg: HandshakeConfig, memory: ClientMemory): Outgoing[] => {
  const out: Outgoing[] = [
    {
      step: 'init',
      message: {
        type: 'init',
        version: MEMIF_VERSION,
        id: cfg.id,
        mode: cfg.mode,
        secret: cfg.secret as Secret,
        name: cfg.appName,
      },
    },
  ];
  for (const r of memory.regions)
    out.push({
      step: 'regions',
      message: { type: 'add-region', index: r.index as RegionIndex, size: BigInt(r.size) as U64 },
      fd: r.fd,
    });
  memory.layout.rings.forEach((ring, i) =>
    out.push({
      step: 'rings',
      message: {
        type: 'add-ring',
        direction: ring.direction,
        index: ring.index as RingIndex,
        region: ring.region as RegionIndex,
        offset: ring.offset as U32,
        log2RingSize: memory.layout.log2RingSize as Log2RingSize,
        privateHdrSize: 0 as U16,
      },
      fd: memory.ringFds[i],
    }),
  );
  out.push({ step: 'connect', message: { type: 'connect', interfaceName: cfg.interfaceName } });
  return out;
};

/** Sends the head of `pending` and waits for its answer. */
const announceNext = (
  s: Extract<ClientState, { phase: 'announcing' }>,
  pending: readonly Outgoing[],
): Step<ClientState> => {
  const [next, ...rest] = pending;
  const send: HandshakeCommand =
    next.fd === undefined
      ? { kind: 'send', message: next.message }
      : { kind: 'send', message: next.message, fd: next.fd };
  return step(
    { ...s, pending: rest, awaiting: next.message.type === 'connect' ? 'connected' : 'ack' },
    send,
    handshaking(next.step),
  );
};

const connectedState = (
  cfg: HandshakeConfig,
  hello: HelloMessage,
  memory: ClientMemory,
  peerIf: string,
): ConnectedState => ({
  status: 'connected',
  role: 'client',
  peer: { appName: hello.name, interfaceName: peerIf },
  mode: cfg.mode,
  queues: { rx: memory.layout.m2sRings, tx: memory.layout.s2mRings },
  log2RingSize: memory.layout.log2RingSize,
  ringSize: 1 << memory.layout.log2RingSize,
  bufferSize: memory.layout.bufferSize,
  regions: memory.regions.map(({ index, size }) => ({ index, size })),
});

const describe = (m: ControlMessage): string => m.type.toUpperCase().replace('-', '_');

/** Handles a decoded frame in a phase with an open socket. */
const onFrame = (
  cfg: HandshakeConfig,
  s: ClientState,
  message: ControlMessage,
): Step<ClientState> => {
  if (message.type === 'disconnect')
    return teardown(cfg, s, message.reason || 'peer disconnected (no reason given)', 'peer');
  switch (s.phase) {
    case 'awaiting-hello': {
      if (message.type !== 'hello') break;
      const next = onHello(cfg, s.attempt, message);
      return typeof next === 'string' ? teardown(cfg, s, next, 'local') : next;
    }
    case 'announcing':
      if (s.awaiting === 'ack' && message.type === 'ack') return announceNext(s, s.pending);
      if (s.awaiting === 'connected' && message.type === 'connected') {
        const connected = connectedState(cfg, s.hello, s.memory, message.interfaceName);
        return step(
          { phase: 'connected', attempt: s.attempt, hello: s.hello, memory: s.memory },
          { kind: 'cancel-timer', timer: 'handshake' },
          { kind: 'start-data-path', connected },
          { kind: 'publish', state: connected },
        );
      }
      break;
    default:
      break;
  }
  return teardown(cfg, s, `unexpected ${describe(message)} message`, 'local');
};

export const clientStep = (
  cfg: HandshakeConfig,
  s: ClientState,
  e: HandshakeEvent,
): Step<ClientState> => {
  if (s.phase === 'closed') {
    if (e.kind === 'frame' || e.kind === 'malformed') return step(s, ...closeFds(e.fds));
    if (e.kind === 'memory-ready') return step(s, { kind: 'free-memory' });
    // A connect that was under way at close: nobody else will close that socket.
    if (e.kind === 'socket-connected') return step(s, { kind: 'close-socket' });
    return step(s);
  }
  switch (e.kind) {
    case 'start':
      return s.phase === 'idle' ? connectAttempt(1) : step(s);
    case 'close': {
      const commands: HandshakeCommand[] = [
        { kind: 'cancel-timer', timer: 'handshake' },
        { kind: 'cancel-timer', timer: 'retry' },
      ];
      if (s.phase === 'connected') commands.push({ kind: 'stop-data-path' });
      if (hasSocket(s)) commands.push(sendDisconnect('interface closed'), { kind: 'close-socket' });
      if (hasMemory(s)) commands.push({ kind: 'free-memory' });
      commands.push({ kind: 'publish', state: { status: 'closed', role: 'client' } });
      return { state: { phase: 'closed' }, commands };
    }
    case 'socket-connected':
      if (s.phase !== 'connecting') return step(s);
      return step(
        { phase: 'awaiting-hello', attempt: s.attempt },
        { kind: 'set-timer', timer: 'handshake', ms: cfg.handshakeTimeoutMs },
        handshaking('hello'),
      );
    case 'socket-failed':
      return s.phase === 'connecting' ? teardown(cfg, s, e.reason, 'local') : step(s);
    case 'timer':
      if (e.timer === 'retry')
        return s.phase === 'waiting-retry' ? connectAttempt(s.attempt) : step(s);
      return hasSocket(s) && s.phase !== 'connected'
        ? teardown(cfg, s, 'handshake timed out', 'local')
        : step(s);
    case 'memory-ready':
      if (s.phase !== 'allocating') return step(s, { kind: 'free-memory' });
      return announceNext(
        {
          phase: 'announcing',
          attempt: s.attempt,
          hello: s.hello,
          memory: e.memory,
          pending: [],
          awaiting: 'ack',
        },
        announcements(cfg, e.memory),
      );
    case 'memory-failed':
      return s.phase === 'allocating'
        ? teardown(cfg, s, `cannot create shared memory: ${e.reason}`, 'local')
        : step(s);
    case 'socket-closed':
      return hasSocket(s)
        ? teardown(cfg, s, e.reason ?? 'peer closed the control connection', 'peer')
        : step(s);
    case 'malformed': {
      const fds = closeFds(e.fds);
      if (!hasSocket(s)) return step(s, ...fds);
      const down = teardown(cfg, s, `malformed message: ${e.reason}`, 'local');
      return { state: down.state, commands: [...fds, ...down.commands] };
    }
    case 'frame': {
      // A client is never sent fds: whatever came along is closed.
      const fds = closeFds(e.fds);
      if (!hasSocket(s)) return step(s, ...fds);
      const next = onFrame(cfg, s, e.message);
      return { state: next.state, commands: [...fds, ...next.commands] };
    }
    case 'bind':
    case 'mapped':
    case 'map-failed':
      return step(s);
  }
};
