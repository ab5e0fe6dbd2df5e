import { expect } from 'chai';
import type { NativeQueue } from '../../src/native-bridge/native';
import { TxPort } from '../../src/streams/tx-port';

/*
 * The tx backlog as the native transmitViews sees it (docs/tuning.md, "Per-packet tx"): packets
 * kept as offsets and lengths with one view per run of packets in one buffer. The scripted ring
 * checks every call the way native/queue.cc does (a view index below viewCount, each packet
 * inside its view's buffer, or inside the view itself for a SharedArrayBuffer; no empty packet),
 * that it is passed no view beyond its packets, and takes at most `room` packets, so partial
 * sends, batches that start in the middle of the backlog, compaction and growth are exercised.
 */

class CheckingTx {
  room = 0;
  calls = 0;
  readonly sent: number[][] = [];
  pending = () => this.room;
  transmitViews = (
    views: readonly Uint8Array[],
    viewCount: number,
    viewOf: Uint32Array,
    offsets: Uint32Array,
    lengths: Uint32Array,
    count: number,
  ) => {
    this.calls++;
    // Native work follows the batch: no view is passed that no packet of this call lies in.
    if (viewCount > count) throw new Error(`${viewCount} views for ${count} packets`);
    if (viewOf[count - 1] !== viewCount - 1) throw new Error('a view no packet uses');
    for (let i = 0; i < count; i++) {
      if (viewOf[i] >= viewCount) throw new Error(`viewOf[${i}] ${viewOf[i]} >= ${viewCount}`);
      if (lengths[i] === 0) throw new Error(`packet ${i} is empty`);
      const v = views[viewOf[i]];
      const shared = !(v.buffer instanceof ArrayBuffer);
      const [begin, end] = shared
        ? [v.byteOffset, v.byteOffset + v.length]
        : [0, v.buffer.byteLength];
      if (offsets[i] < begin || offsets[i] + lengths[i] > end)
        throw new Error(`packet ${i} outside views[${viewOf[i]}]`);
    }
    const n = Math.min(count, this.room);
    for (let i = 0; i < n; i++) {
      const bytes = new Uint8Array(views[viewOf[i]].buffer, offsets[i], lengths[i]);
      this.sent.push(Array.from(bytes));
    }
    this.room -= n;
    return n;
  };
  asQueue(): NativeQueue {
    return this as unknown as NativeQueue;
  }
}

/** Packet `seq`: `size` bytes starting with seq (mod 256), each a view into `buffer` at `at`. */
const write = (buffer: ArrayBufferLike, at: number, seq: number, size: number): Uint8Array => {
  const p = new Uint8Array(buffer, at, size);
  for (let i = 0; i < size; i++) p[i] = (seq + i) & 0xff;
  return p;
};
const expected = (seq: number, size: number) =>
  Array.from({ length: size }, (_, i) => (seq + i) & 0xff);

/** A flush, as the poll loop does it each turn. */
const turn = (tx: TxPort, ring: CheckingTx, room: number) => {
  ring.room = room;
  tx.flush();
};

