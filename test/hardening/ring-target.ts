import { QUEUE_COUNTERS } from '../../src/native-bridge/native';
import type { NativeBinding, NativeQueue } from '../../src/native-bridge/native';
import { BAD_REASONS, countsOf, diffCounts } from './ring-model';
import type { RingAccess, Rig } from './ring-rig';
import type { Prng } from './prng';

/** The rx queue a hostile-ring campaign attacks, and the well-behaved exchange after it. */

export const fail = (message: string): never => {
  throw new Error(message);
};

export interface TargetOptions {
  readonly native: NativeBinding;
  /** Role of the receiving queue: server rx (S2M) or client rx (M2S). */
  readonly role: 'server' | 'client';
  readonly mode: 'copy' | 'zero-copy';
  readonly maxPacket: number;
  readonly prng: Prng;
}

/** The rx queue under test and how the peer sees its ring. */
export interface Target {
  readonly queue: NativeQueue;
  readonly counters: Float64Array;
  readonly ring: RingAccess;
}

/** Opens our rx queue with head = tail = `base`; a client offers every slot right away. */
export const openTarget = (o: TargetOptions, rig: Rig, base: number): Target => {
  const client = o.role === 'client';
  const ring = client ? rig.m2s : rig.s2m;
  ring.init(base);
  const counters = new Float64Array(QUEUE_COUNTERS);
  const queue = o.native.Queue.create({
    role: o.role,
    direction: 'rx',
    regions: rig.regions,
    ringRegion: 0,
    ringOffset: ring.offset,
    log2RingSize: rig.log2,
    bufferSize: client ? rig.bufferSize : 0,
    bufferRegion: 0,
    bufferBase: client ? rig.m2sBuffers : 0,
    eventFd: client ? rig.m2sIrq : rig.s2mIrq,
    maxPacketSize: o.maxPacket,
    counters,
  });
  if (client) queue.refill();
  return { queue, counters, ring };
};

const SLAB = new Uint8Array(65536);
const OFFSETS = new Uint32Array(4);
const LENGTHS = new Uint32Array(4);
const REGIONS = new Int32Array(1);

/**
 * After the campaign the ring must still work: a well-behaved peer queue (client tx on S2M, or
 * server tx on M2S) sends packets, single and chained, and ours receives each one intact without
 * counting anything bad. Returns the number of packets checked.
 */
export const checkAfterwards = (target: Target, rig: Rig, o: TargetOptions): number => {
  const { queue, counters } = target;
  const { prng } = o;
  const client = o.role === 'client';
  const B = rig.bufferSize;
  const peer = o.native.Queue.create({
    role: client ? 'server' : 'client',
    direction: 'tx',
    regions: rig.regions,
    ringRegion: 0,
    ringOffset: target.ring.offset,
    log2RingSize: rig.log2,
    bufferSize: client ? 0 : B,
    bufferRegion: 0,
    bufferBase: client ? 0 : rig.s2mBuffers[0],
    eventFd: client ? rig.m2sIrq : rig.s2mIrq,
    maxPacketSize: o.maxPacket,
    counters: new Float64Array(QUEUE_COUNTERS),
  });
  try {
    const largest = Math.min(o.maxPacket, rig.n * B);
    const sizes = [1, 60, B, B + 1, largest, prng.range(1, largest)];
    const data = new Uint8Array(sizes.reduce((a, s) => a + s, 0));
    for (let i = 0; i < data.length; i++) data[i] = prng.u32() & 0xff;
    const offsets = new Uint32Array(sizes.length);
    const lengths = new Uint32Array(sizes);
    for (let i = 1; i < sizes.length; i++) offsets[i] = offsets[i - 1] + sizes[i - 1];
    const before = countsOf(counters);
    const zeroCopy = o.mode === 'zero-copy';
    for (let i = 0; i < sizes.length; i++) {
      if (peer.transmit(data, offsets.subarray(i), lengths.subarray(i), 1) !== 1)
        fail(`afterwards: the peer could not send packet ${i}`);
      const n = zeroCopy
        ? queue.peek(SLAB, 0, REGIONS, OFFSETS, LENGTHS, 4)
        : queue.receive(SLAB, 0, OFFSETS, LENGTHS, 4);
      if (n !== 1) fail(`afterwards: packet ${i} received as ${n} packets`);
      const bytes = zeroCopy && REGIONS[0] >= 0 ? rig.bytes[REGIONS[0]] : SLAB;
      const view = bytes.subarray(OFFSETS[0], OFFSETS[0] + LENGTHS[0]);
      if (Buffer.compare(view, data.subarray(offsets[i], offsets[i] + sizes[i])) !== 0)
        fail(`afterwards: packet ${i} differs`);
      if (zeroCopy) queue.release();
    }
    const delta = diffCounts(countsOf(counters), before);
    for (const k of BAD_REASONS) if (delta[k] !== 0) fail(`afterwards: ${k} moved by ${delta[k]}`);
    if (delta.packets !== sizes.length) fail('afterwards: counters off');
    if (queue.pending() !== 0) fail('afterwards: packets left');
    return sizes.length;
  } finally {
    peer.close();
  }
};
