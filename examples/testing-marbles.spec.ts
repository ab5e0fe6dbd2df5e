// Marble-testing protocol logic with a virtual memif interface (no native addon, no peer).
// Run: npx mocha --no-config -r ts-node/register/transpile-only examples/testing-marbles.spec.ts
import { expect } from 'chai';
import { TestScheduler } from 'rxjs/testing';
// In your project: from 'rx-memif/testing'.
import { ethernet, virtualInterface } from '../src/testing';
import { ETHERTYPE, HELLO, PING, PONG, respond } from './ping-responder';

const ME = '02:fe:00:00:00:01';
const PEER = '02:fe:00:00:00:02';
const OTHER = '02:fe:00:00:00:03';

const ping = (seq: number, dst = ME) =>
  ethernet({ dst, src: PEER, type: ETHERTYPE, payload: [PING, seq] });
const pong = (seq: number) =>
  ethernet({ dst: PEER, src: ME, type: ETHERTYPE, payload: [PONG, seq] });
const hello = ethernet({ src: ME, type: ETHERTYPE, payload: [HELLO] });

describe('example: marble-testing a ping responder', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  it('says hello when connected and answers each ping in the frame it arrives', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const vi = virtualInterface(scheduler);
      vi.feed(0, hot('--a---b', { a: ping(1), b: ping(2, 'ff:ff:ff:ff:ff:ff') }));
      respond(vi, ME);
      expectObservable(vi.transmitted()).toBe('h-x---y', { h: hello, x: pong(1), y: pong(2) });
    });
  });

  it('ignores pings for someone else and frames of other protocols', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const vi = virtualInterface(scheduler);
      vi.feed(0, hot('-a-b-c', { a: ping(1, OTHER), b: ethernet({ dst: ME }), c: ping(3) }));
      respond(vi, ME);
      expectObservable(vi.transmitted()).toBe('h----z', { h: hello, z: pong(3) });
    });
  });

  it('follows the link: hello on every connection, nothing while it is down', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const vi = virtualInterface(scheduler, {
        states: hot('n-c---d---c', { n: 'connecting', c: 'connected', d: 'disconnected' }),
      });
      vi.feed(0, hot('---a-----b--c', { a: ping(1), b: ping(2), c: ping(3) }));
      respond(vi, ME);
      // ping 2 arrives while the link is down: the peer could not have sent it, it is dropped.
      expectObservable(vi.transmitted()).toBe('--h0------h-z', {
        h: hello,
        0: pong(1),
        z: pong(3),
      });
      scheduler.schedule(() => {
        expect(vi.stats().rx[0]).to.deep.include({ packets: 2, drops: { linkDown: 1 } });
        expect(vi.stats().tx[0]).to.deep.include({ packets: 4, bursts: 4 });
      }, 20);
    });
  });

  it('stops when the interface closes', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const vi = virtualInterface(scheduler);
      vi.feed(0, hot('-a---b', { a: ping(1), b: ping(2) }));
      const subscription = respond(vi, ME);
      hot('---x').subscribe(() => void vi.close());
      expectObservable(vi.transmitted()).toBe('ha-|', { h: hello, a: pong(1) });
      scheduler.schedule(() => expect(subscription.closed).to.equal(true), 4);
    });
  });
});
