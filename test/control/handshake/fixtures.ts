import { expect } from 'chai';
import { TestScheduler } from 'rxjs/testing';
import type { Observable } from 'rxjs';
import { DisconnectReason, MEMIF_VERSION, MemifName, Secret } from '../../../src/control/brands';
import type {
  InterfaceId,
  InterfaceMode,
  Log2RingSize,
  RegionIndex,
  RingIndex,
  U16,
  U32,
  U64,
  U8,
  Version,
} from '../../../src/control/brands';
import { clientLayout } from '../../../src/control/layout';
import type { ClientLayout } from '../../../src/control/layout';
import type {
  AckMessage,
  AddRegionMessage,
  AddRingMessage,
  ConnectMessage,
  ConnectedMessage,
  ControlMessage,
  DisconnectMessage,
  HelloMessage,
  InitMessage,
  NoneMessage,
  RingDirection,
} from '../../../src/control/messages';
import type {
  ConnectedState,
  ConnectionState,
  DisconnectSide,
  HandshakeStep,
  Role,
} from '../../../src/control/state';
import { clientStep } from '../../../src/control/handshake/client';
import type { ClientState } from '../../../src/control/handshake/client';
import { serverStep } from '../../../src/control/handshake/server';
import type { ServerState } from '../../../src/control/handshake/server';
import { runMachine } from '../../../src/control/handshake/driver';
import type { HandshakeConfig } from '../../../src/control/handshake/config';
import type {
  ClientMemory,
  HandshakeCommand,
  HandshakeEvent,
  Machine,
  PeerRegion,
  PeerRing,
  RetryPolicy,
  TimerName,
} from '../../../src/control/handshake/types';

// ---------------------------------------------------------------------------------------------
// Branded values (checked, so a typo in a fixture fails loudly instead of slipping through)

export const memifName = (s: string): MemifName => {
  if (!MemifName.is(s)) throw new Error(`fixture: not a MemifName: ${s}`);
  return s;
};

export const secret = (s: string): Secret => {
  if (!Secret.is(s)) throw new Error(`fixture: not a Secret: ${s}`);
  return s;
};

export const reasonText = (s: string): DisconnectReason => {
  if (!DisconnectReason.is(s)) throw new Error(`fixture: not a DisconnectReason: ${s}`);
  return s;
};

// ---------------------------------------------------------------------------------------------
// Configuration

export const retryPolicy: RetryPolicy = { initialMs: 1000, factor: 2, maxMs: 4000, maxAttempts: 0 };

export const HANDSHAKE_TIMEOUT_MS = 3000;

/** The interface under test, both roles: 2 S2M + 2 M2S rings of 1024 slots, 2048-byte buffers. */
export const config: HandshakeConfig = {
  id: 7 as InterfaceId,
  mode: 'ethernet',
  secret: secret('sesame'),
  appName: memifName('rx-memif-test'),
  interfaceName: memifName('memif0/7'),
  s2mRings: 2,
  m2sRings: 2,
  log2RingSize: 10,
  bufferSize: 2048,
  cacheLineSize: 64,
  retry: retryPolicy,
  handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
};

export const configWith = (overrides: Partial<HandshakeConfig>): HandshakeConfig => ({
  ...config,
  ...overrides,
});

export const retryWith = (overrides: Partial<RetryPolicy>): HandshakeConfig =>
  configWith({ retry: { ...retryPolicy, ...overrides } });

export const PEER_APP = 'vpp-test';
export const PEER_IF = 'memif0/0';
export const CLIENT_APP = 'client-app';
export const CLIENT_IF = 'memif-client0';

// ---------------------------------------------------------------------------------------------
// Messages

export const ack = (): AckMessage => ({ type: 'ack' });

export const none = (): NoneMessage => ({ type: 'none' });

export const hello = (
  o: Partial<{
    name: string;
    minVersion: number;
    maxVersion: number;
    maxRegion: number;
    maxM2SRing: number;
    maxS2MRing: number;
    maxLog2RingSize: number;
  }> = {},
): HelloMessage => ({
  type: 'hello',
  name: memifName(o.name ?? PEER_APP),
  minVersion: (o.minVersion ?? MEMIF_VERSION) as Version,
  maxVersion: (o.maxVersion ?? MEMIF_VERSION) as Version,
  maxRegion: (o.maxRegion ?? 255) as U16,
  maxM2SRing: (o.maxM2SRing ?? 255) as U16,
  maxS2MRing: (o.maxS2MRing ?? 255) as U16,
  maxLog2RingSize: (o.maxLog2RingSize ?? 14) as U8,
});

export const init = (
  o: Partial<{
    version: number;
    id: number;
    mode: InterfaceMode;
    secret: string;
    name: string;
  }> = {},
): InitMessage => ({
  type: 'init',
  version: (o.version ?? MEMIF_VERSION) as Version,
  id: (o.id ?? 7) as InterfaceId,
  mode: o.mode ?? 'ethernet',
  secret: secret(o.secret ?? 'sesame'),
  name: memifName(o.name ?? CLIENT_APP),
});

