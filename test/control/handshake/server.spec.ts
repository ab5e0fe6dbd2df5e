import { expect } from 'chai';
import { initialServerState, serverStep } from '../../../src/control/handshake/server';
import type { ServerState } from '../../../src/control/handshake/server';
import type { HandshakeEvent } from '../../../src/control/handshake/types';
import {
  CLIENT_APP,
  CLIENT_IF,
  HANDSHAKE_TIMEOUT_MS,
  ack,
  addRegion,
  addRing,
  cmd,
  config,
  configWith,
  connect,
  connected,
  disconnect,
  ev,
  hello,
  init,
  run,
  serverMachine,
  st,
  stateAfter,
  testScheduler,
  walk,
  withTimerLog,
} from './fixtures';
import {
  REGION_SIZE,
  RING_FDS,
  STRIDE,
  keyed,
  m2s0,
  m2s1,
  region0,
  s2m0,
  serverTeardown,
  toBound,
  toConnected,
  toListening,
  toMapping,
  toRegion,
  toRings,
} from './server-fixtures';
import type { BoundPhase } from './server-fixtures';

const machine = serverMachine();

/** The connected state for the announcement of `server-fixtures` (1 S2M, 2 M2S). */
const link = {
  status: 'connected',
  role: 'server',
  peer: { appName: CLIENT_APP, interfaceName: CLIENT_IF },
  mode: 'ethernet',
  queues: { rx: 1, tx: 2 },
  log2RingSize: 10,
  ringSize: 1024,
  bufferSize: 2048,
  regions: [{ index: 0, size: REGION_SIZE }],
} as const;

describe('handshake/server: the happy path', () => {
  it('listens, ACKs INIT/ADD_REGION/ADD_RING, maps on CONNECT, answers CONNECTED (marbles)', () => {
    const ts = testScheduler();
    const timers = withTimerLog(ts, machine);
    ts.run(({ hot, expectObservable }) => {
      // prettier-ignore
      const events = hot('-a----b----c----d----e----f----g----h', {
        a: ev.start,
        b: ev.bind(init()),
        c: region0,
        d: s2m0,
        e: m2s0,
        f: m2s1,
        g: ev.frame(connect()),
        h: ev.mapped,
      });
      const ring = (direction: string, index: number, offset: number, fd: number) => ({
        direction,
        index,
        region: 0,
        offset,
        log2RingSize: 10,
        fd,
      });
      // prettier-ignore
      expectObservable(events.pipe(run(timers.machine, initialServerState, ts))).toBe(
        '-L----(AH)-A----A----A----A----M----(SCP)', {
        L: { kind: 'publish', state: { status: 'listening', role: 'server' } },
        A: { kind: 'send', message: { type: 'ack' } },
        H: { kind: 'publish', state: { status: 'handshaking', role: 'server', step: 'regions' } },
        M: {
          kind: 'map-memory',
          regions: [{ index: 0, size: REGION_SIZE, fd: 100 }],
          rings: [
            ring('s2m', 0, 0, 101),
            ring('m2s', 0, STRIDE, 102),
            ring('m2s', 1, 2 * STRIDE, 103),
          ],
        },
        S: { kind: 'start-data-path', connected: link },
        C: { kind: 'send', message: { type: 'connected', interfaceName: 'memif0/7' } },
        P: { kind: 'publish', state: link },
      });
    });
    // The handshake timer armed at bind (frame 6) was cancelled when the link came up.
    expect(timers.log).to.deep.equal([]);
  });

  it('several regions: each is ACKed and all of them are handed to map-memory', () => {
    const w = walk(machine, initialServerState, [
      ...toBound,
      ev.frame(addRegion(0, STRIDE), 100), // exactly one ring
      ev.frame(addRegion(1, 1 << 20), 101),
      ev.frame(addRing('s2m', 0, 0, { region: 0 }), 102),
      ev.frame(addRing('m2s', 0, 0, { region: 1 }), 103),
      ev.frame(connect()),
    ]);
    expect(w.steps.slice(2, 6)).to.deep.equal(Array(4).fill([cmd.send(ack())]));
    expect(w.last).to.deep.equal([
      {
        kind: 'map-memory',
        regions: [
          { index: 0, size: STRIDE, fd: 100 },
          { index: 1, size: 1 << 20, fd: 101 },
        ],
        rings: [
          { direction: 's2m', index: 0, region: 0, offset: 0, log2RingSize: 10, fd: 102 },
          { direction: 'm2s', index: 0, region: 1, offset: 0, log2RingSize: 10, fd: 103 },
        ],
      },
    ]);
  });
});

