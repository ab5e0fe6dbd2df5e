import { toDisconnectReason } from '../brands';
import type { U32 } from '../brands';
import { overlaps, ringBytes, ringSpan } from '../layout';
import type {
  AddRegionMessage,
  AddRingMessage,
  ControlMessage,
  InitMessage,
  RingDirection,
} from '../messages';
import type { ConnectedState, DisconnectSide } from '../state';
import { SERVER_LIMITS } from './config';
import type { HandshakeConfig } from './config';
import type { HandshakeCommand, HandshakeEvent, PeerRegion, PeerRing, Step } from './types';
import { secretsEqual } from './secret';

/**
 * The server (master) side of one interface, once the socket layer has routed a connection to
 * it by INIT (`accept.ts`). Validates as docs/protocol.md#server-checks says; any failure sends
 * DISCONNECT with the reason, closes that connection and goes back to listening.
 */
export type ServerState =
  | { readonly phase: 'idle' }
  | { readonly phase: 'listening' }
  | {
      readonly phase: 'handshaking';
      readonly init: InitMessage;
      /** Announced so far; their fds are owned by this state until `map-memory`. */
      readonly regions: readonly PeerRegion[];
      readonly rings: readonly PeerRing[];
    }
  | {
      readonly phase: 'mapping' | 'connected';
      readonly init: InitMessage;
      readonly regions: readonly PeerRegion[];
      readonly rings: readonly PeerRing[];
      readonly peerInterfaceName: string;
    }
  | { readonly phase: 'closed' };

type Bound = Extract<ServerState, { init: InitMessage }>;
type Handshaking = Extract<ServerState, { phase: 'handshaking' }>;

export const initialServerState: ServerState = { phase: 'idle' };

const step = (state: ServerState, ...commands: HandshakeCommand[]): Step<ServerState> => ({
  state,
  commands,
});

const closeFds = (fds: readonly number[]): HandshakeCommand[] =>
  fds.length > 0 ? [{ kind: 'close-fds', fds }] : [];

const sendDisconnect = (reason: string): HandshakeCommand => ({
  kind: 'send',
  message: { type: 'disconnect', code: 0 as U32, reason: toDisconnectReason(reason) },
});

const isBound = (s: ServerState): s is Bound =>
  s.phase === 'handshaking' || s.phase === 'mapping' || s.phase === 'connected';

/** What the interface owns of a bound connection, released when it ends. */
const release = (s: Bound, mapFailed: boolean): HandshakeCommand[] => {
  if (s.phase === 'handshaking')
    return closeFds([...s.regions.map((r) => r.fd), ...s.rings.map((r) => r.fd)]);
  const commands: HandshakeCommand[] = s.phase === 'connected' ? [{ kind: 'stop-data-path' }] : [];
  // After `map-failed` the runtime has already released what `map-memory` handed it.
  if (!mapFailed) commands.push({ kind: 'unmap-memory' });
  return commands;
};

/** Ends the bound connection and returns to listening. */
const teardown = (
  s: Bound,
  reason: string,
  by: DisconnectSide,
  mapFailed = false,
): Step<ServerState> =>
  step(
    { phase: 'listening' },
    { kind: 'cancel-timer', timer: 'handshake' },
    ...(by === 'local' ? [sendDisconnect(reason)] : []),
    { kind: 'close-socket' },
    ...release(s, mapFailed),
    { kind: 'publish', state: { status: 'disconnected', role: 'server', reason, by, retry: null } },
    { kind: 'publish', state: { status: 'listening', role: 'server' } },
  );

/** Rejects a connection that was routed to us but fails this interface's own checks. */
const refuse = (reason: string): Step<ServerState> =>
  step(
    { phase: 'listening' },
    sendDisconnect(reason),
    { kind: 'close-socket' },
    {
      kind: 'publish',
      state: { status: 'disconnected', role: 'server', reason, by: 'local', retry: null },
    },
    { kind: 'publish', state: { status: 'listening', role: 'server' } },
  );

/** The checks that need the interface (docs/protocol.md#server-checks): mode, then secret. */
const checkInit = (cfg: HandshakeConfig, init: InitMessage): string | null => {
  if (init.mode !== cfg.mode) return `mode mismatch: client is ${init.mode}, server is ${cfg.mode}`;
  if (cfg.secret !== '') {
    if (init.secret === '') return 'secret required';
    if (!secretsEqual(init.secret, cfg.secret)) return 'incorrect secret';
  }
  return null;
};

