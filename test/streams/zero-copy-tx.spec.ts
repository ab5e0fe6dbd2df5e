import { expect } from 'chai';
import { MemifError } from '../../src/index';
import type { MemifInterface, ZeroCopyTx } from '../../src/index';
import { writeGenFrame } from '../../src/cli/frames';
import { waitForState } from '../helpers/states';
import { RUN_ID, SequenceChecker, totals, useInterfaces, within } from './fixture';

const SRC = [2, 0xfe, 9, 8, 7, 6];
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Writes frames `from .. from + count - 1` straight into allocated slots and commits them,
 * `size(seq)` bytes each, waiting (a macrotask) whenever the ring is full.
 */
const produce = async (
  zc: ZeroCopyTx,
  from: number,
  count: number,
  size: (seq: number) => number,
  burst = 256,
): Promise<number> => {
  let seq = from;
  while (seq < from + count) {
    const s = zc.alloc(Math.min(burst, from + count - seq));
    if (s.count === 0) {
      await tick();
      continue;
    }
    for (let i = 0; i < s.count; i++) {
      const bytes = size(seq + i);
      writeGenFrame(s.slot(i), bytes, seq + i, RUN_ID, SRC);
      s.lengths[i] = bytes;
    }
    const n = s.count;
    // commit() ends the allocation: s.count reads 0 afterwards.
    expect(zc.commit(n)).to.equal(n);
    seq += n;
    await tick();
  }
  return seq - from;
};

describe('streams: client zero-copy transmit (txZeroCopy)', () => {
  const { make, socket, pair } = useInterfaces();

  it('carries 10^5 frames of 34..2048 bytes client → server, written in place, intact and in order', async () => {
    const N = 100_000;
    const size = (seq: number) => 34 + ((seq * 131) % (2048 - 34 + 1));
    const { server, client } = await pair({}, { zeroCopy: true });
    const checker = new SequenceChecker(N);
    const sub = server.rx().subscribe((f) => checker.check(f));
    const zc = client.txZeroCopy();
    expect(client.txZeroCopy(0), 'one object per queue').to.equal(zc);
    expect(zc.connected).to.equal(true);
    expect(zc.room).to.equal(1024);
    const started = performance.now();
    const sent = await produce(zc, 0, N, size);
    await within(checker.done, 30000, () => `received ${checker.next} of ${N}`);
    const secs = (performance.now() - started) / 1000;
    sub.unsubscribe();
    checker.assertComplete();
    expect(sent).to.equal(N);
    let bytes = 0;
    for (let seq = 0; seq < N; seq++) bytes += size(seq);
    expect(totals(client.stats(), 'tx')).to.deep.include({ packets: N, bytes, drops: {} });
    expect(totals(server.stats(), 'rx')).to.deep.include({ packets: N, bytes, drops: {} });
    console.log(
      `      1e5 frames, zero-copy tx: ${secs.toFixed(2)} s, ${(N / secs / 1e6).toFixed(3)} Mpps`,
    );
  });

  it('slots: the region, their offsets and capacity; the same slots until commit; room shrinks', async () => {
    const { server, client } = await pair(
      {},
      { zeroCopy: true, bufferSize: 1500, log2RingSize: 6 },
    );
    const zc = client.txZeroCopy();
    const a = zc.alloc(10);
    expect(a.count).to.equal(10);
    expect(a.capacity).to.equal(1500);
    expect(a.slot(0).length).to.equal(1500);
    expect(a.slot(0).buffer).to.equal(a.data.buffer);
    const first = Array.from(a.offsets.subarray(0, 10));
    for (let i = 1; i < 10; i++) expect(first[i] - first[i - 1]).to.equal(1500);
    const b = zc.alloc(4);
    expect(b, 'one reusable object').to.equal(a);
    expect(Array.from(b.offsets.subarray(0, 4))).to.deep.equal(first.slice(0, 4));
    expect(() => b.slot(4)).to.throw(RangeError, /slot 4/);
    const got: Uint8Array[] = [];
    const sub = server.rx().subscribe((f) => got.push(f.slice()));
    b.slot(0).set([1, 2, 3]);
    b.slot(1).fill(0xab, 0, 1500);
    expect(zc.commit([3, 1500])).to.equal(2);
    expect(() => zc.commit(1), 'a commit ends the allocation').to.throw(
      RangeError,
      /not in 0\.\.0/,
    );
    expect(zc.room).to.be.at.most(64);
    await within(
      (async () => {
        while (got.length < 2) await tick();
      })(),
      5000,
      () => `got ${got.length}`,
    );
    sub.unsubscribe();
    expect(Array.from(got[0])).to.deep.equal([1, 2, 3]);
    expect(got[1].length).to.equal(1500);
    expect(got[1].every((x) => x === 0xab)).to.equal(true);
    // Lengths outside 1..capacity are refused before anything is sent.
    const c = zc.alloc(2);
    let caught: unknown;
    try {
      zc.commit(new Uint32Array([1501, 10]), 2);
    } catch (e) {
      caught = e;
    }
    expect(caught).to.be.instanceOf(MemifError);
    expect((caught as MemifError).code).to.equal('EINVAL');
    expect(c.count, 'the allocation survives a refused commit').to.equal(2);
    expect(zc.commit(new Uint32Array([60, 60]))).to.equal(2);
    expect(totals(client.stats(), 'tx').packets).to.equal(4);
  });

  it('is refused on a server and on a client without zeroCopy, with a clear error', async () => {
    const { server, client } = await pair();
    expect(() => server.txZeroCopy()).to.throw(/client created with zeroCopy: true.*server/);
    expect(() => client.txZeroCopy()).to.throw(
      /client created with zeroCopy: true.*without zeroCopy/,
    );
    expect(() =>
      make({ role: 'client', socket: socket(), zeroCopy: true }).txZeroCopy(255),
    ).to.throw(RangeError);
  });

  it('hands out nothing while down; after a reconnection slots come from the new region', async () => {
    const path = socket();
    const client = make({ role: 'client', socket: path, zeroCopy: true, retry: { initialMs: 20 } });
    const zc = client.txZeroCopy();
    expect(zc.connected).to.equal(false);
    expect(zc.alloc(8).count).to.equal(0);
    expect(zc.room).to.equal(0);
    let server: MemifInterface = make({ role: 'server', socket: path });
    await waitForState(client, 'connected');
    const before = zc.alloc(8);
    expect(before.count).to.equal(8);
    const oldData = before.data;
    // The link goes down with slots allocated: the region is unmapped, the views empty.
    const down = waitForState(client, 'disconnected');
    await server.close();
    await down;
    expect(oldData.length, 'the old region is detached').to.equal(0);
    expect(zc.commit(8), 'stale slots are not sent').to.equal(0);
    expect(totals(client.stats(), 'tx').drops.linkDown).to.equal(8);
    server = make({ role: 'server', socket: path });
    const checker = new SequenceChecker(1000, 200);
    const sub = server.rx().subscribe((f) => checker.check(f));
    const stale = zc.alloc(4);
    await waitForState(client, 'connected', 5000, () => zc.connected);
    expect(zc.commit(stale.count), 'slots of no connection are not sent').to.equal(0);
    const fresh = zc.alloc(4);
    expect(fresh.count).to.equal(4);
    expect(fresh.data.length).to.be.greaterThan(0);
    expect(await produce(zc, 0, 1000, () => 200, 64)).to.equal(1000);
    await within(checker.done, 10000, () => `received ${checker.next}`);
    sub.unsubscribe();
    checker.assertComplete();
  });
});
