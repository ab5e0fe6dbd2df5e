import { expect } from 'chai';
import { HandshakeDriver, runMachine } from '../../../src/control/handshake/driver';
import type {
  HandshakeCommand,
  HandshakeEvent,
  Machine,
} from '../../../src/control/handshake/types';
import { cmd, ev, testScheduler } from './fixtures';

/** A scripted machine: `script[event kind or timer name]` gives the commands of that event. */
const scripted =
  (script: Record<string, HandshakeCommand[]>): Machine<number> =>
  (n, e) => ({
    state: n + 1,
    commands: script[e.kind === 'timer' ? `timer:${e.timer}` : e.kind] ?? [],
  });

const fired = (timer: 'retry' | 'handshake'): HandshakeCommand =>
  cmd.closeFds(timer === 'retry' ? 1 : 2);

describe('handshake/driver', () => {
  it('runs set-timer on the scheduler and turns its expiry into a timer event (marbles)', () => {
    const ts = testScheduler();
    const machine = scripted({
      start: [cmd.setTimer('retry', 100), cmd.connectSocket],
      'timer:retry': [fired('retry')],
    });
    ts.run(({ hot, expectObservable }) => {
      expectObservable(hot('-a', { a: ev.start }).pipe(runMachine(machine, 0, ts))).toBe(
        '-a 99ms b',
        { a: cmd.connectSocket, b: fired('retry') },
      );
    });
  });

  it('a second set-timer of the same name replaces the first', () => {
    const ts = testScheduler();
    const machine = scripted({
      start: [cmd.setTimer('retry', 100)],
      close: [cmd.setTimer('retry', 500)],
      'timer:retry': [fired('retry')],
    });
    ts.run(({ hot, expectObservable }) => {
      expectObservable(
        hot('-a 49ms b', { a: ev.start, b: ev.close }).pipe(runMachine(machine, 0, ts)),
      ).toBe('- 50ms 500ms b', { b: fired('retry') });
    });
  });

  it('cancel-timer cancels only the named timer', () => {
    const ts = testScheduler();
    const machine = scripted({
      start: [cmd.setTimer('retry', 100), cmd.setTimer('handshake', 200)],
      close: [cmd.cancelTimer('retry'), cmd.cancelTimer('retry')],
      'timer:retry': [fired('retry')],
      'timer:handshake': [fired('handshake')],
    });
    ts.run(({ hot, expectObservable }) => {
      expectObservable(
        hot('-a----b', { a: ev.start, b: ev.close }).pipe(runMachine(machine, 0, ts)),
      ).toBe('- 200ms h', { h: fired('handshake') });
    });
  });

  it('unsubscribing cancels pending timers', () => {
    const ts = testScheduler();
    const seen: HandshakeEvent[] = [];
    const machine: Machine<number> = (n, e) => {
      seen.push(e);
      return { state: n, commands: e.kind === 'start' ? [cmd.setTimer('retry', 100)] : [] };
    };
    ts.run(({ hot, expectObservable }) => {
      expectObservable(hot('-a', { a: ev.start }).pipe(runMachine(machine, 0, ts)), '^--!').toBe(
        '',
      );
    });
    expect(seen).to.deep.equal([ev.start]);
  });

  it('queues events raised while a step runs instead of re-entering the machine', () => {
    const log: string[] = [];
    const machine: Machine<number> = (n, e) => {
      log.push(`machine ${e.kind}`);
      return {
        state: n + 1,
        commands: e.kind === 'start' ? [cmd.connectSocket, cmd.closeSocket] : [],
      };
    };
    const driver: HandshakeDriver<number> = new HandshakeDriver(machine, 0, (c) => {
      log.push(`execute ${c.kind}`);
      if (c.kind === 'connect-socket') driver.dispatch(ev.socketConnected);
    });
    driver.dispatch(ev.start);
    // Every command of `start` ran before the machine saw socket-connected.
    expect(log).to.deep.equal([
      'machine start',
      'execute connect-socket',
      'execute close-socket',
      'machine socket-connected',
    ]);
    expect(driver.state).to.equal(2);
  });
});