export const addRegion = (index: number, size: bigint | number): AddRegionMessage => ({
  type: 'add-region',
  index: index as RegionIndex,
  size: BigInt(size) as U64,
});

export const addRing = (
  direction: RingDirection,
  index: number,
  offset: number,
  o: Partial<{ region: number; log2RingSize: number; privateHdrSize: number }> = {},
): AddRingMessage => ({
  type: 'add-ring',
  direction,
  index: index as RingIndex,
  region: (o.region ?? 0) as RegionIndex,
  offset: offset as U32,
  log2RingSize: (o.log2RingSize ?? 10) as Log2RingSize,
  privateHdrSize: (o.privateHdrSize ?? 0) as U16,
});

export const connect = (name: string = CLIENT_IF): ConnectMessage => ({
  type: 'connect',
  interfaceName: memifName(name),
});

export const connected = (name: string = PEER_IF): ConnectedMessage => ({
  type: 'connected',
  interfaceName: memifName(name),
});

export const disconnect = (reason: string, code = 0): DisconnectMessage => ({
  type: 'disconnect',
  code: code as U32,
  reason: reasonText(reason),
});

// ---------------------------------------------------------------------------------------------
// Events

export const ev = {
  start: { kind: 'start' } as HandshakeEvent,
  socketConnected: { kind: 'socket-connected' } as HandshakeEvent,
  socketFailed: (reason: string): HandshakeEvent => ({ kind: 'socket-failed', reason }),
  bind: (message: InitMessage = init()): HandshakeEvent => ({ kind: 'bind', init: message }),
  frame: (message: ControlMessage, ...fds: number[]): HandshakeEvent => ({
    kind: 'frame',
    message,
    fds,
  }),
  malformed: (reason: string, ...fds: number[]): HandshakeEvent => ({
    kind: 'malformed',
    reason,
    fds,
  }),
  socketClosed: (reason: string | null = null): HandshakeEvent => ({
    kind: 'socket-closed',
    reason,
  }),
  memoryReady: (memory: ClientMemory): HandshakeEvent => ({ kind: 'memory-ready', memory }),
  memoryFailed: (reason: string): HandshakeEvent => ({ kind: 'memory-failed', reason }),
  mapped: { kind: 'mapped' } as HandshakeEvent,
  mapFailed: (reason: string): HandshakeEvent => ({ kind: 'map-failed', reason }),
  timer: (timer: TimerName): HandshakeEvent => ({ kind: 'timer', timer }),
  close: { kind: 'close' } as HandshakeEvent,
};

// ---------------------------------------------------------------------------------------------
// Commands and public states

export const cmd = {
  connectSocket: { kind: 'connect-socket' } as HandshakeCommand,
  send: (message: ControlMessage, fd?: number): HandshakeCommand =>
    fd === undefined ? { kind: 'send', message } : { kind: 'send', message, fd },
  sendDisconnect: (reason: string): HandshakeCommand => ({
    kind: 'send',
    message: { type: 'disconnect', code: 0 as U32, reason: reason as DisconnectReason },
  }),
  closeSocket: { kind: 'close-socket' } as HandshakeCommand,
  closeFds: (...fds: number[]): HandshakeCommand => ({ kind: 'close-fds', fds }),
  createMemory: (layout: ClientLayout): HandshakeCommand => ({ kind: 'create-memory', layout }),
  freeMemory: { kind: 'free-memory' } as HandshakeCommand,
  mapMemory: (regions: PeerRegion[], rings: PeerRing[]): HandshakeCommand => ({
    kind: 'map-memory',
    regions,
    rings,
  }),
  unmapMemory: { kind: 'unmap-memory' } as HandshakeCommand,
  startDataPath: (state: ConnectedState): HandshakeCommand => ({
    kind: 'start-data-path',
    connected: state,
  }),
  stopDataPath: { kind: 'stop-data-path' } as HandshakeCommand,
  setTimer: (timer: TimerName, ms: number): HandshakeCommand => ({ kind: 'set-timer', timer, ms }),
  cancelTimer: (timer: TimerName): HandshakeCommand => ({ kind: 'cancel-timer', timer }),
  publish: (state: ConnectionState): HandshakeCommand => ({ kind: 'publish', state }),
};

export const st = {
  listening: { status: 'listening', role: 'server' } as ConnectionState,
  connecting: (attempt: number): ConnectionState => ({
    status: 'connecting',
    role: 'client',
    attempt,
  }),
  handshaking: (role: Role, step: HandshakeStep): ConnectionState => ({
    status: 'handshaking',
    role,
    step,
  }),
  disconnected: (
    role: Role,
    reason: string,
    by: DisconnectSide,
    retry: { attempt: number; inMs: number } | null,
  ): ConnectionState => ({ status: 'disconnected', role, reason, by, retry }),
  closed: (role: Role): ConnectionState => ({ status: 'closed', role }),
};

// ---------------------------------------------------------------------------------------------
// Memory

