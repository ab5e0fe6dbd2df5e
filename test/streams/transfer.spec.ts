import { expect } from 'chai';
import { waitForState } from '../helpers/states';
import { SequenceChecker, genFrames, totals, useInterfaces, within } from './fixture';

/** Two interfaces of one process over a real socket and one shared region. */
describe('streams: lossless transfer in one process', () => {
  const { pair } = useInterfaces();

  it('carries 10^6 frames client → server, each exactly once, in order, intact', async function () {
    const N = 1_000_000;
    const SIZE = 64;
    const { server, client } = await pair({}, { lossless: true });
    const checker = new SequenceChecker(N, SIZE);
    const sub = server.rx().subscribe((f) => checker.check(f));
    const started = performance.now();
    const sent = await client.send(genFrames(N, SIZE));
    await within(checker.done, 30000, () => `received ${checker.next} of ${N}`);
    const secs = (performance.now() - started) / 1000;
    sub.unsubscribe();
    checker.assertComplete();
    expect(sent).to.equal(N);
    const tx = totals(client.stats(), 'tx');
    const rx = totals(server.stats(), 'rx');
    expect(tx).to.deep.include({ packets: N, bytes: N * SIZE });
    expect(rx).to.deep.include({ packets: N, bytes: N * SIZE, drops: {} });
    expect(tx.drops).to.not.have.any.keys('queueFull', 'linkDown');
    console.log(
      `      1e6 x 64 B client→server: ${secs.toFixed(2)} s, ${(N / secs / 1e6).toFixed(3)} Mpps`,
    );
  });

  it('carries 200000 frames server → client the same way (lossless tx observer)', async () => {
    const N = 200_000;
    const SIZE = 128;
    const { server, client } = await pair({ lossless: true }, {});
    const checker = new SequenceChecker(N, SIZE);
    const sub = client.rx().subscribe((f) => checker.check(f));
    const tx = server.tx();
    const started = performance.now();
    // The tx observer with lossless: everything handed over in one go waits in the backlog.
    for (const f of genFrames(N, SIZE)) tx.next(f);
    await within(checker.done, 30000, () => `received ${checker.next} of ${N}`);
    const secs = (performance.now() - started) / 1000;
    sub.unsubscribe();
    checker.assertComplete();
    expect(totals(server.stats(), 'tx')).to.deep.include({
      packets: N,
      bytes: N * SIZE,
      drops: {},
    });
    expect(totals(client.stats(), 'rx')).to.deep.include({
      packets: N,
      bytes: N * SIZE,
      drops: {},
    });
    console.log(
      `      2e5 x 128 B server→client: ${secs.toFixed(2)} s, ${(N / secs / 1e6).toFixed(3)} Mpps`,
    );
  });
});

describe('streams: chained frames (9000 B over small buffers)', () => {
  const { pair } = useInterfaces();

  for (const bufferSize of [2048, 256]) {
    it(`carries 9000-byte frames both ways over bufferSize ${bufferSize}`, async () => {
      const N = bufferSize === 256 ? 3000 : 5000;
      const SIZE = 9000;
      const { server, client } = await pair(
        { bufferSize, lossless: true },
        { bufferSize, log2RingSize: 12, lossless: true },
      );
      const atServer = new SequenceChecker(N, SIZE);
      const atClient = new SequenceChecker(N, SIZE);
      const subs = [
        server.rx().subscribe((f) => atServer.check(f)),
        client.rx().subscribe((f) => atClient.check(f)),
      ];
      // Both directions at once.
      const [up, down] = await Promise.all([
        client.send(genFrames(N, SIZE)),
        server.send(genFrames(N, SIZE)),
      ]);
      await within(
        Promise.all([atServer.done, atClient.done]),
        30000,
        () => `server got ${atServer.next}, client got ${atClient.next} of ${N}`,
      );
      subs.forEach((s) => s.unsubscribe());
      atServer.assertComplete();
      atClient.assertComplete();
      expect([up, down]).to.deep.equal([N, N]);
      for (const iface of [server, client]) {
        const rx = iface.stats().rx[0];
        expect(rx).to.deep.include({ packets: N, bytes: N * SIZE, drops: {} });
        expect(rx.bursts).to.be.within(1, N);
      }
      // The link really uses buffers smaller than the frames: each frame went as a chain of
      // ceil(9000 / bufferSize) descriptors (5 or 36).
      const link = await waitForState(client, 'connected');
      expect(link).to.deep.include({ bufferSize, ringSize: 4096 });
    });
  }
});
