import * as path from 'node:path';
import { memif } from '../../src/index';
import { decodeFrame } from '../../src/control/codec';
import type { ConnectionState, MemifInterface } from '../../src/index';
import type { NativeBinding } from '../../src/native-bridge/native';
import {
  CLIENT_STEPS,
  COOKIE,
  FIELDS,
  FRAME,
  HostileMemory,
  HostileServer,
  RawPeer,
  SERVER_STEPS,
  StateLog,
  T,
  clientFrameAfter,
  describeReceived,
  driveClient,
  driveServer,
  frames,
  serverFrameAfter,
  typeName,
  waitUntil,
} from './hostile-peer';
import type { Field, Received } from './hostile-peer';
import { Prng } from './prng';

/**
 * The fuzz campaign shared by `test/hardening/fuzz.spec.ts` (a short run) and `npm run fuzz`
 * (10^5 frames): a hostile peer drives a handshake correctly up to a random step, then injects
 * one random or mutated datagram (with or without a stray fd), and checks what our interface
 * does with it. One injected frame per connection.
 */

export type Target = 'server' | 'client';

/** How one datagram was made. */
export type Strategy = 'valid' | 'flip' | 'field' | 'type' | 'random' | 'size';

/** What our side did with it. */
export type Outcome =
  /** DISCONNECT with a reason, then EOF. */
  | 'rejected'
  /** EOF without a DISCONNECT (right when the injection was itself a DISCONNECT). */
  | 'closed'
  /** The right next message: the handshake went on. */
  | 'carried-on';

export interface CampaignStats {
  target: Target;
  frames: number;
  ms: number;
  byStep: number[];
  byStrategy: Record<string, number>;
  byOutcome: Record<string, number>;
  withFd: Record<string, number>;
  /** Local disconnect reasons our interface published, with counts (digits folded). */
  reasons: Map<string, number>;
  /** Size of the datagrams sent. */
  sizes: { short: number; exact: number; long: number };
}

export interface Injection {
  bytes: Uint8Array;
  fd: number | undefined;
  fdKind: string;
  strategy: Strategy;
  template: string;
}

interface Template {
  bytes: Uint8Array;
  fd?: number;
}

/** Valid frames of every type, as this role's peer would see them at step k. */
const templates = (mem: HostileMemory, next: Template | undefined): Template[] => {
  const { layout } = mem;
  const all: Template[] = [
    { bytes: frames.none() },
    { bytes: frames.ack() },
    { bytes: frames.hello() },
    { bytes: frames.init(0) },
    { bytes: frames.addRegion(0, layout.size), fd: mem.region.fd },
    { bytes: frames.addRing(true, 0, 0, layout.s2mOffset, layout.log2), fd: mem.s2m.fd },
    { bytes: frames.addRing(false, 0, 0, layout.m2sOffset, layout.log2), fd: mem.m2s.fd },
    { bytes: frames.connect() },
    { bytes: frames.connected() },
    { bytes: frames.disconnect() },
  ];
  return next ? [...all.map(() => next), ...all] : all;
};

const fdPool = (mem: HostileMemory): Record<string, number | undefined> => ({
  none: undefined,
  region: mem.region.fd,
  'small-memfd': mem.smallRegion.fd,
  'unsealed-file': mem.unsealedFd,
  eventfd: mem.spareEventFd.fd,
  'dev-null': mem.devNullFd,
});

const boundaryValues = (size: 1 | 2 | 4 | 8): bigint[] => {
  const max = (1n << BigInt(8 * size)) - 1n;
  return [0n, 1n, 2n, 14n, 15n, 255n, 256n, 0x1ffn, 0x200n, 0x201n, max, max - 1n, max >> 1n]
    .filter((v) => v <= max)
    .concat([max + 1n]) // wraps to 0 below
    .map((v) => v & max);
};

const writeNumber = (bytes: Uint8Array, f: Field, v: bigint): void => {
  for (let i = 0; i < f.size; i++) bytes[f.offset + i] = Number((v >> BigInt(8 * i)) & 0xffn);
};

