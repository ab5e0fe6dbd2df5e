import { expect } from 'chai';
import { loadNative, MemifError } from '../../src/native-bridge';
import type { NativeQueue, NativeQueueConfig } from '../../src/native-bridge';
import { QUEUE_COUNTERS, QueueCounter } from '../../src/native-bridge/native';
import { bufferOffset, clientLayout } from '../../src/control/layout';
import { createClientMemory } from '../../src/control/runtime/memory';
import type { SharedMemory } from '../../src/control/runtime/memory';

/*
 * Queue.transmitViews: packets lying in several buffers reach the ring in one native call with no
 * staging copy (docs/architecture.md, "The hot path"). Both ends over one real region.
 */

const native = loadNative();

interface Ends {
  memory: SharedMemory;
  tx: NativeQueue;
  rx: NativeQueue;
  txCounters: Float64Array;
}

const open: Ends[] = [];

/** A tx queue (`role` side) and the peer's rx queue on the same ring; 16 slots of 256 bytes. */
const ends = (role: 'client' | 'server'): Ends => {
  const layout = clientLayout({
    cacheLineSize: native.cacheLineSize,
    log2RingSize: 4,
    bufferSize: 256,
    s2mRings: 1,
    m2sRings: 1,
  });
  const { memory } = createClientMemory(native, layout, 'rx-memif transmitViews test');
  const config = (r: 'client' | 'server', direction: 'rx' | 'tx'): NativeQueueConfig => {
    const ring = (r === 'client') === (direction === 'tx') ? memory.rings[0] : memory.rings[1];
    const placement = layout.rings.find(
      (p) => p.direction === ring.direction && p.index === ring.index,
    )!;
    return {
      role: r,
      direction,
      regions: memory.regions,
      ringRegion: ring.region,
      ringOffset: ring.offset,
      log2RingSize: 4,
      bufferSize: r === 'client' ? 256 : 0,
      bufferRegion: 0,
      bufferBase: r === 'client' ? bufferOffset(layout, placement, 0) : 0,
      eventFd: ring.eventFd,
      maxPacketSize: 64 * 1024,
      counters: new Float64Array(QUEUE_COUNTERS),
    };
  };
  const txConfig = config(role, 'tx');
  const tx = native.Queue.create(txConfig);
  const rx = native.Queue.create(config(role === 'client' ? 'server' : 'client', 'rx'));
  if (role === 'server') rx.refill();
  const e = { memory, tx, rx, txCounters: txConfig.counters };
  open.push(e);
  return e;
};

const receiveAll = (q: NativeQueue): string[] => {
  const slab = new Uint8Array(64 * 1024);
  const offsets = new Uint32Array(64);
  const lengths = new Uint32Array(64);
  const n = q.receive(slab, 0, offsets, lengths, 64);
  return Array.from({ length: n }, (_, i) =>
    Buffer.from(slab.subarray(offsets[i], offsets[i] + lengths[i])).toString('latin1'),
  );
};

/** Describes `packets` the way TxPort does: consecutive packets of one buffer share a view. */
const describe_ = (packets: readonly Uint8Array[]) => {
  const views: Uint8Array[] = [];
  const viewOf = new Uint32Array(packets.length);
  const offsets = new Uint32Array(packets.length);
  const lengths = new Uint32Array(packets.length);
  packets.forEach((p, i) => {
    const last = views[views.length - 1];
    if (!last || last.buffer !== p.buffer || !(p.buffer instanceof ArrayBuffer)) views.push(p);
    viewOf[i] = views.length - 1;
    offsets[i] = p.byteOffset;
    lengths[i] = p.length;
  });
  return { views, viewOf, offsets, lengths };
};

const expectEinval = (run: () => unknown, message: RegExp): void => {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).to.be.instanceOf(MemifError);
  expect((caught as MemifError).code).to.equal('EINVAL');
  expect((caught as MemifError).message).to.match(message);
};

const text = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

