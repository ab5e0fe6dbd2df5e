import { expect } from 'chai';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { checkGenFrame } from '../../src/cli/frames';
import { loadNative } from '../../src/native-bridge';
import { RUN_ID, SequenceChecker, genFrames, sleep, until, useInterfaces, within } from './fixture';

/*
 * Copy-mode receive memory is reused (native/slab_pool.cc, docs/architecture.md "The hot path"):
 * slabs come back once no packet view of them is reachable. What a subscriber keeps must never be
 * written again, however much traffic passes and whatever GCs run meanwhile.
 */

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

describe('streams: copy-mode receive memory', () => {
  const { pair } = useInterfaces();

  it('packets kept past their emission stay intact while slabs are reused around them', async () => {
    // 1500 B frames: ~2800 per 4 MiB slab, so each batch passes ~36 slabs, more than the pool
    // hands out at once (32): slabs must come back and be reused for the batch to get through.
    const SIZE = 1500;
    const BATCH = 100_000;
    const KEEP_EVERY = 4999;
    const { server, client } = await pair({}, { lossless: true });
    const kept: { seq: number; frame: Uint8Array }[] = [];
    let checker = new SequenceChecker(BATCH, SIZE);
    const sub = server.rx().subscribe((f) => {
      const seq = checker.next;
      checker.check(f);
      if (seq % KEEP_EVERY === 0) kept.push({ seq, frame: f });
    });
    const intact = () =>
      kept.filter(({ seq, frame }) => {
        const v = checkGenFrame(frame, RUN_ID);
        return v.kind === 'ok' && v.seq === seq && frame.length === SIZE;
      }).length;

    await client.send(genFrames(BATCH, SIZE));
    await within(checker.done, 60000, () => `received ${checker.next} of ${BATCH}`);
    checker.assertComplete();
    expect(kept.length).to.equal(Math.ceil(BATCH / KEEP_EVERY));
    expect(intact(), 'kept frames intact after the first batch').to.equal(kept.length);

    // Every slab nothing refers to goes back to the pool now; the kept ones must not.
    for (let i = 0; i < 3; i++) {
      gc();
      await sleep(0);
    }
    checker = new SequenceChecker(BATCH, SIZE);
    const first = kept.length;
    await client.send(genFrames(BATCH, SIZE));
    await within(checker.done, 60000, () => `received ${checker.next} of ${BATCH}`);
    sub.unsubscribe();
    checker.assertComplete();
    // The second batch's kept frames carry the same sequence numbers again; check each by its
    // own batch (both are gen frames 0..BATCH-1).
    expect(kept.length).to.equal(2 * first);
    expect(intact(), 'kept frames intact after a full GC and a second batch').to.equal(kept.length);
  });

  it('a closed interface holds no pool slab, even while the application keeps it', async () => {
    const native = loadNative();
    const collect = async () => {
      for (let i = 0; i < 3; i++) {
        gc();
        await sleep(0);
      }
    };
    /** Slabs the pool would hand out now (taken, then dropped and collected again). */
    const available = async (): Promise<number> => {
      await collect();
      let n = 0;
      (() => {
        const taken: ArrayBuffer[] = [];
        for (let s = native.takeSlab(); s !== undefined; s = native.takeSlab()) taken.push(s);
        n = taken.length;
      })();
      await collect();
      return n;
    };
    const before = await available();
    const queues = { rxQueues: 8, txQueues: 8 };
    const { server, client } = await pair(queues, { ...queues, lossless: true });
    const received = Array.from({ length: 8 }, (_, q) => {
      let n = 0;
      server.rxBursts(q).subscribe((b) => (n += b.count));
      return () => n;
    });
    for (let q = 0; q < 8; q++) await client.send(genFrames(10, 64), q);
    await until(
      () => received.every((r) => r() === 10),
      10000,
      () => `received ${received.map((r) => r()).join(', ')}`,
    );
    expect(before - (await available()), 'slabs held by the 8 live rx ports').to.equal(8);
    await client.close();
    await server.close();
    // `server` and `client` stay reachable here; their ports must not pin a slab each.
    expect(await available(), 'slabs back after close').to.equal(before);
    expect([server.options.role, client.options.role]).to.deep.equal(['server', 'client']);
  });
});