describe('handshake/server: single steps', () => {
  it('start publishes listening once', () => {
    expect(walk(machine, initialServerState, [ev.start]).last).to.deep.equal([
      cmd.publish(st.listening),
    ]);
    expect(walk(machine, initialServerState, [ev.start, ev.start]).last).to.deep.equal([]);
  });

  it('bind: ACK, arm the handshake timer, publish handshaking', () => {
    expect(walk(machine, initialServerState, toBound).last).to.deep.equal([
      cmd.send(ack()),
      cmd.setTimer('handshake', HANDSHAKE_TIMEOUT_MS),
      cmd.publish(st.handshaking('server', 'regions')),
    ]);
  });

  it('mapped: cancel the timer, start the data path, then CONNECTED, then publish', () => {
    expect(walk(machine, initialServerState, toConnected).last).to.deep.equal([
      cmd.cancelTimer('handshake'),
      cmd.startDataPath(link),
      cmd.send(connected('memif0/7')),
      cmd.publish(link),
    ]);
  });

  it('reports its own buffer size and the log2 ring size the client announced', () => {
    const w = walk(
      serverMachine(configWith({ bufferSize: 9000, log2RingSize: 12 })),
      initialServerState,
      toConnected,
    );
    expect(w.last[3]).to.deep.include({
      state: { ...link, bufferSize: 9000 },
    });
  });

  it('no secret configured: any client secret is accepted', () => {
    const open = serverMachine(configWith({ secret: '' as typeof config.secret }));
    for (const secret of ['', 'anything', 'sesame'])
      expect(
        walk(open, initialServerState, [ev.start, ev.bind(init({ secret }))]).last[0],
      ).to.deep.equal(cmd.send(ack()));
  });

  it('the right secret and mode are accepted (ip mode interface)', () => {
    const ip = serverMachine(configWith({ mode: 'ip' }));
    const w = walk(ip, initialServerState, [ev.start, ev.bind(init({ mode: 'ip' }))]);
    expect(w.state.phase).to.equal('handshaking');
  });

  it('events that do not concern a server are ignored in every phase', () => {
    for (const events of [[], toListening, toRegion, toMapping, toConnected]) {
      const s = stateAfter(machine, initialServerState, events);
      for (const e of [
        ev.socketConnected,
        ev.socketFailed('x'),
        ev.memoryFailed('x'),
        ev.timer('retry'),
      ]) {
        const next = serverStep(config, s, e);
        expect(next.commands, `${s.phase} + ${e.kind}`).to.deep.equal([]);
        expect(next.state).to.equal(s);
      }
    }
  });

  it('mapped / map-failed outside mapping are ignored', () => {
    for (const events of [toListening, toRegion, toConnected]) {
      const s = stateAfter(machine, initialServerState, events);
      expect(serverStep(config, s, ev.mapped).commands).to.deep.equal([]);
      expect(serverStep(config, s, ev.mapFailed('x')).commands).to.deep.equal([]);
    }
  });

  it('fds that reach a listening server are closed', () => {
    const s = stateAfter(machine, initialServerState, toListening);
    expect(serverStep(config, s, ev.frame(addRegion(0, 10), 120)).commands).to.deep.equal([
      cmd.closeFds(120),
    ]);
    expect(serverStep(config, s, ev.malformed('x', 121, 122)).commands).to.deep.equal([
      cmd.closeFds(121, 122),
    ]);
    expect(serverStep(config, s, ev.frame(ack())).commands).to.deep.equal([]);
    expect(serverStep(config, s, ev.socketClosed(null)).commands).to.deep.equal([]);
  });
});

