import * as fs from 'node:fs';
import type { ConnectionState, MemifInterface } from '../../src/index';
import { decodeFrame } from '../../src/control/codec';
import type { ControlMessage } from '../../src/control/messages';
import type {
  NativeBinding,
  NativeControlChannel,
  NativeControlListener,
  NativeEventFd,
  NativeRegion,
} from '../../src/native-bridge/native';
import { pollUntil } from '../helpers/deadline';

/**
 * A hostile memif peer for the hardening specs: it speaks the raw protocol over the native
 * control channel (128-byte frames it builds byte by byte, fds it picks), in both roles, and can
 * stop, lie or inject anything at any step of the handshake. It lives in the test suite only.
 */

// ---------------------------------------------------------------------------------------------
// Process-level probes

/** Open fds of this process (the directory listing's own fd is counted both times alike). */
export const fdCount = (): number => fs.readdirSync('/proc/self/fd').length;

/** What the fds are, for a failure message. */
export const fdTable = (): string[] =>
  fs.readdirSync('/proc/self/fd').map((fd) => {
    try {
      return `${fd} -> ${fs.readlinkSync(`/proc/self/fd/${fd}`)}`;
    } catch {
      return `${fd} -> ?`;
    }
  });

/** Waits until `condition` holds (polling), or fails naming `what`. */
export const until = (condition: () => boolean, what: () => string, ms = 5000) =>
  pollUntil(condition, ms, (waited) => `timed out after ${waited} ms: ${what()}`);

/** A source of change notifications: subscribe a listener, get its unsubscribe back. */
export type Subscribe = (listener: () => void) => () => void;

/**
 * Resolves as soon as `check()` holds, re-checking whenever one of `sources` signals a change;
 * fails after `ms` naming `what`. Cleans up after itself either way.
 */
export const waitUntil = (
  check: () => boolean,
  sources: readonly Subscribe[],
  ms: number,
  what: string,
): Promise<void> => {
  if (check()) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const stops: (() => void)[] = [];
    const done = (error?: Error) => {
      clearTimeout(timer);
      for (const stop of stops) stop();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => done(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    for (const source of sources)
      stops.push(
        source(() => {
          if (check()) done();
        }),
      );
  });
};

// ---------------------------------------------------------------------------------------------
// Raw frames (docs/protocol.md#message-layouts), written without our codec so that anything can be
// built

export const FRAME = 128;
export const T = {
  none: 0,
  ack: 1,
  hello: 2,
  init: 3,
  addRegion: 4,
  addRing: 5,
  connect: 6,
  connected: 7,
  disconnect: 8,
} as const;
export const VERSION = 0x0200;
export const COOKIE = 0x3e31f20;

/** A named field of a frame, for targeted mutation. */
export interface Field {
  readonly name: string;
  readonly offset: number;
  readonly size: 1 | 2 | 4 | 8 | 24 | 32 | 96;
}

const str = (name: string, offset: number, size: 24 | 32 | 96): Field => ({ name, offset, size });
const num = (name: string, offset: number, size: 1 | 2 | 4 | 8): Field => ({ name, offset, size });

/** The fields of every message type, type included (offset 0). */
export const FIELDS: Readonly<Record<number, readonly Field[]>> = {
  [T.none]: [num('type', 0, 2)],
  [T.ack]: [num('type', 0, 2)],
  [T.hello]: [
    num('type', 0, 2),
    str('name', 2, 32),
    num('min_version', 34, 2),
    num('max_version', 36, 2),
    num('max_region', 38, 2),
    num('max_m2s_ring', 40, 2),
    num('max_s2m_ring', 42, 2),
    num('max_log2_ring_size', 44, 1),
  ],
  [T.init]: [
    num('type', 0, 2),
    num('version', 2, 2),
    num('id', 4, 4),
    num('mode', 8, 1),
    str('secret', 9, 24),
    str('name', 33, 32),
  ],
  [T.addRegion]: [num('type', 0, 2), num('index', 2, 2), num('size', 4, 8)],
  [T.addRing]: [
    num('type', 0, 2),
    num('flags', 2, 2),
    num('index', 4, 2),
    num('region', 6, 2),
    num('offset', 8, 4),
    num('log2_ring_size', 12, 1),
    num('private_hdr_size', 13, 2),
  ],
  [T.connect]: [num('type', 0, 2), str('if_name', 2, 32)],
  [T.connected]: [num('type', 0, 2), str('if_name', 2, 32)],
  [T.disconnect]: [num('type', 0, 2), num('code', 2, 4), str('string', 6, 96)],
};

