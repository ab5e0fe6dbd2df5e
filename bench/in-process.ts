import { firstValueFrom, filter, timeout } from 'rxjs';
import type { Subscription } from 'rxjs';
import { memif } from '../src/index';
import type { MemifInterface, RxMode } from '../src/index';
import type { Testpmd } from '../test/helpers/testpmd';
import type { GcMeter, MemoryUse } from './gc-meter';
import { generatorArgs, linkUp, otherRole, sleep, socketPath, testpmd } from './peers';
import type { Role } from './peers';
import { quantile } from './stats';
import { testpmdRxPps } from './testpmd-output';

/**
 * rx-memif in this process (pinned to CPU 0, see peers.ts), through the public API only, so the
 * bench measures whatever the library is: one way as the receiver, round trip as the reflector.
 */

/** One direction's counts of the reflector and of the generator, for the overload table. */
export interface Exchange {
  readonly generatorSent?: number;
  readonly generatorDropped?: number;
  readonly reflectorReceived: number;
  readonly reflectorSent: number;
  readonly generatorReceived?: number;
  readonly reflectorDrops: Record<string, number>;
}

export interface OursRun {
  readonly rate: number;
  /** False when the testpmd peer crashed (no statistics at its stop): the run is retried. */
  readonly ok: boolean;
  readonly exchange?: Exchange;
  readonly memory?: MemoryUse;
}

const connected = (i: MemifInterface) =>
  firstValueFrom(
    i.state$.pipe(
      filter((s) => s.status === 'connected'),
      timeout(15000),
    ),
  );

const totals = (iface: MemifInterface) => {
  const s = iface.stats();
  const drops: Record<string, number> = {};
  for (const q of [...s.rx, ...s.tx])
    for (const [k, n] of Object.entries(q.drops)) drops[k] = (drops[k] ?? 0) + (n ?? 0);
  return {
    received: s.rx.reduce((n, q) => n + q.packets, 0),
    sent: s.tx.reduce((n, q) => n + q.packets, 0),
    drops,
  };
};

/** How the receiving side reads: bursts (copy mode, the default), `rx()`, or zeroCopyRx bursts. */
export type OneWayApi = 'copy' | 'packet' | 'zeroCopyRx';
/** How the reflector forwards: `rxBursts()` → `txBursts()`, or `rx()` → `tx()`. */
export type ReflectApi = 'burst' | 'packet';

const finish = async (
  iface: MemifInterface,
  sub: Subscription | undefined,
  peers: Testpmd[],
): Promise<void> => {
  sub?.unsubscribe();
  for (const t of peers) await t.stop();
  await iface.close();
  await Promise.all(peers.map((t) => t.closed));
};

/** testpmd txonly (client, CPU 1) → rx-memif server; our receive rate over `secs`. */
export const oneWayOurs = async (
  size: number,
  api: OneWayApi,
  secs: number,
  meter: GcMeter,
): Promise<OursRun> => {
  const socket = socketPath();
  const iface = memif({
    role: 'server',
    socket,
    rxMode: 'polling',
    zeroCopyRx: api === 'zeroCopyRx',
  });
  let count = 0;
  const sub =
    api === 'packet'
      ? iface.rx().subscribe(() => count++)
      : iface.rxBursts().subscribe((b) => (count += b.count));
  const tx = testpmd('client', socket, 'txonly', 1, generatorArgs(size));
  try {
    await connected(iface);
    await sleep(700);
    const window = meter.window();
    const a = totals(iface).received;
    const t0 = performance.now();
    await sleep(secs * 1000);
    const rate = (totals(iface).received - a) / ((performance.now() - t0) / 1000);
    const memory = await window.end();
    const ok = (await tx.stop()).length > 0;
    return { rate: count > 0 ? rate : 0, ok, memory };
  } catch (e) {
    console.error(`  one way ${api} failed: ${e instanceof Error ? e.message : e}`);
    return { rate: 0, ok: false };
  } finally {
    await finish(iface, sub, [tx]);
  }
};

/**
 * testpmd flowgen (the generator, CPU 1) ↔ rx-memif reflecting in `role` (CPU 0): the rate is
 * what flowgen receives back, packets/s per direction, as in the reference.
 */
