import { expect } from 'chai';
import { clientStep, initialClientState } from '../../../src/control/handshake/client';
import type { ClientState } from '../../../src/control/handshake/client';
import type { HandshakeCommand, HandshakeEvent } from '../../../src/control/handshake/types';
import type { ControlMessage } from '../../../src/control/messages';
import {
  ack,
  addRegion,
  addRing,
  clientMachine,
  cmd,
  config,
  configWith,
  connect,
  connected,
  defaultLayout,
  disconnect,
  ev,
  fakeMemory,
  group,
  hello,
  init,
  matching,
  none,
  retryWith,
  run,
  st,
  stateAfter,
  testScheduler,
  walk,
  withTimerLog,
} from './fixtures';

const machine = clientMachine();
const memory = fakeMemory(defaultLayout); // region fd 100, ring eventfds 101..104
const acks = (n: number): HandshakeEvent[] => Array.from({ length: n }, () => ev.frame(ack()));
const toHello = [ev.start, ev.socketConnected];
const toAllocating = [...toHello, ev.frame(hello())];
const toAnnouncing = [...toAllocating, ev.memoryReady(memory)];
const toConnected = [...toAnnouncing, ...acks(6), ev.frame(connected())];

interface Phase {
  readonly name: string;
  readonly phase: ClientState['phase'];
  readonly events: readonly HandshakeEvent[];
  readonly memory: boolean;
  readonly connected: boolean;
  /** A message the client does not expect in this phase, and its name in the reason. */
  readonly unexpected: ControlMessage;
  readonly unexpectedName: string;
}

/** Every phase with an open control socket. */
const phases: readonly Phase[] = [
  {
    name: 'awaiting HELLO',
    phase: 'awaiting-hello',
    events: toHello,
    memory: false,
    connected: false,
    unexpected: ack(),
    unexpectedName: 'ACK',
  },
  {
    name: 'allocating memory',
    phase: 'allocating',
    events: toAllocating,
    memory: false,
    connected: false,
    unexpected: hello(),
    unexpectedName: 'HELLO',
  },
  {
    name: 'awaiting the ACK of INIT',
    phase: 'announcing',
    events: toAnnouncing,
    memory: true,
    connected: false,
    unexpected: connected(),
    unexpectedName: 'CONNECTED',
  },
  {
    name: 'awaiting the ACK of ADD_REGION 0',
    phase: 'announcing',
    events: [...toAnnouncing, ...acks(1)],
    memory: true,
    connected: false,
    unexpected: addRegion(0, 4096),
    unexpectedName: 'ADD_REGION',
  },
  {
    name: 'awaiting the ACK of ADD_RING S2M 0',
    phase: 'announcing',
    events: [...toAnnouncing, ...acks(2)],
    memory: true,
    connected: false,
    unexpected: init(),
    unexpectedName: 'INIT',
  },
  {
    name: 'awaiting the ACK of ADD_RING S2M 1',
    phase: 'announcing',
    events: [...toAnnouncing, ...acks(3)],
    memory: true,
    connected: false,
    unexpected: addRing('s2m', 0, 0),
    unexpectedName: 'ADD_RING',
  },
  {
    name: 'awaiting the ACK of ADD_RING M2S 0',
    phase: 'announcing',
    events: [...toAnnouncing, ...acks(4)],
    memory: true,
    connected: false,
    unexpected: none(),
    unexpectedName: 'NONE',
  },
  {
    name: 'awaiting the ACK of ADD_RING M2S 1',
    phase: 'announcing',
    events: [...toAnnouncing, ...acks(5)],
    memory: true,
    connected: false,
    unexpected: connect(),
    unexpectedName: 'CONNECT',
  },
  {
    name: 'awaiting CONNECTED',
    phase: 'announcing',
    events: [...toAnnouncing, ...acks(6)],
    memory: true,
    connected: false,
    unexpected: ack(),
    unexpectedName: 'ACK',
  },
  {
    name: 'connected',
    phase: 'connected',
    events: toConnected,
    memory: true,
    connected: true,
    unexpected: hello(),
    unexpectedName: 'HELLO',
  },
];