describe('streams: tx backlog (per-packet tx into transmitViews)', () => {
  it('keeps order and bytes across buffers, views of one buffer, partial sends and growth', () => {
    const ring = new CheckingTx();
    const tx = new TxPort(0, { queueSize: 100_000, lossless: false });
    tx.attach(ring.asQueue());
    const slab = new ArrayBuffer(64 * 3000);
    const want: number[][] = [];
    let seq = 0;
    // Runs of views into one slab, interleaved with packets of their own buffer: many views,
    // more than the initial capacity (it doubles), a ring taking 37 at a time.
    for (let i = 0; i < 3000; i++) {
      const size = 20 + (i % 40);
      const p =
        i % 7 === 3 ? write(new ArrayBuffer(size), 0, seq, size) : write(slab, i * 64, seq, size);
      want.push(expected(seq++, size));
      tx.observer.next(p);
    }
    expect(tx.waiting).to.equal(3000);
    let turns = 0;
    while (tx.waiting > 0 && turns++ < 1000) {
      turn(tx, ring, 37);
      // New packets join while a partial send is waiting (compaction moves the rest first).
      if (turns % 10 === 0) {
        const p = write(slab, (turns % 3000) * 64, seq, 30);
        want.push(expected(seq++, 30));
        tx.observer.next(p);
      }
    }
    expect(tx.waiting).to.equal(0);
    expect(ring.sent.length).to.equal(want.length);
    expect(ring.sent).to.deep.equal(want);
    expect(tx.counters.snapshot().drops).to.deep.equal({});
  });

  it('a ring found full is asked for room before a batch is offered again', () => {
    const ring = new CheckingTx();
    const tx = new TxPort(0, { queueSize: 1000, lossless: false });
    tx.attach(ring.asQueue());
    const slab = new ArrayBuffer(64 * 10);
    for (let i = 0; i < 10; i++) tx.observer.next(write(slab, i * 64, i, 64));
    turn(tx, ring, 4);
    const calls = ring.calls;
    for (let i = 0; i < 5; i++) turn(tx, ring, 0);
    expect(ring.calls, 'no batch offered to a full ring').to.equal(calls);
    turn(tx, ring, 100);
    expect(ring.sent).to.deep.equal(Array.from({ length: 10 }, (_, i) => expected(i, 64)));
  });

  it('packets whose buffer was transferred after next() are counted badLength, the rest go out', () => {
    const ring = new CheckingTx();
    const tx = new TxPort(0, { queueSize: 1000, lossless: false });
    tx.attach(ring.asQueue());
    const a = new ArrayBuffer(256);
    const b = new ArrayBuffer(256);
    const c = new ArrayBuffer(256);
    const d = new ArrayBuffer(256);
    // b is detached in the middle of the backlog, d at its head after a partial send.
    for (let i = 0; i < 3; i++) tx.observer.next(write(a, i * 64, i, 64));
    for (let i = 0; i < 2; i++) tx.observer.next(write(b, i * 64, 10 + i, 64));
    for (let i = 0; i < 2; i++) tx.observer.next(write(c, i * 64, 20 + i, 64));
    for (let i = 0; i < 2; i++) tx.observer.next(write(d, i * 64, 30 + i, 64));
    for (let i = 0; i < 2; i++) tx.observer.next(write(c, 128 + i * 64, 40 + i, 64));
    structuredClone(b, { transfer: [b] });
    turn(tx, ring, 5);
    structuredClone(d, { transfer: [d] });
    turn(tx, ring, 100);
    expect(tx.waiting).to.equal(0);
    expect(ring.sent).to.deep.equal([0, 1, 2, 20, 21, 40, 41].map((s) => expected(s, 64)));
    expect(tx.counters.snapshot().drops).to.deep.equal({ badLength: 4 });
  });

  it('views of one SharedArrayBuffer each stand for their own bytes', () => {
    const ring = new CheckingTx();
    const tx = new TxPort(0, { queueSize: 1000, lossless: false });
    tx.attach(ring.asQueue());
    const shared = new SharedArrayBuffer(64 * 8);
    for (let i = 0; i < 8; i++) tx.observer.next(write(shared, i * 64, i, 48));
    turn(tx, ring, 3);
    turn(tx, ring, 100);
    expect(ring.sent).to.deep.equal(Array.from({ length: 8 }, (_, i) => expected(i, 48)));
  });

  it('queueSize bounds what waits, lossless does not; link down counts what waited', () => {
    const ring = new CheckingTx();
    const bounded = new TxPort(0, { queueSize: 1500, lossless: false });
    bounded.attach(ring.asQueue());
    const slab = new ArrayBuffer(64);
    for (let i = 0; i < 2000; i++) bounded.observer.next(write(slab, 0, i, 64));
    expect(bounded.waiting).to.equal(1500);
    expect(bounded.counters.snapshot().drops).to.deep.equal({ queueFull: 500 });
    turn(bounded, ring, 1000);
    for (let i = 0; i < 2000; i++) bounded.observer.next(write(slab, 0, i, 64));
    expect(bounded.waiting).to.equal(1500);
    bounded.detach();
    expect(bounded.counters.snapshot().drops).to.deep.equal({ queueFull: 1500, linkDown: 1500 });

    const lossless = new TxPort(0, { queueSize: 10, lossless: true });
    const ring2 = new CheckingTx();
    lossless.attach(ring2.asQueue());
    for (let i = 0; i < 5000; i++) lossless.observer.next(write(new ArrayBuffer(8), 0, i, 8));
    expect(lossless.waiting).to.equal(5000);
    while (lossless.waiting > 0) turn(lossless, ring2, 999);
    expect(ring2.sent).to.deep.equal(Array.from({ length: 5000 }, (_, i) => expected(i, 8)));
  });
});
