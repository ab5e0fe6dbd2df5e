import { expect } from 'chai';
import { initialServerState, serverStep } from '../../../src/control/handshake/server';
import type { HandshakeCommand, HandshakeEvent } from '../../../src/control/handshake/types';
import {
  ack,
  addRegion,
  addRing,
  cmd,
  config,
  connect,
  connected,
  ev,
  hello,
  init,
  matching,
  none,
  run,
  serverMachine,
  stateAfter,
  testScheduler,
} from './fixtures';
import {
  REGION_SIZE,
  RING_FDS,
  STRIDE,
  keyed,
  m2s0,
  s2m0,
  serverRefusal,
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

/** Expects `event` in the state after `from` to produce exactly `expected` (marbles, frame 1). */
const expectMarbles = (
  from: readonly HandshakeEvent[],
  event: HandshakeEvent,
  expected: readonly HandshakeCommand[],
): void => {
  const start = stateAfter(machine, initialServerState, from);
  const out = keyed(expected);
  const ts = testScheduler();
  ts.run(({ hot, expectObservable }) => {
    expectObservable(hot('-x', { x: event }).pipe(run(machine, start, ts))).toBe(
      `-${out.group}`,
      out.values,
    );
  });
  // Whatever was refused, the interface listens again.
  expect(serverStep(config, start, event).state).to.deep.equal({ phase: 'listening' });
};

// The server checks of docs/protocol.md#server-checks.
describe('handshake/server: INIT checks of the interface (mode, secret)', () => {
  const cases: { name: string; init: ReturnType<typeof init>; reason: RegExp }[] = [
    { name: 'mode mismatch', init: init({ mode: 'ip' }), reason: /mode mismatch/ },
    {
      name: 'punt/inject against ethernet',
      init: init({ mode: 'punt-inject' }),
      reason: /mode mismatch/,
    },
    { name: 'no secret from the client', init: init({ secret: '' }), reason: /^secret required$/ },
    {
      name: 'a wrong secret',
      init: init({ secret: 'open sesame' }),
      reason: /^incorrect secret$/,
    },
    {
      name: 'a prefix of the secret',
      init: init({ secret: 'sesam' }),
      reason: /^incorrect secret$/,
    },
    {
      name: 'the secret plus a suffix',
      init: init({ secret: 'sesame2' }),
      reason: /^incorrect secret$/,
    },
  ];
  for (const c of cases)
    it(`refuses ${c.name}: DISCONNECT, close, disconnected + listening`, () => {
      expectMarbles(toListening, ev.bind(c.init), serverRefusal(matching(c.reason)));
      // Nothing was armed, so nothing is cancelled.
      const s = stateAfter(machine, initialServerState, toListening);
      expect(serverStep(config, s, ev.bind(c.init)).commands.map((x) => x.kind)).to.not.include(
        'cancel-timer',
      );
    });

  it('checks the mode before the secret', () => {
    expectMarbles(
      toListening,
      ev.bind(init({ mode: 'ip', secret: '' })),
      serverRefusal(matching(/mode mismatch/)),
    );
  });
});

interface Violation {
  readonly name: string;
  readonly from: readonly HandshakeEvent[];
  /** The fds the state holds (closed at teardown). */
  readonly held: readonly number[];
  readonly message: HandshakeEvent;
  /** The fds that came with the offending message (closed first). */
  readonly messageFds: readonly number[];
  readonly reason: RegExp;
  readonly phase?: BoundPhase;
}

const regionViolations: Violation[] = [
  {
    name: 'ADD_REGION without fd',
    from: toBound,
    held: [],
    message: ev.frame(addRegion(0, REGION_SIZE)),
    messageFds: [],
    reason: /missing memory region fd/,
  },
  {
    name: 'ADD_REGION with two fds',
    from: toBound,
    held: [],
    message: ev.frame(addRegion(0, REGION_SIZE), 110, 111),
    messageFds: [110, 111],
    reason: /2 fds/,
  },
  {
    name: 'ADD_REGION with index 1 first',
    from: toBound,
    held: [],
    message: ev.frame(addRegion(1, REGION_SIZE), 110),
    messageFds: [110],
    reason: /unexpected region index 1/,
  },
  {
    name: 'ADD_REGION index 0 twice',
    from: toRegion,
    held: [100],
    message: ev.frame(addRegion(0, REGION_SIZE), 110),
    messageFds: [110],
    reason: /unexpected region index 0/,
  },
  {
    name: 'ADD_REGION index 256',
    from: toBound,
    held: [],
    message: ev.frame(addRegion(256, REGION_SIZE), 110),
    messageFds: [110],
    reason: /too many regions/,
  },
  {
    name: 'ADD_REGION index 65535',
    from: toRegion,
    held: [100],
    message: ev.frame(addRegion(0xffff, REGION_SIZE), 110),
    messageFds: [110],
    reason: /too many regions/,
  },
  {
    name: 'ADD_REGION of size 0',
    from: toBound,
    held: [],
    message: ev.frame(addRegion(0, 0), 110),
    messageFds: [110],
    reason: /size 0/,
  },
  {
    name: 'ADD_REGION of size 2^64 - 1',
    from: toBound,
    held: [],
    message: ev.frame(addRegion(0, 2n ** 64n - 1n), 110),
    messageFds: [110],
    reason: /too large/,
  },
];

const ringViolations: Violation[] = [
  {
    name: 'ADD_RING without fd',
    from: toRegion,
    held: [100],
    message: ev.frame(addRing('s2m', 0, 0)),
    messageFds: [],
    reason: /missing ring interrupt fd/,
  },
  {
    name: 'ADD_RING with two fds',
    from: toRegion,
    held: [100],
    message: ev.frame(addRing('s2m', 0, 0), 110, 111),
    messageFds: [110, 111],
    reason: /2 fds/,
  },
  {
    name: 'ADD_RING with private_hdr_size 64',
    from: toRegion,
    held: [100],
    message: ev.frame(addRing('s2m', 0, 0, { privateHdrSize: 64 }), 110),
    messageFds: [110],
    reason: /private headers not supported/,
  },
  {
    name: 'ADD_RING S2M 1 before S2M 0',
    from: toRegion,
    held: [100],
    message: ev.frame(addRing('s2m', 1, 0), 110),
    messageFds: [110],
    reason: /unexpected ring index/,
  },
  {
    name: 'ADD_RING M2S 1 before M2S 0 (indexes count per direction)',
    from: [...toRegion, s2m0],
    held: [100, 101],
    message: ev.frame(addRing('m2s', 1, STRIDE), 110),
    messageFds: [110],
    reason: /unexpected ring index: M2S ring 1, expected index 0/,
  },
  {
    name: 'ADD_RING S2M 0 twice',
    from: [...toRegion, s2m0],
    held: [100, 101],
    message: ev.frame(addRing('s2m', 0, STRIDE), 110),
    messageFds: [110],
    reason: /unexpected ring index/,
  },
  {
    name: 'ADD_RING index 256',
    from: toRegion,
    held: [100],
    message: ev.frame(addRing('m2s', 256, 0), 110),
    messageFds: [110],
    reason: /too many rings/,
  },
  {
    name: 'ADD_RING in region 1, never announced',
    from: toRegion,
    held: [100],
    message: ev.frame(addRing('s2m', 0, 0, { region: 1 }), 110),
    messageFds: [110],
    reason: /region 1.*not announced/,
  },
  {
    name: 'ADD_RING before any region',
    from: toBound,
    held: [],
    message: ev.frame(addRing('s2m', 0, 0), 110),
    messageFds: [110],
    reason: /region 0.*not announced/,
  },
  {
    name: 'ADD_RING at offset 0xffffffff of a small region (no 32-bit wrap)',
    from: toRegion,
    held: [100],
    message: ev.frame(addRing('s2m', 0, 0xffffffff, { log2RingSize: 14 }), 110),
    messageFds: [110],
    reason: /does not fit region 0/,
  },
  {
    name: 'ADD_RING one byte past the end of its region',
    from: toRegion,
    held: [100],
    message: ev.frame(addRing('s2m', 0, REGION_SIZE - STRIDE + 1), 110),
    messageFds: [110],
    reason: /does not fit region 0/,
  },
  {
    name: 'ADD_RING overlapping the ring before it',
    from: [...toRegion, s2m0],
    held: [100, 101],
    message: ev.frame(addRing('s2m', 1, STRIDE - 1), 110),
    messageFds: [110],
    reason: /S2M ring 1 overlaps S2M ring 0/,
  },
  {
    name: 'ADD_RING M2S overlapping an S2M ring',
    from: [...toRegion, s2m0],
    held: [100, 101],
    message: ev.frame(addRing('m2s', 0, 64), 110),
    messageFds: [110],
    reason: /M2S ring 0 overlaps S2M ring 0/,
  },
];

const connectViolations: Violation[] = [
  {
    name: 'CONNECT with no ring at all',
    from: toRegion,
    held: [100],
    message: ev.frame(connect()),
    messageFds: [],
    reason: /no S2M ring/,
  },
  {
    name: 'CONNECT without an S2M ring',
    from: [...toRegion, m2s0],
    held: [100, 102],
    message: ev.frame(connect()),
    messageFds: [],
    reason: /no S2M ring/,
  },
  {
    name: 'CONNECT without an M2S ring',
    from: [...toRegion, s2m0],
    held: [100, 101],
    message: ev.frame(connect()),
    messageFds: [],
    reason: /no M2S ring/,
  },
  {
    name: 'CONNECT with an fd',
    from: toRings,
    held: RING_FDS,
    message: ev.frame(connect(), 110),
    messageFds: [110],
    reason: /CONNECT carries an fd/,
  },
];

const unexpected: Violation[] = [
  ...(
    [
      ['INIT', init()],
      ['HELLO', hello()],
      ['ACK', ack()],
      ['CONNECTED', connected()],
      ['NONE', none()],
    ] as const
  ).map(([name, message]): Violation => ({
    name: `${name} while handshaking`,
    from: toRings,
    held: RING_FDS,
    message: ev.frame(message, 110),
    messageFds: [110],
    reason: new RegExp(`unexpected ${name} message`),
  })),
  {
    name: 'a malformed frame while handshaking',
    from: toRings,
    held: RING_FDS,
    message: ev.malformed('datagram of 12 bytes', 110, 111),
    messageFds: [110, 111],
    reason: /malformed message: datagram of 12 bytes/,
  },
  {
    name: 'a second INIT after connected',
    from: toConnected,
    held: [],
    message: ev.frame(init()),
    messageFds: [],
    reason: /unexpected INIT message/,
    phase: 'connected',
  },
  {
    name: 'HELLO with an fd after connected',
    from: toConnected,
    held: [],
    message: ev.frame(hello(), 110),
    messageFds: [110],
    reason: /unexpected HELLO message/,
    phase: 'connected',
  },
  {
    name: 'ADD_RING after connected',
    from: toConnected,
    held: [],
    message: ev.frame(addRing('s2m', 1, 0), 110),
    messageFds: [110],
    reason: /unexpected ADD_RING message/,
    phase: 'connected',
  },
  {
    name: 'a malformed frame after connected',
    from: toConnected,
    held: [],
    message: ev.malformed('bad type', 110),
    messageFds: [110],
    reason: /malformed message: bad type/,
    phase: 'connected',
  },
  {
    name: 'ACK while mapping',
    from: toMapping,
    held: [],
    message: ev.frame(ack()),
    messageFds: [],
    reason: /unexpected ACK message/,
    phase: 'mapping',
  },
];

// docs/protocol.md#server-checks
describe('handshake/server: validation of what the client announces', () => {
  for (const [group, violations] of [
    ['ADD_REGION', regionViolations],
    ['ADD_RING', ringViolations],
    ['CONNECT', connectViolations],
    ['unexpected messages', unexpected],
  ] as const)
    describe(group, () => {
      for (const v of violations)
        it(`${v.name}: DISCONNECT /${v.reason.source}/, closes every fd, listens again`, () => {
          const phase = v.phase ?? 'handshaking';
          expect(stateAfter(machine, initialServerState, v.from).phase).to.equal(phase);
          expectMarbles(
            v.from,
            v.message,
            serverTeardown({
              phase,
              reason: matching(v.reason),
              by: 'local',
              messageFds: v.messageFds,
              collected: v.held,
            }),
          );
          const commands = serverStep(
            config,
            stateAfter(machine, initialServerState, v.from),
            v.message,
          ).commands;
          // The driver-only command: the handshake timer goes with the connection.
          expect(commands.filter((c) => c.kind === 'cancel-timer')).to.deep.equal([
            cmd.cancelTimer('handshake'),
          ]);
          // Every fd is closed exactly once.
          const closed = commands.flatMap((c) => (c.kind === 'close-fds' ? c.fds : []));
          expect([...closed].sort()).to.deep.equal([...v.messageFds, ...v.held].sort());
        });
    });
});

describe('handshake/server: what passes validation', () => {
  const acked = (from: readonly HandshakeEvent[], event: HandshakeEvent): void => {
    const next = serverStep(config, stateAfter(machine, initialServerState, from), event);
    expect(next.commands).to.deep.equal([cmd.send(ack())]);
    expect(next.state.phase).to.equal('handshaking');
  };

  it('a ring that ends exactly at the end of its region', () => {
    acked(toRegion, ev.frame(addRing('s2m', 0, REGION_SIZE - STRIDE), 110));
  });

  it('a ring right after another (touching, not overlapping)', () => {
    acked([...toRegion, s2m0], ev.frame(addRing('s2m', 1, STRIDE), 110));
  });

  // 0xffffffff itself is odd, which the data path cannot use (head/tail are u16 atomics).
  it('a ring at offset 0xfffffffe (the last even u32) of a region large enough for it', () => {
    acked(
      [...toBound, ev.frame(addRegion(0, 0x1_0000_0000 + 16512), 100)],
      ev.frame(addRing('m2s', 0, 0xfffffffe), 110),
    );
  });

  it('rings with the same offset in different regions', () => {
    acked(
      [...toRegion, ev.frame(addRegion(1, STRIDE), 101), s2m0],
      ev.frame(addRing('m2s', 0, 0, { region: 1 }), 110),
    );
  });

  it('region index 255 (the last one a server allows)', () => {
    const regions = Array.from({ length: 255 }, (_, i) => ev.frame(addRegion(i, 4096), 200 + i));
    acked([...toBound, ...regions], ev.frame(addRegion(255, 4096), 110));
  });

  it('ring index 255 (the last one a server allows)', () => {
    const rings = Array.from({ length: 255 }, (_, i) =>
      ev.frame(addRing('s2m', i, i * STRIDE), 200 + i),
    );
    acked(
      [...toBound, ev.frame(addRegion(0, 256 * STRIDE), 100), ...rings],
      ev.frame(addRing('s2m', 255, 255 * STRIDE), 110),
    );
  });

  it('a CONNECT after one ring of each direction', () => {
    const next = serverStep(
      config,
      stateAfter(machine, initialServerState, [...toRegion, s2m0, m2s0]),
      ev.frame(connect()),
    );
    expect(next.commands.map((c) => c.kind)).to.deep.equal(['map-memory']);
  });
});