interface Failure {
  readonly name: string;
  readonly event: (p: Phase) => HandshakeEvent;
  /** fds that came with the event (the client closes them). */
  readonly fds: readonly number[];
  readonly reason: (p: Phase) => string;
  readonly by: 'local' | 'peer';
}

const failures: readonly Failure[] = [
  {
    name: 'DISCONNECT from the peer',
    event: () => ev.frame(disconnect('bye from vpp'), 200),
    fds: [200],
    reason: () => 'bye from vpp',
    by: 'peer',
  },
  {
    name: 'DISCONNECT from the peer with an empty reason',
    event: () => ev.frame(disconnect('')),
    fds: [],
    reason: () => 'peer disconnected (no reason given)',
    by: 'peer',
  },
  {
    name: 'EOF',
    event: () => ev.socketClosed(null),
    fds: [],
    reason: () => 'peer closed the control connection',
    by: 'peer',
  },
  {
    name: 'a socket error',
    event: () => ev.socketClosed('ECONNRESET'),
    fds: [],
    reason: () => 'ECONNRESET',
    by: 'peer',
  },
  {
    name: 'a malformed frame',
    event: () => ev.malformed('datagram of 64 bytes', 201, 202),
    fds: [201, 202],
    reason: () => 'malformed message: datagram of 64 bytes',
    by: 'local',
  },
  {
    name: 'an unexpected message',
    event: (p) => ev.frame(p.unexpected, 203),
    fds: [203],
    reason: (p) => `unexpected ${p.unexpectedName} message`,
    by: 'local',
  },
];

/**
 * What the rules say a client does when a connection ends (independent of the machine): close
 * fds that came along, stop the data path if it ran, tell the peer when we end it, close the
 * socket, free the memory if there is some, publish disconnected with the next attempt.
 */
const expectedTeardown = (
  p: Phase,
  f: Failure,
): { keys: string; values: Record<string, HandshakeCommand> } => {
  const commands: HandshakeCommand[] = [];
  const reason = f.reason(p);
  if (f.fds.length > 0) commands.push(cmd.closeFds(...f.fds));
  if (p.connected) commands.push(cmd.stopDataPath);
  if (f.by === 'local') commands.push(cmd.sendDisconnect(reason));
  commands.push(cmd.closeSocket);
  if (p.memory) commands.push(cmd.freeMemory);
  const attempt = p.connected ? 1 : 2;
  commands.push(cmd.publish(st.disconnected('client', reason, f.by, { attempt, inMs: 1000 })));
  const values: Record<string, HandshakeCommand> = {};
  let keys = '';
  commands.forEach((c, i) => {
    const key = String.fromCharCode(65 + i);
    values[key] = c;
    keys += key;
  });
  return { keys, values };
};

describe('handshake/client: failures in every phase', () => {
  for (const p of phases)
    describe(`while ${p.name}`, () => {
      for (const f of failures)
        it(`${f.name}: tears down, publishes disconnected and retries 1000ms later`, () => {
          const from = stateAfter(machine, initialClientState, p.events);
          expect(from.phase).to.equal(p.phase);
          const ts = testScheduler();
          const timers = withTimerLog(ts, machine);
          const nextAttempt = p.connected ? 1 : 2;
          ts.run(({ hot, expectObservable }) => {
            const events = hot('-x', { x: f.event(p) });
            const down = expectedTeardown(p, f);
            const g = group(down.keys);
            expectObservable(events.pipe(run(timers.machine, from, ts))).toBe(
              `-${g} ${1000 - g.length}ms (xy)`,
              {
                ...down.values,
                x: cmd.connectSocket,
                y: cmd.publish(st.connecting(nextAttempt)),
              },
            );
          });
          expect(timers.log).to.deep.equal(['retry@1001']);
          // The timer commands the driver consumed: the handshake timer goes, the retry comes.
          const timerCommands = clientStep(config, from, f.event(p)).commands.filter(
            (c) => c.kind === 'cancel-timer' || c.kind === 'set-timer',
          );
          expect(timerCommands).to.deep.equal([
            cmd.cancelTimer('handshake'),
            cmd.setTimer('retry', 1000),
          ]);
        });

      if (!p.connected)
        it('the handshake timer: tears down with "handshake timed out"', () => {
          const from = stateAfter(machine, initialClientState, p.events);
          const next = clientStep(config, from, ev.timer('handshake'));
          const expected: HandshakeCommand[] = [
            cmd.cancelTimer('handshake'),
            cmd.sendDisconnect('handshake timed out'),
            cmd.closeSocket,
            ...(p.memory ? [cmd.freeMemory] : []),
            cmd.publish(
              st.disconnected('client', 'handshake timed out', 'local', { attempt: 2, inMs: 1000 }),
            ),
            cmd.setTimer('retry', 1000),
          ];
          expect(next.commands).to.deep.equal(expected);
          expect(next.state).to.deep.equal({ phase: 'waiting-retry', attempt: 2 });
        });
      else
        it('a late handshake timer is ignored', () => {
          const from = stateAfter(machine, initialClientState, p.events);
          expect(clientStep(config, from, ev.timer('handshake'))).to.deep.equal({
            state: from,
            commands: [],
          });
        });
    });
});

