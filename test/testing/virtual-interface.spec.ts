import { expect } from 'chai';
import { asapScheduler, delay, filter, firstValueFrom, map, of, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { Burst, ConnectionState } from '../../src/index';
import { MemifError } from '../../src/index';
import { ethernet, frame, hex, virtualInterface } from '../../src/testing';
import type { VirtualInterface } from '../../src/testing';

const testScheduler = () =>
  new TestScheduler((actual, expected) => {
    expect(actual).to.deep.equal(expected);
  });

const A = frame('0a');
const B = frame('0b0b');
const C = frame('0c0c0c');

/** A burst as plain data: what marbles compare. */
const shape = (b: Burst) => ({
  queue: b.queue,
  count: b.count,
  packets: [...b].map((p) => hex(p)),
});

const statuses = (vi: VirtualInterface) => vi.state$.pipe(map((s) => s.status));

describe('testing: virtualInterface', () => {
  describe('rx', () => {
    it('delivers a hot marble of packets at its frames', () => {
      const s = testScheduler();
      s.run(({ hot, expectObservable }) => {
        const vi = virtualInterface(s);
        vi.feed(0, hot('-a-b--c', { a: A, b: B, c: C }));
        expectObservable(vi.rx()).toBe('-a-b--c', { a: A, b: B, c: C });
        expectObservable(vi.rx(0).pipe(map((p) => p.length))).toBe('-1-2--3', { 1: 1, 2: 2, 3: 3 });
      });
    });

    it('takes marbles directly, and rx sources in the options (one, or one per queue)', () => {
      const s = testScheduler();
      s.run(({ hot, expectObservable }) => {
        const one = virtualInterface(s, { rx: hot('--a', { a: A }) });
        expectObservable(one.rx()).toBe('--a', { a: A });

        const two = virtualInterface(s, {
          rxQueues: 2,
          rx: { 0: hot('a', { a: A }), 1: hot('-b', { b: B }) },
        });
        expectObservable(two.rx(0)).toBe('a', { a: A });
        expectObservable(two.rx(1)).toBe('-b', { b: B });

        const marbles = virtualInterface(s);
        marbles.feed(0, '---c', { c: C });
        expectObservable(marbles.rx()).toBe('---c', { c: C });
      });
    });

    it('groups the packets of one frame into one Burst laid out like the real one', () => {
      const s = testScheduler();
      s.run(({ hot, expectObservable }) => {
        const vi = virtualInterface(s);
        vi.feed(0, hot('-(ab)-c', { a: A, b: B, c: C }));
        // A group takes as many frames as its characters: c is at frame 6.
        expectObservable(vi.rxBursts().pipe(map(shape))).toBe('-x----y', {
          x: { queue: 0, count: 2, packets: ['0a', '0b0b'] },
          y: { queue: 0, count: 1, packets: ['0c0c0c'] },
        });
        expectObservable(
          vi.rxBursts().pipe(
            map((b) => ({
              offsets: [...b.offsets],
              lengths: [...b.lengths],
              bytes: b.bytes,
              data: hex(b.data),
            })),
          ),
        ).toBe('-x----y', {
          x: { offsets: [0, 1], lengths: [1, 2], bytes: 3, data: '0a0b0b' },
          y: { offsets: [0], lengths: [3], bytes: 3, data: '0c0c0c' },
        });
        // Several sources and inject() in one frame still make one burst.
        const many = virtualInterface(s);
        many.feed(0, hot('--a', { a: A }));
        many.feed(0, hot('--b', { b: B }));
        s.schedule(() => many.inject(0, C), 2);
        expectObservable(many.rxBursts().pipe(map((b) => b.count))).toBe('--3', { 3: 3 });
      });
    });

    it('splits a frame of more than 256 packets into bursts of 256', () => {
      const s = testScheduler();
      s.run(({ expectObservable }) => {
        const vi = virtualInterface(s);
        const packets = Array.from({ length: 300 }, (_, i) => frame([i & 0xff, i >> 8]));
        s.schedule(() => vi.inject(0, ...packets), 1);
        expectObservable(vi.rxBursts().pipe(map((b) => b.count))).toBe('-(xy)', { x: 256, y: 44 });
      });
    });

    it('copies what arrives (the sender may reuse its buffer)', () => {
      const s = testScheduler();
      s.run(({ expectObservable }) => {
        const vi = virtualInterface(s);
        const scratch = frame('01');
        s.schedule(() => {
          vi.inject(0, scratch);
          scratch[0] = 2;
          vi.inject(0, scratch);
        }, 1);
        expectObservable(vi.rx()).toBe('-(ab)', { a: frame('01'), b: frame('02') });
      });
    });

    it('drops empty packets (badLength) and refuses queues the interface does not have', () => {
      const s = testScheduler();
      s.run(({ hot, expectObservable }) => {
        const vi = virtualInterface(s);
        vi.feed(0, hot('-e-a', { e: new Uint8Array(0), a: A }));
        expectObservable(vi.rx()).toBe('---a', { a: A });
        s.schedule(() => expect(vi.stats().rx[0].drops).to.deep.equal({ badLength: 1 }), 5);
      });
      const vi = virtualInterface(testScheduler());
      expect(() => vi.feed(1, of(A))).to.throw(RangeError, /1 rx queue/);
      expect(() => vi.inject(-1, A)).to.throw(RangeError, /0\.\.254/);
    });

    it('needs a TestScheduler for marbles and Uint8Array values', () => {
      expect(() => virtualInterface(asapScheduler).feed(0, '-a', { a: A })).to.throw(
        TypeError,
        /TestScheduler/,
      );
      const s = testScheduler();
      expect(() =>
        s.run(() => {
          virtualInterface(s).feed(0, '-a');
        }),
      ).to.throw(TypeError, /not a Uint8Array/);
    });

    it('errors rx when a fed source errors', () => {
      const s = testScheduler();
      s.run(({ hot, expectObservable }) => {
        const vi = virtualInterface(s);
        vi.feed(0, hot('-a-#', { a: A }, new Error('boom')));
        expectObservable(vi.rx()).toBe('-a-#', { a: A }, new Error('boom'));
      });
    });

    it('works with an ordinary scheduler: packets sent together form one burst', async () => {
      const vi = virtualInterface(asapScheduler);
      const bursts = firstValueFrom(vi.rxBursts().pipe(toArray()));
      vi.inject(0, A, B);
      vi.inject(0, C);
      await new Promise((r) => setTimeout(r, 5));
      await vi.close();
      expect((await bursts).map(shape)).to.deep.equal([
        { queue: 0, count: 3, packets: ['0a', '0b0b', '0c0c0c'] },
      ]);
    });
  });

  describe('tx', () => {
    it('records transmissions with the time they happened (a responder pipeline)', () => {
      const s = testScheduler();
      s.run(({ hot, expectObservable }) => {
        const vi = virtualInterface(s);
        vi.feed(0, hot('-a--b', { a: A, b: B }));
        vi.rx()
          .pipe(
            map((p) => frame(p, 'ff')),
            delay(2),
          )
          .subscribe(vi.tx());
        expectObservable(vi.transmitted(0)).toBe('---x--y', {
          x: frame('0aff'),
          y: frame('0b0bff'),
        });
        s.schedule(() => {
          expect(vi.txLog().map((r) => ({ time: r.time, packet: hex(r.packet) }))).to.deep.equal([
            { time: 3, packet: '0aff' },
            { time: 6, packet: '0b0bff' },
          ]);
        }, 10);
      });
    });

    it('is hot: a late subscriber sees only later packets; packets are copies', () => {
      const s = testScheduler();
      s.run(({ cold, expectObservable }) => {
        const vi = virtualInterface(s);
        const scratch = frame('01');
        cold('a-b-c', { a: 1, b: 2, c: 3 }).subscribe((n) => {
          scratch[0] = n;
          vi.tx().next(scratch);
        });
        expectObservable(vi.transmitted(), '-^').toBe('--b-c', { b: frame('02'), c: frame('03') });
        expectObservable(vi.transmitted()).toBe('a-b-c', {
          a: frame('01'),
          b: frame('02'),
          c: frame('03'),
        });
      });
    });

    it('txBursts takes a received Burst or an array', () => {
      const s = testScheduler();
      s.run(({ hot, expectObservable }) => {
        const vi = virtualInterface(s, { txQueues: 2 });
        vi.feed(0, hot('-(ab)', { a: A, b: B }));
        vi.rxBursts().subscribe(vi.txBursts());
        s.schedule(() => vi.txBursts(1).next([C, A]), 3);
        expectObservable(vi.transmitted(0)).toBe('-(ab)', { a: A, b: B });
        expectObservable(vi.transmitted(1)).toBe('---(ca)', { a: A, c: C });
      });
    });

    it('counts one burst per queue and frame, and drops like the real one', () => {
      const s = testScheduler();
      s.run(({ cold, expectObservable }) => {
        const vi = virtualInterface(s, {
          states: cold('c---d', { c: 'connected', d: 'disconnected' }),
        });
        cold('(ab)-c-d', { a: A, b: B, c: new Uint8Array(0), d: C }).subscribe(vi.tx());
        expectObservable(vi.transmitted()).toBe('(ab)', { a: A, b: B });
        s.schedule(() => {
          expect(vi.stats().tx).to.deep.equal([
            { queue: 0, packets: 2, bytes: 3, bursts: 1, drops: { badLength: 1, linkDown: 1 } },
          ]);
        }, 8);
      });
    });

    it('txReady$ announces the (empty) backlog at the end of each frame that transmitted', () => {
      const s = testScheduler();
      s.run(({ cold, expectObservable }) => {
        const vi = virtualInterface(s, { txQueueSize: 64 });
        cold('-(ab)--c', { a: A, b: B, c: C }).subscribe(vi.tx());
        expectObservable(vi.txReady$()).toBe('-r-----r', { r: 64 });
      });
    });

    it('send() transmits an iterable at once and an Observable as it emits', () => {
      const s = testScheduler();
      let counts: Promise<number[]> | undefined;
      s.run(({ cold, expectObservable }) => {
        const vi = virtualInterface(s);
        counts = Promise.all([vi.send(new Set([A, B])), vi.send(cold('-----c|', { c: C }))]);
        expectObservable(vi.transmitted()).toBe('(ab)-c', { a: A, b: B, c: C });
      });
      return counts!.then((n) => expect(n).to.deep.equal([2, 1]));
    });

    it('send() waits for the link, and rejects with ECANCELED if closed first', async () => {
      const s = testScheduler();
      let early: Promise<number> | undefined;
      let never: Promise<number> | undefined;
      s.run(({ cold, expectObservable }) => {
        const vi = virtualInterface(s, {
          states: cold('n--c', { n: 'connecting', c: 'connected' }),
        });
        early = vi.send([A]);
        expectObservable(vi.transmitted()).toBe('---a', { a: A });
        const closing = virtualInterface(s, { states: of('connecting') });
        never = closing.send([A]);
        s.schedule(() => void closing.close(), 2);
      });
      expect(await early).to.equal(1);
      const error = await never!.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(MemifError).with.property('code', 'ECANCELED');
    });

    it('txZeroCopy() writes into virtual slots (zero-copy clients only)', () => {
      const s = testScheduler();
      s.run(({ expectObservable }) => {
        const vi = virtualInterface(s, { zeroCopy: true, bufferSize: 128, log2RingSize: 4 });
        const zc = vi.txZeroCopy();
        s.schedule(() => {
          const slots = zc.alloc(100);
          expect(slots.count).to.equal(16);
          expect(slots.capacity).to.equal(128);
          slots.slot(0).set(A);
          slots.slot(1).set(B);
          slots.lengths[0] = A.length;
          slots.lengths[1] = B.length;
          expect(zc.commit(2)).to.equal(2);
        }, 1);
        s.schedule(() => vi.disconnect(), 2);
        s.schedule(() => expect(zc.alloc(1).count).to.equal(0), 3);
        expectObservable(vi.transmitted()).toBe('-(ab)', { a: A, b: B });
      });
      expect(() => virtualInterface(s).txZeroCopy()).to.throw(/zeroCopy: true/);
      expect(() => virtualInterface(s, { role: 'server' }).txZeroCopy()).to.throw(/server/);
    });
  });

  describe('state$', () => {
    it('starts connected, with a state completed from the options', () => {
      const s = testScheduler();
      s.run(({ expectObservable }) => {
        const vi = virtualInterface(s, { role: 'server', rxQueues: 2, log2RingSize: 8 });
        const connected: ConnectionState = {
          status: 'connected',
          role: 'server',
          peer: { appName: 'virtual-peer', interfaceName: 'virtual' },
          mode: vi.options.mode,
          queues: { rx: 2, tx: 1 },
          log2RingSize: 8,
          ringSize: 256,
          bufferSize: 2048,
          regions: [],
        };
        expectObservable(vi.state$).toBe('c', { c: connected });
      });
    });

    it('follows a marble of statuses or states', () => {
      const s = testScheduler();
      s.run(({ hot, expectObservable }) => {
        const vi = virtualInterface(s, {
          states: hot('n-h-c--d-n', {
            n: 'connecting',
            h: 'handshaking',
            c: 'connected',
            d: { status: 'disconnected', role: 'client', reason: 'bye', by: 'peer', retry: null },
          }),
        });
        expectObservable(statuses(vi)).toBe('n-h-c--d-n', {
          n: 'connecting',
          h: 'handshaking',
          c: 'connected',
          d: 'disconnected',
        });
        expectObservable(
          vi.state$.pipe(
            filter((st) => st.status === 'connecting'),
            map((st) => (st.status === 'connecting' ? st.attempt : 0)),
          ),
        ).toBe('n--------m', { n: 1, m: 1 });
      });
    });

    it('replays the current state to a late subscriber', () => {
      const s = testScheduler();
      s.run(({ hot, expectObservable }) => {
        const vi = virtualInterface(s, { states: hot('a-b', { a: 'connecting', b: 'connected' }) });
        expectObservable(statuses(vi), '-^').toBe('-ab', { a: 'connecting', b: 'connected' });
      });
    });

    it('connect() and disconnect() script the link, which gates rx and tx', () => {
      const s = testScheduler();
      s.run(({ hot, expectObservable }) => {
        const vi = virtualInterface(s, { states: of('connecting'), retry: { initialMs: 250 } });
        vi.feed(0, hot('a-b-c-d', { a: A, b: B, c: C, d: A }));
        vi.rx().subscribe(vi.tx());
        s.schedule(() => vi.connect(), 2);
        s.schedule(() => vi.disconnect('peer restarted'), 4);
        expectObservable(vi.transmitted()).toBe('--b', { b: B });
        expectObservable(vi.state$).toBe('n-c-d', {
          n: { status: 'connecting', role: 'client', attempt: 1 },
          c: connectedOf(vi),
          d: {
            status: 'disconnected',
            role: 'client',
            reason: 'peer restarted',
            by: 'peer',
            retry: { attempt: 1, inMs: 250 },
          },
        });
        s.schedule(() => {
          expect(vi.stats().rx[0]).to.deep.include({ packets: 1, drops: { linkDown: 3 } });
        }, 9);
      });
    });

    it('delivers what arrived in the frame before the link goes down', () => {
      const s = testScheduler();
      s.run(({ hot, expectObservable }) => {
        const vi = virtualInterface(s);
        // Actions of one frame run in the order they were set up: the packet first.
        vi.feed(0, hot('-a', { a: A }));
        hot('-d').subscribe(() => vi.disconnect());
        expectObservable(vi.rx()).toBe('-a', { a: A });
        expectObservable(statuses(vi)).toBe('cd', { c: 'connected', d: 'disconnected' });
      });
    });

    it('refuses statuses of the other role', () => {
      const s = testScheduler();
      expect(() => s.run(() => virtualInterface(s, { states: of('listening') }))).to.throw(
        TypeError,
        /server/,
      );
      expect(() => virtualInterface(s).setState('listening')).to.throw(TypeError, /server/);
      expect(() => virtualInterface(s, { role: 'server' }).setState('connecting')).to.throw(
        TypeError,
        /client/,
      );
      const server = virtualInterface(s, { role: 'server', states: of('listening') });
      server.disconnect('gone', 'local');
      expect(server.stats()).to.deep.equal({ rx: [], tx: [] });
    });
  });

  describe('close', () => {
    it('emits closed and completes every stream, delivering what arrived first', () => {
      const s = testScheduler();
      s.run(({ hot, expectObservable }) => {
        const vi = virtualInterface(s, { role: 'server' });
        vi.feed(0, hot('-a--b', { a: A, b: B }));
        vi.rx().subscribe(vi.tx());
        hot('----x').subscribe(() => void vi.close());
        expectObservable(vi.rx()).toBe('-a--(b|)', { a: A, b: B });
        expectObservable(vi.rxBursts().pipe(map((b) => b.count))).toBe('-1--(1|)', { 1: 1 });
        expectObservable(vi.transmitted()).toBe('-a--(b|)', { a: A, b: B });
        expectObservable(vi.txReady$()).toBe('-r--|', { r: 8192 });
        expectObservable(statuses(vi)).toBe('c---(x|)', { c: 'connected', x: 'closed' });
        expectObservable(vi.stats$(2).pipe(map((st) => st.rx[0].packets))).toBe('0-1-|', {
          0: 0,
          1: 1,
        });
      });
    });

    it('leaves later subscribers complete, drops later packets, and is idempotent', async () => {
      const vi = virtualInterface(testScheduler());
      await vi[Symbol.asyncDispose]();
      await vi.close();
      expect(vi.closed).to.equal(true);
      const done = (o: { subscribe: (o: { complete: () => void }) => unknown }) =>
        new Promise<void>((complete) => o.subscribe({ complete }));
      await Promise.all([
        done(vi.rx()),
        done(vi.rxBursts(3)),
        done(vi.transmitted(2)),
        done(vi.txReady$()),
        done(vi.state$),
        done(vi.stats$()),
      ]);
      vi.tx().next(A);
      vi.inject(0, A);
      vi.setState('connected');
      expect(vi.stats().tx[0].drops).to.deep.equal({ linkDown: 1 });
      expect(vi.txLog()).to.deep.equal([]);
    });
  });

  describe('frames', () => {
    it('frame() parses hex with separators and concatenates bytes', () => {
      expect(frame('02:fe:00-00.00_01', [1, 2], ' 0A0b ')).to.deep.equal(
        new Uint8Array([2, 0xfe, 0, 0, 0, 1, 1, 2, 10, 11]),
      );
      expect(frame()).to.deep.equal(new Uint8Array(0));
      expect(Buffer.isBuffer(frame(Buffer.from([1])))).to.equal(false);
      expect(() => frame('abc')).to.throw(TypeError, /not hex/);
      expect(() => frame('zz')).to.throw(TypeError, /not hex/);
    });

    it('ethernet() builds dst, src, type and payload, with defaults', () => {
      expect(hex(ethernet())).to.equal('ffffffffffff02fe0000000188b5');
      expect(
        hex(
          ethernet({
            dst: '02:fe:00:00:00:02',
            src: [2, 0xfe, 0, 0, 0, 3],
            type: 0x0800,
            payload: 'abcd',
          }),
          ' ',
        ),
      ).to.equal('02 fe 00 00 00 02 02 fe 00 00 00 03 08 00 ab cd');
      expect(() => ethernet({ dst: '0102' })).to.throw(TypeError, /6 bytes/);
      expect(() => ethernet({ type: 0x10000 })).to.throw(RangeError);
    });
  });
});

function connectedOf(vi: VirtualInterface): ConnectionState {
  const o = vi.options;
  return {
    status: 'connected',
    role: o.role,
    peer: { appName: 'virtual-peer', interfaceName: 'virtual' },
    mode: o.mode,
    queues: { rx: o.rxQueues, tx: o.txQueues },
    log2RingSize: o.log2RingSize,
    ringSize: 1 << o.log2RingSize,
    bufferSize: o.bufferSize,
    regions: [],
  };
}