describe('native: Queue.transmitViews (packets in several buffers, one call)', () => {
  afterEach(() => {
    for (const e of open.splice(0)) {
      e.tx.close();
      e.rx.close();
      e.memory.close();
    }
  });

  for (const role of ['client', 'server'] as const) {
    it(`${role} tx: packets of one slab, of separate arrays and of a SharedArrayBuffer, in order`, () => {
      const { tx, rx, txCounters } = ends(role);
      const slab = text('..alpha..beta..gamma');
      const shared = new Uint8Array(new SharedArrayBuffer(16));
      shared.set(text('XXsharedXX'));
      const big = new Uint8Array(600).fill(0x41); // a chain of 3 buffers of 256
      const packets = [
        slab.subarray(2, 7),
        slab.subarray(9, 13),
        text('own'),
        shared.subarray(2, 8),
        big,
        slab.subarray(15, 20),
      ];
      const d = describe_(packets);
      expect(d.views.length).to.equal(5);
      const sent = tx.transmitViews(d.views, d.views.length, d.viewOf, d.offsets, d.lengths, 6);
      expect(sent).to.equal(6);
      expect(txCounters[QueueCounter.bursts]).to.equal(1);
      expect(txCounters[QueueCounter.packets]).to.equal(6);
      expect(receiveAll(rx)).to.deep.equal([
        'alpha',
        'beta',
        'own',
        'shared',
        'A'.repeat(600),
        'gamma',
      ]);
    });
  }

  it('stops at a full ring and returns the prefix sent (ringFull counts the rest)', () => {
    const { tx, txCounters } = ends('client');
    const slab = new Uint8Array(20 * 8).fill(7);
    const packets = Array.from({ length: 20 }, (_, i) => slab.subarray(i * 8, i * 8 + 8));
    const d = describe_(packets);
    expect(d.views.length).to.equal(1);
    expect(tx.transmitViews(d.views, 1, d.viewOf, d.offsets, d.lengths, 20)).to.equal(16);
    expect(txCounters[QueueCounter.ringFull]).to.equal(4);
  });

  it('refuses, before writing anything, packets outside their buffer, empty ones and bad view indices', () => {
    const { tx, txCounters } = ends('client');
    const a = new Uint8Array(32);
    const one = (view: Uint8Array, offset: number, length: number, viewOf = 0, viewCount = 1) =>
      tx.transmitViews(
        [view],
        viewCount,
        Uint32Array.of(viewOf),
        Uint32Array.of(offset),
        Uint32Array.of(length),
        1,
      );
    // Offsets count from the start of the ArrayBuffer: the whole buffer is reachable from a view.
    expect(one(a.subarray(4, 8), 20, 12)).to.equal(1);
    expectEinval(() => one(a.subarray(4, 8), 30, 4), /outside the buffer of views\[0\]/);
    expectEinval(() => one(a, 0, 0), /empty/);
    expectEinval(() => one(a, 0, 4, 1), /viewOf\[0\] 1 is not below viewCount 1/);
    expectEinval(() => one(a, 0, 4, 0, 2), /viewCount/);
    // A SharedArrayBuffer view stands only for its own bytes.
    const shared = new Uint8Array(new SharedArrayBuffer(32)).subarray(8, 16);
    expect(one(shared, 8, 8)).to.equal(1);
    expectEinval(() => one(shared, 0, 8), /outside/);
    expectEinval(() => one(shared, 12, 8), /outside/);
    expectEinval(
      () => tx.transmitViews([new Uint16Array(4) as unknown as Uint8Array], 1, Uint32Array.of(0), Uint32Array.of(0), Uint32Array.of(2), 1),
      /must be a Uint8Array/,
    );
    expect(txCounters[QueueCounter.packets]).to.equal(2);
  });

  it('an rx queue refuses transmitViews', () => {
    const { rx } = ends('client');
    expectEinval(
      () => rx.transmitViews([], 0, new Uint32Array(0), new Uint32Array(0), new Uint32Array(0), 0),
      /this is an rx queue/,
    );
  });
});
