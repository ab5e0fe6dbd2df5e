import { expect } from 'chai';
import { Subject } from 'rxjs';
import type { NativeQueue } from '../../src/native-bridge/native';
import { Burst } from '../../src/streams/burst';
import { perPacket } from '../../src/streams/per-packet';
import { RxPort } from '../../src/streams/rx-port';
import { TxPort } from '../../src/streams/tx-port';

/*
 * The ports against scripted native queues (the NativeQueue contract of native.ts), for cases a
 * live peer cannot produce on demand: a ring that stays full, a peer that rewrites a buffer the
 * moment its slot is released.
 */

const packetOf = (seq: number, size: number): Uint8Array =>
  Uint8Array.from({ length: size }, (_, i) => (seq * 17 + i) & 0xff);

/** A tx ring with `room` free slots that records what was transmitted. */
class ScriptedTx {
  room = 0;
  readonly sent: Uint8Array[] = [];
  pending = () => this.room;
  transmit = (data: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number) => {
    const n = Math.min(count, this.room);
    for (let i = 0; i < n; i++) this.sent.push(data.slice(offsets[i], offsets[i] + lengths[i]));
    this.room -= n;
    return n;
  };
  transmitViews = (
    views: readonly Uint8Array[],
    _viewCount: number,
    viewOf: Uint32Array,
    offsets: Uint32Array,
    lengths: Uint32Array,
    count: number,
  ) => {
    const n = Math.min(count, this.room);
    for (let i = 0; i < n; i++) {
      const buffer = new Uint8Array(views[viewOf[i]].buffer);
      this.sent.push(buffer.slice(offsets[i], offsets[i] + lengths[i]));
    }
    this.room -= n;
    return n;
  };
  asQueue(): NativeQueue {
    return this as unknown as NativeQueue;
  }
}

/**
 * A zero-copy rx ring over `region`: peek reports `count` packets of `size` bytes at slot
 * offsets; release hands the slots back, and this peer immediately writes new data there (0xee),
 * as a peer in another process may do at any moment once a slot is released.
 */
class ScriptedZeroCopyRx {
  private offered = 0;
  constructor(
    readonly region: Uint8Array,
    private count: number,
    private readonly size: number,
  ) {
    for (let i = 0; i < count; i++) region.set(packetOf(i, size), i * size);
  }
  peek = (
    _slab: Uint8Array,
    _at: number,
    regions: Int32Array,
    offsets: Uint32Array,
    lengths: Uint32Array,
    max: number,
  ) => {
    const n = Math.min(this.count, max);
    regions[0] = 0;
    for (let i = 0; i < n; i++) {
      offsets[i] = i * this.size;
      lengths[i] = this.size;
    }
    this.offered = n;
    this.count -= n;
    return n;
  };
  release = () => {
    this.region.fill(0xee, 0, this.offered * this.size);
    this.offered = 0;
  };
  pending = () => this.count;
  asQueue(): NativeQueue {
    return this as unknown as NativeQueue;
  }
}

const flushMicrotasks = () => new Promise<void>((r) => setImmediate(r));