const fdProblem = (what: string, fds: readonly number[]): string | null =>
  fds.length === 0
    ? `missing ${what} fd`
    : fds.length > 1
      ? `${what} message carries ${fds.length} fds, expected one`
      : null;

const regionProblem = (
  s: Handshaking,
  m: AddRegionMessage,
  fds: readonly number[],
): string | null =>
  fdProblem('memory region', fds) ??
  (m.index > SERVER_LIMITS.maxRegion
    ? `too many regions: index ${m.index} exceeds ${SERVER_LIMITS.maxRegion}`
    : m.index !== s.regions.length
      ? `unexpected region index ${m.index}, expected ${s.regions.length}`
      : m.size === 0n
        ? `region ${m.index} has size 0`
        : m.size > BigInt(Number.MAX_SAFE_INTEGER)
          ? `region ${m.index} size ${m.size} is too large to map`
          : null);

const ringName = (direction: RingDirection, index: number): string =>
  `${direction.toUpperCase()} ring ${index}`;

const ringProblem = (
  cfg: HandshakeConfig,
  s: Handshaking,
  m: AddRingMessage,
  fds: readonly number[],
): string | null => {
  const fd = fdProblem('ring interrupt', fds);
  if (fd) return fd;
  if (m.privateHdrSize !== 0) return 'private headers not supported';
  const name = ringName(m.direction, m.index);
  const expected = s.rings.filter((r) => r.direction === m.direction).length;
  if (m.index > SERVER_LIMITS.maxRing)
    return `too many rings: ${name} exceeds ${SERVER_LIMITS.maxRing}`;
  if (m.index !== expected) return `unexpected ring index: ${name}, expected index ${expected}`;
  const region = s.regions[m.region];
  if (!region) return `${name} is in region ${m.region}, which was not announced`;
  const span = ringSpan(cfg.cacheLineSize, m.region, m.offset, m.log2RingSize);
  if (span.end > BigInt(region.size))
    return `${name} (offset ${m.offset}, ${ringBytes(cfg.cacheLineSize, m.log2RingSize)} bytes) does not fit region ${m.region} of ${region.size} bytes`;
  const clash = s.rings.find((r) =>
    overlaps(span, ringSpan(cfg.cacheLineSize, r.region, r.offset, r.log2RingSize)),
  );
  if (clash) return `${name} overlaps ${ringName(clash.direction, clash.index)}`;
  // head and tail are 16-bit atomics: the data path cannot use a ring at an odd offset (and
  // would throw out of CONNECT's step, taking the process down).
  if (m.offset % 2 !== 0) return `${name} is at odd offset ${m.offset}`;
  return null;
};

const connectedState = (
  cfg: HandshakeConfig,
  s: Extract<ServerState, { peerInterfaceName: string }>,
): ConnectedState => {
  const log2RingSize = s.rings[0].log2RingSize;
  return {
    status: 'connected',
    role: 'server',
    peer: { appName: s.init.name, interfaceName: s.peerInterfaceName },
    mode: cfg.mode,
    queues: {
      rx: s.rings.filter((r) => r.direction === 's2m').length,
      tx: s.rings.filter((r) => r.direction === 'm2s').length,
    },
    log2RingSize,
    ringSize: 1 << log2RingSize,
    bufferSize: cfg.bufferSize,
    regions: s.regions.map(({ index, size }) => ({ index, size })),
  };
};

const describe = (m: ControlMessage): string => m.type.toUpperCase().replace('-', '_');

/** A frame on the bound connection while handshaking. */
const onHandshakeFrame = (
  cfg: HandshakeConfig,
  s: Handshaking,
  message: ControlMessage,
  fds: readonly number[],
): Step<ServerState> => {
  const reject = (reason: string): Step<ServerState> => {
    const down = teardown(s, reason, 'local');
    return { state: down.state, commands: [...closeFds(fds), ...down.commands] };
  };
  switch (message.type) {
    case 'add-region': {
      const problem = regionProblem(s, message, fds);
      if (problem) return reject(problem);
      const region = { index: message.index, size: Number(message.size), fd: fds[0] };
      return step(
        { ...s, regions: [...s.regions, region] },
        { kind: 'send', message: { type: 'ack' } },
      );
    }
    case 'add-ring': {
      const problem = ringProblem(cfg, s, message, fds);
      if (problem) return reject(problem);
      const { direction, index, region, offset, log2RingSize } = message;
      const ring = { direction, index, region, offset, log2RingSize, fd: fds[0] };
      return step({ ...s, rings: [...s.rings, ring] }, { kind: 'send', message: { type: 'ack' } });
    }
    case 'connect': {
      if (fds.length > 0) return reject('CONNECT carries an fd');
      for (const direction of ['s2m', 'm2s'] as const)
        if (!s.rings.some((r) => r.direction === direction))
          return reject(`no ${direction.toUpperCase()} ring announced before CONNECT`);
      return step(
        { ...s, phase: 'mapping', peerInterfaceName: message.interfaceName },
        { kind: 'map-memory', regions: s.regions, rings: s.rings },
      );
    }
    default:
      return reject(`unexpected ${describe(message)} message`);
  }
};

