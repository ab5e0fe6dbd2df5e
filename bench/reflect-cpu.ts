/**
 * CPU time per reflected packet, in one process and without testpmd (docs/tuning.md,
 * "Per-packet tx"): a JS peer over the same shared memory fills our server's rx ring and empties
 * its tx ring, and the reflector in between is the library's own RxPort → `rx()` → TxPort (or
 * the burst path). CPU time rather than wall time, so that a busy shared machine changes the
 * figure little; it includes the peer's two native calls per burst, the same in any A/B.
 *
 *   taskset -c 0 node -r ts-node/register/transpile-only bench/reflect-cpu.ts
 *   API=burst BURST=256 taskset -c 0 node -r ts-node/register/transpile-only bench/reflect-cpu.ts
 *
 * `API=sink`: one way instead, `rx()` into a counter (nothing is sent back).
 */
import { loadNative } from '../src/native-bridge';
import type { NativeQueueConfig } from '../src/native-bridge';
import { QUEUE_COUNTERS } from '../src/native-bridge/native';
import { bufferOffset, clientLayout } from '../src/control/layout';
import { createClientMemory } from '../src/control/runtime/memory';
import { RxPort } from '../src/streams/rx-port';
import { TxPort } from '../src/streams/tx-port';
import { perPacket } from '../src/streams/per-packet';

const native = loadNative();
const LOG2_RING = 10;
const BURST = Number(process.env.BURST ?? 32);
const API = process.env.API === 'burst' || process.env.API === 'sink' ? process.env.API : 'packet';
const layout = clientLayout({
  cacheLineSize: native.cacheLineSize,
  log2RingSize: LOG2_RING,
  bufferSize: 2048,
  s2mRings: 1,
  m2sRings: 1,
});
const { memory } = createClientMemory(native, layout, 'rx-memif reflect-cpu');

const config = (role: 'client' | 'server', direction: 'rx' | 'tx'): NativeQueueConfig => {
  const ringDirection = (role === 'client') === (direction === 'tx') ? 'm2s' : 's2m';
  const ring = memory.rings.find((r) => r.direction === ringDirection)!;
  const placement = layout.rings.find((p) => p.direction === ringDirection && p.index === 0)!;
  return {
    role,
    direction,
    regions: memory.regions,
    ringRegion: ring.region,
    ringOffset: ring.offset,
    log2RingSize: LOG2_RING,
    bufferSize: role === 'client' ? 2048 : 0,
    bufferRegion: 0,
    bufferBase: role === 'client' ? bufferOffset(layout, placement, 0) : 0,
    eventFd: ring.eventFd,
    maxPacketSize: 64 * 1024,
    counters: new Float64Array(QUEUE_COUNTERS),
  };
};

const peerTx = native.Queue.create(config('client', 'tx'));
const peerRx = native.Queue.create(config('client', 'rx'));
const ourRx = native.Queue.create(config('server', 'rx'));
const ourTx = native.Queue.create(config('server', 'tx'));
peerRx.refill();
// Polling on both sides: no eventfd writes in the figure.
ourRx.setInterruptMask(true);
peerRx.setInterruptMask(true);

const frames = new Uint8Array(64 * BURST);
const viewOf = new Uint32Array(BURST);
const offsets = Uint32Array.from({ length: BURST }, (_, i) => i * 64);
const lengths = new Uint32Array(BURST).fill(64);
const back = { slab: new Uint8Array(1 << 20), offsets: new Uint32Array(1024) };
const backLengths = new Uint32Array(1024);

const rx = new RxPort(0);
rx.attach(
  ourRx,
  false,
  memory.regions.map((r) => r.buffer),
);
const tx = new TxPort(0, { queueSize: 8192, lossless: false });
tx.attach(ourTx);
let sunk = 0;
if (API === 'sink') {
  perPacket(rx.bursts).subscribe(() => sunk++);
} else if (API === 'packet') {
  const out = tx.observer;
  perPacket(rx.bursts).subscribe((p) => out.next(p));
} else {
  const out = tx.burstObserver;
  rx.bursts.subscribe((b) => out.next(b));
}

/** `bursts` round trips of BURST packets: peer sends, we read and reflect, peer reads. */
const round = async (bursts: number): Promise<number> => {
  const t = process.cpuUsage();
  for (let k = 0; k < bursts; k++) {
    const sent = peerTx.transmitViews([frames], 1, viewOf, offsets, lengths, BURST);
    rx.drain(256);
    tx.flush();
    const got =
      API === 'sink' ? sent : peerRx.receive(back.slab, 0, back.offsets, backLengths, 1024);
    if (API !== 'sink') peerRx.refill();
    if (sent !== BURST || got !== BURST) throw new Error(`lost packets: sent ${sent}, got ${got}`);
    // Let the microtasks and immediates of the ports run, as the event loop would.
    if ((k & 63) === 63) await new Promise((resolve) => setImmediate(resolve));
  }
  const d = process.cpuUsage(t);
  return ((d.user + d.system) * 1000) / (bursts * BURST);
};

const main = async () => {
  for (let i = 0; i < 3; i++) await round(20000);
  const runs: number[] = [];
  for (let i = 0; i < 21; i++) runs.push(await round(20000));
  runs.sort((a, b) => a - b);
  console.log(
    `reflect ${API}, ${BURST}-packet bursts: median ${runs[10].toFixed(1)} ns CPU per packet ` +
      `(min ${runs[0].toFixed(1)}; peer included)`,
  );
  if (API === 'sink' && sunk === 0) throw new Error('nothing received');
  for (const q of [peerTx, peerRx, ourRx, ourTx]) q.close();
  rx.complete();
  tx.complete();
};
void main();