const mutateField = (prng: Prng, bytes: Uint8Array, f: Field): void => {
  if (f.size === 24 || f.size === 32 || f.size === 96) {
    const field = bytes.subarray(f.offset, f.offset + f.size);
    switch (prng.int(5)) {
      case 0: // no NUL anywhere
        field.fill(0x41);
        return;
      case 1: // invalid UTF-8 before the NUL
        field.fill(0);
        field.set([0xff, 0xfe, 0xc3]);
        return;
      case 2: // exactly full with a NUL at the end
        field.fill(0x62);
        field[f.size - 1] = 0;
        return;
      case 3: // random bytes
        field.set(prng.bytes(f.size));
        return;
      default: // an empty string
        field.fill(0);
        return;
    }
  }
  const mask = (1n << BigInt(8 * f.size)) - 1n;
  let v: bigint;
  const how = prng.u32() % 20;
  if (how < 7) {
    // Arithmetic, as AFL does: the current value plus or minus a little (an odd ring offset,
    // an index one too far, a size one short).
    let current = 0n;
    for (let i = f.size - 1; i >= 0; i--) current = (current << 8n) | BigInt(bytes[f.offset + i]);
    const delta = BigInt(prng.chance(0.8) ? prng.range(1, 16) : 1 << prng.int(31));
    v = prng.chance(0.5) ? current + delta : current - delta;
  } else if (how < 16) v = prng.pick(boundaryValues(f.size));
  else v = BigInt(prng.u32()) | (f.size === 8 ? BigInt(prng.u32()) << 32n : 0n);
  writeNumber(bytes, f, v & mask);
};

/** One datagram to inject, made from the templates by a random strategy. */
export const makeInjection = (
  prng: Prng,
  mem: HostileMemory,
  next: Template | undefined,
): Injection => {
  const template = prng.pick(templates(mem, next));
  const type = template.bytes[0] | (template.bytes[1] << 8);
  const strategy = prng.weighted<Strategy>({
    valid: 10,
    flip: 30,
    field: 25,
    type: 8,
    random: 12,
    size: 15,
  });
  let bytes: Uint8Array = Uint8Array.from(template.bytes);
  switch (strategy) {
    case 'valid':
      break;
    case 'flip': {
      const flips = prng.range(1, 4);
      for (let i = 0; i < flips; i++) {
        const at = prng.chance(0.75) ? prng.int(48) : prng.int(FRAME);
        bytes[at] ^= prng.chance(0.5) ? 1 << prng.int(8) : prng.range(1, 255);
      }
      break;
    }
    case 'field': {
      const fields = FIELDS[type] ?? FIELDS[T.ack];
      const count = prng.chance(0.8) ? 1 : 2;
      for (let i = 0; i < count; i++) mutateField(prng, bytes, prng.pick(fields));
      break;
    }
    case 'type': {
      const t = prng.chance(0.8) ? prng.int(12) : prng.u32() & 0xffff;
      bytes[0] = t & 0xff;
      bytes[1] = t >> 8;
      break;
    }
    case 'random': {
      bytes = prng.bytes(FRAME);
      if (prng.chance(0.7)) {
        bytes[0] = prng.int(10);
        bytes[1] = 0;
      }
      break;
    }
    case 'size': {
      let length = prng.range(1, 300);
      if (length === FRAME) length = FRAME + 1;
      const out = prng.chance(0.5) ? prng.bytes(length) : new Uint8Array(length);
      out.set(bytes.subarray(0, Math.min(length, FRAME)));
      bytes = out;
      break;
    }
  }
  const pool = fdPool(mem);
  const natural = template.fd !== undefined && prng.chance(0.6);
  const fdKind = natural
    ? 'natural'
    : prng.chance(template.fd !== undefined ? 0.5 : 0.3)
      ? prng.pick(Object.keys(pool).filter((k) => k !== 'none'))
      : 'none';
  const fd = natural ? template.fd : pool[fdKind];
  return { bytes, fd, fdKind, strategy, template: typeName(type) };
};

