import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { filter, firstValueFrom, take, timeout, toArray } from 'rxjs';
import type { MemifInterface, MemifWorker, MemifWorkerState } from '../../src/index';
import { attach } from '../../src/worker';
import { useInterfaces } from '../streams/fixture';
import { waitForState } from '../helpers/states';
import type { QueueWorkerPlan, QueueWorkerReport } from './queue-worker';
import { deadline } from '../helpers/deadline';

const WORKER = path.join(__dirname, 'queue-worker.ts');
// Mocha's -r does not reach worker threads: the TypeScript worker needs ts-node itself.
const execArgv = ['-r', 'ts-node/register/transpile-only'];
const QUEUES = { rxQueues: 2, txQueues: 2 };

const spawn = (eth: MemifInterface, queues: number[], plan: QueueWorkerPlan): MemifWorker =>
  eth.worker(WORKER, { queues, workerData: plan, execArgv });

const status = <S extends MemifWorkerState['status']>(
  w: MemifWorker,
  s: S,
): Promise<Extract<MemifWorkerState, { status: S }>> =>
  firstValueFrom(
    w.state$.pipe(
      filter((x): x is Extract<MemifWorkerState, { status: S }> => x.status === s),
      timeout(deadline(15000)),
    ),
  );

const report = (w: MemifWorker): Promise<QueueWorkerReport> =>
  new Promise((resolve) => {
    w.thread.once('message', (m: QueueWorkerReport) => resolve(m));
    w.thread.postMessage('report');
  });

/** A frame that says which queue and which packet it is, `size` bytes. */
const frame = (q: number, i: number, size: number): Uint8Array => {
  const f = new Uint8Array(size);
  for (let k = 0; k < size; k++) f[k] = (q * 31 + i * 7 + k) & 0xff;
  f[0] = q;
  f[1] = i & 0xff;
  f[2] = i >> 8;
  return f;
};

/** Sends `count` frames of varied sizes on `eth`'s queue `q` and checks they all come back whole. */
const roundTrip = async (eth: MemifInterface, q: number, count: number): Promise<void> => {
  const sent = Array.from({ length: count }, (_, i) => frame(q, i, 60 + ((i * 97) % 1400)));
  const back = firstValueFrom(
    eth.rx(q).pipe(
      take(count),
      toArray(),
      timeout({
        first: deadline(10000),
        with: () => {
          throw new Error(`queue ${q}: fewer than ${count} frames came back`);
        },
      }),
    ),
  );
  await eth.send(sent, q);
  const got = await back;
  expect(got.map((f) => Buffer.from(f).toString('hex'))).to.deep.equal(
    sent.map((f) => Buffer.from(f).toString('hex')),
  );
};