describe('handshake/client: failures specific to one step', () => {
  it('connect() fails (ECONNREFUSED): no DISCONNECT, no close-socket, retry (marbles)', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a----b', { a: ev.start, b: ev.socketFailed('ECONNREFUSED') });
      expectObservable(events.pipe(run(machine, initialClientState, ts))).toBe(
        '-(AB)-C 999ms (AD)',
        {
          A: cmd.connectSocket,
          B: cmd.publish(st.connecting(1)),
          C: cmd.publish(
            st.disconnected('client', 'ECONNREFUSED', 'local', { attempt: 2, inMs: 1000 }),
          ),
          D: cmd.publish(st.connecting(2)),
        },
      );
    });
  });

  for (const [what, range] of [
    ['min_version > 0x0200', { minVersion: 0x201, maxVersion: 0x201 }],
    ['max_version < 0x0200', { minVersion: 0x100, maxVersion: 0x1ff }],
  ] as const)
    it(`incompatible HELLO (${what}): DISCONNECT, close, retry (marbles)`, () => {
      const ts = testScheduler();
      ts.run(({ hot, expectObservable }) => {
        const events = hot('-a----b----c', {
          a: ev.start,
          b: ev.socketConnected,
          c: ev.frame(hello(range)),
        });
        const reason = matching(/incompatible protocol version/);
        expectObservable(events.pipe(run(machine, initialClientState, ts))).toBe(
          '-(AB)-C----(DEF) 995ms (AG)',
          {
            A: cmd.connectSocket,
            B: cmd.publish(st.connecting(1)),
            C: cmd.publish(st.handshaking('client', 'hello')),
            D: cmd.sendDisconnect(reason),
            E: cmd.closeSocket,
            F: cmd.publish(st.disconnected('client', reason, 'local', { attempt: 2, inMs: 1000 })),
            G: cmd.publish(st.connecting(2)),
          },
        );
      });
    });

  it('the incompatible-version reason names the server range', () => {
    const w = walk(machine, initialClientState, [
      ...toHello,
      ev.frame(hello({ minVersion: 0x300, maxVersion: 0x301 })),
    ]);
    const published = w.last.find((c) => c.kind === 'publish');
    expect(published)
      .to.have.nested.property('state.reason')
      .that.matches(/0x300\.\.0x301/);
  });

  it('memory-failed: DISCONNECT, close-socket, no free-memory, retry (marbles)', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a----b----c----d', {
        a: ev.start,
        b: ev.socketConnected,
        c: ev.frame(hello()),
        d: ev.memoryFailed('ENOMEM'),
      });
      const reason = 'cannot create shared memory: ENOMEM';
      expectObservable(events.pipe(run(machine, initialClientState, ts))).toBe(
        '-(AB)-C----(DE)-(FGH) 995ms (AI)',
        {
          A: cmd.connectSocket,
          B: cmd.publish(st.connecting(1)),
          C: cmd.publish(st.handshaking('client', 'hello')),
          D: cmd.createMemory(defaultLayout),
          E: cmd.publish(st.handshaking('client', 'memory')),
          F: cmd.sendDisconnect(reason),
          G: cmd.closeSocket,
          H: cmd.publish(st.disconnected('client', reason, 'local', { attempt: 2, inMs: 1000 })),
          I: cmd.publish(st.connecting(2)),
        },
      );
    });
  });

  it('HELLO that allows no ring (max log2 0) is refused', () => {
    const w = walk(machine, initialClientState, [
      ...toHello,
      ev.frame(hello({ maxLog2RingSize: 0 })),
    ]);
    expect(w.last).to.deep.include(
      cmd.sendDisconnect('server allows no ring (max log2 ring size 0)'),
    );
    expect(w.state).to.deep.equal({ phase: 'waiting-retry', attempt: 2 });
  });

  it('a layout beyond 4 GiB is refused before any memory is created', () => {
    const big = configWith({ s2mRings: 255, m2sRings: 255, log2RingSize: 14 });
    const w = walk(clientMachine(big), initialClientState, [...toHello, ev.frame(hello())]);
    expect(w.last.map((c) => c.kind)).to.not.include('create-memory');
    const published = w.last.find((c) => c.kind === 'publish');
    expect(published)
      .to.have.nested.property('state.reason')
      .that.matches(/32-bit offsets/);
  });

  it('the 4 GiB limit: 3 big rings fit, 4 do not', () => {
    const big = { log2RingSize: 14, bufferSize: 65535, s2mRings: 2 };
    const fits = walk(clientMachine(configWith({ ...big, m2sRings: 1 })), initialClientState, [
      ...toHello,
      ev.frame(hello()),
    ]);
    // 3 * (128 + 16 * 16384) + 3 * 16384 * 65535 = 3221963136 < 2^32
    expect(fits.last[0]).to.have.nested.property('layout.regionSize', 3221963136);
    const tooBig = walk(clientMachine(configWith({ ...big, m2sRings: 2 })), initialClientState, [
      ...toHello,
      ev.frame(hello()),
    ]);
    // 4 * 262272 + 4 * 16384 * 65535 = 4295950848 > 2^32
    expect(tooBig.state.phase).to.equal('waiting-retry');
  });
});

