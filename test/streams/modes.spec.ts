import { expect } from 'chai';
import type { MemifInterface } from '../../src/index';
import { DataPath } from '../../src/streams/data-path';
import { checkGenFrame } from '../../src/cli/frames';
import {
  RUN_ID,
  SequenceChecker,
  genFrame,
  genFrames,
  sleep,
  totals,
  until,
  useInterfaces,
  within,
} from './fixture';

type Transition = { at: number; to: 'polling' | 'interrupt' };

/**
 * Records, per DataPath, when it enters polling (`wake` that starts the loop) and when it goes
 * back to waiting for interrupts (`sleep`). White-box: patches the prototype for one test.
 */
const spyTransitions = (): { of: (iface: MemifInterface) => Transition[]; restore: () => void } => {
  const proto = DataPath.prototype as unknown as {
    wake: (this: { polling: boolean }) => void;
    sleep: (this: object) => void;
  };
  const { wake, sleep: sleepFn } = proto;
  const log = new Map<object, Transition[]>();
  const push = (dp: object, t: Transition) => {
    if (!log.has(dp)) log.set(dp, []);
    log.get(dp)?.push(t);
  };
  proto.wake = function (this: { polling: boolean }) {
    const before = this.polling;
    wake.call(this);
    if (!before && this.polling) push(this, { at: performance.now(), to: 'polling' });
  };
  proto.sleep = function (this: object) {
    push(this, { at: performance.now(), to: 'interrupt' });
    sleepFn.call(this);
  };
  const order: object[] = [];
  const origStart = DataPath.prototype.start;
  DataPath.prototype.start = function (this: DataPath, ...args: Parameters<DataPath['start']>) {
    if (!order.includes(this)) order.push(this);
    return origStart.apply(this, args);
  };
  return {
    // A data path keeps the interface's resolved options object: that identifies it.
    of: (iface) => {
      const dp = order.find(
        (d) => (d as unknown as { options: unknown }).options === iface.options,
      );
      return dp ? (log.get(dp) ?? []) : [];
    },
    restore: () => {
      proto.wake = wake;
      proto.sleep = sleepFn;
      DataPath.prototype.start = origStart;
    },
  };
};

/** Counts turns of every DataPath's poll loop (white-box: patches the prototype). */
const spyPolls = (): { count: () => number; restore: () => void } => {
  const proto = DataPath.prototype as unknown as { poll: (this: object) => void };
  const poll = proto.poll;
  let n = 0;
  proto.poll = function (this: object) {
    n++;
    poll.call(this);
  };
  return { count: () => n, restore: () => (proto.poll = poll) };
};

/** CPU time (user + system) this process used during `ms` of wall time, as a fraction of one core. */
const cpuDuring = async (ms: number): Promise<number> => {
  const before = process.cpuUsage();
  const t0 = performance.now();
  await sleep(ms);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / (performance.now() - t0);
};