describe('handshake/server: the peer ends the connection (marbles)', () => {
  const cases: {
    phase: BoundPhase;
    events: readonly HandshakeEvent[];
    collected: readonly number[];
  }[] = [
    { phase: 'handshaking', events: toRegion, collected: [100] },
    { phase: 'handshaking', events: toRings, collected: RING_FDS },
    { phase: 'mapping', events: toMapping, collected: [] },
    { phase: 'connected', events: toConnected, collected: [] },
  ];
  const ends = [
    {
      name: 'DISCONNECT',
      event: ev.frame(disconnect('client going away')),
      reason: 'client going away',
      fds: [],
    },
    {
      name: 'DISCONNECT with an fd',
      event: ev.frame(disconnect('x'), 130),
      reason: 'x',
      fds: [130],
    },
    {
      name: 'DISCONNECT without reason',
      event: ev.frame(disconnect('')),
      reason: 'peer disconnected (no reason given)',
      fds: [],
    },
    {
      name: 'EOF',
      event: ev.socketClosed(null),
      reason: 'peer closed the control connection',
      fds: [],
    },
    { name: 'a socket error', event: ev.socketClosed('ECONNRESET'), reason: 'ECONNRESET', fds: [] },
  ];
  for (const c of cases)
    for (const end of ends)
      it(`${end.name} while ${c.phase}${c.phase === 'handshaking' ? ` (${c.collected.length} fds held)` : ''}`, () => {
        const from = stateAfter(machine, initialServerState, c.events);
        expect(from.phase).to.equal(c.phase);
        const down = keyed(
          serverTeardown({
            phase: c.phase,
            reason: end.reason,
            by: 'peer',
            messageFds: end.fds,
            collected: c.collected,
          }),
        );
        const ts = testScheduler();
        ts.run(({ hot, expectObservable }) => {
          expectObservable(hot('-x', { x: end.event }).pipe(run(machine, from, ts))).toBe(
            `-${down.group}`,
            down.values,
          );
        });
        const next = serverStep(config, from, end.event);
        expect(next.state).to.deep.equal({ phase: 'listening' });
        expect(next.commands[end.fds.length > 0 ? 1 : 0]).to.deep.equal(
          cmd.cancelTimer('handshake'),
        );
      });
});

describe('handshake/server: handshake timeout', () => {
  it('tears down with the collected fds and listens again (marbles)', () => {
    const ts = testScheduler();
    const timers = withTimerLog(ts, machine);
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a----b----c', { a: ev.start, b: ev.bind(init()), c: region0 });
      const down = keyed(
        serverTeardown({
          phase: 'handshaking',
          reason: 'handshake timed out',
          by: 'local',
          collected: [100],
        }),
      );
      expectObservable(events.pipe(run(timers.machine, initialServerState, ts))).toBe(
        `-L----(ah)-k 2994ms ${down.group}`,
        {
          ...down.values,
          L: cmd.publish(st.listening),
          a: cmd.send(ack()),
          h: cmd.publish(st.handshaking('server', 'regions')),
          k: cmd.send(ack()),
        },
      );
    });
    expect(timers.log).to.deep.equal(['handshake@3006']);
  });

  it('while mapping: unmaps', () => {
    const s = stateAfter(machine, initialServerState, toMapping);
    const next = serverStep(config, s, ev.timer('handshake'));
    expect(next.commands).to.deep.equal([
      cmd.cancelTimer('handshake'),
      ...serverTeardown({ phase: 'mapping', reason: 'handshake timed out', by: 'local' }),
    ]);
  });

  it('is ignored when listening or connected', () => {
    for (const events of [toListening, toConnected]) {
      const s = stateAfter(machine, initialServerState, events);
      expect(serverStep(config, s, ev.timer('handshake'))).to.deep.equal({
        state: s,
        commands: [],
      });
    }
  });

  it('a teardown cancels it: nothing fires afterwards (marbles)', () => {
    const ts = testScheduler();
    const timers = withTimerLog(ts, machine);
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a----b----c 5000ms d', {
        a: ev.start,
        b: ev.bind(init()),
        c: ev.frame(addRegion(0, 4096)), // no fd
        d: ev.frame(ack(), 140),
      });
      const down = keyed(
        serverTeardown({
          phase: 'handshaking',
          reason: 'missing memory region fd',
          by: 'local',
        }),
      );
      expectObservable(events.pipe(run(timers.machine, initialServerState, ts))).toBe(
        `-L----(ah)-${down.group} ${5000 - down.group.length + 1}ms z`,
        {
          ...down.values,
          L: cmd.publish(st.listening),
          a: cmd.send(ack()),
          h: cmd.publish(st.handshaking('server', 'regions')),
          z: cmd.closeFds(140),
        },
      );
    });
    expect(timers.log).to.deep.equal([]);
  });
});

