import { DESC_FLAG_NEXT } from '../../src/control/layout';
import { QUEUE_COUNTERS, QueueCounter } from '../../src/native-bridge/native';
import type { NativeBinding, NativeQueue } from '../../src/native-bridge/native';
import { countsOf, diffCounts } from './ring-model';
import { RingAccess, createRig } from './ring-rig';
import { fail } from './ring-target';
import type { Prng } from './prng';

/**
 * Rings that overlap. Our server refuses overlapping ADD_RINGs at the handshake
 * (control/handshake/server.ts), so the data path never gets them from a peer; this checks that
 * the native queues would still stay inside the mapping and keep their indices sane if it did.
 * The server's rx queue (S2M) and tx queue (a "M2S ring" whose header lies inside the S2M
 * descriptor table) run against a hostile client that writes both rings at random, so each
 * ring's descriptors are the other's indices and vice versa, and the buffers it offers may lie on
 * top of either ring. Nothing can be predicted exactly here: the checks are no crash (and, under
 * test:asan, no overlapping memcpy), per-call invariants, and a clean exchange afterwards.
 */

export interface OverlapStats {
  steps: number;
  rxPackets: number;
  txPackets: number;
  dropped: number;
}

const SLAB = new Uint8Array(8 * 65536);
const OFFSETS = new Uint32Array(1024);
const LENGTHS = new Uint32Array(1024);
const REGIONS = new Int32Array(1);