const newStats = (target: Target): CampaignStats => ({
  target,
  frames: 0,
  ms: 0,
  byStep: Array(7).fill(0),
  byStrategy: {},
  byOutcome: {},
  withFd: {},
  reasons: new Map(),
  sizes: { short: 0, exact: 0, long: 0 },
});

const bump = (record: Record<string, number>, key: string) => {
  record[key] = (record[key] ?? 0) + 1;
};

/** Folds numbers out of a reason so that reasons group (`region 0 has size 0` → `region N ...`). */
const foldReason = (reason: string): string =>
  reason.replace(/0x[0-9a-f]+/gi, 'X').replace(/\d+/g, 'N');

const describeInjection = (i: Injection): string =>
  `${i.strategy} ${i.template} (${i.bytes.length} bytes, fd ${i.fdKind}): ` +
  Buffer.from(i.bytes.subarray(0, 48)).toString('hex');

/** The messages our side may answer with when it takes an injected frame as valid. */
const CARRY_ON: Record<Target, readonly string[]> = {
  server: ['ack', 'connected'],
  client: ['init', 'add-region', 'add-ring', 'connect'],
};

/** Reads a DISCONNECT (with a reason) and EOF after it; returns the reason. */
const readRefusal = async (target: Target, first: Received | null, peer: RawPeer, ms: number) => {
  if (first?.message?.type !== 'disconnect')
    throw new Error(`our ${target} answered ${describeReceived(first)}`);
  if (first.message.reason === '')
    throw new Error(`our ${target} sent DISCONNECT without a reason`);
  const rest = await peer.drain(ms);
  if (rest.others.length > 0 || rest.disconnect !== undefined)
    throw new Error(`our ${target} sent more after DISCONNECT: ${rest.others.join(', ')}`);
  return first.message.reason;
};

/**
 * Reads our side's answer to an injection: a frame that carries the handshake on, or a
 * DISCONNECT (with a reason) followed by EOF, or a bare EOF. Anything else fails.
 */
const readOutcome = async (
  target: Target,
  peer: RawPeer,
  injection: Injection,
  sendError: string | null,
  ms: number,
  silentCarryOn?: { log: StateLog; mark: number },
): Promise<{ outcome: Outcome; reason?: string; reply?: string }> => {
  if (silentCarryOn) {
    // CONNECTED has no answer: a client that took it shows up as connected instead.
    const { log, mark } = silentCarryOn;
    const up = () => log.find((s) => s.status === 'connected', mark) !== undefined;
    await waitUntil(
      () => peer.readable || up(),
      [(l) => peer.onActivity(l), (l) => log.onChange(l)],
      ms,
      `our ${target}: an answer or a state`,
    );
    if (!peer.readable) return { outcome: 'carried-on', reply: 'connected' };
  }
  const first: Received | null = await peer.next(ms);
  if (first === null) {
    // Our side ends a connection without saying why only when the peer said goodbye first.
    const sent = decodeFrame(injection.bytes);
    if (sent._tag === 'Right' && sent.right.type === 'disconnect') return { outcome: 'closed' };
    throw new Error(`our ${target} closed without a DISCONNECT`);
  }
  if (!first.message)
    throw new Error(`our ${target} sent an undecodable frame: ${describeReceived(first)}`);
  if (first.message.type === 'disconnect')
    return { outcome: 'rejected', reason: await readRefusal(target, first, peer, ms) };
  if (sendError !== null)
    throw new Error(`send failed (${sendError}) yet our ${target} answered ${first.message.type}`);
  if (!CARRY_ON[target].includes(first.message.type))
    throw new Error(`our ${target} answered ${describeReceived(first)}, not a handshake reply`);
  return { outcome: 'carried-on', reply: first.message.type };
};

/** How a handshake that took an injected frame ended once the peer went on correctly. */
type Finish = { final: 'connected' } | { final: 'refused'; reason: string };

/**
 * Our server took the injected frame in place of the correct one after step k: the hostile
 * client goes on with the rest of a correct handshake, and every frame must be answered (ACK,
 * CONNECTED) or refused with a reason. This is where a frame that passed validation but
 * poisons a later step (a ring at an odd offset, say) shows.
 */