describe('handshake/server: map-failed', () => {
  it('DISCONNECT with the reason, no unmap, listens again and accepts a new client (marbles)', () => {
    const from = stateAfter(machine, initialServerState, toMapping);
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-x----y----z----w', {
        x: ev.mapFailed('wrong cookie on S2M ring 0'),
        y: ev.mapped, // a stray answer: ignored
        z: ev.bind(init()),
        w: ev.close,
      });
      expectObservable(events.pipe(run(machine, from, ts))).toBe('-(ABCD)----(ah)-(EFG)', {
        A: cmd.sendDisconnect('wrong cookie on S2M ring 0'),
        B: cmd.closeSocket,
        C: cmd.publish(st.disconnected('server', 'wrong cookie on S2M ring 0', 'local', null)),
        D: cmd.publish(st.listening),
        a: cmd.send(ack()),
        h: cmd.publish(st.handshaking('server', 'regions')),
        E: cmd.sendDisconnect('interface closed'),
        F: cmd.closeSocket,
        G: cmd.publish(st.closed('server')),
      });
    });
  });

  it('cancels the handshake timer and does not hand back fds it no longer owns', () => {
    const next = serverStep(
      config,
      stateAfter(machine, initialServerState, toMapping),
      ev.mapFailed('EINVAL'),
    );
    expect(next.commands[0]).to.deep.equal(cmd.cancelTimer('handshake'));
    const kinds = next.commands.map((c) => c.kind);
    expect(kinds).to.not.include('unmap-memory');
    expect(kinds).to.not.include('close-fds');
  });
});

describe('handshake/server: local close (marbles)', () => {
  it('while listening: publishes closed; later fds are closed, a bind does nothing', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a----b----c----d', {
        a: ev.start,
        b: ev.close,
        c: ev.frame(addRegion(0, 4096), 150),
        d: ev.bind(init()),
      });
      expectObservable(events.pipe(run(machine, initialServerState, ts))).toBe('-L----C----F', {
        L: cmd.publish(st.listening),
        C: cmd.publish(st.closed('server')),
        F: cmd.closeFds(150),
      });
    });
  });

  it('while handshaking: DISCONNECT, closes the fds held; the timer never fires', () => {
    const ts = testScheduler();
    const timers = withTimerLog(ts, machine);
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a----b----c----d----e 5000ms f', {
        a: ev.start,
        b: ev.bind(init()),
        c: region0,
        d: s2m0,
        e: ev.close,
        f: ev.frame(addRing('m2s', 0, STRIDE), 151),
      });
      expectObservable(events.pipe(run(timers.machine, initialServerState, ts))).toBe(
        '-L----(ah)-k----k----(DSFC) 4995ms G',
        {
          L: cmd.publish(st.listening),
          a: cmd.send(ack()),
          h: cmd.publish(st.handshaking('server', 'regions')),
          k: cmd.send(ack()),
          D: cmd.sendDisconnect('interface closed'),
          S: cmd.closeSocket,
          F: cmd.closeFds(100, 101),
          C: cmd.publish(st.closed('server')),
          G: cmd.closeFds(151),
        },
      );
    });
    expect(timers.log).to.deep.equal([]);
  });

  it('while mapping: unmaps; a late mapped is ignored', () => {
    const from = stateAfter(machine, initialServerState, toMapping);
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      expectObservable(
        hot('-x----y', { x: ev.close, y: ev.mapped }).pipe(run(machine, from, ts)),
      ).toBe('-(DSUC)', {
        D: cmd.sendDisconnect('interface closed'),
        S: cmd.closeSocket,
        U: cmd.unmapMemory,
        C: cmd.publish(st.closed('server')),
      });
    });
  });

  it('while connected: stops the data path and unmaps; then ignores everything', () => {
    const from = stateAfter(machine, initialServerState, toConnected);
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-x----abcde', {
        x: ev.close,
        a: ev.socketClosed(null),
        b: ev.frame(disconnect('late')),
        c: ev.timer('handshake'),
        d: ev.close,
        e: ev.start,
      });
      expectObservable(events.pipe(run(machine, from, ts))).toBe('-(DSPUC)', {
        D: cmd.sendDisconnect('interface closed'),
        S: cmd.closeSocket,
        P: cmd.stopDataPath,
        U: cmd.unmapMemory,
        C: cmd.publish(st.closed('server')),
      });
    });
  });

  it('cancels the handshake timer first in every phase', () => {
    for (const events of [[], toListening, toRegion, toMapping, toConnected]) {
      const next = serverStep(config, stateAfter(machine, initialServerState, events), ev.close);
      expect(next.commands[0]).to.deep.equal(cmd.cancelTimer('handshake'));
      expect(next.state).to.deep.equal({ phase: 'closed' });
    }
  });
});