class RawFrame {
  readonly bytes = new Uint8Array(FRAME);
  private readonly view = new DataView(this.bytes.buffer);
  constructor(type: number) {
    this.u16(0, type);
  }
  u8(o: number, v: number): this {
    this.view.setUint8(o, v);
    return this;
  }
  u16(o: number, v: number): this {
    this.view.setUint16(o, v, true);
    return this;
  }
  u32(o: number, v: number): this {
    this.view.setUint32(o, v, true);
    return this;
  }
  u64(o: number, v: bigint): this {
    this.view.setBigUint64(o, v, true);
    return this;
  }
  text(o: number, size: number, s: string): this {
    this.bytes.set(Buffer.from(s).subarray(0, size - 1), o);
    return this;
  }
}

export const frames = {
  ack: () => new RawFrame(T.ack).bytes,
  none: () => new RawFrame(T.none).bytes,
  hello: (name = 'hostile', maxLog2 = 14) =>
    new RawFrame(T.hello)
      .text(2, 32, name)
      .u16(34, VERSION)
      .u16(36, VERSION)
      .u16(38, 255)
      .u16(40, 255)
      .u16(42, 255)
      .u8(44, maxLog2).bytes,
  init: (id = 0, name = 'hostile', secret = '', mode = 0) =>
    new RawFrame(T.init)
      .u16(2, VERSION)
      .u32(4, id)
      .u8(8, mode)
      .text(9, 24, secret)
      .text(33, 32, name).bytes,
  addRegion: (index: number, size: number | bigint) =>
    new RawFrame(T.addRegion).u16(2, index).u64(4, BigInt(size)).bytes,
  addRing: (s2m: boolean, index: number, region: number, offset: number, log2: number) =>
    new RawFrame(T.addRing)
      .u16(2, s2m ? 1 : 0)
      .u16(4, index)
      .u16(6, region)
      .u32(8, offset)
      .u8(12, log2)
      .u16(13, 0).bytes,
  connect: (name = 'hostile0') => new RawFrame(T.connect).text(2, 32, name).bytes,
  connected: (name = 'hostile0') => new RawFrame(T.connected).text(2, 32, name).bytes,
  disconnect: (reason = 'hostile peer leaves', code = 0) =>
    new RawFrame(T.disconnect).u32(2, code).text(6, 96, reason).bytes,
};

export const typeName = (type: number): string =>
  Object.entries(T).find(([, v]) => v === type)?.[0] ?? `type ${type}`;

// ---------------------------------------------------------------------------------------------
// A raw control connection

/** One received datagram, decoded when it decodes. */
export interface Received {
  readonly frame: Uint8Array;
  readonly fds: readonly number[];
  readonly truncated: boolean;
  readonly message: ControlMessage | undefined;
  readonly error: string | undefined;
}

export const describeReceived = (r: Received | null): string =>
  r === null
    ? 'EOF'
    : r.message
      ? `${r.message.type}${r.message.type === 'disconnect' ? ` "${r.message.reason}"` : ''}`
      : `undecodable ${r.frame.length}-byte frame (${r.error})`;

/**
 * One control socket driven by hand. Received frames queue up in order; `next()` takes the
 * oldest (or `null` once the other side closed). Received fds are closed at once unless
 * `keepFds` (then the caller owns them).
 */
export class RawPeer {
  private readonly inbox: (Received | null)[] = [];
  private readonly listeners = new Set<() => void>();
  private ended = false;
  /** fds received in total. */
  fdsReceived = 0;

