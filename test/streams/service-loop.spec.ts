import { expect } from 'chai';
import { Burst } from '../../src/index';
import type { MemifInterface } from '../../src/index';
import { waitForState } from '../helpers/states';
import { SequenceChecker, genFrame, genFrames, totals, until, useInterfaces } from './fixture';

/*
 * The service loop (docs/tuning.md): a bounded read per rx queue and turn, tx flushed between
 * reads, backpressure from tx to rx. No timing assertion: each test checks the order of events
 * or counters, and `until` only bounds how long a broken loop may hang.
 */

/** `count` gen frames of `size` bytes laid out in one buffer, as a Burst (no staging copy). */
const poolBurst = (count: number, size: number, from = 0): Burst => {
  const data = new Uint8Array(count * size);
  const offsets = new Uint32Array(count);
  const lengths = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    data.set(genFrame(from + i, size), i * size);
    offsets[i] = i * size;
    lengths[i] = size;
  }
  return new Burst(0, count, data, offsets, lengths);
};

const rxPackets = (iface: MemifInterface, q: number): number =>
  iface.stats().rx.find((s) => s.queue === q)?.packets ?? 0;

describe('streams: the service loop', () => {
  const { pair } = useInterfaces();

  for (const rxMode of ['interrupt', 'polling', 'adaptive'] as const) {
    it(`${rxMode}: a flooded rx queue does not stop another queue, tx or timers`, async () => {
      // The client refills queue 0 from inside the server's own emission, so that the ring is
      // never empty while the server reads it: a peer faster than us. Reading until empty
      // would keep the loop there until the flood ends.
      const FLOOD = 300 * 256;
      const opts = { rxQueues: 2, txQueues: 2, rxMode, txQueueSize: 1 << 20 };
      const { server, client } = await pair(opts, opts);
      const refill = poolBurst(256, 64);
      const flood = client.txBursts(0);
      let flooded = 0;
      let ended = false;
      const seen: Record<string, number | undefined> = {};
      const mark = (what: string) => (seen[what] ??= flooded);
      let echoes = 0;
      client.rxBursts(0).subscribe((b) => {
        echoes += b.count;
        mark('echo');
      });
      server.rxBursts(1).subscribe(() => mark('queue 1'));
      const echo = server.txBursts(0);
      server.rxBursts(0).subscribe((b) => {
        echo.next(b);
        if (flooded >= FLOOD) {
          ended = true;
          return;
        }
        flooded += b.count;
        if (flooded === b.count) {
          // Once the flood runs: a timer, and packets on the other queue.
          setTimeout(() => mark('timer'), 0);
          client.txBursts(1).next(poolBurst(8, 64));
        }
        flood.next(refill);
      });
      flood.next(refill);
      await until(
        () => ended && echoes >= flooded,
        20_000,
        () => `flooded ${flooded}, echoed ${echoes}, seen ${JSON.stringify(seen)}`,
      );
      for (const what of ['queue 1', 'timer', 'echo'])
        expect(seen[what], `${what} served while the flood went on`).to.be.lessThan(FLOOD / 2);
      expect(rxPackets(server, 1)).to.equal(8);
      expect(totals(server.stats(), 'tx').drops).to.deep.equal({});
    });
  }

  for (const rxMode of ['interrupt', 'polling'] as const) {
    it(`${rxMode}: backpressure keeps packets in the peer's ring instead of dropping them here`, async () => {
      // A reflector that sends twice what it reads cannot keep up with a client that reads
      // as fast as it sends: its tx backlog grows until reading pauses.
      const run = async (txHighWater: number) => {
        const { server, client } = await pair(
          { rxMode, txQueueSize: 4000, txHighWater },
          { rxMode, log2RingSize: 8 },
        );
        const out = server.txBursts(0);
        server.rxBursts(0).subscribe((b) => {
          out.next(b);
          out.next(b);
        });
        const tx = client.txBursts(0);
        const pool = poolBurst(256, 64);
        let offered = 0;
        const send = () => {
          if (offered >= 200_000) return;
          offered += pool.count;
          tx.next(pool);
        };
        const sub = client.txReady$().subscribe(send);
        // How many packets sat in the client → server ring (sent, not yet read), at most.
        let held = 0;
        let sampling = true;
        const sample = () => {
          const inRing =
            totals(client.stats(), 'tx').packets - totals(server.stats(), 'rx').packets;
          held = Math.max(held, inRing);
          if (sampling) setImmediate(sample);
        };
        sample();
        send();
        await until(
          () => totals(server.stats(), 'rx').packets >= 100_000,
          20_000,
          () => `server read ${totals(server.stats(), 'rx').packets}`,
        );
        sampling = false;
        sub.unsubscribe();
        return {
          held,
          serverTx: totals(server.stats(), 'tx').drops,
          serverRx: totals(server.stats(), 'rx').drops,
        };
      };
      const withBackpressure = await run(64);
      expect(withBackpressure.serverRx).to.deep.equal({});
      expect(withBackpressure.serverTx, 'nothing copied in only to be dropped').to.deep.equal({});
      expect(withBackpressure.held, "packets left in the peer's ring").to.be.greaterThan(128);
      // Control: backpressure only at the queue bound comes after the drops.
      const without = await run(4000);
      expect(without.serverTx.queueFull ?? 0, 'drops without backpressure').to.be.greaterThan(0);
    });
  }

  it('interrupt: a ring left fuller than one budget after a single signal is read to the end', async () => {
    // One transmit call, so one eventfd signal, for 16 budgets' worth: the rest must be read on
    // the following turns without another signal.
    const { server, client } = await pair({ rxMode: 'interrupt' }, { log2RingSize: 12 });
    const check = new SequenceChecker(4000, 64);
    server.rx().subscribe((f) => check.check(f));
    client.txBursts(0).next(poolBurst(4000, 64));
    expect(totals(client.stats(), 'tx').packets, 'all in the ring at once').to.equal(4000);
    await until(
      () => check.next >= 4000,
      10_000,
      () => `got ${check.next} of 4000`,
    );
    check.assertComplete();
  });

  it('the link-down drain delivers every packet the peer published, past the turn budget', async () => {
    const { server, client } = await pair({ rxMode: 'interrupt' }, { log2RingSize: 12 });
    const check = new SequenceChecker(4000, 64);
    server.rx().subscribe((f) => check.check(f));
    // 4000 packets in the ring in one call, then the peer leaves before we had a turn.
    client.txBursts(0).next(poolBurst(4000, 64));
    await client.close();
    await waitForState(server, 'disconnected');
    check.assertComplete();
    expect(totals(server.stats(), 'rx').drops).to.deep.equal({});
  });

  it('lossless stays lossless end to end through a backpressured reflector', async () => {
    const { server, client } = await pair(
      { lossless: true, txHighWater: 32, log2RingSize: 6 },
      { log2RingSize: 6 },
    );
    const out = server.txBursts(0);
    server.rxBursts(0).subscribe((b) => out.next(b));
    const N = 50_000;
    const check = new SequenceChecker(N, 64);
    client.rx().subscribe((f) => check.check(f));
    expect(await client.send(genFrames(N, 64))).to.equal(N);
    await until(
      () => check.next >= N || check.problems.length > 0,
      20_000,
      () => `got ${check.next} of ${N}`,
    );
    check.assertComplete();
    expect(totals(server.stats(), 'tx').drops).to.deep.equal({});
    expect(totals(client.stats(), 'tx').drops).to.deep.equal({});
  });
});