export const roundTripOurs = async (
  role: Role,
  size: number,
  api: ReflectApi,
  secs: number,
  meter: GcMeter,
): Promise<OursRun> => {
  const socket = socketPath();
  const peers: Testpmd[] = [];
  // A testpmd server must listen before our client connects (our client would retry anyway).
  if (role === 'client') {
    peers.push(testpmd('server', socket, 'flowgen', 1, generatorArgs(size)));
    await peers[0].ready().catch(() => undefined);
  }
  const iface = memif({ role, socket, rxMode: 'polling' });
  let sub: Subscription | undefined;
  if (api === 'burst') {
    const out = iface.txBursts();
    sub = iface.rxBursts().subscribe((b) => out.next(b));
  } else {
    const out = iface.tx();
    sub = iface.rx().subscribe((p) => out.next(p));
  }
  if (role === 'server')
    peers.push(testpmd(otherRole(role), socket, 'flowgen', 1, generatorArgs(size)));
  const gen = peers[0];
  try {
    await connected(iface);
    await linkUp(gen);
    const window = meter.window();
    await sleep((secs + 1.5) * 1000);
    const rate = testpmdRxPps(gen.output);
    // The generator first, while the link is up (its counters read 0 once we are gone).
    const stats = (await gen.stop())[0];
    const memory = await window.end();
    const ours = totals(iface);
    return {
      rate,
      ok: stats !== undefined,
      memory,
      exchange: {
        generatorSent: stats?.txPackets,
        generatorDropped: stats?.txDropped,
        reflectorReceived: ours.received,
        reflectorSent: ours.sent,
        generatorReceived: stats?.rxPackets,
        reflectorDrops: ours.drops,
      },
    };
  } catch (e) {
    console.error(`  round trip ${role} ${api} failed: ${e instanceof Error ? e.message : e}`);
    return { rate: 0, ok: false };
  } finally {
    await finish(iface, sub, peers);
  }
};

export interface Latency {
  readonly median: number;
  readonly p99: number;
}

/**
 * Back-to-back latency: one 64 B frame in flight between our client (CPU 0) and testpmd io
 * (server, forwarding on CPU 1), sent again as soon as it is back; round-trip times in µs.
 */
export const latency = async (rxMode: RxMode, samples: number): Promise<Latency | undefined> => {
  const socket = socketPath();
  const io = testpmd('server', socket, 'io', 1);
  let iface: MemifInterface | undefined;
  let sub: Subscription | undefined;
  try {
    await io.ready();
    iface = memif({ role: 'client', socket, rxMode });
    await connected(iface);
    await linkUp(io);
    await sleep(300);
    const frame = new Uint8Array(64).fill(0xab);
    const rtts = new Float64Array(samples);
    const warmup = 1000;
    let n = -warmup;
    let sent = 0n;
    const tx = iface.tx();
    const rx = iface.rxBursts();
    await new Promise<void>((resolve, reject) => {
      let last = n;
      // A frame lost (or a crashed testpmd) would wait forever: give up when nothing moves.
      const watchdog = setInterval(() => {
        if (n === last) {
          clearInterval(watchdog);
          reject(new Error(`no echo for 2 s after ${n + warmup} frames`));
        }
        last = n;
      }, 2000);
      sub = rx.subscribe((b) => {
        const now = process.hrtime.bigint();
        if (n >= 0) rtts[n] = Number(now - sent) / 1000;
        n += b.count;
        if (n >= samples) {
          clearInterval(watchdog);
          return resolve();
        }
        sent = process.hrtime.bigint();
        tx.next(frame);
      });
      sent = process.hrtime.bigint();
      tx.next(frame);
    });
    const all = Array.from(rtts);
    return { median: quantile(all, 0.5) ?? NaN, p99: quantile(all, 0.99) ?? NaN };
  } catch (e) {
    console.error(`  latency ${rxMode} failed: ${e instanceof Error ? e.message : e}`);
    return undefined;
  } finally {
    sub?.unsubscribe();
    await iface?.close();
    await io.stop();
    await io.closed;
  }
};