  constructor(
    private readonly native: NativeBinding,
    private readonly channel: NativeControlChannel,
    private readonly keepFds = false,
  ) {
    channel.start(
      (frame, fds, truncated) => {
        this.fdsReceived += fds.length;
        if (!keepFds) for (const fd of fds) native.closeFd(fd);
        const decoded = decodeFrame(frame);
        this.inbox.push({
          frame,
          fds,
          truncated,
          message: decoded._tag === 'Right' ? decoded.right : undefined,
          error: decoded._tag === 'Left' ? decoded.left.message : undefined,
        });
        for (const l of [...this.listeners]) l();
      },
      () => {
        this.ended = true;
        this.inbox.push(null);
        for (const l of [...this.listeners]) l();
      },
    );
  }

  static connect(native: NativeBinding, address: string, keepFds = false): RawPeer {
    return new RawPeer(native, native.ControlChannel.connect(address), keepFds);
  }

  /** Calls `listener` whenever a datagram or EOF arrives; returns the unsubscribe. */
  onActivity(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Something (a datagram or EOF) is waiting to be read. */
  get readable(): boolean {
    return this.inbox.length > 0 || this.ended || this.channel.closed;
  }

  /** The next datagram, or `null` for EOF; fails after `ms`. */
  async next(ms = 2000): Promise<Received | null> {
    await waitUntil(() => this.readable, [(l) => this.onActivity(l)], ms, 'raw peer: a reply');
    return this.inbox.shift() ?? null;
  }

  /** The next datagram, which must decode as `type`. */
  async expect<K extends ControlMessage['type']>(
    type: K,
    ms = 2000,
  ): Promise<Extract<ControlMessage, { type: K }> & { fds: readonly number[] }> {
    const r = await this.next(ms);
    if (r?.message?.type !== type)
      throw new Error(`raw peer: expected ${type}, got ${describeReceived(r)}`);
    return { ...(r.message as Extract<ControlMessage, { type: K }>), fds: r.fds };
  }

  /** Reads up to EOF (each datagram within `ms`): the DISCONNECT reason, and what else came. */
  async drain(ms = 2000): Promise<{ disconnect: string | undefined; others: string[] }> {
    let disconnect: string | undefined;
    const others: string[] = [];
    for (;;) {
      const r = await this.next(ms);
      if (r === null) return { disconnect, others };
      if (r.message?.type === 'disconnect') disconnect = r.message.reason;
      else others.push(describeReceived(r));
    }
  }

  /** Sends raw bytes (any length but 0) with at most one fd; returns the error code or null. */
  send(bytes: Uint8Array, fd?: number): string | null {
    try {
      this.channel.send(bytes, fd);
      return null;
    } catch (e) {
      return (e as { code?: string }).code ?? String(e);
    }
  }

  /** Sends, and fails the test when the socket refuses. */
  mustSend(bytes: Uint8Array, fd?: number): void {
    const error = this.send(bytes, fd);
    if (error !== null) throw new Error(`raw peer: send failed with ${error}`);
  }

  close(): void {
    this.channel.close();
    // Whatever is still queued was received: close its fds if we own them.
    if (!this.keepFds) return;
    for (const r of this.inbox) if (r) for (const fd of r.fds) this.native.closeFd(fd);
  }
}

/** A raw listener (the hostile server): hands out accepted connections in order. */
export class HostileServer {
  private readonly listener: NativeControlListener;
  private readonly accepted: NativeControlChannel[] = [];
  private wake: (() => void) | undefined;
  acceptErrors = 0;

  constructor(
    private readonly native: NativeBinding,
    readonly address: string,
    private readonly keepFds = false,
  ) {
    this.listener = native.ControlListener.listen(
      address,
      (channel) => {
        this.accepted.push(channel);
        this.wake?.();
      },
      () => this.acceptErrors++,
    );
  }

  async accept(ms = 3000): Promise<RawPeer> {
    await waitUntil(
      () => this.accepted.length > 0,
      [
        (l) => {
          this.wake = l;
          return () => (this.wake = undefined);
        },
      ],
      ms,
      'hostile server: a connection',
    );
    const channel = this.accepted.shift();
    if (!channel) throw new Error('hostile server: woken without a connection');
    return new RawPeer(this.native, channel, this.keepFds);
  }