describe('streams: rx modes', () => {
  const { pair } = useInterfaces();

  for (const rxMode of ['interrupt', 'polling', 'adaptive'] as const) {
    it(`${rxMode}: carries traffic both ways`, async () => {
      const N = 20000;
      const { server, client } = await pair({ rxMode, lossless: true }, { rxMode, lossless: true });
      const atServer = new SequenceChecker(N, 100);
      const atClient = new SequenceChecker(N, 100);
      const subs = [
        server.rx().subscribe((f) => atServer.check(f)),
        client.rx().subscribe((f) => atClient.check(f)),
      ];
      await Promise.all([client.send(genFrames(N, 100)), server.send(genFrames(N, 100))]);
      await within(
        Promise.all([atServer.done, atClient.done]),
        20000,
        () => `server got ${atServer.next}, client got ${atClient.next}`,
      );
      // Single packets after a pause (each must be noticed on its own, whatever the mode).
      for (let k = 0; k < 3; k++) {
        await sleep(20);
        const seq = N + k;
        client.tx().next(genFrame(seq, 100));
        server.tx().next(genFrame(seq, 100));
        await within(
          Promise.all([
            until(
              () => atServer.next === seq + 1,
              2000,
              () => 'server',
            ),
            until(
              () => atClient.next === seq + 1,
              2000,
              () => 'client',
            ),
          ]),
          3000,
          () => `single packet ${seq}`,
        );
      }
      subs.forEach((s) => s.unsubscribe());
      expect(atServer.problems).to.deep.equal([]);
      expect(atClient.problems).to.deep.equal([]);
      expect(totals(server.stats(), 'rx').packets).to.equal(N + 3);
      expect(totals(client.stats(), 'rx').packets).to.equal(N + 3);
    });
  }

  it('idle: polling keeps turning the loop (a core busy); interrupt and adaptive do not', async () => {
    const spy = spyPolls();
    try {
      const idle: Record<string, { polls: number; cpu: number }> = {};
      for (const rxMode of ['polling', 'interrupt', 'adaptive'] as const) {
        const { server, client } = await pair({ rxMode }, { rxMode });
        await sleep(20);
        const before = spy.count();
        const cpu = await cpuDuring(150);
        idle[rxMode] = { polls: spy.count() - before, cpu: Number(cpu.toFixed(2)) };
        await Promise.all([server.close(), client.close()]);
      }
      console.log(`      idle for 150 ms: ${JSON.stringify(idle)}`);
      expect(idle.polling.polls, 'poll turns while polling idle').to.be.greaterThan(500);
      expect(idle.interrupt.polls).to.equal(0);
      expect(idle.adaptive.polls).to.equal(0);
    } finally {
      spy.restore();
    }
  });

  it('adaptive: goes idle (interrupts) after adaptiveIdleMs, and wakes again on new traffic', async () => {
    const spy = spyTransitions();
    try {
      const { server, client } = await pair(
        { rxMode: 'adaptive', adaptiveIdleMs: 5 },
        { rxMode: 'adaptive', adaptiveIdleMs: 5 },
      );
      const got: number[] = [];
      server.rx().subscribe((f) => {
        const v = checkGenFrame(f, RUN_ID);
        got.push(v.kind === 'ok' ? v.seq : -1);
      });
      const send = (from: number, n: number) => {
        for (let i = 0; i < n; i++) client.tx().next(genFrame(from + i, 64));
      };
      send(0, 500);
      await until(
        () => got.length === 500,
        3000,
        () => `first batch: ${got.length}`,
      );
      await sleep(50);
      const log = spy.of(server);
      const idleAt = log.length;
      expect(log.at(-1)?.to, 'server waits for interrupts after 50 ms of silence').to.equal(
        'interrupt',
      );
      const polls = spyPolls();
      try {
        await sleep(100);
        expect(polls.count(), 'poll turns while idle').to.equal(0);
      } finally {
        polls.restore();
      }
      send(500, 500);
      await until(
        () => got.length === 1000,
        3000,
        () => `second batch: ${got.length}`,
      );
      const after = log.slice(idleAt).map((t) => t.to);
      expect(after[0], 'woken by the interrupt of the new traffic').to.equal('polling');
      await sleep(50);
      expect(log.at(-1)?.to, 'idle again').to.equal('interrupt');
      expect(got).to.deep.equal(Array.from({ length: 1000 }, (_, i) => i));
    } finally {
      spy.restore();
    }
  });
});