const finishAgainstServer = async (
  peer: RawPeer,
  k: number,
  reply: string,
  injection: Injection,
  mem: HostileMemory,
  ms: number,
): Promise<Finish> => {
  if (reply === 'connected') return { final: 'connected' };
  // A ring our server took where it was told: put a cookie there, so that CONNECT gets past the
  // cookie check and whatever comes after it (mapping, the data path) sees the odd ring.
  const taken = decodeFrame(injection.bytes);
  if (
    taken._tag === 'Right' &&
    taken.right.type === 'add-ring' &&
    taken.right.region === 0 &&
    k >= 3 && // region 0 is then the hostile region, announced at step 2
    taken.right.offset + 4 <= mem.layout.size
  )
    new DataView(mem.region.buffer).setUint32(taken.right.offset, COOKIE, true);
  for (let j = Math.max(k, 1) + 1; j <= 5; j++) {
    const { bytes, fd } = clientFrameAfter(j, mem);
    peer.send(bytes, fd);
    const r = await peer.next(ms);
    if (r?.message?.type === (j < 5 ? 'ack' : 'connected')) continue;
    return { final: 'refused', reason: await readRefusal('server', r, peer, ms) };
  }
  return { final: 'connected' };
};

/** The same for our client: the hostile server ACKs until CONNECT, then sends CONNECTED. */
const finishAgainstClient = async (
  peer: RawPeer,
  reply: string,
  log: StateLog,
  mark: number,
  ms: number,
): Promise<Finish> => {
  for (let last = reply, n = 0; n < 8; n++) {
    if (last === 'connected') return { final: 'connected' };
    if (last === 'connect') {
      peer.send(frames.connected());
      await log.waitFor((s) => s.status === 'connected', mark, ms, 'connected after CONNECTED');
      return { final: 'connected' };
    }
    peer.send(frames.ack());
    const r = await peer.next(ms);
    if (r?.message && CARRY_ON.client.includes(r.message.type)) last = r.message.type;
    else return { final: 'refused', reason: await readRefusal('client', r, peer, ms) };
  }
  throw new Error('our client never sent CONNECT');
};

export interface CampaignOptions {
  native: NativeBinding;
  dir: string;
  prng: Prng;
  frames: number;
  /** Per-reply timeout. */
  replyMs?: number;
  /** Progress lines (the long run). */
  progress?: (line: string) => void;
}

const fail = (message: string, injection: Injection, step: number, seed: number): never => {
  throw new Error(
    `${message}\n  at step ${step}, injection ${describeInjection(injection)}\n  replay: FUZZ_SEED=${seed}`,
  );
};

/** Every connection that bound our interface must end with `disconnected` and a reason. */
const checkEnded = (target: Target, seen: ConnectionState[]): ConnectionState | undefined => {
  const down = seen.find((s) => s.status === 'disconnected');
  if (down?.status === 'disconnected' && (down.reason === '' || !down.reason))
    throw new Error(`our ${target} published disconnected without a reason`);
  return down;
};