describe('handshake/client: handshake timeout (marbles)', () => {
  it('while allocating: no free-memory at teardown, the late memory-ready is freed', () => {
    const ts = testScheduler();
    const timers = withTimerLog(ts, machine);
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a----b----c 3488ms d', {
        a: ev.start,
        b: ev.socketConnected,
        c: ev.frame(hello()),
        d: ev.memoryReady(memory),
      });
      const reason = 'handshake timed out';
      expectObservable(events.pipe(run(timers.machine, initialClientState, ts))).toBe(
        '-(AB)-C----(DE) 2991ms (FGH) 489ms I 505ms (AJ)',
        {
          A: cmd.connectSocket,
          B: cmd.publish(st.connecting(1)),
          C: cmd.publish(st.handshaking('client', 'hello')),
          D: cmd.createMemory(defaultLayout),
          E: cmd.publish(st.handshaking('client', 'memory')),
          F: cmd.sendDisconnect(reason),
          G: cmd.closeSocket,
          H: cmd.publish(st.disconnected('client', reason, 'local', { attempt: 2, inMs: 1000 })),
          I: cmd.freeMemory,
          J: cmd.publish(st.connecting(2)),
        },
      );
    });
    expect(timers.log).to.deep.equal(['handshake@3006', 'retry@4006']);
  });

  it('while announcing: frees the memory', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a----b----c----d----e', {
        a: ev.start,
        b: ev.socketConnected,
        c: ev.frame(hello()),
        d: ev.memoryReady(memory),
        e: ev.frame(ack()),
      });
      const reason = 'handshake timed out';
      expectObservable(events.pipe(run(machine, initialClientState, ts))).toBe(
        '-(AB)-C----(DE)-(FG)-(HI) 2981ms (JKLM) 994ms (AN)',
        {
          A: cmd.connectSocket,
          B: cmd.publish(st.connecting(1)),
          C: cmd.publish(st.handshaking('client', 'hello')),
          D: cmd.createMemory(defaultLayout),
          E: cmd.publish(st.handshaking('client', 'memory')),
          F: cmd.send(init({ name: 'rx-memif-test' })),
          G: cmd.publish(st.handshaking('client', 'init')),
          H: cmd.send(addRegion(0, defaultLayout.regionSize), 100),
          I: cmd.publish(st.handshaking('client', 'regions')),
          J: cmd.sendDisconnect(reason),
          K: cmd.closeSocket,
          L: cmd.freeMemory,
          M: cmd.publish(st.disconnected('client', reason, 'local', { attempt: 2, inMs: 1000 })),
          N: cmd.publish(st.connecting(2)),
        },
      );
    });
  });

  it('a stale handshake timer in a phase without socket is ignored', () => {
    for (const events of [[], [ev.start], [ev.start, ev.socketFailed('x')]]) {
      const from = stateAfter(machine, initialClientState, events);
      expect(clientStep(config, from, ev.timer('handshake')).commands).to.deep.equal([]);
    }
  });
});