/**
 * What a client runtime would report for `layout`: region 0 on fd `firstFd`, one eventfd per
 * ring after it (100, 101, 102, ...).
 */
export const fakeMemory = (layout: ClientLayout, firstFd = 100): ClientMemory => ({
  layout,
  regions: [{ index: 0, size: layout.regionSize, fd: firstFd }],
  ringFds: layout.rings.map((_, i) => firstFd + 1 + i),
});

/** The layout of `config` against a HELLO that does not clamp (2 + 2 rings, log2 10). */
export const defaultLayout: ClientLayout = clientLayout({
  cacheLineSize: 64,
  bufferSize: 2048,
  s2mRings: 2,
  m2sRings: 2,
  log2RingSize: 10,
});

/** The frames a client sends for `memory` (ADD_REGION*, ADD_RING*), with their fds. */
export const announcementFrames = (memory: ClientMemory): HandshakeEvent[] => [
  ...memory.regions.map((r) => ev.frame(addRegion(r.index, r.size), r.fd)),
  ...memory.layout.rings.map((ring, i) =>
    ev.frame(
      addRing(ring.direction, ring.index, ring.offset, {
        region: ring.region,
        log2RingSize: memory.layout.log2RingSize,
      }),
      memory.ringFds[i],
    ),
  ),
];

// ---------------------------------------------------------------------------------------------
// Machines

export const clientMachine =
  (cfg: HandshakeConfig = config): Machine<ClientState> =>
  (s, e) =>
    clientStep(cfg, s, e);

export const serverMachine =
  (cfg: HandshakeConfig = config): Machine<ServerState> =>
  (s, e) =>
    serverStep(cfg, s, e);

export interface Walk<S> {
  readonly state: S;
  /** The commands of every step, in order. */
  readonly steps: readonly (readonly HandshakeCommand[])[];
  /** The commands of the last step. */
  readonly last: readonly HandshakeCommand[];
}

/** Feeds `events` to `machine` one by one, without a driver (timers are not run). */
export const walk = <S>(
  machine: Machine<S>,
  initial: S,
  events: readonly HandshakeEvent[],
): Walk<S> => {
  let state = initial;
  const steps: (readonly HandshakeCommand[])[] = [];
  for (const e of events) {
    const next = machine(state, e);
    state = next.state;
    steps.push(next.commands);
  }
  return { state, steps, last: steps[steps.length - 1] ?? [] };
};

/** The state after `events` (for starting a marble test in the middle of a handshake). */
export const stateAfter = <S>(
  machine: Machine<S>,
  initial: S,
  events: readonly HandshakeEvent[],
): S => walk(machine, initial, events).state;

/**
 * Wraps a machine so that every timer event the driver delivers is logged as `name@frame`: a
 * timer that was not cancelled shows up here even when the machine ignores it.
 */
export const withTimerLog = <S>(
  scheduler: TestScheduler,
  machine: Machine<S>,
): { readonly machine: Machine<S>; readonly log: string[] } => {
  const log: string[] = [];
  return {
    log,
    machine: (s, e) => {
      if (e.kind === 'timer') log.push(`${e.timer}@${scheduler.now()}`);
      return machine(s, e);
    },
  };
};

export const run =
  <S>(machine: Machine<S>, initial: S, scheduler: TestScheduler) =>
  (events: Observable<HandshakeEvent>): Observable<HandshakeCommand> =>
    events.pipe(runMachine(machine, initial, scheduler));

// ---------------------------------------------------------------------------------------------
// Marble assertions, with "text matching a pattern" for reasons

class TextMatching {
  constructor(readonly pattern: RegExp) {}
  toString(): string {
    return `matching(${this.pattern})`;
  }
}

/**
 * Stands for any string that matches `pattern` inside an expected value (the reason of a
 * DISCONNECT or a `disconnected` state): the exact wording is the implementation's, the key
 * words are the test's.
 */
export const matching = (pattern: RegExp): string => new TextMatching(pattern) as unknown as string;

const isPlainObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' &&
  x !== null &&
  (Object.getPrototypeOf(x) === Object.prototype || Object.getPrototypeOf(x) === null);

/** `actual`, with every string that an expected {@link matching} accepts replaced by it. */
const reconcile = (actual: unknown, expected: unknown): unknown => {
  if (expected instanceof TextMatching)
    return typeof actual === 'string' && expected.pattern.test(actual) ? expected : actual;
  if (Array.isArray(actual) && Array.isArray(expected))
    return actual.map((a: unknown, i) => reconcile(a, expected[i]));
  if (isPlainObject(actual) && isPlainObject(expected))
    return Object.fromEntries(
      Object.entries(actual).map(([k, v]) => [k, reconcile(v, expected[k])]),
    );
  return actual;
};

export const testScheduler = (): TestScheduler =>
  new TestScheduler((actual, expected) => {
    expect(reconcile(actual, expected)).to.deep.equal(expected);
  });

/** `(abc)`: a group of command keys emitted in one frame (a single key stays bare). */
export const group = (keys: string): string => (keys.length === 1 ? keys : `(${keys})`);
