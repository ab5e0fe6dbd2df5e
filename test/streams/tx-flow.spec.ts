import { expect } from 'chai';
import { firstValueFrom, take, toArray } from 'rxjs';
import { waitForState } from '../helpers/states';
import {
  SequenceChecker,
  genFrame,
  genFrames,
  sleep,
  totals,
  until,
  useInterfaces,
  within,
} from './fixture';

describe('streams: tx backpressure and drops', () => {
  const { pair } = useInterfaces();

  it('without lossless, what exceeds txQueueSize is dropped as queueFull: sent + dropped == offered', async () => {
    const { server, client } = await pair({}, { txQueueSize: 100, log2RingSize: 6 });
    let received = 0;
    server.rx().subscribe(() => received++);
    const tx = client.tx();
    const ready = firstValueFrom(client.txReady$());
    // 1000 in one tick: the backlog takes 100, the 64-slot ring none yet (it is filled by the
    // flush after this tick), the rest is refused.
    for (let i = 0; i < 1000; i++) tx.next(genFrame(i, 64));
    expect(totals(client.stats(), 'tx').drops).to.deep.equal({ queueFull: 900 });
    const room = await within(ready, 3000, () => 'no txReady$ after the backlog drained');
    expect(room).to.equal(100);
    // Announced once everything waiting reached the ring.
    expect(totals(client.stats(), 'tx').packets).to.equal(100);
    await until(
      () => received === 100,
      2000,
      () => `server got ${received}`,
    );

    // Over many ticks: the ring (64) and the backlog (100) fill, the rest is counted.
    const offered = 20 * 1000;
    for (let t = 0; t < 20; t++) {
      for (let i = 0; i < 1000; i++) tx.next(genFrame(i, 64));
      await new Promise((r) => setImmediate(r));
    }
    await firstValueFrom(client.txReady$());
    const s = totals(client.stats(), 'tx');
    expect(s.packets + (s.drops.queueFull ?? 0)).to.equal(1000 + offered);
    expect(s.drops.queueFull ?? 0, 'some dropped').to.be.greaterThan(0);
    expect(Object.keys(s.drops)).to.deep.equal(['queueFull']);
    await until(
      () => received === s.packets,
      2000,
      () => `server got ${received} of ${s.packets}`,
    );
    expect(totals(server.stats(), 'rx')).to.deep.include({ packets: s.packets, drops: {} });
  });

  it('txBursts: arrays count the same way; txReady$ emits after each drain', async () => {
    const { server, client } = await pair({}, { txQueueSize: 300 });
    let received = 0;
    server.rx().subscribe(() => received++);
    const readies: number[] = [];
    client.txReady$().subscribe((n) => readies.push(n));
    const out = client.txBursts();
    out.next(Array.from({ length: 500 }, (_, i) => genFrame(i, 60)));
    await until(
      () => readies.length === 1,
      2000,
      () => 'first txReady$',
    );
    out.next(Array.from({ length: 200 }, (_, i) => genFrame(i, 60)));
    await until(
      () => readies.length === 2,
      2000,
      () => 'second txReady$',
    );
    expect(readies).to.deep.equal([300, 300]);
    const s = totals(client.stats(), 'tx');
    expect(s).to.deep.include({ packets: 500, bytes: 500 * 60, drops: { queueFull: 200 } });
    await until(
      () => received === 500,
      2000,
      () => `server got ${received}`,
    );
  });

  it('a frame the ring can never hold (chain longer than the ring) is dropped as tooBig, not stuck', async () => {
    // 16 slots of 256 bytes: at most 4096 bytes per frame, in both directions.
    const { server, client } = await pair({}, { bufferSize: 256, log2RingSize: 4 });
    const atServer: number[] = [];
    const atClient: number[] = [];
    server.rx().subscribe((f) => atServer.push(f.length));
    client.rx().subscribe((f) => atClient.push(f.length));
    for (const [from, to] of [
      [client, atServer],
      [server, atClient],
    ] as const) {
      from.tx().next(genFrame(0, 9000));
      from.tx().next(genFrame(1, 4096));
      from.tx().next(genFrame(2, 64));
      await until(
        () => to.length === 2,
        2000,
        () => `got ${JSON.stringify(to)}`,
      );
      expect(to).to.deep.equal([4096, 64]);
      expect(totals(from.stats(), 'tx')).to.deep.include({ packets: 2, drops: { tooBig: 1 } });
    }
  });

  it('while the link is down, tx drops count as linkDown (including the backlog at disconnect)', async () => {
    const { server, client } = await pair({}, { log2RingSize: 4, lossless: true });
    // 5000 handed over, then the server goes: the 16-slot ring takes 16, the backlog is lost.
    const tx = client.tx();
    for (let i = 0; i < 5000; i++) tx.next(genFrame(i, 64));
    await server.close();
    await waitForState(client, 'disconnected');
    let s = totals(client.stats(), 'tx');
    expect(s.packets + (s.drops.linkDown ?? 0), 'every packet accounted for').to.equal(5000);
    expect(s.drops.linkDown ?? 0).to.be.greaterThan(0);
    const before = s.drops.linkDown ?? 0;
    for (let i = 0; i < 10; i++) tx.next(genFrame(i, 64));
    client.txBursts().next([genFrame(0, 64), genFrame(1, 64)]);
    s = totals(client.stats(), 'tx');
    expect(s.drops.linkDown).to.equal(before + 12);
    // send() waits for the link instead: closing the interface meanwhile rejects it.
    const pending = client.send([genFrame(0, 64)]);
    await client.close();
    const error = await pending.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String(error)).to.match(/closed before it connected/);
    expect(s.drops).to.not.have.property('queueFull');
  });
});