  close(): void {
    for (const channel of this.accepted.splice(0)) channel.close();
    this.listener.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Memory a hostile client hands out

/** Where the rings of {@link HostileMemory} are. */
export interface HostileLayout {
  readonly log2: number;
  readonly stride: number;
  readonly s2mOffset: number;
  readonly m2sOffset: number;
  readonly size: number;
}

export const hostileLayout = (cacheLine: number, log2 = 1, bufferSize = 64): HostileLayout => {
  const stride = 2 * cacheLine + 16 * (1 << log2);
  return {
    log2,
    stride,
    s2mOffset: 0,
    m2sOffset: stride,
    size: 2 * stride + 2 * (1 << log2) * bufferSize,
  };
};

/**
 * A correct single-region memory (one S2M and one M2S ring, cookies set, descriptors pointing at
 * buffers) plus the odd fds a hostile peer likes to send instead: a small sealed memfd, an
 * unsealed plain file of the right size, /dev/null, a spare eventfd.
 */
export class HostileMemory {
  readonly layout: HostileLayout;
  readonly region: NativeRegion;
  readonly s2m: NativeEventFd;
  readonly m2s: NativeEventFd;
  readonly smallRegion: NativeRegion;
  readonly spareEventFd: NativeEventFd;
  readonly unsealedFd: number;
  readonly devNullFd: number;
  private readonly unsealedPath: string;

  constructor(native: NativeBinding, dir: string) {
    this.layout = hostileLayout(native.cacheLineSize);
    this.region = native.Region.create('hostile region', this.layout.size);
    HostileMemory.format(this.region.buffer, this.layout, native.cacheLineSize);
    this.s2m = native.EventFd.create();
    this.m2s = native.EventFd.create();
    this.smallRegion = native.Region.create('hostile small region', 64);
    this.spareEventFd = native.EventFd.create();
    this.unsealedPath = `${dir}/hostile-unsealed-${process.pid}`;
    this.unsealedFd = fs.openSync(this.unsealedPath, 'w+');
    fs.ftruncateSync(this.unsealedFd, this.layout.size);
    this.devNullFd = fs.openSync('/dev/null', 'r');
  }

  /** Writes cookies and descriptors as a correct client would. */
  static format(buffer: ArrayBuffer, layout: HostileLayout, cacheLine: number): void {
    const view = new DataView(buffer);
    const slots = 1 << layout.log2;
    [layout.s2mOffset, layout.m2sOffset].forEach((ring, r) => {
      view.setUint32(ring, COOKIE, true);
      view.setUint16(ring + 4, 0, true);
      view.setUint16(ring + 6, 0, true);
      view.setUint16(ring + cacheLine, 0, true);
      for (let j = 0; j < slots; j++) {
        const d = ring + 2 * cacheLine + 16 * j;
        view.setUint16(d, 0, true);
        view.setUint16(d + 2, 0, true);
        view.setUint32(d + 4, 64, true);
        view.setUint32(d + 8, 2 * layout.stride + (r * slots + j) * 64, true);
      }
    });
  }

  close(): void {
    this.region.close();
    this.s2m.close();
    this.m2s.close();
    this.smallRegion.close();
    this.spareEventFd.close();
    fs.closeSync(this.unsealedFd);
    fs.closeSync(this.devNullFd);
    fs.rmSync(this.unsealedPath, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Driving a handshake by hand, up to step k

/**
 * Steps of a hostile *client* against our server: after step k the peer has done the first k
 * of: read HELLO, INIT→ACK, ADD_REGION→ACK, ADD_RING(S2M)→ACK, ADD_RING(M2S)→ACK,
 * CONNECT→CONNECTED.
 */
export const CLIENT_STEPS = [
  'connected socket',
  'got HELLO',
  'INIT acked',
  'ADD_REGION acked',
  'ADD_RING s2m acked',
  'ADD_RING m2s acked',
  'CONNECTED',
] as const;

/** The frame a correct client sends after step k (k < 6), with its fd. */
export const clientFrameAfter = (
  k: number,
  mem: HostileMemory,
  id = 0,
): { bytes: Uint8Array; fd?: number } => {
  const { layout } = mem;
  switch (k) {
    case 0:
    case 1:
      return { bytes: frames.init(id) };
    case 2:
      return { bytes: frames.addRegion(0, layout.size), fd: mem.region.fd };
    case 3:
      return { bytes: frames.addRing(true, 0, 0, layout.s2mOffset, layout.log2), fd: mem.s2m.fd };
    case 4:
      return { bytes: frames.addRing(false, 0, 0, layout.m2sOffset, layout.log2), fd: mem.m2s.fd };
    default:
      return { bytes: frames.connect() };
  }
};

const CLIENT_REPLIES = ['hello', 'ack', 'ack', 'ack', 'ack', 'connected'] as const;

/** Drives a hostile client through the first `k` steps; every reply must be the right one. */
export const driveClient = async (
  peer: RawPeer,
  k: number,
  mem: HostileMemory,
  id = 0,
  ms = 2000,
): Promise<void> => {
  if (k >= 1) await peer.expect('hello', ms);
  for (let step = 1; step < k; step++) {
    const { bytes, fd } = clientFrameAfter(step, mem, id);
    peer.mustSend(bytes, fd);
    await peer.expect(CLIENT_REPLIES[step], ms);
  }
};

/**
 * Steps of a hostile *server* against our client: after step k the peer has done the first k
 * of: HELLO→INIT, ACK→ADD_REGION, ACK→ADD_RING(S2M), ACK→ADD_RING(M2S), ACK→CONNECT,
 * CONNECTED (our client is then up).
 */
export const SERVER_STEPS = [
  'accepted',
  'HELLO sent, got INIT',
  'ACK sent, got ADD_REGION',
  'ACK sent, got ADD_RING s2m',
  'ACK sent, got ADD_RING m2s',
  'ACK sent, got CONNECT',
  'CONNECTED sent',
] as const;

const SERVER_EXPECTS = ['init', 'add-region', 'add-ring', 'add-ring', 'connect'] as const;

/** The frame a correct server sends after step k (k < 6). */
export const serverFrameAfter = (k: number): Uint8Array =>
  k === 0 ? frames.hello() : k === 5 ? frames.connected() : frames.ack();

/** Drives a hostile server through the first `k` steps, checking what our client sends. */
export const driveServer = async (peer: RawPeer, k: number, ms = 2000): Promise<void> => {
  for (let step = 0; step < k; step++) {
    peer.mustSend(serverFrameAfter(step));
    if (step < 5) await peer.expect(SERVER_EXPECTS[step], ms);
  }
};

// ---------------------------------------------------------------------------------------------
// Watching our interface

/** Records every state of an interface and waits for one after a mark. */
export class StateLog {
  readonly states: ConnectionState[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(iface: MemifInterface) {
    iface.state$.subscribe((s) => {
      this.states.push(s);
      for (const l of [...this.listeners]) l();
    });
  }

  get length(): number {
    return this.states.length;
  }

  get last(): ConnectionState | undefined {
    return this.states.at(-1);
  }

  since(mark: number): ConnectionState[] {
    return this.states.slice(mark);
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The first state at index >= `from` that satisfies `pred`, if any yet. */
  find(pred: (s: ConnectionState) => boolean, from = 0): ConnectionState | undefined {
    return this.states.slice(from).find(pred);
  }

  /** The first state at index >= `from` that satisfies `pred`. */
  async waitFor(
    pred: (s: ConnectionState) => boolean,
    from = 0,
    ms = 3000,
    what = 'a state',
  ): Promise<ConnectionState> {
    try {
      await waitUntil(
        () => this.find(pred, from) !== undefined,
        [(l) => this.onChange(l)],
        ms,
        what,
      );
    } catch {
      throw new Error(
        `no ${what} within ${ms} ms; states since: ${JSON.stringify(this.states.slice(from))}`,
      );
    }
    return this.find(pred, from) as ConnectionState;
  }
}