describe('streams: zeroCopyRx', () => {
  const { pair } = useInterfaces();

  it('emits views into the shared region that are intact during the emission', async () => {
    const N = 50000;
    const { server, client } = await pair(
      { zeroCopyRx: true },
      { zeroCopyRx: true, lossless: true },
    );
    const atServer = new SequenceChecker(N, 200);
    let shared = 0;
    const sub = server.rx().subscribe((f) => {
      // A view into the mapped region (an external ArrayBuffer), not a copy in a JS slab.
      if (f.buffer.byteLength !== 4 * 1024 * 1024) shared++;
      atServer.check(f);
    });
    await client.send(genFrames(N, 200));
    await within(atServer.done, 20000, () => `got ${atServer.next}`);
    sub.unsubscribe();
    atServer.assertComplete();
    expect(shared, 'packets delivered as views of the region').to.equal(N);
  });

  it('chains are delivered whole (copied) in zero-copy mode, content intact', async () => {
    const N = 2000;
    const { server, client } = await pair(
      { zeroCopyRx: true, lossless: true },
      { zeroCopyRx: true, lossless: true, bufferSize: 1024, log2RingSize: 11 },
    );
    const atServer = new SequenceChecker(N, 5000);
    const atClient = new SequenceChecker(N, 5000);
    const subs = [
      server.rx().subscribe((f) => atServer.check(f)),
      client.rx().subscribe((f) => atClient.check(f)),
    ];
    await Promise.all([client.send(genFrames(N, 5000)), server.send(genFrames(N, 5000))]);
    await within(
      Promise.all([atServer.done, atClient.done]),
      20000,
      () => `${atServer.next}/${atClient.next}`,
    );
    subs.forEach((s) => s.unsubscribe());
    atServer.assertComplete();
    atClient.assertComplete();
  });

  for (const how of ['txBursts(burst)', 'tx().next(view)'] as const) {
    it(`a zero-copy reflector (${how}) returns every frame intact through a small, busy ring`, async () => {
      const N = 20000;
      const { server, client } = await pair(
        { zeroCopyRx: true, lossless: true },
        { log2RingSize: 5, lossless: true },
      );
      if (how === 'txBursts(burst)') server.rxBursts().subscribe((b) => server.txBursts().next(b));
      else server.rx().subscribe((f) => server.tx().next(f));
      const back = new SequenceChecker(N, 300);
      client.rx().subscribe((f) => back.check(f));
      await client.send(genFrames(N, 300));
      await within(back.done, 10000, () => `back ${back.next} of ${N}`);
      back.assertComplete();
      expect(totals(server.stats(), 'tx')).to.deep.include({ packets: N, drops: {} });
    });
  }

  it('a view kept past its emission is harmless: later another packet, after close empty', async () => {
    const { server, client } = await pair(
      { zeroCopyRx: true },
      { log2RingSize: 4, lossless: true },
    );
    const kept: Uint8Array[] = [];
    const copies: Uint8Array[] = [];
    let seen = 0;
    server.rx().subscribe((f) => {
      seen++;
      if (kept.length === 0) {
        kept.push(f); // against the rules: a zero-copy view kept after the emission
        copies.push(f.slice());
      }
    });
    // One packet, then enough traffic to go round the 16-slot ring a few times.
    await client.send([genFrame(0, 64)]);
    await until(
      () => seen === 1,
      2000,
      () => 'first packet',
    );
    expect(checkGenFrame(kept[0], RUN_ID)).to.deep.equal({ kind: 'ok', seq: 0 });
    await client.send(genFrames(63, 64, 1));
    await until(
      () => seen === 64,
      3000,
      () => `got ${seen}`,
    );
    // The slot was reused: the kept view now shows a later packet of the same size (slot 0 of
    // a 16-slot ring carried seq 0, 16, 32, 48), never garbage, never a crash.
    const now = checkGenFrame(kept[0], RUN_ID);
    expect(now.kind).to.equal('ok');
    expect(now.kind === 'ok' && now.seq % 16).to.equal(0);
    expect(now.kind === 'ok' && now.seq).to.be.greaterThan(0);
    expect(Buffer.compare(kept[0], copies[0])).to.not.equal(0);
    // Once the interface is closed the mapping is gone: the view is detached (length 0), so
    // reading it cannot touch unmapped memory.
    await server.close();
    expect(kept[0].length).to.equal(0);
    expect(kept[0][0]).to.equal(undefined);
    expect(copies[0].length).to.equal(64);
  });
});

describe('streams: several queues', () => {
  const { pair } = useInterfaces();

  it('rxQueues/txQueues 2: traffic on tx(1) arrives on rx(1) only, and tx(0) on rx(0)', async () => {
    const opts = { rxQueues: 2, txQueues: 2, lossless: true };
    const { server, client } = await pair(opts, opts);
    const counts = { s0: 0, s1: 0, c0: 0, c1: 0 };
    const s1 = new SequenceChecker(3000, 80);
    const c1 = new SequenceChecker(2000, 90);
    const subs = [
      server.rx(0).subscribe(() => counts.s0++),
      server.rx(1).subscribe((f) => (counts.s1++, s1.check(f))),
      client.rx(0).subscribe(() => counts.c0++),
      client.rx(1).subscribe((f) => (counts.c1++, c1.check(f))),
    ];
    const bursts: number[] = [];
    subs.push(server.rxBursts(1).subscribe((b) => bursts.push(b.queue)));
    await Promise.all([client.send(genFrames(3000, 80), 1), server.send(genFrames(2000, 90), 1)]);
    await within(Promise.all([s1.done, c1.done]), 10000, () => JSON.stringify(counts));
    await sleep(20);
    expect(counts).to.deep.equal({ s0: 0, s1: 3000, c0: 0, c1: 2000 });
    s1.assertComplete();
    c1.assertComplete();
    expect(new Set(bursts)).to.deep.equal(new Set([1]));
    await client.send(genFrames(10, 64), 0);
    await until(
      () => counts.s0 === 10,
      2000,
      () => JSON.stringify(counts),
    );
    expect(counts.s1).to.equal(3000);
    subs.forEach((s) => s.unsubscribe());
    const byQueue = (s: ReturnType<MemifInterface['stats']>['rx']) =>
      Object.fromEntries(s.map((q) => [q.queue, q.packets]));
    expect(byQueue(client.stats().tx)).to.deep.equal({ 0: 10, 1: 3000 });
    expect(byQueue(server.stats().rx)).to.deep.equal({ 0: 10, 1: 3000 });
    expect(byQueue(server.stats().tx)).to.deep.include({ 1: 2000 });
    expect(byQueue(client.stats().rx)).to.deep.equal({ 0: 0, 1: 2000 });
  });
});