describe('queues in worker threads', function () {
  this.timeout(60000);

  it('has its entry point, rx-memif/worker, in the package exports', () => {
    const pkg = JSON.parse(
      fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'),
    ) as { exports: Record<string, unknown> };
    expect(pkg.exports['./worker']).to.deep.equal({
      types: './dist/worker/index.d.ts',
      default: './dist/worker/index.js',
    });
  });

  const { make, socket, pair } = useInterfaces();

  it('carries packets both ways through two workers started before the link is up', async () => {
    const s = socket();
    const client = make({ role: 'client', socket: s, ...QUEUES });
    const workers = [
      spawn(client, [0], { mode: 'reflect' }),
      spawn(client, [1], { mode: 'reflect' }),
    ];
    const server = make({ role: 'server', socket: s, ...QUEUES });
    await Promise.all([
      ...workers.map((w) => status(w, 'running')),
      waitForState(client, 'connected'),
    ]);
    await Promise.all([roundTrip(server, 0, 300), roundTrip(server, 1, 300)]);
    // The main thread reads the workers' counters (a SharedArrayBuffer), no message needed.
    const stats = client.stats();
    for (const q of [0, 1]) {
      expect(stats.rx.find((r) => r.queue === q)?.packets).to.equal(300);
      expect(stats.tx.find((r) => r.queue === q)?.packets).to.equal(300);
    }
    const r0 = await report(workers[0]);
    expect(r0.received).to.equal(300);
    expect(r0.states).to.include('connected');
    expect(r0.stats.rx.map((r) => r.queue)).to.deep.equal([0]);
    await client.close();
    for (const w of workers) expect((await status(w, 'exited')).code).to.equal(0);
  });

  it('mirrors the link in order and resumes after the server is re-created', async () => {
    const { server, client, socket: s } = await pair(QUEUES, QUEUES);
    const worker = spawn(client, [0, 1], { mode: 'reflect' });
    await status(worker, 'running');
    await roundTrip(server, 1, 50);
    await server.close();
    await waitForState(client, 'disconnected');
    const again = make({ role: 'server', socket: s, ...QUEUES });
    await waitForState(client, 'connected', 15000, () => true);
    await waitForState(again, 'connected');
    await Promise.all([roundTrip(again, 0, 100), roundTrip(again, 1, 100)]);
    const r = await report(worker);
    expect(r.received).to.equal(250);
    // A worker created while connected starts with `connected`; then the link down and up again.
    expect(r.states[0]).to.equal('connected');
    expect(r.states).to.include('disconnected');
    expect(r.states[r.states.length - 1]).to.equal('connected');
  });

  for (const how of ['throw', 'exit', 'spin'] as const) {
    it(`survives a worker that ${how === 'spin' ? 'is terminated mid-burst' : how + 's'}`, async () => {
      const { server, client } = await pair(QUEUES, QUEUES);
      const steady = spawn(client, [0], { mode: 'reflect' });
      const failing = spawn(client, [1], {
        mode: 'reflect',
        failAfter: { packets: 10, how },
      });
      await Promise.all([status(steady, 'running'), status(failing, 'running')]);
      for (let i = 0; i < 64; i++) server.tx(1).next(frame(1, i, 200));
      if (how === 'spin') {
        // Stuck inside its rx callback: the main thread sees its counters move, then ends it.
        await firstValueFrom(
          client.stats$(20).pipe(
            filter((st) => (st.rx.find((r) => r.queue === 1)?.packets ?? 0) > 0),
            timeout(deadline(10000)),
          ),
        );
        await failing.terminate();
      }
      const end = await status(failing, 'exited');
      if (how === 'throw') {
        expect(end.code).to.equal(1);
        expect(end.error?.message).to.match(/gave up after/);
      }
      if (how === 'exit') expect(end).to.deep.equal({ status: 'exited', code: 3 });
      if (how === 'spin') expect(end.code).to.equal(1);
      expect(await failing.exited).to.equal(end.code);
      // The other queue keeps moving, and the dead worker's queue can be taken over.
      await roundTrip(server, 0, 100);
      // Its queue is the main thread's again, then a new worker's, all mid-connection.
      const mainEcho = client.rxBursts(1).subscribe(client.txBursts(1));
      await roundTrip(server, 1, 100);
      mainEcho.unsubscribe();
      const replacement = spawn(client, [1], { mode: 'reflect' });
      await status(replacement, 'running');
      await roundTrip(server, 1, 100);
      await client.close();
      await Promise.all([steady.exited, replacement.exited]);
    });
  }

  it("hands a client's receive queue over and back mid-traffic without losing a packet", async () => {
    const { server, client } = await pair(QUEUES, QUEUES);
    const total = 60000;
    let onMain = 0;
    const counted = client.rxBursts(0).subscribe((b) => (onMain += b.count));
    function* frames(): Generator<Uint8Array> {
      for (let i = 0; i < total; i++) yield frame(0, i, 64);
    }
    const sending = server.send(frames(), 0);
    await firstValueFrom(
      client.stats$(5).pipe(
        filter((st) => (st.rx.find((r) => r.queue === 0)?.packets ?? 0) >= 5000),
        timeout(deadline(10000)),
      ),
    );
    // Main -> worker while the server keeps the ring full (the worker takes a while to start),
    // then worker -> main when it exits mid-burst: both new owners must read what waits in the
    // ring, not start at its tail.
    const worker = spawn(client, [0], { mode: 'sink', failAfter: { packets: 20000, how: 'exit' } });
    expect((await status(worker, 'exited')).code).to.equal(3);
    expect(await sending).to.equal(total);
    const done = await firstValueFrom(
      client.stats$(5).pipe(
        filter((st) => (st.rx.find((r) => r.queue === 0)?.packets ?? 0) >= total),
        timeout({ first: deadline(10000), with: () => [client.stats()] }),
      ),
    );
    const rx0 = done.rx.find((r) => r.queue === 0);
    expect(rx0?.packets).to.equal(total);
    expect(rx0?.drops).to.deep.equal({});
    expect(onMain)
      .to.be.greaterThan(5000)
      .and.lessThan(total - 20000 + 1);
    counted.unsubscribe();
  });

  it('closes with live workers: their streams complete, every thread exits', async () => {
    const { client } = await pair(QUEUES, QUEUES);
    const polite = spawn(client, [0], { mode: 'sink' });
    const stubborn = spawn(client, [1], { mode: 'sink', linger: true });
    await Promise.all([status(polite, 'running'), status(stubborn, 'running')]);
    const before = await report(stubborn);
    expect(before.completed).to.equal(false);
    await client.close();
    expect(await polite.exited).to.equal(0);
    // It kept its own port open, so it was terminated after the grace period.
    expect(await stubborn.exited).to.equal(1);
    expect(() => spawn(client, [0], { mode: 'sink' })).to.throw(/closed/);
  });

  it('a worker closing its own side ends its streams and the interface carries on', async () => {
    const { client } = await pair(QUEUES, QUEUES);
    const w = spawn(client, [1], { mode: 'sink' });
    await status(w, 'running');
    const before = await report(w);
    expect(before.completed).to.equal(false);
    const closed = new Promise((resolve) => w.thread.once('message', resolve));
    w.thread.postMessage('close');
    expect(await closed).to.deep.equal({ liveHandles: 0, completed: true });
    // Its streams completed and nothing keeps the thread alive any more.
    expect(await w.exited).to.equal(0);
    expect(client.stats().rx.map((r) => r.queue)).to.include(1);
  });

  it('refuses misuse with clear errors', async () => {
    const { client } = await pair(QUEUES, QUEUES);
    const w = spawn(client, [1], { mode: 'sink' });
    await status(w, 'running');
    const served = new RegExp(`queue 1 is served by worker thread ${w.threadId}`);
    expect(() => client.rx(1)).to.throw(served);
    expect(() => client.tx(1)).to.throw(served);
    expect(() => client.rxBursts(1)).to.throw(served);
    expect(() => client.txReady$(1)).to.throw(served);
    await client.send([frame(1, 0, 64)], 1).then(
      () => expect.fail('send on a worker queue resolved'),
      (e: Error) => expect(e.message).to.match(served),
    );
    expect(() => client.rx(0)).not.to.throw();
    expect(() => spawn(client, [1], { mode: 'sink' })).to.throw(/already served by worker thread/);
    expect(() => spawn(client, [0, 0], { mode: 'sink' })).to.throw(RangeError, /twice/);
    expect(() => spawn(client, [], { mode: 'sink' })).to.throw(RangeError, /at least one/);
    expect(() => spawn(client, [255], { mode: 'sink' })).to.throw(RangeError, /0\.\.254/);
    expect(() => attach())
      .to.throw(/not in a worker thread/)
      .with.property('code', 'ENOTWORKER');
    await w.terminate();
    expect(() => client.rx(1)).not.to.throw();
    // A worker file that cannot load is a worker that exited with its error, not a crash.
    const missing = client.worker(path.join(__dirname, 'no-such-worker.js'), { queues: [1] });
    const end = await status(missing, 'exited');
    expect(end.code).to.equal(1);
    expect(end.error?.message).to.match(/no-such-worker/);
    expect(() => client.rx(1)).not.to.throw();
  });
});
