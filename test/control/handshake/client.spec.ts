import { expect } from 'chai';
import { initialClientState } from '../../../src/control/handshake/client';
import type { ClientState } from '../../../src/control/handshake/client';
import {
  HANDSHAKE_TIMEOUT_MS,
  PEER_APP,
  PEER_IF,
  ack,
  clientMachine,
  cmd,
  config,
  configWith,
  connected,
  defaultLayout,
  ev,
  fakeMemory,
  hello,
  run,
  st,
  testScheduler,
  walk,
  withTimerLog,
} from './fixtures';

/** The layout for `config` (2 S2M, 2 M2S, log2 10) clamped by HELLO(max S2M index 0, log2 9). */
const clampedLayout = {
  cacheLineSize: 64,
  log2RingSize: 9,
  bufferSize: 2048,
  s2mRings: 1,
  m2sRings: 2,
  // ring stride = 2 * 64 + 16 * 512 = 8320
  rings: [
    { direction: 's2m', index: 0, region: 0, offset: 0 },
    { direction: 'm2s', index: 0, region: 0, offset: 8320 },
    { direction: 'm2s', index: 1, region: 0, offset: 16640 },
  ],
  bufferBase: 24960,
  // 3 rings * 8320 + 3 rings * 512 slots * 2048 bytes
  regionSize: 3170688,
} as const;

const clampingHello = hello({ maxS2MRing: 0, maxM2SRing: 5, maxLog2RingSize: 9 });

describe('handshake/client: the happy path', () => {
  it('connects, announces everything one message per ACK and goes live (marbles)', () => {
    const ts = testScheduler();
    const timers = withTimerLog(ts, clientMachine());
    const memory = fakeMemory(clampedLayout); // region fd 100, ring eventfds 101, 102, 103
    ts.run(({ hot, expectObservable }) => {
      // prettier-ignore
      const events = hot('-a-----b-----c-----d-----e-----f-----g-----h-----i-----j', {
        a: ev.start,
        b: ev.socketConnected,
        c: ev.frame(clampingHello),
        d: ev.memoryReady(memory),
        e: ev.frame(ack()), // INIT
        f: ev.frame(ack()), // ADD_REGION 0
        g: ev.frame(ack()), // ADD_RING S2M 0
        h: ev.frame(ack()), // ADD_RING M2S 0
        i: ev.frame(ack()), // ADD_RING M2S 1
        j: ev.frame(connected('vpp-if')),
      });
      const link = {
        status: 'connected',
        role: 'client',
        peer: { appName: PEER_APP, interfaceName: 'vpp-if' },
        mode: 'ethernet',
        queues: { rx: 2, tx: 1 },
        log2RingSize: 9,
        ringSize: 512,
        bufferSize: 2048,
        regions: [{ index: 0, size: 3170688 }],
      };
      const ring = (direction: string, index: number, offset: number, fd: number) => ({
        kind: 'send',
        message: {
          type: 'add-ring',
          direction,
          index,
          region: 0,
          offset,
          log2RingSize: 9,
          privateHdrSize: 0,
        },
        fd,
      });
      // prettier-ignore
      expectObservable(events.pipe(run(timers.machine, initialClientState, ts))).toBe(
        '-(AB)--C-----(DE)--(FG)--(HI)--(JK)--(LK)--(MK)--(NO)--(PQ)', {
        A: { kind: 'connect-socket' },
        B: { kind: 'publish', state: { status: 'connecting', role: 'client', attempt: 1 } },
        C: { kind: 'publish', state: { status: 'handshaking', role: 'client', step: 'hello' } },
        D: { kind: 'create-memory', layout: clampedLayout },
        E: { kind: 'publish', state: { status: 'handshaking', role: 'client', step: 'memory' } },
        F: {
          kind: 'send',
          message: {
            type: 'init',
            version: 0x200,
            id: 7,
            mode: 'ethernet',
            secret: 'sesame',
            name: 'rx-memif-test',
          },
        },
        G: { kind: 'publish', state: { status: 'handshaking', role: 'client', step: 'init' } },
        H: { kind: 'send', message: { type: 'add-region', index: 0, size: 3170688n }, fd: 100 },
        I: { kind: 'publish', state: { status: 'handshaking', role: 'client', step: 'regions' } },
        J: ring('s2m', 0, 0, 101),
        K: { kind: 'publish', state: { status: 'handshaking', role: 'client', step: 'rings' } },
        L: ring('m2s', 0, 8320, 102),
        M: ring('m2s', 1, 16640, 103),
        N: { kind: 'send', message: { type: 'connect', interfaceName: 'memif0/7' } },
        O: { kind: 'publish', state: { status: 'handshaking', role: 'client', step: 'connect' } },
        P: { kind: 'start-data-path', connected: link },
        Q: { kind: 'publish', state: link },
      });
    });
    // The handshake timer (due at frame 7 + 3000) was cancelled by CONNECTED.
    expect(timers.log).to.deep.equal([]);
  });

  it('arms the handshake timer at socket-connected, not at start (marbles)', () => {
    const ts = testScheduler();
    const timers = withTimerLog(ts, clientMachine());
    ts.run(({ hot, expectObservable }) => {
      const events = hot('-a 499ms b', { a: ev.start, b: ev.socketConnected });
      expectObservable(events.pipe(run(timers.machine, initialClientState, ts))).toBe(
        '-(AB) 496ms C 2999ms (DEF) 995ms (AG)',
        {
          A: cmd.connectSocket,
          B: cmd.publish(st.connecting(1)),
          C: cmd.publish(st.handshaking('client', 'hello')),
          D: cmd.sendDisconnect('handshake timed out'),
          E: cmd.closeSocket,
          F: cmd.publish(
            st.disconnected('client', 'handshake timed out', 'local', { attempt: 2, inMs: 1000 }),
          ),
          G: cmd.publish(st.connecting(2)),
        },
      );
    });
    expect(timers.log).to.deep.equal(['handshake@3501', 'retry@4501']);
  });
});