describe('handshake/server: a second INIT for a bound interface', () => {
  it('while handshaking: refused with "already connected", the first client goes on (marbles)', () => {
    const from = stateAfter(machine, initialServerState, toRegion);
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-x----a----b----c----d----e', {
        x: ev.bind(init({ name: 'intruder' })),
        a: s2m0,
        b: m2s0,
        c: m2s1,
        d: ev.frame(connect()),
        e: ev.mapped,
      });
      expectObservable(events.pipe(run(machine, from, ts))).toBe(
        '-(DS)-k----k----k----M----(TCP)',
        {
          D: cmd.sendDisconnect('already connected'),
          S: cmd.closeSocket,
          k: cmd.send(ack()),
          M: {
            kind: 'map-memory',
            regions: [{ index: 0, size: REGION_SIZE, fd: 100 }],
            rings: [
              { direction: 's2m', index: 0, region: 0, offset: 0, log2RingSize: 10, fd: 101 },
              { direction: 'm2s', index: 0, region: 0, offset: STRIDE, log2RingSize: 10, fd: 102 },
              {
                direction: 'm2s',
                index: 1,
                region: 0,
                offset: 2 * STRIDE,
                log2RingSize: 10,
                fd: 103,
              },
            ],
          },
          T: cmd.startDataPath(link),
          C: cmd.send(connected('memif0/7')),
          P: cmd.publish(link),
        },
      );
    });
  });

  it('while connected: refused; the link stays up and is torn down properly later', () => {
    const from = stateAfter(machine, initialServerState, toConnected);
    const refused = serverStep(config, from, ev.bind(init()));
    expect(refused.commands).to.deep.equal([
      cmd.sendDisconnect('already connected'),
      cmd.closeSocket,
    ]);
    expect(refused.state).to.equal(from);
    expect(serverStep(config, refused.state, ev.close).commands).to.include.deep.members([
      cmd.stopDataPath,
      cmd.unmapMemory,
    ]);
  });

  it('a new client binds after the first one is gone', () => {
    const w = walk(machine, initialServerState, [
      ...toConnected,
      ev.socketClosed(null),
      ev.bind(init()),
    ]);
    expect(w.last[0]).to.deep.equal(cmd.send(ack()));
    expect(w.state).to.deep.include({ phase: 'handshaking', regions: [], rings: [] });
  });
});

describe('handshake/server: what it keeps', () => {
  it('holds the fds of accepted messages, in order', () => {
    const s: ServerState = stateAfter(machine, initialServerState, [...toRegion, s2m0, m2s0]);
    expect(s).to.deep.include({ phase: 'handshaking' });
    if (s.phase !== 'handshaking') return;
    expect(s.regions.map((r) => r.fd)).to.deep.equal([100]);
    expect(s.rings.map((r) => r.fd)).to.deep.equal([101, 102]);
  });

  it('HELLO while handshaking is not a message a server accepts', () => {
    const w = walk(machine, initialServerState, [...toRegion, ev.frame(hello())]);
    expect(w.state).to.deep.equal({ phase: 'listening' });
  });
});