export const overlapSoak = (native: NativeBinding, prng: Prng, steps: number): OverlapStats => {
  const log2 = 5;
  const maxPacket = 9216;
  const rig = createRig(native, log2, 2048, prng);
  const n = rig.n;
  const s2m = rig.s2m;
  // 2-byte aligned, anywhere in the S2M descriptor table (header fields land in descriptors).
  const m2sOffset = 2 * native.cacheLineSize + 2 * prng.int(8 * n);
  const m2s = new RingAccess(rig.regions[0], m2sOffset, native.cacheLineSize, log2);
  const queue = (direction: 'rx' | 'tx', offset: number): { q: NativeQueue; c: Float64Array } => {
    const c = new Float64Array(QUEUE_COUNTERS);
    const q = native.Queue.create({
      role: 'server',
      direction,
      regions: rig.regions,
      ringRegion: 0,
      ringOffset: offset,
      log2RingSize: log2,
      bufferSize: 0,
      bufferRegion: 0,
      bufferBase: 0,
      eventFd: direction === 'rx' ? rig.s2mIrq : rig.m2sIrq,
      maxPacketSize: maxPacket,
      counters: c,
    });
    return { q, c };
  };
  const rx = queue('rx', 0);
  const tx = queue('tx', m2sOffset);
  const stats: OverlapStats = { steps, rxPackets: 0, txPackets: 0, dropped: 0 };
  let rxCursor = 0;
  const data = rig.bytes[1].subarray(0, 65536);
  const txOffsets = new Uint32Array(8);
  const txLengths = new Uint32Array(8);
  const randomDesc = (ring: RingAccess, index: number): void => {
    const region = prng.chance(0.9) ? prng.int(2) : prng.int(0x10000);
    const size = rig.sizes[region] ?? 65536;
    const length = prng.chance(0.8) ? prng.range(1, 4096) : prng.u32();
    const offset = prng.chance(0.8) ? prng.range(0, size - 1) : prng.u32();
    const flags = prng.chance(0.1) ? prng.u32() & 0xffff : prng.chance(0.3) ? DESC_FLAG_NEXT : 0;
    ring.write(index, { flags, region, length, offset }, prng.u32());
  };
  try {
    for (let step = 0; step < steps; step++) {
      switch (prng.int(4)) {
        case 0: {
          // Hostile client publishes on S2M (which is also the M2S header and descriptors).
          const k = prng.range(0, n);
          for (let i = 0; i < k; i++) randomDesc(s2m, s2m.head + i);
          s2m.head = prng.chance(0.05) ? prng.u32() : s2m.head + k;
          break;
        }
        case 1: {
          // ... and offers buffers on M2S (its descriptors overlap S2M's).
          const k = prng.range(0, n);
          for (let i = 0; i < k; i++) randomDesc(m2s, m2s.head + i);
          m2s.head = prng.chance(0.05) ? prng.u32() : m2s.head + k;
          break;
        }
        case 2: {
          const count = prng.range(1, 8);
          for (let i = 0; i < count; i++) {
            txOffsets[i] = prng.int(32768);
            txLengths[i] = prng.range(1, 3 * 2048);
          }
          const tail = m2s.tail;
          const sent = tx.q.transmit(data, txOffsets, txLengths, count);
          if (sent > count) fail(`transmit reported ${sent} of ${count}`);
          const moved = (m2s.tail - tail) & 0xffff;
          // Buffers the client offers may overlap the rings, tx's own tail included: what a call
          // publishes is stored over whatever its packets' bytes left there.
          if (sent > 0 && moved > n) fail(`server tx moved tail by ${moved}`);
          break;
        }
        default: {
          const zeroCopy = prng.chance(0.5);
          const max = prng.range(1, 2 * n);
          const before = countsOf(rx.c);
          const packets = zeroCopy
            ? rx.q.peek(SLAB, 0, REGIONS, OFFSETS, LENGTHS, max)
            : rx.q.receive(SLAB, 0, OFFSETS, LENGTHS, max);
          if (packets > max) fail(`rx reported ${packets} > ${max}`);
          const region = zeroCopy ? REGIONS[0] : -1;
          for (let i = 0; i < packets; i++) {
            if (LENGTHS[i] === 0 || LENGTHS[i] > maxPacket)
              fail(`rx packet of ${LENGTHS[i]} bytes`);
            const limit = region >= 0 ? rig.sizes[region] : SLAB.length;
            if (OFFSETS[i] + LENGTHS[i] > limit) fail(`rx packet beyond its buffer`);
          }
          if (zeroCopy) rx.q.release();
          const delta = diffCounts(countsOf(rx.c), before);
          if (delta.packets !== packets || delta.descriptors > n)
            fail(`rx: ${packets} packets, ${delta.descriptors} descriptors`);
          // rx keeps its cursor privately: the tail it stores is exactly what it consumed, even
          // when tx's packets (in buffers overlapping S2M) scribbled over the tail in between.
          rxCursor = (rxCursor + delta.descriptors) & 0xffff;
          if (delta.descriptors > 0 && s2m.tail !== rxCursor)
            fail(`rx stored tail ${s2m.tail}, consumed up to ${rxCursor}`);
          if (rx.q.pending() > n) fail(`pending() ${rx.q.pending()} > ${n}`);
          stats.rxPackets += packets;
          stats.dropped += delta.descriptors - delta.packets;
        }
      }
    }
    stats.txPackets = tx.c[QueueCounter.packets];
    tx.q.close();
    // The overlap ends (as after a reconnection): a well-behaved client, and it works again.
    s2m.head = rxCursor;
    s2m.tail = rxCursor;
    const client = native.Queue.create({
      role: 'client',
      direction: 'tx',
      regions: rig.regions,
      ringRegion: 0,
      ringOffset: 0,
      log2RingSize: log2,
      bufferSize: 2048,
      bufferRegion: 0,
      bufferBase: rig.s2mBuffers[0],
      eventFd: rig.s2mIrq,
      maxPacketSize: maxPacket,
      counters: new Float64Array(QUEUE_COUNTERS),
    });
    try {
      const sent = client.transmit(
        data,
        new Uint32Array([0, 100]),
        new Uint32Array([100, 5000]),
        2,
      );
      const got = rx.q.receive(SLAB, 0, OFFSETS, LENGTHS, 8);
      if (sent !== 2 || got !== 2 || LENGTHS[1] !== 5000)
        fail(`afterwards: sent ${sent}, got ${got}`);
      if (Buffer.compare(SLAB.subarray(0, 5100), data.subarray(0, 5100)) !== 0)
        fail('afterwards: content differs');
    } finally {
      client.close();
    }
    return stats;
  } finally {
    rx.q.close();
    tx.q.close();
    rig.close();
  }
};