describe('handshake/client: single steps', () => {
  const machine = clientMachine();
  const toAnnouncing = [
    ev.start,
    ev.socketConnected,
    ev.frame(hello()),
    ev.memoryReady(fakeMemory(defaultLayout)),
  ];

  it('start: connect-socket and publish connecting attempt 1', () => {
    expect(walk(machine, initialClientState, [ev.start]).last).to.deep.equal([
      cmd.connectSocket,
      cmd.publish(st.connecting(1)),
    ]);
  });

  it('start is ignored once started', () => {
    const w = walk(machine, initialClientState, [ev.start, ev.start]);
    expect(w.last).to.deep.equal([]);
    expect(w.state).to.deep.equal({ phase: 'connecting', attempt: 1 });
  });

  it('socket-connected: arms the handshake timer with handshakeTimeoutMs', () => {
    const w = walk(machine, initialClientState, [ev.start, ev.socketConnected]);
    expect(w.last).to.deep.equal([
      cmd.setTimer('handshake', HANDSHAKE_TIMEOUT_MS),
      cmd.publish(st.handshaking('client', 'hello')),
    ]);
    const other = walk(
      clientMachine(configWith({ handshakeTimeoutMs: 1234 })),
      initialClientState,
      [ev.start, ev.socketConnected],
    );
    expect(other.last[0]).to.deep.equal(cmd.setTimer('handshake', 1234));
  });

  it('HELLO: does not clamp what is below the server limits', () => {
    const w = walk(machine, initialClientState, [ev.start, ev.socketConnected, ev.frame(hello())]);
    expect(w.last).to.deep.equal([
      {
        kind: 'create-memory',
        layout: {
          cacheLineSize: 64,
          log2RingSize: 10,
          bufferSize: 2048,
          s2mRings: 2,
          m2sRings: 2,
          rings: [
            { direction: 's2m', index: 0, region: 0, offset: 0 },
            { direction: 's2m', index: 1, region: 0, offset: 16512 },
            { direction: 'm2s', index: 0, region: 0, offset: 33024 },
            { direction: 'm2s', index: 1, region: 0, offset: 49536 },
          ],
          bufferBase: 66048,
          regionSize: 66048 + 4 * 1024 * 2048,
        },
      },
      cmd.publish(st.handshaking('client', 'memory')),
    ]);
  });

  it('HELLO: clamps each ring count to max index + 1 and log2 to the server maximum', () => {
    const w = walk(machine, initialClientState, [
      ev.start,
      ev.socketConnected,
      ev.frame(hello({ maxS2MRing: 3, maxM2SRing: 0, maxLog2RingSize: 6 })),
    ]);
    const create = w.last[0];
    expect(create.kind).to.equal('create-memory');
    if (create.kind !== 'create-memory') return;
    expect(create.layout.s2mRings).to.equal(2); // min(2, 3 + 1)
    expect(create.layout.m2sRings).to.equal(1); // min(2, 0 + 1)
    expect(create.layout.log2RingSize).to.equal(6); // min(10, 6)
    expect(create.layout.rings.map((r) => `${r.direction}${r.index}@${r.offset}`)).to.deep.equal([
      's2m0@0',
      's2m1@1152', // 2 * 64 + 16 * 64
      'm2s0@2304',
    ]);
  });

  it('HELLO: closes fds that came with it and goes on', () => {
    const w = walk(machine, initialClientState, [
      ev.start,
      ev.socketConnected,
      ev.frame(hello(), 150),
    ]);
    expect(w.last[0]).to.deep.equal(cmd.closeFds(150));
    expect(w.last[1].kind).to.equal('create-memory');
    expect(w.state.phase).to.equal('allocating');
  });

  it('HELLO: accepts a version range that contains 0x0200', () => {
    const w = walk(machine, initialClientState, [
      ev.start,
      ev.socketConnected,
      ev.frame(hello({ minVersion: 0x100, maxVersion: 0x300 })),
    ]);
    expect(w.state.phase).to.equal('allocating');
  });

  it('memory-ready: sends INIT with version 0x0200, id, mode, secret and app name', () => {
    const cfg = configWith({ mode: 'ip', secret: '' as typeof config.secret });
    const w = walk(clientMachine(cfg), initialClientState, toAnnouncing);
    expect(w.last).to.deep.equal([
      {
        kind: 'send',
        message: {
          type: 'init',
          version: 0x200,
          id: 7,
          mode: 'ip',
          secret: '',
          name: 'rx-memif-test',
        },
      },
      cmd.publish(st.handshaking('client', 'init')),
    ]);
  });

  it('sends every S2M ring before any M2S ring, each with its own eventfd', () => {
    const w = walk(machine, initialClientState, [
      ...toAnnouncing,
      ...Array.from({ length: 6 }, () => ev.frame(ack())),
    ]);
    const sent = w.steps.slice(4).map((commands) => commands[0]);
    const ring = (direction: string, index: number, offset: number, fd: number) => ({
      kind: 'send',
      message: {
        type: 'add-ring',
        direction,
        index,
        region: 0,
        offset,
        log2RingSize: 10,
        privateHdrSize: 0,
      },
      fd,
    });
    expect(sent).to.deep.equal([
      { kind: 'send', message: { type: 'add-region', index: 0, size: 8454656n }, fd: 100 },
      ring('s2m', 0, 0, 101),
      ring('s2m', 1, 16512, 102),
      ring('m2s', 0, 33024, 103),
      ring('m2s', 1, 49536, 104),
      { kind: 'send', message: { type: 'connect', interfaceName: 'memif0/7' } },
    ]);
    // CONNECT carries no fd field at all.
    expect(sent[5]).to.not.have.property('fd');
  });

  it('CONNECTED: cancels the handshake timer, starts the data path, publishes connected', () => {
    const w = walk(machine, initialClientState, [
      ...toAnnouncing,
      ...Array.from({ length: 6 }, () => ev.frame(ack())),
      ev.frame(connected()),
    ]);
    const link = {
      status: 'connected',
      role: 'client',
      peer: { appName: PEER_APP, interfaceName: PEER_IF },
      mode: 'ethernet',
      queues: { rx: 2, tx: 2 },
      log2RingSize: 10,
      ringSize: 1024,
      bufferSize: 2048,
      regions: [{ index: 0, size: 8454656 }],
    } as const;
    expect(w.last).to.deep.equal([
      cmd.cancelTimer('handshake'),
      cmd.startDataPath(link),
      cmd.publish(link),
    ]);
    expect(w.state.phase).to.equal('connected');
  });

  it('ignores server-only events and stray outcomes in every phase', () => {
    const phases: ClientState[] = [
      initialClientState,
      walk(machine, initialClientState, [ev.start]).state,
      walk(machine, initialClientState, [ev.start, ev.socketConnected]).state,
    ];
    for (const s of phases)
      for (const e of [
        ev.bind(),
        ev.mapped,
        ev.mapFailed('x'),
        ev.timer('retry'),
        ev.memoryFailed('x'),
      ]) {
        const next = machine(s, e);
        expect(next.commands, `${s.phase} + ${e.kind}`).to.deep.equal([]);
        expect(next.state).to.equal(s);
      }
  });
});