describe('streams: stats', () => {
  const { pair, make } = useInterfaces();

  it('stats() and stats$ match what was sent and received', async () => {
    const { server, client } = await pair({ lossless: true }, { lossless: true });
    const rxAtServer = new SequenceChecker(3000, 100);
    const rxAtClient = new SequenceChecker(1000, 300);
    server.rx().subscribe((f) => rxAtServer.check(f));
    client.rx().subscribe((f) => rxAtClient.check(f));
    const early = await firstValueFrom(client.stats$(20));
    expect(early.tx.map((q) => q.packets).reduce((a, b) => a + b, 0)).to.equal(0);
    await Promise.all([client.send(genFrames(3000, 100)), server.send(genFrames(1000, 300))]);
    await within(Promise.all([rxAtServer.done, rxAtClient.done]), 5000, () => 'traffic');
    const c = client.stats();
    const s = server.stats();
    expect(c.tx).to.have.length(1);
    expect(c.tx[0]).to.deep.include({ queue: 0, packets: 3000, bytes: 300000, drops: {} });
    expect(c.rx[0]).to.deep.include({ queue: 0, packets: 1000, bytes: 300000, drops: {} });
    expect(s.rx[0]).to.deep.include({ queue: 0, packets: 3000, bytes: 300000, drops: {} });
    expect(s.tx[0]).to.deep.include({ queue: 0, packets: 1000, bytes: 300000, drops: {} });
    for (const q of [c.tx[0], c.rx[0], s.tx[0], s.rx[0]])
      expect(q.bursts).to.be.within(1, q.packets);
    // stats$ emits at once, then every period; its numbers are stats().
    const periodic = await firstValueFrom(client.stats$(10).pipe(take(3), toArray()));
    expect(periodic).to.have.length(3);
    for (const p of periodic) expect(p).to.deep.equal(c);
  });

  it('counters survive a reconnection: totals add up over both connections', async () => {
    const { server, client, socket } = await pair({ lossless: true }, { lossless: true });
    let atServer = 0;
    server.rx().subscribe(() => atServer++);
    let atClient = 0;
    client.rx().subscribe(() => atClient++);
    await Promise.all([client.send(genFrames(2000, 64)), server.send(genFrames(500, 80))]);
    await until(
      () => atServer === 2000 && atClient === 500,
      3000,
      () => `${atServer}/${atClient}`,
    );
    await server.close();
    await waitForState(client, 'disconnected');
    const second = make({ role: 'server', socket, lossless: true });
    let atSecond = 0;
    second.rx().subscribe(() => atSecond++);
    await Promise.all([
      waitForState(client, 'connected', 3000, () => true),
      waitForState(second, 'connected'),
    ]);
    await until(
      () => client.stats().tx.length > 0,
      100,
      () => 'ports',
    );
    await Promise.all([client.send(genFrames(3000, 64)), second.send(genFrames(700, 80))]);
    await until(
      () => atSecond === 3000 && atClient === 1200,
      3000,
      () => `${atSecond}/${atClient}`,
    );
    await sleep(10);
    const c = client.stats();
    expect(c.tx).to.have.length(1);
    expect(c.tx[0]).to.deep.include({ packets: 5000, bytes: 5000 * 64, drops: {} });
    expect(c.rx[0]).to.deep.include({ packets: 1200, bytes: 1200 * 80, drops: {} });
    // The new server counts its own connection only; the old one kept its numbers.
    expect(second.stats().rx[0]).to.deep.include({ packets: 3000 });
    expect(second.stats().tx[0]).to.deep.include({ packets: 700 });
    expect(server.stats().rx[0]).to.deep.include({ packets: 2000 });
  });
});
