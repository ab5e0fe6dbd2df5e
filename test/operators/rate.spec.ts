import { expect } from 'chai';
import { TestScheduler } from 'rxjs/testing';
import { countPackets, rate } from '../../src/streams/operators';
import { burstOf } from './build';

const testScheduler = (): TestScheduler =>
  new TestScheduler((a, e) => {
    expect(a).to.deep.equal(e);
  });
const bytes = (n: number): Uint8Array => new Uint8Array(n);

describe('operators: countPackets()', () => {
  it('emits running totals over frames and bursts', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold('a-b-x|', { a: bytes(60), b: bytes(100), x: burstOf([1, 2], [3]) });
      expectObservable(src.pipe(countPackets())).toBe('a-b-x|', {
        a: { packets: 1, bytes: 60 },
        b: { packets: 2, bytes: 160 },
        x: { packets: 4, bytes: 163 },
      });
    });
  });
});

describe('operators: rate()', () => {
  it('emits packets, bytes, pps and bps per period, zeros included', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const src = hot('a 14ms b', { a: bytes(100), b: bytes(50) });
      expectObservable(src.pipe(rate(10)), '^ 35ms !').toBe('10ms x 9ms y 9ms z', {
        x: { packets: 1, bytes: 100, pps: 100, bps: 80000 },
        y: { packets: 1, bytes: 50, pps: 100, bps: 40000 },
        z: { packets: 0, bytes: 0, pps: 0, bps: 0 },
      });
    });
  });

  it('counts bursts by their packets, and ends with the last partial period', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold('x 999ms y 499ms |', { x: burstOf([1, 2, 3], [4]), y: burstOf([5, 6]) });
      expectObservable(src.pipe(rate(1000))).toBe('1000ms a 499ms (b|)', {
        a: { packets: 2, bytes: 4, pps: 2, bps: 32 },
        b: { packets: 1, bytes: 2, pps: 2, bps: 32 },
      });
    });
  });

  it('passes errors on', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a 14ms #', { a: bytes(1) }).pipe(rate(10))).toBe('10ms x 4ms #', {
        x: { packets: 1, bytes: 1, pps: 100, bps: 800 },
      });
    });
  });
});
