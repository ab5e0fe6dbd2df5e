import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either';
import { InterfaceId, InterfaceMode, Log2RingSize, MemifName, Secret } from './brands';
import type { Role } from './state';
import type { RetryPolicy } from './handshake/types';

/**
 * The options of one interface (the seed's table plus ours), validated with io-ts so that a
 * mistake is reported by field with the value and the rule it breaks.
 */

const int = (name: string, min: number, max: number) =>
  new t.Type<number, number, unknown>(
    name,
    (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= min && u <= max,
    (u, c) =>
      typeof u === 'number' && Number.isInteger(u) && u >= min && u <= max
        ? t.success(u)
        : t.failure(u, c, `must be an integer in ${min}..${max}, got ${JSON.stringify(u)}`),
    t.identity,
  );

const withMessage = <A, O>(codec: t.Type<A, O, unknown>, message: string) =>
  new t.Type<A, O, unknown>(
    codec.name,
    codec.is,
    (u, c) =>
      isLeft(codec.validate(u, c))
        ? t.failure(u, c, `${message}, got ${JSON.stringify(u)}`)
        : codec.validate(u, c),
    codec.encode,
  );

const RoleOption = withMessage(
  t.keyof({ server: null, client: null, master: null, slave: null }),
  'must be server|client (or master|slave)',
);

const MacAddress = withMessage(
  t.refinement(t.string, (s) => /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(s), 'MacAddress'),
  'must be a MAC address like 02:fe:00:00:00:01',
);

const RetryOption = t.partial({
  /** Delay before the second attempt. Default 1000. */
  initialMs: int('initialMs', 1, 3_600_000),
  /** Growth of the delay per failed attempt. Default 1 (a fixed period). */
  factor: withMessage(
    t.refinement(t.number, (n) => n >= 1 && n <= 10, 'factor'),
    'must be a number in 1..10',
  ),
  /** Upper bound of the delay. Default: initialMs. */
  maxMs: int('maxMs', 1, 3_600_000),
  /** 0 = retry forever (the default). */
  maxAttempts: int('maxAttempts', 0, 1_000_000),
});

/** A uid or gid: u32 without (uid_t)-1, which means "no change" to the kernel. */
const Id = (name: string) => int(name, 0, 0xfffffffe);

const IdList = (name: string) =>
  withMessage(t.readonlyArray(Id(name)), 'must be an array of integers in 0..4294967294');

const GroupOption = withMessage(
  t.union([
    Id('gid'),
    t.refinement(t.string, (s) => /^[^\0:\s]{1,64}$/.test(s) && !/^\d+$/.test(s), 'GroupName'),
  ]),
  'must be a gid (0..4294967294) or a group name',
);

export const MemifOptionsCodec = t.exact(
  t.partial({
    id: withMessage(InterfaceId, 'must be an integer in 0..4294967295'),
    role: RoleOption,
    socket: withMessage(
      t.refinement(
        t.string,
        (s) => s.length > 0 && s !== '@' && Buffer.byteLength(s) <= 107,
        'SocketAddress',
      ),
      'must be a path or @abstract-name of 1..107 bytes',
    ),
    bufferSize: int('bufferSize', 1, 65535),
    log2RingSize: withMessage(Log2RingSize, 'must be an integer in 1..14'),
    rxQueues: int('rxQueues', 1, 255),
    txQueues: int('txQueues', 1, 255),
    mode: withMessage(InterfaceMode, 'must be ethernet|ip|punt-inject'),
    secret: withMessage(Secret, 'must be a string of at most 23 bytes without NUL'),
    mac: MacAddress,
    zeroCopy: t.boolean,
    appName: withMessage(MemifName, 'must be a string of at most 31 bytes without NUL'),
    interfaceName: withMessage(MemifName, 'must be a string of at most 31 bytes without NUL'),
    retry: RetryOption,
    handshakeTimeoutMs: int('handshakeTimeoutMs', 1, 3_600_000),
    rxMode: withMessage(
      t.keyof({ interrupt: null, polling: null, adaptive: null }),
      'must be interrupt|polling|adaptive',
    ),
    adaptiveIdleMs: int('adaptiveIdleMs', 0, 60_000),
    zeroCopyRx: t.boolean,
    txQueueSize: int('txQueueSize', 1, 16_777_216),
    txHighWater: int('txHighWater', 1, 16_777_216),
    lossless: t.boolean,
    socketMode: int('socketMode', 0, 0o7777),
    socketGroup: GroupOption,
    allowUids: IdList('uid'),
    allowGids: IdList('gid'),
  }),
);

/** What `memif()` accepts. Every field is optional; defaults in brackets. */
export interface MemifOptions {
  /** Interface id, u32, unique per socket and role [0]. */
  readonly id?: number;
  /** `server` listens, `client` connects; `master` / `slave` are accepted aliases [client]. */
  readonly role?: 'server' | 'client' | 'master' | 'slave';
  /** Control socket: a path, or `@name` for an abstract name [/tmp/memif.sock]. */
  readonly socket?: string;
  /** Packet buffer size in bytes, 1..65535 [2048]. Keep it equal on both sides for DPDK. */
  readonly bufferSize?: number;
  /** log2 of the ring size, 1..14 [10]. The client decides; a server's value is unused. */
  readonly log2RingSize?: number;
  /** Receive queues, 1..255 [1]. */
  readonly rxQueues?: number;
  /** Transmit queues, 1..255 [1]. */
  readonly txQueues?: number;
  /** Interface mode [ethernet]; both sides must agree. */
  readonly mode?: 'ethernet' | 'ip' | 'punt-inject';
  /** Shared secret, at most 23 bytes [none]. */
  readonly secret?: string;
  /** This interface's MAC address [random 02:fe:xx:xx:xx:xx]. */
  readonly mac?: string;
  /** Client zero-copy transmit: packets are written straight into ring buffers with `iface.txZeroCopy(q)` [false]. */
  readonly zeroCopy?: boolean;
  /** App name sent in HELLO (server) or INIT (client), at most 31 bytes [rx-memif]. */
  readonly appName?: string;
  /** Interface name sent in CONNECT / CONNECTED, at most 31 bytes [memif<id>]. */
  readonly interfaceName?: string;
  /** Client reconnection: every `initialMs` [1000], growing by `factor` [1] up to `maxMs`. */
  readonly retry?: {
    readonly initialMs?: number;
    readonly factor?: number;
    readonly maxMs?: number;
    /** 0 = forever [0]. */
    readonly maxAttempts?: number;
  };
  /** A handshake not finished this long after it began is abandoned [5000]. */
  readonly handshakeTimeoutMs?: number;
  /**
   * How received packets are noticed [adaptive]: `interrupt` (eventfd, no CPU when idle),
   * `polling` (every event-loop turn, lowest latency), `adaptive` (polling while traffic flows,
   * interrupts after `adaptiveIdleMs` of silence).
   */
  readonly rxMode?: 'interrupt' | 'polling' | 'adaptive';
  /** Silence after which adaptive mode goes back to interrupts, in ms [1]. */
  readonly adaptiveIdleMs?: number;
  /**
   * Receive without copying: packet views point into the shared memory and are valid only until
   * the emission returns (copy them to keep them) [false].
   */
  readonly zeroCopyRx?: boolean;
  /** Packets per tx queue that may wait for ring space; beyond it they are dropped [8192]. */
  readonly txQueueSize?: number;
  /**
   * Packets waiting in a tx backlog at which receiving pauses (every rx queue), leaving packets
   * in the peer's ring; it resumes when every backlog is down to half of it. At most
   * `txQueueSize` [txQueueSize / 8, at least 1].
   */
  readonly txHighWater?: number;
  /** Never drop on transmit for lack of space: the backlog grows instead [false]. */
  readonly lossless?: boolean;
  /**
   * Server: permission bits of the socket file, e.g. `0o660`, set before the file appears on its
   * path [process umask]. Not for an abstract socket (it has no file).
   */
  readonly socketMode?: number;
  /** Server: group of the socket file, a gid or a group name, set with the mode [ours]. */
  readonly socketGroup?: number | string;
  /**
   * Only peers whose uid (SO_PEERCRED) is listed may connect [anyone]. With `allowGids` too, a
   * peer passes if either list names it. A server refuses others before HELLO; a client refuses
   * a server not listed before sending it anything, so no memory is handed over.
   */
  readonly allowUids?: readonly number[];
  /** Only peers whose primary gid is listed may connect [anyone]; see `allowUids`. */
  readonly allowGids?: readonly number[];
}

/** Options with defaults applied and aliases resolved. */
export interface ResolvedOptions {
  readonly id: InterfaceId;
  readonly role: Role;
  readonly socket: string;
  readonly bufferSize: number;
  readonly log2RingSize: Log2RingSize;
  readonly rxQueues: number;
  readonly txQueues: number;
  readonly mode: InterfaceMode;
  readonly secret: Secret;
  readonly mac: string;
  readonly zeroCopy: boolean;
  readonly appName: MemifName;
  readonly interfaceName: MemifName;
  readonly retry: RetryPolicy;
  readonly handshakeTimeoutMs: number;
  readonly rxMode: 'interrupt' | 'polling' | 'adaptive';
  readonly adaptiveIdleMs: number;
  readonly zeroCopyRx: boolean;
  readonly txQueueSize: number;
  readonly txHighWater: number;
  readonly lossless: boolean;
  readonly socketMode: number | undefined;
  readonly socketGroup: number | string | undefined;
  /** Empty: anyone (no uid check). */
  readonly allowUids: readonly number[];
  /** Empty: anyone (no gid check). */
  readonly allowGids: readonly number[];
}

export const DEFAULT_SOCKET = '/tmp/memif.sock';

/** A locally administered unicast MAC, `02:fe:` like VPP's, random in its last four bytes. */
export const randomMac = (random: () => number = Math.random): string =>
  [
    '02',
    'fe',
    ...Array.from({ length: 4 }, () =>
      Math.floor(random() * 256)
        .toString(16)
        .padStart(2, '0'),
    ),
  ].join(':');

/** One line per broken field: `options.bufferSize: must be an integer in 64..65535, got 7`. */
const describeErrors = (errors: t.Errors): string =>
  errors
    .map((e) => {
      const path = e.context
        .map((c) => c.key)
        .filter((k) => k !== '' && !/^\d+$/.test(k))
        .join('.');
      const unknownKey = e.message === undefined && e.value === undefined;
      return `options${path ? '.' + path : ''}: ${e.message ?? (unknownKey ? 'is not allowed' : `invalid value ${JSON.stringify(e.value)}`)}`;
    })
    .filter((line, i, all) => all.indexOf(line) === i)
    .join('; ');

export class OptionsError extends Error {
  override readonly name = 'OptionsError';
  readonly code = 'ERR_MEMIF_OPTIONS';
}

const KNOWN_KEYS = new Set(Object.keys(MemifOptionsCodec.type.props));

/** Validates and completes options; throws {@link OptionsError} naming every broken field. */
export const resolveOptions = (input: MemifOptions | unknown = {}): ResolvedOptions => {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new OptionsError('options: must be an object');
  const unknown = Object.keys(input).filter((k) => !KNOWN_KEYS.has(k));
  if (unknown.length > 0)
    throw new OptionsError(
      `options: unknown option ${unknown.map((k) => JSON.stringify(k)).join(', ')}`,
    );
  const decoded = MemifOptionsCodec.decode(input);
  if (isLeft(decoded)) throw new OptionsError(describeErrors(decoded.left));
  const o = decoded.right;
  const role: Role = o.role === 'server' || o.role === 'master' ? 'server' : 'client';
  const id = o.id ?? (0 as InterfaceId);
  const initialMs = o.retry?.initialMs ?? 1000;
  const socket = o.socket ?? DEFAULT_SOCKET;
  if (o.socketMode !== undefined || o.socketGroup !== undefined) {
    const which = o.socketMode !== undefined ? 'socketMode' : 'socketGroup';
    if (role !== 'server')
      throw new OptionsError(`options.${which}: applies to a server (it sets its socket file)`);
    if (socket.startsWith('@'))
      throw new OptionsError(
        `options.${which}: ${socket} is an abstract socket, which has no file to set a mode or ` +
          'group on; use a filesystem path (and its directory) to restrict who may connect',
      );
  }
  const txQueueSize = o.txQueueSize ?? 8192;
  // Above the queue bound, backpressure would come only after packets were dropped.
  if (o.txHighWater !== undefined && o.txHighWater > txQueueSize)
    throw new OptionsError(
      `options.txHighWater: must be at most txQueueSize (${txQueueSize}), got ${o.txHighWater}`,
    );
  return {
    id,
    role,
    socket,
    bufferSize: o.bufferSize ?? 2048,
    log2RingSize: o.log2RingSize ?? (10 as Log2RingSize),
    rxQueues: o.rxQueues ?? 1,
    txQueues: o.txQueues ?? 1,
    mode: o.mode ?? 'ethernet',
    secret: o.secret ?? ('' as Secret),
    mac: (o.mac ?? randomMac()).toLowerCase(),
    zeroCopy: o.zeroCopy ?? false,
    appName: o.appName ?? ('rx-memif' as MemifName),
    interfaceName: o.interfaceName ?? (`memif${id}`.slice(0, 31) as MemifName),
    retry: {
      initialMs,
      factor: o.retry?.factor ?? 1,
      maxMs: Math.max(initialMs, o.retry?.maxMs ?? initialMs),
      maxAttempts: o.retry?.maxAttempts ?? 0,
    },
    handshakeTimeoutMs: o.handshakeTimeoutMs ?? 5000,
    rxMode: o.rxMode ?? 'adaptive',
    adaptiveIdleMs: o.adaptiveIdleMs ?? 1,
    zeroCopyRx: o.zeroCopyRx ?? false,
    txQueueSize,
    txHighWater: o.txHighWater ?? Math.max(1, Math.floor(txQueueSize / 8)),
    lossless: o.lossless ?? false,
    socketMode: o.socketMode,
    socketGroup: o.socketGroup,
    allowUids: o.allowUids ?? [],
    allowGids: o.allowGids ?? [],
  };
};