describe('handshake/client: retry policy (marbles)', () => {
  it('backs off by factor 2 up to maxMs and keeps counting attempts', () => {
    const ts = testScheduler();
    const timers = withTimerLog(ts, machine);
    const fail = ev.socketFailed('ENOENT');
    const down = (attempt: number, inMs: number) =>
      cmd.publish(st.disconnected('client', 'ENOENT', 'local', { attempt, inMs }));
    ts.run(({ hot, expectObservable }) => {
      // prettier-ignore
      const events = hot('-a----b 999ms -----b 1999ms -----b 3999ms -----b 3999ms -----b', {
        a: ev.start,
        b: fail,
      });
      // prettier-ignore
      expectObservable(events.pipe(run(timers.machine, initialClientState, ts))).toBe(
        '-(c1)-v 999ms (c2)-w 1999ms (c3)-x 3999ms (c4)-y 3999ms (c5)-z 3999ms (c6)', {
        c: cmd.connectSocket,
        1: cmd.publish(st.connecting(1)),
        2: cmd.publish(st.connecting(2)),
        3: cmd.publish(st.connecting(3)),
        4: cmd.publish(st.connecting(4)),
        5: cmd.publish(st.connecting(5)),
        6: cmd.publish(st.connecting(6)),
        v: down(2, 1000),
        w: down(3, 2000),
        x: down(4, 4000),
        y: down(5, 4000), // 8000 capped at maxMs
        z: down(6, 4000),
      });
    });
    expect(timers.log).to.deep.equal([
      'retry@1006',
      'retry@3011',
      'retry@7016',
      'retry@11021',
      'retry@15026',
    ]);
  });

  it('stops after maxAttempts: retry null and no timer', () => {
    const ts = testScheduler();
    const timers = withTimerLog(ts, clientMachine(retryWith({ maxAttempts: 3 })));
    const down = (retry: { attempt: number; inMs: number } | null) =>
      cmd.publish(st.disconnected('client', 'ENOENT', 'local', retry));
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a----b 999ms -----b 1999ms -----b 9999ms -', {
        a: ev.start,
        b: ev.socketFailed('ENOENT'),
      });
      expectObservable(events.pipe(run(timers.machine, initialClientState, ts))).toBe(
        '-(c1)-v 999ms (c2)-w 1999ms (c3)-x',
        {
          c: cmd.connectSocket,
          1: cmd.publish(st.connecting(1)),
          2: cmd.publish(st.connecting(2)),
          3: cmd.publish(st.connecting(3)),
          v: down({ attempt: 2, inMs: 1000 }),
          w: down({ attempt: 3, inMs: 2000 }),
          x: down(null),
        },
      );
    });
    expect(timers.log).to.deep.equal(['retry@1006', 'retry@3011']);
    const last = walk(clientMachine(retryWith({ maxAttempts: 1 })), initialClientState, [
      ev.start,
      ev.socketFailed('x'),
    ]).last;
    expect(last.map((c) => c.kind)).to.not.include('set-timer');
  });

  it('counts from attempt 1 again after a link was up', () => {
    // Link up on the second attempt.
    const w = walk(machine, initialClientState, [
      ev.start,
      ev.socketFailed('ECONNREFUSED'),
      ev.timer('retry'),
      ...toConnected.slice(1),
    ]);
    expect(w.steps[2]).to.deep.equal([cmd.connectSocket, cmd.publish(st.connecting(2))]);
    expect(w.state).to.include({ phase: 'connected', attempt: 2 });
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a 1004ms b', { a: ev.socketClosed(null), b: ev.socketFailed('ENOENT') });
      const eof = 'peer closed the control connection';
      expectObservable(events.pipe(run(machine, w.state, ts))).toBe(
        '-(ABCD) 994ms (EF)-G 999ms (EH)',
        {
          A: cmd.stopDataPath,
          B: cmd.closeSocket,
          C: cmd.freeMemory,
          D: cmd.publish(st.disconnected('client', eof, 'peer', { attempt: 1, inMs: 1000 })),
          E: cmd.connectSocket,
          F: cmd.publish(st.connecting(1)),
          G: cmd.publish(st.disconnected('client', 'ENOENT', 'local', { attempt: 2, inMs: 1000 })),
          H: cmd.publish(st.connecting(2)),
        },
      );
    });
  });

  it('a whole second handshake works after a failed one', () => {
    const w = walk(machine, initialClientState, [
      ...toAnnouncing,
      ev.socketClosed(null),
      ev.timer('retry'),
      ev.socketConnected,
      ev.frame(hello()),
      ev.memoryReady(fakeMemory(defaultLayout, 300)),
      ...acks(6),
      ev.frame(connected()),
    ]);
    expect(w.state.phase).to.equal('connected');
    // The first connection never got past INIT; the second announces its own fds.
    const sentFds = w.steps
      .flat()
      .flatMap((c) => (c.kind === 'send' && c.fd !== undefined ? [c.fd] : []));
    expect(sentFds).to.deep.equal([300, 301, 302, 303, 304]);
  });
});