export const serverStep = (
  cfg: HandshakeConfig,
  s: ServerState,
  e: HandshakeEvent,
): Step<ServerState> => {
  // fds that reach a state with no use for them are closed, whatever else happens.
  if (s.phase === 'closed' || !isBound(s)) {
    if (e.kind === 'frame' || e.kind === 'malformed') return step(s, ...closeFds(e.fds));
  }
  if (s.phase === 'closed') return step(s);
  switch (e.kind) {
    case 'start':
      return s.phase === 'idle'
        ? step(
            { phase: 'listening' },
            { kind: 'publish', state: { status: 'listening', role: 'server' } },
          )
        : step(s);
    case 'close': {
      const commands: HandshakeCommand[] = [{ kind: 'cancel-timer', timer: 'handshake' }];
      if (isBound(s))
        commands.push(
          sendDisconnect('interface closed'),
          { kind: 'close-socket' },
          ...release(s, false),
        );
      commands.push({ kind: 'publish', state: { status: 'closed', role: 'server' } });
      return { state: { phase: 'closed' }, commands };
    }
    case 'bind': {
      // Refuse the newcomer but keep the connection we have (its fds, mapping, data path).
      if (isBound(s)) return step(s, sendDisconnect('already connected'), { kind: 'close-socket' });
      if (s.phase !== 'listening') return refuse('already connected');
      const problem = checkInit(cfg, e.init);
      if (problem) return refuse(problem);
      return step(
        { phase: 'handshaking', init: e.init, regions: [], rings: [] },
        { kind: 'send', message: { type: 'ack' } },
        { kind: 'set-timer', timer: 'handshake', ms: cfg.handshakeTimeoutMs },
        { kind: 'publish', state: { status: 'handshaking', role: 'server', step: 'regions' } },
      );
    }
    case 'frame':
    case 'malformed': {
      if (!isBound(s)) return step(s);
      if (e.kind === 'malformed') {
        const down = teardown(s, `malformed message: ${e.reason}`, 'local');
        return { state: down.state, commands: [...closeFds(e.fds), ...down.commands] };
      }
      if (e.message.type === 'disconnect') {
        const down = teardown(s, e.message.reason || 'peer disconnected (no reason given)', 'peer');
        return { state: down.state, commands: [...closeFds(e.fds), ...down.commands] };
      }
      if (s.phase === 'handshaking') return onHandshakeFrame(cfg, s, e.message, e.fds);
      const down = teardown(s, `unexpected ${describe(e.message)} message`, 'local');
      return { state: down.state, commands: [...closeFds(e.fds), ...down.commands] };
    }
    case 'socket-closed':
      return isBound(s)
        ? teardown(s, e.reason ?? 'peer closed the control connection', 'peer')
        : step(s);
    case 'timer':
      return e.timer === 'handshake' && isBound(s) && s.phase !== 'connected'
        ? teardown(s, 'handshake timed out', 'local')
        : step(s);
    case 'mapped': {
      if (s.phase !== 'mapping') return step(s);
      const connected = connectedState(cfg, s);
      return step(
        { ...s, phase: 'connected' },
        { kind: 'cancel-timer', timer: 'handshake' },
        // Rings are served before CONNECTED tells the client it may start sending.
        { kind: 'start-data-path', connected },
        { kind: 'send', message: { type: 'connected', interfaceName: cfg.interfaceName } },
        { kind: 'publish', state: connected },
      );
    }
    case 'map-failed':
      return s.phase === 'mapping' ? teardown(s, e.reason, 'local', true) : step(s);
    case 'socket-connected':
    case 'socket-failed':
    case 'memory-ready':
    case 'memory-failed':
      return step(s);
  }
};
