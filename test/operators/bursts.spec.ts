import { expect } from 'chai';
import { take } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { burstBy, unburst } from '../../src/streams/operators';
import { burstOf } from './build';

const testScheduler = (): TestScheduler =>
  new TestScheduler((a, e) => {
    expect(a).to.deep.equal(e);
  });

describe('operators: unburst()', () => {
  it('emits the packets of each burst in order, synchronously', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold('-x--y-z|', {
        x: burstOf([1, 2], [3], [4, 5, 6]),
        y: burstOf(),
        z: burstOf([7]),
      });
      expectObservable(src.pipe(unburst())).toBe('-(abc)d|', {
        a: Uint8Array.of(1, 2),
        b: Uint8Array.of(3),
        c: Uint8Array.of(4, 5, 6),
        d: Uint8Array.of(7),
      });
    });
  });

  it('gives views of the burst data and stops mid-burst on unsubscribe', () => {
    const b = burstOf([1], [2], [3]);
    const got: Uint8Array[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold('x|', { x: b });
      expectObservable(src.pipe(unburst(), take(2))).toBe('(ab|)', {
        a: Uint8Array.of(1),
        b: Uint8Array.of(2),
      });
      src.pipe(unburst()).subscribe((p) => got.push(p));
    });
    expect(got[2].buffer).to.equal(b.data.buffer);
  });

  it('passes errors on', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('x#', { x: burstOf([1]) }).pipe(unburst())).toBe('a#', {
        a: Uint8Array.of(1),
      });
    });
  });
});

describe('operators: burstBy()', () => {
  it('emits when the count is reached', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('abcde|').pipe(burstBy(2, 100))).toBe('-x-y-(z|)', {
        x: ['a', 'b'],
        y: ['c', 'd'],
        z: ['e'],
      });
    });
  });

  it('emits after timeMs from the first value of a group, no empty arrays', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const src = hot('a-b------c 20ms d|');
      //               0 2      9      30
      expectObservable(src.pipe(burstBy(10, 5))).toBe('-----x--------y 16ms (z|)', {
        x: ['a', 'b'],
        y: ['c'],
        z: ['d'],
      });
      expectSubscriptions(src.subscriptions).toBe('^ 30ms !');
    });
  });

  it('the count restarts the time bound', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('ab-c 10ms |').pipe(burstBy(2, 4))).toBe('-x-----y 6ms |', {
        x: ['a', 'b'],
        y: ['c'],
      });
    });
  });

  it('drops what is pending on error, flushes on complete', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('ab#').pipe(burstBy(5, 10))).toBe('--#');
      expectObservable(cold('ab|').pipe(burstBy(5, 10))).toBe('--(x|)', { x: ['a', 'b'] });
    });
  });

  it('rejects a count under 1', () => {
    expect(() => burstBy(0, 1)).to.throw(RangeError);
  });
});