describe('handshake/client: local close (marbles)', () => {
  it('while idle: only publishes closed; start afterwards does nothing', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a----b', { a: ev.close, b: ev.start });
      expectObservable(events.pipe(run(machine, initialClientState, ts))).toBe('-A', {
        A: cmd.publish(st.closed('client')),
      });
    });
  });

  it('while connecting: no socket to close yet; a late socket-connected is closed', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a----b----c----d', {
        a: ev.start,
        b: ev.close,
        c: ev.socketConnected,
        d: ev.socketFailed('late'),
      });
      expectObservable(events.pipe(run(machine, initialClientState, ts))).toBe('-(AB)-C----D', {
        A: cmd.connectSocket,
        B: cmd.publish(st.connecting(1)),
        C: cmd.publish(st.closed('client')),
        D: cmd.closeSocket,
      });
    });
  });

  it('while waiting to retry: the retry timer is cancelled', () => {
    const ts = testScheduler();
    const timers = withTimerLog(ts, machine);
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a----b----c 2000ms d', {
        a: ev.start,
        b: ev.socketFailed('ECONNREFUSED'),
        c: ev.close,
        d: ev.frame(hello(), 300),
      });
      expectObservable(events.pipe(run(timers.machine, initialClientState, ts))).toBe(
        '-(AB)-C----D 2000ms E',
        {
          A: cmd.connectSocket,
          B: cmd.publish(st.connecting(1)),
          C: cmd.publish(
            st.disconnected('client', 'ECONNREFUSED', 'local', { attempt: 2, inMs: 1000 }),
          ),
          D: cmd.publish(st.closed('client')),
          E: cmd.closeFds(300),
        },
      );
    });
    // retry was due at frame 1006.
    expect(timers.log).to.deep.equal([]);
  });

  it('while awaiting HELLO: DISCONNECT "interface closed", close-socket; no timeout later', () => {
    const ts = testScheduler();
    const timers = withTimerLog(ts, machine);
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a----b----c 5000ms d', {
        a: ev.start,
        b: ev.socketConnected,
        c: ev.close,
        d: ev.frame(hello(), 300),
      });
      expectObservable(events.pipe(run(timers.machine, initialClientState, ts))).toBe(
        '-(AB)-C----(DEF) 4996ms G',
        {
          A: cmd.connectSocket,
          B: cmd.publish(st.connecting(1)),
          C: cmd.publish(st.handshaking('client', 'hello')),
          D: cmd.sendDisconnect('interface closed'),
          E: cmd.closeSocket,
          F: cmd.publish(st.closed('client')),
          G: cmd.closeFds(300),
        },
      );
    });
    // The handshake timer (due at 3006) was cancelled.
    expect(timers.log).to.deep.equal([]);
  });

  it('while allocating: the memory that arrives after close is freed', () => {
    const ts = testScheduler();
    const timers = withTimerLog(ts, machine);
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a----b----c----d 4000ms ef', {
        a: ev.start,
        b: ev.socketConnected,
        c: ev.frame(hello()),
        d: ev.close,
        e: ev.memoryReady(memory),
        f: ev.memoryFailed('too late'),
      });
      expectObservable(events.pipe(run(timers.machine, initialClientState, ts))).toBe(
        '-(AB)-C----(DE)-(FGH) 3996ms I',
        {
          A: cmd.connectSocket,
          B: cmd.publish(st.connecting(1)),
          C: cmd.publish(st.handshaking('client', 'hello')),
          D: cmd.createMemory(defaultLayout),
          E: cmd.publish(st.handshaking('client', 'memory')),
          F: cmd.sendDisconnect('interface closed'),
          G: cmd.closeSocket,
          H: cmd.publish(st.closed('client')),
          I: cmd.freeMemory,
        },
      );
    });
    expect(timers.log).to.deep.equal([]);
  });

  it('while announcing: frees the memory; fds of a later malformed frame are closed', () => {
    const ts = testScheduler();
    const timers = withTimerLog(ts, machine);
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a----b----c----d----e 4000ms f', {
        a: ev.start,
        b: ev.socketConnected,
        c: ev.frame(hello()),
        d: ev.memoryReady(memory),
        e: ev.close,
        f: ev.malformed('short', 301, 302),
      });
      expectObservable(events.pipe(run(timers.machine, initialClientState, ts))).toBe(
        '-(AB)-C----(DE)-(FG)-(HIJK) 3995ms L',
        {
          A: cmd.connectSocket,
          B: cmd.publish(st.connecting(1)),
          C: cmd.publish(st.handshaking('client', 'hello')),
          D: cmd.createMemory(defaultLayout),
          E: cmd.publish(st.handshaking('client', 'memory')),
          F: cmd.send(init({ name: 'rx-memif-test' })),
          G: cmd.publish(st.handshaking('client', 'init')),
          H: cmd.sendDisconnect('interface closed'),
          I: cmd.closeSocket,
          J: cmd.freeMemory,
          K: cmd.publish(st.closed('client')),
          L: cmd.closeFds(301, 302),
        },
      );
    });
    expect(timers.log).to.deep.equal([]);
  });

  it('while connected: stops the data path first; nothing happens after', () => {
    const from = stateAfter(machine, initialClientState, toConnected);
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a----bcdefgh', {
        a: ev.close,
        b: ev.socketClosed(null),
        c: ev.frame(disconnect('bye')),
        d: ev.timer('retry'),
        e: ev.timer('handshake'),
        f: ev.start,
        g: ev.close,
        h: ev.frame(ack(), 400),
      });
      expectObservable(events.pipe(run(machine, from, ts))).toBe('-(ABCDE)----h', {
        A: cmd.stopDataPath,
        B: cmd.sendDisconnect('interface closed'),
        C: cmd.closeSocket,
        D: cmd.freeMemory,
        E: cmd.publish(st.closed('client')),
        h: cmd.closeFds(400),
      });
    });
  });

  it('cancels both timers first, in every phase', () => {
    const states: ClientState[] = [
      initialClientState,
      ...[[ev.start], [ev.start, ev.socketFailed('x')], ...phases.map((p) => p.events)].map(
        (events) => stateAfter(machine, initialClientState, events),
      ),
    ];
    for (const s of states) {
      const next = clientStep(config, s, ev.close);
      expect(next.commands.slice(0, 2), s.phase).to.deep.equal([
        cmd.cancelTimer('handshake'),
        cmd.cancelTimer('retry'),
      ]);
      expect(next.state).to.deep.equal({ phase: 'closed' });
    }
  });
});