/** Fuzzes our server (`memif({ role: 'server' })`) with a hostile client. */
export const fuzzOurServer = async (o: CampaignOptions): Promise<CampaignStats> => {
  const { native, prng } = o;
  const ms = o.replyMs ?? 3000;
  const stats = newStats('server');
  const socket = path.join(o.dir, 'fuzz-server.sock');
  const mem = new HostileMemory(native, o.dir);
  const server = memif({
    role: 'server',
    socket,
    handshakeTimeoutMs: 10_000,
    interfaceName: 'fuzzed-server',
  });
  const log = new StateLog(server);
  const started = Date.now();
  try {
    await log.waitFor((s) => s.status === 'listening', 0, ms, 'listening');
    for (let i = 0; i < o.frames; i++) {
      const k = prng.int(CLIENT_STEPS.length);
      const next = k < 6 ? clientFrameAfter(k, mem) : undefined;
      const injection = makeInjection(prng, mem, next);
      const mark = log.length;
      HostileMemory.format(mem.region.buffer, mem.layout, native.cacheLineSize);
      const peer = RawPeer.connect(native, socket);
      try {
        await driveClient(peer, k, mem, 0, ms);
        const sendError = peer.send(injection.bytes, injection.fd);
        // At step 0 HELLO is already on its way: it comes first, whatever was injected.
        if (k === 0) await peer.expect('hello', ms);
        const first = await readOutcome('server', peer, injection, sendError, ms);
        const finish =
          first.outcome === 'carried-on'
            ? await finishAgainstServer(peer, k, first.reply ?? '', injection, mem, ms)
            : undefined;
        const outcome = finish?.final === 'refused' ? 'rejected' : first.outcome;
        const reason = finish?.final === 'refused' ? finish.reason : first.reason;
        peer.close();
        // Bound connections end on our interface; unbound ones end at the socket layer.
        const bound = log
          .since(mark)
          .some((s) => s.status === 'handshaking' || s.status === 'connected');
        if (bound) {
          const down = await log.waitFor(
            (s) => s.status === 'disconnected',
            mark,
            ms,
            'disconnected',
          );
          const at = log.states.indexOf(down);
          await log.waitFor((s) => s.status === 'listening', at, ms, 'listening again');
          checkEnded('server', log.since(mark));
          if (down.status === 'disconnected') {
            if (outcome === 'rejected' && down.by !== 'local')
              throw new Error(`rejected, but the state says by ${down.by}: ${down.reason}`);
            if (outcome === 'rejected' && reason && !down.reason.startsWith(reason))
              throw new Error(`peer was told "${reason}", state says "${down.reason}"`);
            if (down.by === 'local') {
              const r = foldReason(down.reason);
              stats.reasons.set(r, (stats.reasons.get(r) ?? 0) + 1);
            }
          }
        } else if (outcome === 'rejected' && reason) {
          const r = foldReason(reason);
          stats.reasons.set(r, (stats.reasons.get(r) ?? 0) + 1);
        }
        bump(
          stats.byOutcome,
          finish ? `carried-on, then ${finish.final === 'connected' ? 'up' : 'refused'}` : outcome,
        );
      } catch (e) {
        peer.close();
        fail((e as Error).message, injection, k, prng.seed);
      }
      stats.frames++;
      stats.byStep[k]++;
      bump(stats.byStrategy, injection.strategy);
      bump(stats.withFd, injection.fdKind);
      const len = injection.bytes.length;
      if (len < FRAME) stats.sizes.short++;
      else if (len === FRAME) stats.sizes.exact++;
      else stats.sizes.long++;
      if (o.progress && (i + 1) % 5000 === 0)
        o.progress(`server: ${i + 1} frames, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    // Afterwards a good client (our own) connects.
    const good = memif({ role: 'client', socket, retry: { initialMs: 20 } });
    try {
      await Promise.all([
        new StateLog(good).waitFor((s) => s.status === 'connected', 0, ms, 'good client up'),
        log.waitFor((s) => s.status === 'connected', log.length, ms, 'fuzzed server up'),
      ]);
    } finally {
      await good.close();
    }
  } finally {
    await server.close();
    mem.close();
  }
  stats.ms = Date.now() - started;
  return stats;
};

/** Fuzzes our client (`memif({ role: 'client' })`) with a hostile server (a raw listener). */
export const fuzzOurClient = async (o: CampaignOptions): Promise<CampaignStats> => {
  const { native, prng } = o;
  const ms = o.replyMs ?? 3000;
  const stats = newStats('client');
  const socket = path.join(o.dir, 'fuzz-client.sock');
  const mem = new HostileMemory(native, o.dir);
  const hostile = new HostileServer(native, socket);
  let client: MemifInterface | undefined;
  const started = Date.now();
  try {
    client = memif({
      role: 'client',
      socket,
      log2RingSize: 2,
      bufferSize: 256,
      retry: { initialMs: 1 },
      handshakeTimeoutMs: 10_000,
      interfaceName: 'fuzzed-client',
    });
    const log = new StateLog(client);
    for (let i = 0; i < o.frames; i++) {
      const k = prng.int(SERVER_STEPS.length);
      const next = k < 6 ? { bytes: serverFrameAfter(k) } : undefined;
      const injection = makeInjection(prng, mem, next);
      const peer = await hostile.accept(ms);
      const mark = log.length;
      try {
        await driveServer(peer, k, ms);
        if (k === 6)
          await log.waitFor((s) => s.status === 'connected', mark, ms, 'connected at step 6');
        const sendError = peer.send(injection.bytes, injection.fd);
        const first = await readOutcome('client', peer, injection, sendError, ms, { log, mark });
        const finish =
          first.outcome === 'carried-on'
            ? await finishAgainstClient(peer, first.reply ?? '', log, mark, ms)
            : undefined;
        const outcome = finish?.final === 'refused' ? 'rejected' : first.outcome;
        const reason = finish?.final === 'refused' ? finish.reason : first.reason;
        peer.close();
        const down = await log.waitFor(
          (s) => s.status === 'disconnected',
          mark,
          ms,
          'disconnected',
        );
        checkEnded('client', log.since(mark));
        if (down.status === 'disconnected') {
          if (outcome === 'rejected' && down.by !== 'local')
            throw new Error(`rejected, but the state says by ${down.by}: ${down.reason}`);
          if (outcome === 'rejected' && reason && !down.reason.startsWith(reason))
            throw new Error(`peer was told "${reason}", state says "${down.reason}"`);
          if (down.by === 'local') {
            const r = foldReason(down.reason);
            stats.reasons.set(r, (stats.reasons.get(r) ?? 0) + 1);
          }
        }
        bump(
          stats.byOutcome,
          finish ? `carried-on, then ${finish.final === 'connected' ? 'up' : 'refused'}` : outcome,
        );
      } catch (e) {
        peer.close();
        fail((e as Error).message, injection, k, prng.seed);
      }
      stats.frames++;
      stats.byStep[k]++;
      bump(stats.byStrategy, injection.strategy);
      bump(stats.withFd, injection.fdKind);
      const len = injection.bytes.length;
      if (len < FRAME) stats.sizes.short++;
      else if (len === FRAME) stats.sizes.exact++;
      else stats.sizes.long++;
      if (o.progress && (i + 1) % 5000 === 0)
        o.progress(`client: ${i + 1} frames, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    // Afterwards a good server (our own) takes the socket and the fuzzed client connects to it.
    hostile.close();
    const good = memif({ role: 'server', socket });
    try {
      const mark = log.length;
      await Promise.all([
        new StateLog(good).waitFor((s) => s.status === 'connected', 0, ms, 'good server up'),
        log.waitFor((s) => s.status === 'connected', mark, ms, 'fuzzed client up'),
      ]);
    } finally {
      await client.close();
      await good.close();
    }
  } finally {
    hostile.close();
    await client?.close();
    mem.close();
  }
  stats.ms = Date.now() - started;
  return stats;
};

/** A few lines for humans. */
export const formatStats = (s: CampaignStats): string => {
  const reasons = [...s.reasons.entries()].sort((a, b) => b[1] - a[1]);
  return [
    `our ${s.target}: ${s.frames} frames in ${(s.ms / 1000).toFixed(1)} s ` +
      `(${Math.round(s.frames / (s.ms / 1000))}/s)`,
    `  by step: ${s.byStep.map((n, k) => `${k}:${n}`).join(' ')}`,
    `  by strategy: ${JSON.stringify(s.byStrategy)}`,
    `  fds attached: ${JSON.stringify(s.withFd)}`,
    `  sizes: ${JSON.stringify(s.sizes)}`,
    `  outcomes: ${JSON.stringify(s.byOutcome)}`,
    `  ${reasons.length} distinct local reasons; top: ` +
      reasons
        .slice(0, 8)
        .map(([r, n]) => `${n}× ${r}`)
        .join(' | '),
  ].join('\n');
};