describe('streams: ports against scripted rings', () => {
  it('zero-copy reflector (txBursts) with a full tx ring sends the received bytes, not what the peer wrote after release', async () => {
    const region = new Uint8Array(64 * 100);
    const rxRing = new ScriptedZeroCopyRx(region, 10, 64);
    const rx = new RxPort(0);
    rx.attach(rxRing.asQueue(), true, [region.buffer]);
    const txRing = new ScriptedTx();
    txRing.room = 3; // the ring to the peer has room for 3 of the 10
    const tx = new TxPort(0, { queueSize: 1000, lossless: false });
    tx.attach(txRing.asQueue());
    rx.bursts.subscribe((b) => tx.burstObserver.next(b));
    expect(rx.drain()).to.equal(10);
    expect(txRing.sent.length).to.equal(3);
    expect(tx.waiting).to.equal(7);
    // The peer drains its ring later; the backlog goes out then.
    txRing.room = 100;
    tx.flush();
    expect(txRing.sent.length).to.equal(10);
    txRing.sent.forEach((p, seq) =>
      expect(Buffer.from(p).equals(Buffer.from(packetOf(seq, 64))), `packet ${seq}`).to.equal(true),
    );
  });

  it('zero-copy reflector with a backlog already waiting keeps the whole burst intact', async () => {
    const region = new Uint8Array(64 * 100);
    const rxRing = new ScriptedZeroCopyRx(region, 5, 64);
    const rx = new RxPort(0);
    rx.attach(rxRing.asQueue(), true, [region.buffer]);
    const txRing = new ScriptedTx();
    const tx = new TxPort(0, { queueSize: 1000, lossless: false });
    tx.attach(txRing.asQueue());
    await flushMicrotasks();
    tx.push(packetOf(99, 64)); // something already waits: the burst joins the backlog
    rx.bursts.subscribe((b) => tx.burstObserver.next(b));
    rx.drain();
    txRing.room = 100;
    tx.flush();
    expect(txRing.sent.map((p) => Buffer.from(p).toString('hex'))).to.deep.equal(
      [99, 0, 1, 2, 3, 4].map((s) => Buffer.from(packetOf(s, 64)).toString('hex')),
    );
  });

  it('zero-copy reflector through tx().next(view): the backlog keeps the bytes, not the slot', async () => {
    const region = new Uint8Array(64 * 100);
    const rxRing = new ScriptedZeroCopyRx(region, 8, 64);
    const rx = new RxPort(0);
    rx.attach(rxRing.asQueue(), true, [region.buffer]);
    const txRing = new ScriptedTx();
    txRing.room = 100; // room enough: the packets still wait for the flush (a microtask later)
    const tx = new TxPort(0, { queueSize: 1000, lossless: false });
    tx.attach(txRing.asQueue());
    await flushMicrotasks();
    rx.bursts.subscribe((b) => {
      for (const view of b) tx.observer.next(view);
    });
    rx.drain();
    await flushMicrotasks();
    expect(txRing.sent.map((p) => Buffer.from(p).toString('hex'))).to.deep.equal(
      [0, 1, 2, 3, 4, 5, 6, 7].map((s) => Buffer.from(packetOf(s, 64)).toString('hex')),
    );
  });

  it('zero-copy reflector through rx() → tx(): the view rx() emits is copied into the backlog too', async () => {
    const region = new Uint8Array(64 * 100);
    const rxRing = new ScriptedZeroCopyRx(region, 8, 64);
    const rx = new RxPort(0);
    rx.attach(rxRing.asQueue(), true, [region.buffer]);
    const txRing = new ScriptedTx();
    txRing.room = 100;
    const tx = new TxPort(0, { queueSize: 1000, lossless: false });
    tx.attach(txRing.asQueue());
    await flushMicrotasks();
    // tx() knows rx()'s view by identity (docs/tuning.md, "Per-packet tx"): still a copy here.
    perPacket(rx.bursts).subscribe((view) => tx.observer.next(view));
    rx.drain();
    await flushMicrotasks();
    expect(txRing.sent.map((p) => Buffer.from(p).toString('hex'))).to.deep.equal(
      [0, 1, 2, 3, 4, 5, 6, 7].map((s) => Buffer.from(packetOf(s, 64)).toString('hex')),
    );
  });

  it('rx() → tx() in copy mode: views sent by identity and by a copy of the view alike', () => {
    const data = new Uint8Array(64 * 6 + 16);
    for (let i = 0; i < 6; i++) data.set(packetOf(i, 64), 16 + i * 64);
    const bursts = new Subject<Burst>();
    const txRing = new ScriptedTx();
    const tx = new TxPort(0, { queueSize: 1000, lossless: false });
    tx.attach(txRing.asQueue());
    perPacket(bursts).subscribe((view) =>
      // Odd packets through a new view of the same bytes (not the one rx() emitted).
      tx.observer.next(view[0] % 2 ? new Uint8Array(view.buffer, view.byteOffset, 64) : view),
    );
    bursts.next(
      new Burst(
        0,
        6,
        data.subarray(16),
        Uint32Array.from({ length: 6 }, (_, i) => i * 64),
        Uint32Array.from({ length: 6 }, () => 64),
      ),
    );
    // A view made elsewhere after the emission is not mistaken for the last one emitted.
    tx.observer.next(packetOf(6, 64));
    txRing.room = 100;
    tx.flush();
    expect(txRing.sent.map((p) => Buffer.from(p).toString('hex'))).to.deep.equal(
      [0, 1, 2, 3, 4, 5, 6].map((s) => Buffer.from(packetOf(s, 64)).toString('hex')),
    );
  });

  it('copy-mode bursts: what the ring cannot take waits in the backlog and goes out later', () => {
    const data = new Uint8Array(64 * 4);
    for (let i = 0; i < 4; i++) data.set(packetOf(i, 64), i * 64);
    const burst = new Burst(
      0,
      4,
      data,
      Uint32Array.of(0, 64, 128, 192),
      Uint32Array.of(64, 64, 64, 64),
    );
    const txRing = new ScriptedTx();
    txRing.room = 1;
    const tx = new TxPort(0, { queueSize: 1000, lossless: false });
    tx.attach(txRing.asQueue());
    tx.burstObserver.next(burst);
    expect(txRing.sent.length).to.equal(1);
    expect(tx.waiting).to.equal(3);
    txRing.room = 10;
    tx.flush();
    expect(txRing.sent.map((p) => p[0])).to.deep.equal([0, 17, 34, 51]);
  });

  it('counts what it refuses: queueFull beyond txQueueSize, linkDown without a ring, badLength for empty packets', () => {
    const tx = new TxPort(0, { queueSize: 5, lossless: false });
    tx.push(packetOf(0, 10));
    expect(tx.counters.snapshot().drops).to.deep.equal({ linkDown: 1 });
    const ring = new ScriptedTx();
    tx.attach(ring.asQueue());
    for (let i = 0; i < 8; i++) tx.push(packetOf(i, 10));
    tx.push(new Uint8Array(0));
    expect(tx.waiting).to.equal(5);
    expect(tx.counters.snapshot().drops).to.deep.equal({ linkDown: 1, queueFull: 3, badLength: 1 });
    tx.detach();
    expect(tx.counters.snapshot().drops).to.deep.equal({ linkDown: 6, queueFull: 3, badLength: 1 });
  });

  it('a Burst that went to the ring whole still announces txReady$ (a producer waits on it)', async () => {
    const ring = new ScriptedTx();
    ring.room = 10;
    const tx = new TxPort(0, { queueSize: 1000, lossless: true });
    tx.attach(ring.asQueue());
    // attach() flushes the (empty) backlog and announces that; let it pass first.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const data = new Uint8Array(40).fill(7);
    const ready = new Promise<number>((resolve) => tx.ready$.subscribe(resolve));
    tx.burstObserver.next(
      new Burst(0, 4, data, Uint32Array.of(0, 10, 20, 30), Uint32Array.of(10, 10, 10, 10)),
    );
    expect(ring.sent.length, 'sent directly').to.equal(4);
    expect(tx.waiting).to.equal(0);
    expect(await ready).to.equal(1000);
  });

  it('an rx drain does not stop at a short read while packets are still pending', () => {
    const region = new Uint8Array(64 * 600);
    const ring = new ScriptedZeroCopyRx(region, 600, 64);
    // A read cut short (as by a slab's end or a region change): 100 at a time.
    const peek = ring.peek;
    ring.peek = (slab, at, regions, offsets, lengths, max) =>
      peek(slab, at, regions, offsets, lengths, Math.min(max, 100));
    const rx = new RxPort(0);
    rx.attach(ring.asQueue(), true, [region.buffer]);
    let got = 0;
    rx.bursts.subscribe((b) => (got += b.count));
    expect(rx.drain()).to.equal(600);
    expect(got).to.equal(600);
  });
});