/**
 * A reflector transmits zero-copy rx views straight from shared memory (TxPort.pushBurst), and a
 * peer chooses where those views and the tx buffers lie, so source and destination of a tx copy
 * can overlap. Each round sends one packet whose source overlaps (or equals) the buffer it goes
 * into; it must arrive as the source was before the copy (memmove, not undefined behaviour: the
 * test:asan run aborts on an overlapping memcpy). Both tx kinds: server tx into a buffer the
 * client offered on top of the source, client tx into its own next buffer from a view onto it.
 * Returns the packets checked.
 */
export const reflectIntoOverlap = (native: NativeBinding, prng: Prng, rounds: number): number => {
  const log2 = 4;
  const B = 2048;
  const rig = createRig(native, log2, B, prng);
  const n = rig.n;
  const open = (role: 'client' | 'server', direction: 'rx' | 'tx', ring: RingAccess): NativeQueue =>
    native.Queue.create({
      role,
      direction,
      regions: rig.regions,
      ringRegion: 0,
      ringOffset: ring.offset,
      log2RingSize: log2,
      bufferSize: B,
      bufferRegion: 0,
      bufferBase: ring === rig.s2m ? rig.s2mBuffers[0] : rig.m2sBuffers,
      eventFd: ring === rig.s2m ? rig.s2mIrq : rig.m2sIrq,
      maxPacketSize: 65536,
      counters: new Float64Array(QUEUE_COUNTERS),
    });
  const queues = [
    open('server', 'tx', rig.m2s),
    open('client', 'rx', rig.m2s),
    open('client', 'tx', rig.s2m),
    open('server', 'rx', rig.s2m),
  ];
  const [serverTx, clientRx, clientTx, serverRx] = queues;
  const one = (q: NativeQueue, data: Uint8Array, at: number, length: number): void => {
    if (q.transmit(data, new Uint32Array([at]), new Uint32Array([length]), 1) !== 1)
      fail('reflect: not sent');
  };
  const arrived = (q: NativeQueue, original: Uint8Array): void => {
    if (q.receive(SLAB, 0, OFFSETS, LENGTHS, 4) !== 1) fail('reflect: not received');
    if (Buffer.compare(SLAB.subarray(0, LENGTHS[0]), original) !== 0)
      fail('reflect: the packet is not its source as it was before the copy');
  };
  try {
    clientRx.refill();
    const zone = rig.zones[1];
    for (let round = 0; round < rounds; round++) {
      const length = prng.range(1, B);
      const shift = prng.range(-(length - 1), length - 1);
      // Server tx: the source is in region 1, the client offers the buffer `shift` away from it.
      const src = prng.range(zone.start + B, zone.end - 2 * B);
      const original = rig.bytes[1].slice(src, src + length);
      const slot = rig.m2s.tail;
      rig.m2s.write(slot, { flags: 0, region: 1, length: B, offset: src + shift }, 0);
      one(serverTx, rig.bytes[1], src, length);
      arrived(clientRx, original);
      // Client tx: the source is a view onto (or next to) the buffer of its next slot.
      const dst = rig.s2mBuffers[0] + (rig.s2m.head & (n - 1)) * B;
      const from = Math.max(0, dst + shift);
      const before = rig.bytes[0].slice(from, from + length);
      one(clientTx, rig.bytes[0], from, length);
      arrived(serverRx, before);
    }
    return 2 * rounds;
  } finally {
    for (const q of queues) q.close();
    rig.close();
  }
};
