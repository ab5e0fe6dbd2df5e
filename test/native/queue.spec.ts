import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadNative, MemifError } from '../../src/native-bridge';
import type { NativeEventFd, NativeQueue, NativeQueueConfig, NativeRegion } from '../../src/native-bridge';
import { QUEUE_COUNTERS, QueueCounter } from '../../src/native-bridge/native';
import { DESC_FLAG_NEXT, bufferOffset, clientLayout, ringHeaderLayout } from '../../src/control/layout';
import type { ClientLayout } from '../../src/control/layout';
import { createClientMemory } from '../../src/control/runtime/memory';
import type { RingHandle, SharedMemory } from '../../src/control/runtime/memory';

/*
 * Both ends of a connection in one process over one real region: the client-side queues and the
 * server-side queues of the same rings share one mapping, which exercises the four algorithms of
 * docs/protocol.md#data-path-per-ring against each other. Hostile peers are played by writing ring
 * headers and descriptors by hand.
 */

const native = loadNative();
const { errno } = os.constants;
const CL = native.cacheLineSize;
const HDR = ringHeaderLayout(CL);
const LE = true;

const expectEinval = (run: () => unknown, message?: RegExp): MemifError => {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected EINVAL').to.be.instanceOf(MemifError);
  const error = caught as MemifError;
  expect(error.code).to.equal('EINVAL');
  expect(error.errno).to.equal(errno.EINVAL);
  if (message) expect(error.message).to.match(message);
  return error;
};

type Counters = Float64Array;
const count = (c: Counters, name: keyof typeof QueueCounter): number => c[QueueCounter[name]];

/** A packet whose bytes encode its sequence number and length. */
const packet = (seq: number, length: number): Uint8Array => {
  const p = new Uint8Array(length);
  for (let i = 0; i < length; i++) p[i] = (seq * 131 + i * 7 + (i >> 8)) & 0xff;
  if (length >= 4) new DataView(p.buffer).setUint32(0, seq, LE);
  return p;
};

const seqOf = (p: Uint8Array): number => new DataView(p.buffer, p.byteOffset, 4).getUint32(0, LE);

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;

const STAGING = new Uint8Array(8 * 1024 * 1024);
const TX_OFFSETS = new Uint32Array(70000);
const TX_LENGTHS = new Uint32Array(70000);

/** Stages packets contiguously and transmits them in one call. */
const transmit = (q: NativeQueue, packets: readonly Uint8Array[]): number => {
  let at = 0;
  packets.forEach((p, i) => {
    STAGING.set(p, at);
    TX_OFFSETS[i] = at;
    TX_LENGTHS[i] = p.length;
    at += p.length;
  });
  return q.transmit(STAGING, TX_OFFSETS, TX_LENGTHS, packets.length);
};

const SLAB = new Uint8Array(4 * 1024 * 1024);
const RX_OFFSETS = new Uint32Array(4096);
const RX_LENGTHS = new Uint32Array(4096);

/** Copy-mode receive; returns copies of the packets. */
const receive = (q: NativeQueue, max = 256, slab = SLAB, at = 0): Uint8Array[] => {
  const n = q.receive(slab, at, RX_OFFSETS, RX_LENGTHS, max);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(slab.slice(RX_OFFSETS[i], RX_OFFSETS[i] + RX_LENGTHS[i]));
  return out;
};

const ZC_REGIONS = new Int32Array(1);

/** Zero-copy peek; returns views (in the region or in the slab) and the reported region. */
const peek = (q: NativeQueue, regions: readonly NativeRegion[], max = 256): { region: number; views: Uint8Array[] } => {
  const n = q.peek(SLAB, 0, ZC_REGIONS, RX_OFFSETS, RX_LENGTHS, max);
  const region = ZC_REGIONS[0];
  const source = region < 0 ? SLAB : new Uint8Array(regions[region].buffer);
  const views: Uint8Array[] = [];
  for (let i = 0; i < n; i++) views.push(source.subarray(RX_OFFSETS[i], RX_OFFSETS[i] + RX_LENGTHS[i]));
  return { region: n > 0 ? region : -2, views };
};

interface Desc {
  flags: number;
  region: number;
  length: number;
  offset: number;
}

/** A ring seen from outside, as a hostile peer would: header fields and descriptors. */
class RingPeek {
  readonly view: DataView;
  constructor(
    region: NativeRegion,
    readonly ring: RingHandle,
  ) {
    this.view = new DataView(region.buffer, ring.offset);
  }
  get size(): number {
    return 1 << this.ring.log2RingSize;
  }
  get head(): number {
    return this.view.getUint16(HDR.head, LE);
  }
  set head(v: number) {
    this.view.setUint16(HDR.head, v & 0xffff, LE);
  }
  get tail(): number {
    return this.view.getUint16(HDR.tail, LE);
  }
  set tail(v: number) {
    this.view.setUint16(HDR.tail, v & 0xffff, LE);
  }
  get flags(): number {
    return this.view.getUint16(HDR.flags, LE);
  }
  desc(index: number): Desc {
    const d = HDR.descriptors + 16 * (index & (this.size - 1));
    return {
      flags: this.view.getUint16(d, LE),
      region: this.view.getUint16(d + 2, LE),
      length: this.view.getUint32(d + 4, LE),
      offset: this.view.getUint32(d + 8, LE),
    };
  }
  setDesc(index: number, desc: Partial<Desc>): void {
    const d = HDR.descriptors + 16 * (index & (this.size - 1));
    if (desc.flags !== undefined) this.view.setUint16(d, desc.flags, LE);
    if (desc.region !== undefined) this.view.setUint16(d + 2, desc.region, LE);
    if (desc.length !== undefined) this.view.setUint32(d + 4, desc.length, LE);
    if (desc.offset !== undefined) this.view.setUint32(d + 8, desc.offset, LE);
  }
}

interface End {
  readonly queue: NativeQueue;
  readonly counters: Counters;
}

interface Pair {
  readonly layout: ClientLayout;
  readonly memory: SharedMemory;
  readonly region: NativeRegion;
  readonly s2m: RingPeek;
  readonly m2s: RingPeek;
  readonly s2mIrq: NativeEventFd;
  readonly m2sIrq: NativeEventFd;
  /** Client TX on S2M. */
  readonly clientTx: End;
  /** Server RX on S2M. */
  readonly serverRx: End;
  /** Server TX on M2S. */
  readonly serverTx: End;
  /** Client RX on M2S. */
  readonly clientRx: End;
  readonly config: (role: 'client' | 'server', direction: 'rx' | 'tx', extra?: Partial<NativeQueueConfig>) => NativeQueueConfig;
  close(): void;
}

interface PairOptions {
  log2?: number;
  bufferSize?: number;
  maxPacketSize?: number;
}

const pairs: Pair[] = [];

const makePair = ({ log2 = 4, bufferSize = 2048, maxPacketSize = 256 * 1024 }: PairOptions = {}): Pair => {
  const layout = clientLayout({ cacheLineSize: CL, log2RingSize: log2, bufferSize, s2mRings: 1, m2sRings: 1 });
  const { memory } = createClientMemory(native, layout, 'rx-memif queue test');
  const [s2mRing, m2sRing] = memory.rings;
  const region = memory.regions[0];
  const config = (
    role: 'client' | 'server',
    direction: 'rx' | 'tx',
    extra: Partial<NativeQueueConfig> = {},
  ): NativeQueueConfig => {
    // Client: tx on S2M, rx on M2S. Server: rx on S2M, tx on M2S.
    const ring = (role === 'client') === (direction === 'tx') ? s2mRing : m2sRing;
    const placement = layout.rings.find((r) => r.direction === ring.direction && r.index === ring.index)!;
    return {
      role,
      direction,
      regions: memory.regions,
      ringRegion: ring.region,
      ringOffset: ring.offset,
      log2RingSize: log2,
      bufferSize: role === 'client' ? bufferSize : 0,
      bufferRegion: 0,
      bufferBase: role === 'client' ? bufferOffset(layout, placement, 0) : 0,
      eventFd: ring.eventFd,
      maxPacketSize,
      counters: new Float64Array(QUEUE_COUNTERS),
      ...extra,
    };
  };
  const end = (role: 'client' | 'server', direction: 'rx' | 'tx'): End => {
    const c = config(role, direction);
    return { queue: native.Queue.create(c), counters: c.counters };
  };
  const ends = {
    clientTx: end('client', 'tx'),
    serverRx: end('server', 'rx'),
    serverTx: end('server', 'tx'),
    clientRx: end('client', 'rx'),
  };
  const pair: Pair = {
    layout,
    memory,
    region,
    s2m: new RingPeek(region, s2mRing),
    m2s: new RingPeek(region, m2sRing),
    s2mIrq: s2mRing.eventFd,
    m2sIrq: m2sRing.eventFd,
    ...ends,
    config,
    close: () => {
      for (const e of Object.values(ends)) e.queue.close();
      memory.close();
    },
  };
  pairs.push(pair);
  return pair;
};

/** Client-side buffer offset of S2M slot `slot` (what the client's descriptors point at). */
const s2mBuffer = (p: Pair, slot: number): number => bufferOffset(p.layout, p.layout.rings[0], slot & ((1 << p.layout.log2RingSize) - 1));

/** Plays a hostile client on S2M: writes descriptors at head and publishes them in one step. */
const publishRaw = (p: Pair, descs: Partial<Desc>[], data?: (Uint8Array | undefined)[]): void => {
  const h = p.s2m.head;
  descs.forEach((d, i) => {
    const slot = h + i;
    const offset = d.offset ?? s2mBuffer(p, slot);
    const bytes = data?.[i];
    if (bytes) new Uint8Array(p.region.buffer).set(bytes, offset);
    p.s2m.setDesc(slot, { flags: 0, region: 0, length: bytes?.length ?? 64, offset, ...d });
  });
  p.s2m.head = h + descs.length;
};

const addonFile = (): string => {
  const preferred = process.env.RX_MEMIF_ADDON;
  if (preferred) return path.resolve(preferred);
  const root = path.resolve(__dirname, '..', '..');
  const builds = ['Release', 'Debug'].map((k) => path.join(root, 'build', k, 'rx_memif.node'));
  return builds.find((f) => fs.existsSync(f)) ?? builds[0];
};

/** JS for a worker or child: `b` is the addon; makes one S2M-like ring and both of its queues. */
const ringScript = `
const cl = b.cacheLineSize;
const makeQueues = (region, irq) => {
  const base = { regions: [region], ringRegion: 0, ringOffset: 0, log2RingSize: 4, bufferSize: 2048,
    bufferRegion: 0, bufferBase: 2 * cl + 256, eventFd: irq, maxPacketSize: 65536 };
  return {
    tx: b.Queue.create({ ...base, role: 'client', direction: 'tx', counters: new Float64Array(14) }),
    rx: b.Queue.create({ ...base, role: 'server', direction: 'rx', counters: new Float64Array(14) }),
  };
};
const regionBytes = 2 * cl + 16 * 16 + 16 * 2048;
const one = [new Uint8Array(64), new Uint32Array([0]), new Uint32Array([64]), 1];
`;

describe('native queues', () => {
  let live: number;
  beforeEach(() => {
    live = native.liveHandles();
  });
  afterEach(() => {
    for (const p of pairs.splice(0)) p.close();
    expect(native.liveHandles(), 'objects left open').to.equal(live);
  });

  describe('copy mode', () => {
    it('client tx -> server rx: exact content, counters, slots returned', () => {
      const p = makePair({ log2: 6 });
      const sent = Array.from({ length: 40 }, (_, i) => packet(i, 1 + ((i * 97) % 2048)));
      expect(p.clientTx.queue.pending()).to.equal(64);
      expect(transmit(p.clientTx.queue, sent)).to.equal(40);
      expect(p.s2m.head).to.equal(40);
      expect(p.clientTx.queue.pending()).to.equal(24);
      expect(p.serverRx.queue.pending()).to.equal(40);
      const got = receive(p.serverRx.queue);
      expect(got.length).to.equal(40);
      got.forEach((g, i) => expect(sameBytes(g, sent[i]), `packet ${i}`).to.equal(true));
      expect(p.s2m.tail).to.equal(40);
      expect(p.clientTx.queue.pending()).to.equal(64);
      expect(p.serverRx.queue.pending()).to.equal(0);
      const bytes = sent.reduce((a, s) => a + s.length, 0);
      expect(count(p.clientTx.counters, 'packets')).to.equal(40);
      expect(count(p.clientTx.counters, 'bytes')).to.equal(bytes);
      expect(count(p.clientTx.counters, 'bursts')).to.equal(1);
      expect(count(p.serverRx.counters, 'packets')).to.equal(40);
      expect(count(p.serverRx.counters, 'bytes')).to.equal(bytes);
      expect(count(p.serverRx.counters, 'bursts')).to.equal(1);
      expect(count(p.serverRx.counters, 'descriptors')).to.equal(40);
      // An empty call is not a burst.
      expect(receive(p.serverRx.queue)).to.deep.equal([]);
      expect(count(p.serverRx.counters, 'bursts')).to.equal(1);
    });

    it('writes packets at slabOffset, back to back, and honours maxPackets', () => {
      const p = makePair();
      const sent = Array.from({ length: 10 }, (_, i) => packet(i, 100 + i));
      transmit(p.clientTx.queue, sent);
      const n = p.serverRx.queue.receive(SLAB, 1000, RX_OFFSETS, RX_LENGTHS, 3);
      expect(n).to.equal(3);
      expect(Array.from(RX_OFFSETS.subarray(0, 3))).to.deep.equal([1000, 1100, 1201]);
      expect(Array.from(RX_LENGTHS.subarray(0, 3))).to.deep.equal([100, 101, 102]);
      expect(p.serverRx.queue.pending()).to.equal(7);
      // A slab view that starts inside its buffer: offsets are relative to the view.
      const view = SLAB.subarray(500, 500 + 300);
      const m = p.serverRx.queue.receive(view, 10, RX_OFFSETS, RX_LENGTHS, 256);
      expect(m, 'stops at the packet that does not fit').to.equal(2);
      expect(Array.from(RX_OFFSETS.subarray(0, 2))).to.deep.equal([10, 113]);
      expect(sameBytes(view.subarray(10, 113), sent[3])).to.equal(true);
      expect(sameBytes(view.subarray(113, 217), sent[4])).to.equal(true);
      expect(p.serverRx.queue.pending()).to.equal(5);
      expect(receive(p.serverRx.queue).map(seqOf)).to.deep.equal([5, 6, 7, 8, 9]);
    });

    it('server tx -> client rx: nothing before refill, exact content after, refill returns slots', () => {
      const p = makePair({ log2: 5 });
      expect(p.serverTx.queue.pending(), 'no buffers offered yet').to.equal(0);
      expect(transmit(p.serverTx.queue, [packet(0, 60)])).to.equal(0);
      expect(count(p.serverTx.counters, 'ringFull')).to.equal(1);
      p.clientRx.queue.refill();
      expect(p.m2s.head).to.equal(32);
      expect(p.serverTx.queue.pending()).to.equal(32);
      const sent = Array.from({ length: 20 }, (_, i) => packet(i, 1 + ((i * 211) % 2048)));
      expect(transmit(p.serverTx.queue, sent)).to.equal(20);
      expect(p.m2s.tail).to.equal(20);
      expect(p.clientRx.queue.pending()).to.equal(20);
      const got = receive(p.clientRx.queue);
      got.forEach((g, i) => expect(sameBytes(g, sent[i]), `packet ${i}`).to.equal(true));
      expect(got.length).to.equal(20);
      // receive() refilled what it read.
      expect(p.m2s.head).to.equal(52);
      expect(p.serverTx.queue.pending()).to.equal(32);
      expect(count(p.clientRx.counters, 'packets')).to.equal(20);
      expect(count(p.serverTx.counters, 'packets')).to.equal(20);
      // The server wrote only length and flags: the client's region/offset are intact.
      for (let i = 0; i < 32; i++) {
        const d = p.m2s.desc(i);
        expect(d.region).to.equal(0);
        expect(d.offset).to.equal(bufferOffset(p.layout, p.layout.rings[1], i));
      }
    });

    it('refill rewrites every offered descriptor (region, offset, length, flags) and offers only free slots', () => {
      const p = makePair({ log2: 4, bufferSize: 512 });
      // Scribble on descriptors as a hostile server would before the client offers them.
      for (let i = 0; i < 16; i++) p.m2s.setDesc(i, { flags: 3, region: 9, length: 7, offset: 0xfffffff0 });
      p.clientRx.queue.refill();
      expect(p.m2s.head).to.equal(16);
      for (let i = 0; i < 16; i++) {
        expect(p.m2s.desc(i)).to.deep.equal({
          flags: 0,
          region: 0,
          length: 512,
          offset: bufferOffset(p.layout, p.layout.rings[1], i),
        });
      }
      // Everything is offered: a second refill offers nothing.
      p.clientRx.queue.refill();
      expect(p.m2s.head).to.equal(16);
      // 5 packets read -> 5 slots re-offered, with their descriptors restored.
      transmit(p.serverTx.queue, Array.from({ length: 5 }, (_, i) => packet(i, 100)));
      expect(p.m2s.desc(0).length).to.equal(100);
      expect(receive(p.clientRx.queue).length).to.equal(5);
      expect(p.m2s.head).to.equal(21);
      expect(p.m2s.desc(16)).to.deep.equal({ flags: 0, region: 0, length: 512, offset: bufferOffset(p.layout, p.layout.rings[1], 0) });
    });
  });

  describe('chains', () => {
    for (const bufferSize of [2048, 256]) {
      it(`9000-byte packets over ${bufferSize}-byte buffers, both directions`, () => {
        const p = makePair({ log2: 7, bufferSize });
        const segments = Math.ceil(9000 / bufferSize);
        const sent = [packet(1, 9000), packet(2, 64), packet(3, 9000), packet(4, bufferSize), packet(5, bufferSize + 1)];
        const slots = segments * 2 + 1 + 1 + 2;
        // client -> server
        expect(transmit(p.clientTx.queue, sent)).to.equal(5);
        expect(p.s2m.head).to.equal(slots);
        for (let i = 0; i < segments; i++) {
          const d = p.s2m.desc(i);
          expect(d.flags, `segment ${i}`).to.equal(i < segments - 1 ? DESC_FLAG_NEXT : 0);
          expect(d.length).to.equal(i < segments - 1 ? bufferSize : 9000 - bufferSize * (segments - 1));
        }
        let got = receive(p.serverRx.queue);
        expect(got.length).to.equal(5);
        got.forEach((g, i) => expect(sameBytes(g, sent[i]), `s2m packet ${i}`).to.equal(true));
        expect(count(p.serverRx.counters, 'descriptors')).to.equal(slots);
        // server -> client
        p.clientRx.queue.refill();
        expect(transmit(p.serverTx.queue, sent)).to.equal(5);
        expect(p.m2s.tail).to.equal(slots);
        for (let i = 0; i < segments; i++) expect(p.m2s.desc(i).flags).to.equal(i < segments - 1 ? DESC_FLAG_NEXT : 0);
        got = receive(p.clientRx.queue);
        expect(got.length).to.equal(5);
        got.forEach((g, i) => expect(sameBytes(g, sent[i]), `m2s packet ${i}`).to.equal(true));
        expect(count(p.clientRx.counters, 'descriptors')).to.equal(slots);
        expect(count(p.clientRx.counters, 'bytes')).to.equal(sent.reduce((a, s) => a + s.length, 0));
      });
    }

    it('drops as tooBig a packet larger than maxPacketSize, consuming its whole chain', () => {
      const p = makePair({ log2: 5, maxPacketSize: 5000 });
      transmit(p.clientTx.queue, [packet(1, 100), packet(2, 6000), packet(3, 5000)]);
      const got = receive(p.serverRx.queue);
      expect(got.map(seqOf)).to.deep.equal([1, 3]);
      expect(count(p.serverRx.counters, 'tooBig')).to.equal(1);
      expect(count(p.serverRx.counters, 'descriptors')).to.equal(1 + 3 + 3);
      expect(p.s2m.tail).to.equal(7);
    });
  });

  describe('ring full', () => {
    it('client tx returns a prefix, counts ringFull, never publishes a partial chain', () => {
      const p = makePair({ log2: 4 });
      // 3-slot chains: 5 fit into 16 slots, the 6th needs 3 with 1 left.
      const sent = Array.from({ length: 8 }, (_, i) => packet(i, 5000));
      expect(transmit(p.clientTx.queue, sent)).to.equal(5);
      expect(count(p.clientTx.counters, 'ringFull')).to.equal(3);
      expect(p.s2m.head, 'only whole chains are published').to.equal(15);
      expect(p.s2m.desc(14).flags).to.equal(0);
      expect(p.clientTx.queue.pending()).to.equal(1);
      // A small packet still fits in the last slot.
      expect(transmit(p.clientTx.queue, [packet(100, 64), packet(101, 64)])).to.equal(1);
      expect(count(p.clientTx.counters, 'ringFull')).to.equal(4);
      expect(p.clientTx.queue.pending()).to.equal(0);
      const got = receive(p.serverRx.queue);
      expect(got.map(seqOf)).to.deep.equal([0, 1, 2, 3, 4, 100]);
      got.slice(0, 5).forEach((g, i) => expect(sameBytes(g, sent[i])).to.equal(true));
      expect(count(p.serverRx.counters, 'badChain')).to.equal(0);
      // Room again: the rest goes.
      expect(transmit(p.clientTx.queue, sent.slice(5))).to.equal(3);
      expect(receive(p.serverRx.queue).map(seqOf)).to.deep.equal([5, 6, 7]);
    });

    it('server tx rolls back a chain that does not fit the offered slots', () => {
      const p = makePair({ log2: 4 });
      p.clientRx.queue.refill();
      const sent = Array.from({ length: 8 }, (_, i) => packet(i, 5000));
      expect(transmit(p.serverTx.queue, sent)).to.equal(5);
      expect(count(p.serverTx.counters, 'ringFull')).to.equal(3);
      expect(p.m2s.tail).to.equal(15);
      // The unpublished slot still offers its full capacity.
      expect(p.m2s.desc(15).length).to.equal(2048);
      expect(receive(p.clientRx.queue).map(seqOf)).to.deep.equal([0, 1, 2, 3, 4]);
      expect(transmit(p.serverTx.queue, sent.slice(5))).to.equal(3);
      const got = receive(p.clientRx.queue);
      expect(got.map(seqOf)).to.deep.equal([5, 6, 7]);
      got.forEach((g, i) => expect(sameBytes(g, sent[5 + i])).to.equal(true));
    });

    it('a packet larger than the whole ring is dropped as tooBig instead of blocking the rest', () => {
      const p = makePair({ log2: 2, bufferSize: 1024 });
      expect(transmit(p.clientTx.queue, [packet(1, 5000), packet(2, 100)])).to.equal(2);
      expect(count(p.clientTx.counters, 'tooBig')).to.equal(1);
      expect(count(p.clientTx.counters, 'packets')).to.equal(1);
      expect(receive(p.serverRx.queue).map(seqOf)).to.deep.equal([2]);
      p.clientRx.queue.refill();
      expect(transmit(p.serverTx.queue, [packet(3, 5000), packet(4, 100)])).to.equal(2);
      expect(count(p.serverTx.counters, 'tooBig')).to.equal(1);
      expect(receive(p.clientRx.queue).map(seqOf)).to.deep.equal([4]);
    });
  });

  describe('u16 index wrap-around', () => {
    it('moves 70 000 packets each way in bursts, every sequence number in order', () => {
      const p = makePair({ log2: 10, bufferSize: 256 });
      const total = 70000;
      const burst: Uint8Array[] = [];
      for (const [tx, rx] of [
        [p.clientTx.queue, p.serverRx.queue],
        [p.serverTx.queue, p.clientRx.queue],
      ] as const) {
        if (rx === p.clientRx.queue) p.clientRx.queue.refill();
        let next = 0;
        let expected = 0;
        while (expected < total) {
          burst.length = 0;
          // Mostly single-slot packets, every 17th a 2-slot chain, so chains straddle the wrap.
          for (let i = 0; i < 300 && next + i < total; i++) {
            const seq = next + i;
            burst.push(packet(seq, seq % 17 === 0 ? 300 : 64 + (seq % 64)));
          }
          next += transmit(tx, burst);
          for (;;) {
            const n = rx.receive(SLAB, 0, RX_OFFSETS, RX_LENGTHS, 256);
            for (let i = 0; i < n; i++) {
              const got = SLAB.subarray(RX_OFFSETS[i], RX_OFFSETS[i] + RX_LENGTHS[i]);
              if (seqOf(got) !== expected) expect(seqOf(got)).to.equal(expected);
              if (!sameBytes(got, packet(expected, expected % 17 === 0 ? 300 : 64 + (expected % 64)))) {
                expect.fail(`packet ${expected} corrupted`);
              }
              expected++;
            }
            if (n < 256) break;
          }
        }
        expect(next).to.equal(total);
      }
      expect(count(p.serverRx.counters, 'packets')).to.equal(total);
      expect(count(p.clientRx.counters, 'packets')).to.equal(total);
      for (const c of [p.serverRx.counters, p.clientRx.counters]) {
        for (const reason of ['badIndex', 'badChain', 'badFlags', 'badLength', 'badRegion', 'badBounds'] as const) {
          expect(count(c, reason), reason).to.equal(0);
        }
      }
      const slots = total + Math.ceil(total / 17);
      expect(count(p.serverRx.counters, 'descriptors')).to.equal(slots);
      expect(p.s2m.head).to.equal(slots % 65536);
      expect(p.m2s.tail).to.equal(slots % 65536);
    });
  });

  describe('interrupts (MASK_INT)', () => {
    it('transmit signals once per burst only while the receiver has not masked', () => {
      const p = makePair();
      p.s2mIrq.drain();
      expect(p.serverRx.queue.setInterruptMask(false)).to.equal(0);
      expect(p.s2m.flags & 1).to.equal(0);
      transmit(p.clientTx.queue, [packet(1, 64), packet(2, 64)]);
      expect(p.s2mIrq.drain()).to.equal(1);
      expect(count(p.clientTx.counters, 'interrupts')).to.equal(1);
      // Masking returns what is already waiting (read after a full fence).
      expect(p.serverRx.queue.setInterruptMask(true)).to.equal(2);
      expect(p.s2m.flags & 1).to.equal(1);
      transmit(p.clientTx.queue, [packet(3, 64)]);
      expect(p.s2mIrq.drain()).to.equal(0);
      expect(count(p.clientTx.counters, 'interrupts')).to.equal(1);
      expect(p.serverRx.queue.setInterruptMask(false)).to.equal(3);
      receive(p.serverRx.queue);
      // Nothing sent, nothing signalled.
      transmit(p.clientTx.queue, Array.from({ length: 16 }, (_, i) => packet(i, 64)));
      p.s2mIrq.drain();
      expect(transmit(p.clientTx.queue, [packet(99, 64)])).to.equal(0);
      expect(p.s2mIrq.drain()).to.equal(0);
      expect(count(p.clientTx.counters, 'interrupts')).to.equal(2);
    });

    it('server tx signals the client rx ring the same way; refill never signals', () => {
      const p = makePair();
      p.m2sIrq.drain();
      p.clientRx.queue.refill();
      expect(p.m2sIrq.drain(), 'refill is not signalled').to.equal(0);
      transmit(p.serverTx.queue, [packet(1, 64)]);
      expect(p.m2sIrq.drain()).to.equal(1);
      p.clientRx.queue.setInterruptMask(true);
      transmit(p.serverTx.queue, [packet(2, 64)]);
      expect(p.m2sIrq.drain()).to.equal(0);
      expect(receive(p.clientRx.queue).map(seqOf)).to.deep.equal([1, 2]);
      expect(p.s2mIrq.drain(), 'receive does not signal the other ring').to.equal(0);
      expect(count(p.serverTx.counters, 'interrupts')).to.equal(1);
    });
  });

  describe('zero-copy peek/release', () => {
    it('reports packets in place and returns their slots only on release', () => {
      const p = makePair();
      const sent = [packet(1, 64), packet(2, 1500), packet(3, 2048)];
      transmit(p.clientTx.queue, sent);
      const { region, views } = peek(p.serverRx.queue, p.memory.regions);
      expect(region).to.equal(0);
      expect(views.length).to.equal(3);
      views.forEach((v, i) => {
        expect(sameBytes(v, sent[i])).to.equal(true);
        expect(RX_OFFSETS[i]).to.equal(s2mBuffer(p, i));
      });
      expect(p.s2m.tail, 'not released yet').to.equal(0);
      expect(p.serverRx.queue.pending(), 'peeked packets are not pending').to.equal(0);
      expect(p.clientTx.queue.pending()).to.equal(13);
      p.serverRx.queue.release();
      expect(p.s2m.tail).to.equal(3);
      expect(p.clientTx.queue.pending()).to.equal(16);
      p.serverRx.queue.release();
      expect(p.s2m.tail, 'release is idempotent').to.equal(3);
    });

    it('copies chained packets into the slab (region -1), never mixing them with in-place ones', () => {
      const p = makePair({ log2: 5 });
      const sent = [packet(1, 64), packet(2, 64), packet(3, 5000), packet(4, 3000), packet(5, 64), packet(6, 64)];
      transmit(p.clientTx.queue, sent);
      let r = peek(p.serverRx.queue, p.memory.regions);
      expect(r.region).to.equal(0);
      expect(r.views.map(seqOf)).to.deep.equal([1, 2]);
      // Peek again without release: the previous ones are released first.
      r = peek(p.serverRx.queue, p.memory.regions);
      expect(p.s2m.tail).to.equal(2);
      expect(r.region).to.equal(-1);
      expect(r.views.map(seqOf)).to.deep.equal([3, 4]);
      expect(sameBytes(r.views[0], sent[2])).to.equal(true);
      expect(sameBytes(r.views[1], sent[3])).to.equal(true);
      expect(RX_OFFSETS[0]).to.equal(0);
      expect(RX_OFFSETS[1]).to.equal(5000);
      p.serverRx.queue.release();
      expect(p.s2m.tail).to.equal(2 + 3 + 2);
      r = peek(p.serverRx.queue, p.memory.regions);
      expect(r.region).to.equal(0);
      expect(r.views.map(seqOf)).to.deep.equal([5, 6]);
      p.serverRx.queue.release();
      expect(p.s2m.tail).to.equal(9);
      expect(count(p.serverRx.counters, 'packets')).to.equal(6);
    });

    it('stops before a packet in another region', () => {
      const p = makePair();
      // A second region, with a buffer the (hostile but valid) client points a descriptor at.
      const other = native.Region.create('second', 4096);
      const regions = [p.region, other];
      const c = p.config('server', 'rx', { regions });
      const q = native.Queue.create(c);
      try {
        const payload = packet(7, 100);
        new Uint8Array(other.buffer).set(payload, 1000);
        publishRaw(p, [{}, { region: 1, offset: 1000, length: 100 }, {}], [packet(1, 64), undefined, packet(2, 64)]);
        let r = peek(q, regions);
        expect(r.region).to.equal(0);
        expect(r.views.map(seqOf)).to.deep.equal([1]);
        r = peek(q, regions);
        expect(r.region).to.equal(1);
        expect(sameBytes(r.views[0], payload)).to.equal(true);
        r = peek(q, regions);
        expect(r.region).to.equal(0);
        expect(r.views.map(seqOf)).to.deep.equal([2]);
        q.release();
        expect(p.s2m.tail).to.equal(3);
      } finally {
        q.close();
        other.close();
      }
    });

    it('client rx: release refills the peeked slots', () => {
      const p = makePair();
      p.clientRx.queue.refill();
      transmit(p.serverTx.queue, [packet(1, 64), packet(2, 64)]);
      const r = peek(p.clientRx.queue, p.memory.regions);
      expect(r.views.map(seqOf)).to.deep.equal([1, 2]);
      expect(p.m2s.head, 'held slots are not re-offered').to.equal(16);
      p.clientRx.queue.refill();
      expect(p.m2s.head).to.equal(16);
      p.clientRx.queue.release();
      expect(p.m2s.head).to.equal(18);
      expect(p.serverTx.queue.pending()).to.equal(16);
    });

    it('releases dropped descriptors even when nothing is reported', () => {
      const p = makePair();
      publishRaw(p, [{ length: 0 }, { region: 9 }]);
      expect(peek(p.serverRx.queue, p.memory.regions).views.length).to.equal(0);
      expect(p.s2m.tail).to.equal(2);
      expect(count(p.serverRx.counters, 'badLength')).to.equal(1);
      expect(count(p.serverRx.counters, 'badRegion')).to.equal(1);
    });
  });

  describe('hostile peers', () => {
    it('counts each bad descriptor under its reason and delivers the good ones around it', () => {
      const p = makePair({ log2: 5 });
      const good = (seq: number): Uint8Array => packet(seq, 80);
      const regionSize = p.region.size;
      publishRaw(
        p,
        [
          {}, // good 1
          { region: 1 }, // badRegion
          {}, // good 2
          { offset: 0xffffff00, length: 0x200 }, // u32 overflow: badBounds
          { offset: regionSize - 10, length: 11 }, // one byte beyond: badBounds
          { offset: regionSize - 10, length: 10 }, // exactly at the end: good (content not ours)
          { length: 0 }, // badLength
          { flags: 0x2 }, // badFlags
          { flags: 0x3 }, // badFlags, and NEXT: its successor belongs to the same (dropped) packet
          {}, // ...this one
          { flags: DESC_FLAG_NEXT }, // chain with a bad middle segment
          { region: 7, flags: DESC_FLAG_NEXT }, // badRegion
          {}, // end of the dropped chain
          {}, // good 3
        ],
        [good(1), undefined, good(2), undefined, undefined, undefined, undefined, undefined, undefined, undefined, good(50), undefined, good(51), good(3)],
      );
      const got = receive(p.serverRx.queue);
      expect(got.map((g) => g.length)).to.deep.equal([80, 80, 10, 80]);
      expect(seqOf(got[0])).to.equal(1);
      expect(seqOf(got[1])).to.equal(2);
      expect(sameBytes(got[3], good(3))).to.equal(true);
      const c = p.serverRx.counters;
      expect(count(c, 'badRegion')).to.equal(2);
      expect(count(c, 'badBounds')).to.equal(2);
      expect(count(c, 'badLength')).to.equal(1);
      expect(count(c, 'badFlags')).to.equal(2);
      expect(count(c, 'descriptors')).to.equal(14);
      expect(count(c, 'packets')).to.equal(4);
      expect(p.s2m.tail).to.equal(14);
    });

    it('leaves a chain with NEXT on the last available slot pending until it is completed', () => {
      const p = makePair();
      publishRaw(p, [{}, { flags: DESC_FLAG_NEXT }, { flags: DESC_FLAG_NEXT, region: 3 }], [packet(1, 64), packet(2, 100), undefined]);
      expect(receive(p.serverRx.queue).map(seqOf)).to.deep.equal([1]);
      expect(p.s2m.tail, 'the incomplete chain is not consumed').to.equal(1);
      expect(p.serverRx.queue.pending()).to.equal(2);
      // Again: still waiting, and its bad segment is not counted twice.
      expect(receive(p.serverRx.queue)).to.deep.equal([]);
      expect(count(p.serverRx.counters, 'badRegion')).to.equal(0);
      // Completed (the bad segment now counts once, the packet is dropped).
      publishRaw(p, [{}], [packet(3, 50)]);
      expect(receive(p.serverRx.queue)).to.deep.equal([]);
      expect(count(p.serverRx.counters, 'badRegion')).to.equal(1);
      expect(p.s2m.tail).to.equal(4);
      // A good chain completed later is delivered whole.
      publishRaw(p, [{ flags: DESC_FLAG_NEXT }], [packet(4, 100)]);
      expect(receive(p.serverRx.queue)).to.deep.equal([]);
      publishRaw(p, [{}], [packet(5, 60)]);
      const got = receive(p.serverRx.queue);
      expect(got.length).to.equal(1);
      expect(got[0].length).to.equal(160);
      expect(sameBytes(got[0].subarray(0, 100), packet(4, 100))).to.equal(true);
      expect(sameBytes(got[0].subarray(100), packet(5, 60))).to.equal(true);
      expect(count(p.serverRx.counters, 'badChain')).to.equal(0);
    });

    it('consumes a full ring of NEXT descriptors as one badChain', () => {
      const p = makePair({ log2: 4 });
      publishRaw(p, Array.from({ length: 16 }, () => ({ flags: DESC_FLAG_NEXT })));
      expect(receive(p.serverRx.queue)).to.deep.equal([]);
      expect(count(p.serverRx.counters, 'badChain')).to.equal(1);
      expect(count(p.serverRx.counters, 'descriptors')).to.equal(16);
      expect(p.s2m.tail).to.equal(16);
      // The ring works again.
      transmit(p.clientTx.queue, [packet(9, 64)]);
      expect(receive(p.serverRx.queue).map(seqOf)).to.deep.equal([9]);
    });

    it('clamps a head that jumps by more than N (badIndex)', () => {
      const p = makePair({ log2: 4 });
      for (let i = 0; i < 16; i++) p.s2m.setDesc(i, { flags: 0, region: 0, length: 64, offset: s2mBuffer(p, i) });
      p.s2m.head = 1000;
      expect(p.serverRx.queue.pending()).to.equal(16);
      const got = receive(p.serverRx.queue);
      expect(got.length).to.equal(16);
      expect(count(p.serverRx.counters, 'badIndex')).to.equal(1);
      expect(p.s2m.tail).to.equal(16);
      // And a head that moves backwards (u16: more than N ahead) likewise.
      p.s2m.head = 10;
      expect(receive(p.serverRx.queue).length).to.equal(16);
      expect(count(p.serverRx.counters, 'badIndex')).to.equal(2);
    });

    it('client tx survives a hostile tail (no room, badIndex) and rewrites scribbled descriptors', () => {
      const p = makePair({ log2: 4 });
      p.s2m.tail = 100;
      expect(transmit(p.clientTx.queue, [packet(1, 64)])).to.equal(0);
      expect(count(p.clientTx.counters, 'badIndex')).to.equal(1);
      expect(count(p.clientTx.counters, 'ringFull')).to.equal(1);
      p.s2m.tail = 0;
      for (let i = 0; i < 16; i++) p.s2m.setDesc(i, { flags: 1, region: 5, length: 0, offset: 0xffffffff });
      transmit(p.clientTx.queue, [packet(2, 64)]);
      expect(p.s2m.desc(0)).to.deep.equal({ flags: 0, region: 0, length: 64, offset: s2mBuffer(p, 0) });
      expect(receive(p.serverRx.queue).map(seqOf)).to.deep.equal([2]);
    });

    it('client rx validates what the server wrote and ignores a tail beyond what was offered', () => {
      const p = makePair({ log2: 4 });
      p.clientRx.queue.refill();
      transmit(p.serverTx.queue, [packet(1, 64), packet(2, 64), packet(3, 64)]);
      p.m2s.setDesc(1, { region: 4 });
      p.m2s.setDesc(2, { length: 4096 * 1024 });
      expect(receive(p.clientRx.queue).map(seqOf)).to.deep.equal([1]);
      expect(count(p.clientRx.counters, 'badRegion')).to.equal(1);
      expect(count(p.clientRx.counters, 'badBounds')).to.equal(1);
      // Refilled: the scribbled descriptors are whole again.
      expect(p.m2s.desc(1)).to.deep.equal({ flags: 0, region: 0, length: 2048, offset: bufferOffset(p.layout, p.layout.rings[1], 1) });
      // Tail beyond head: clamped to the offered slots.
      p.m2s.tail = p.m2s.head + 5;
      expect(receive(p.clientRx.queue).length).to.equal(16);
      expect(count(p.clientRx.counters, 'badIndex')).to.equal(1);
    });

    it('client rx counts a server that wrote past the offered slots while they were held (badIndex on release)', () => {
      // DPDK 22.11's chained TX does this on a nearly full ring (data.spec.ts). Refilling first
      // would move head past the bad tail and hide it for good.
      const p = makePair({ log2: 4 });
      p.clientRx.queue.refill();
      transmit(p.serverTx.queue, Array.from({ length: 16 }, (_, i) => packet(i, 64)));
      expect(peek(p.clientRx.queue, p.memory.regions).views.length).to.equal(16);
      expect(count(p.clientRx.counters, 'badIndex')).to.equal(0);
      p.m2s.tail = p.m2s.head + 3;
      p.clientRx.queue.release();
      expect(count(p.clientRx.counters, 'badIndex')).to.equal(1);
      expect(p.m2s.head, 'refilled all the same').to.equal(32);
      // Once head is past it again, the tail is in range: nothing more is counted.
      expect(receive(p.clientRx.queue).length).to.equal(3);
      expect(count(p.clientRx.counters, 'badIndex')).to.equal(1);
    });

    it('server tx refuses bad offers (capacity 0, beyond the region, unknown region): badOffer, stops there', () => {
      const p = makePair({ log2: 4 });
      p.clientRx.queue.refill();
      p.m2s.setDesc(2, { length: 0 });
      const sent = Array.from({ length: 5 }, (_, i) => packet(i, 64));
      expect(transmit(p.serverTx.queue, sent)).to.equal(2);
      expect(count(p.serverTx.counters, 'badOffer')).to.equal(1);
      expect(p.m2s.tail).to.equal(2);
      expect(p.m2s.desc(2).length, 'left as offered').to.equal(0);
      expect(receive(p.clientRx.queue).map(seqOf)).to.deep.equal([0, 1]);
      // Stuck on it: nothing more goes, nothing is skipped.
      expect(transmit(p.serverTx.queue, sent.slice(2))).to.equal(0);
      expect(count(p.serverTx.counters, 'badOffer')).to.equal(2);
      // The client fixes it (it owns it): out of region next.
      p.m2s.setDesc(2, { length: 2048, offset: p.region.size - 100 });
      expect(transmit(p.serverTx.queue, sent.slice(2))).to.equal(0);
      expect(count(p.serverTx.counters, 'badOffer')).to.equal(3);
      p.m2s.setDesc(2, { length: 2048, offset: 0xffffff00 });
      expect(transmit(p.serverTx.queue, sent.slice(2))).to.equal(0);
      p.m2s.setDesc(2, { region: 1, offset: 0 });
      expect(transmit(p.serverTx.queue, sent.slice(2))).to.equal(0);
      expect(count(p.serverTx.counters, 'badOffer')).to.equal(5);
      // A bad offer in the middle of a chain: the packet is not sent at all.
      p.m2s.setDesc(2, { region: 0, length: 2048, offset: bufferOffset(p.layout, p.layout.rings[1], 2) });
      p.m2s.setDesc(3, { length: 0 });
      expect(transmit(p.serverTx.queue, [packet(9, 3000)])).to.equal(0);
      expect(p.m2s.tail).to.equal(2);
      p.m2s.setDesc(3, { length: 2048 });
      expect(transmit(p.serverTx.queue, [packet(9, 3000), ...sent.slice(2)])).to.equal(4);
      const got = receive(p.clientRx.queue);
      expect(got.map(seqOf)).to.deep.equal([9, 2, 3, 4]);
      expect(sameBytes(got[0], packet(9, 3000))).to.equal(true);
    });

    it('server tx fills client-sized buffers: each segment takes the capacity the client offered', () => {
      const p = makePair({ log2: 4 });
      p.clientRx.queue.refill();
      // A client offering smaller (valid) buffers than its bufferSize.
      p.m2s.setDesc(0, { length: 100 });
      p.m2s.setDesc(1, { length: 50 });
      expect(transmit(p.serverTx.queue, [packet(1, 1000)])).to.equal(1);
      expect([p.m2s.desc(0), p.m2s.desc(1), p.m2s.desc(2)].map((d) => [d.flags, d.length])).to.deep.equal([
        [1, 100],
        [1, 50],
        [0, 850],
      ]);
      const got = receive(p.clientRx.queue);
      expect(sameBytes(got[0], packet(1, 1000))).to.equal(true);
    });
  });

  describe('client zero-copy tx (reserve/commit)', () => {
    const ZC_OFFSETS = new Uint32Array(1 << 14);
    const ZC_CAPS = new Uint32Array(1 << 14);
    const ZC_LENGTHS = new Uint32Array(1 << 14);

    it('reserves free slots from head, the same ones until commit, and publishes them in place', () => {
      const p = makePair({ log2: 4, bufferSize: 1024 });
      const tx = p.clientTx.queue;
      const bytes = new Uint8Array(p.region.buffer);
      expect(tx.reserve(ZC_OFFSETS, ZC_CAPS, 5)).to.equal(5);
      const first = Array.from(ZC_OFFSETS.subarray(0, 5));
      expect(first).to.deep.equal([0, 1, 2, 3, 4].map((j) => s2mBuffer(p, j)));
      expect(Array.from(ZC_CAPS.subarray(0, 5))).to.deep.equal([1024, 1024, 1024, 1024, 1024]);
      expect(p.s2m.head, 'reserve publishes nothing').to.equal(0);
      expect(tx.reserve(ZC_OFFSETS, ZC_CAPS, 3)).to.equal(3);
      expect(Array.from(ZC_OFFSETS.subarray(0, 3)), 'same slots again').to.deep.equal(first.slice(0, 3));
      const sent = [packet(0, 1), packet(1, 1024), packet(2, 500)];
      sent.forEach((pk, i) => {
        bytes.set(pk, ZC_OFFSETS[i]);
        ZC_LENGTHS[i] = pk.length;
      });
      // A peer that scribbled on the descriptors does not redirect us.
      p.s2m.setDesc(1, { region: 7, offset: 0xfffffff0, flags: 1, length: 0 });
      p.s2mIrq.drain();
      expect(tx.commit(ZC_LENGTHS, 3)).to.equal(3);
      expect(p.s2m.head).to.equal(3);
      expect(p.s2m.desc(1)).to.deep.equal({ flags: 0, region: 0, length: 1024, offset: s2mBuffer(p, 1) });
      expect(p.s2mIrq.drain(), 'one signal per commit').to.equal(1);
      expect(count(p.clientTx.counters, 'packets')).to.equal(3);
      expect(count(p.clientTx.counters, 'bytes')).to.equal(1525);
      expect(count(p.clientTx.counters, 'bursts')).to.equal(1);
      expect(count(p.clientTx.counters, 'interrupts')).to.equal(1);
      const got = receive(p.serverRx.queue);
      expect(got.length).to.equal(3);
      got.forEach((g, i) => expect(sameBytes(g, sent[i]), `packet ${i}`).to.equal(true));
      // The next reservation starts at the new head; committing ended the old one.
      expectEinval(() => tx.commit(ZC_LENGTHS, 1), /exceeds the 0 slots reserved/);
      expect(tx.reserve(ZC_OFFSETS, ZC_CAPS, 1)).to.equal(1);
      expect(ZC_OFFSETS[0]).to.equal(s2mBuffer(p, 3));
    });

    it('hands out no more than the free room, wraps around the ring, and count 0 publishes nothing', () => {
      const p = makePair({ log2: 3, bufferSize: 256 });
      const tx = p.clientTx.queue;
      const bytes = new Uint8Array(p.region.buffer);
      let seq = 0;
      for (let round = 0; round < 9000; round++) {
        // 70 000+ packets: head wraps past 65535 several times.
        const n = tx.reserve(ZC_OFFSETS, ZC_CAPS, 8);
        expect(n).to.equal(8);
        for (let i = 0; i < n; i++) {
          const pk = packet(seq + i, 16 + ((seq + i) % 200));
          bytes.set(pk, ZC_OFFSETS[i]);
          ZC_LENGTHS[i] = pk.length;
        }
        expect(tx.reserve(ZC_OFFSETS, ZC_CAPS, 20), 'ring full: 8 slots of 8').to.equal(8);
        expect(tx.commit(ZC_LENGTHS, 8)).to.equal(8);
        expect(tx.reserve(ZC_OFFSETS, ZC_CAPS, 8)).to.equal(0);
        const got = receive(p.serverRx.queue);
        for (const g of got) {
          expect(seqOf(g)).to.equal(seq);
          expect(sameBytes(g, packet(seq, 16 + (seq % 200)))).to.equal(true);
          seq++;
        }
      }
      expect(seq).to.equal(72000);
      const head = p.s2m.head;
      tx.reserve(ZC_OFFSETS, ZC_CAPS, 2);
      p.s2mIrq.drain();
      expect(tx.commit(ZC_LENGTHS, 0)).to.equal(0);
      expect(p.s2m.head).to.equal(head);
      expect(p.s2mIrq.drain()).to.equal(0);
    });

    it('refuses bad lengths and counts before writing anything; transmit() ends a reservation', () => {
      const p = makePair({ log2: 4, bufferSize: 512 });
      const tx = p.clientTx.queue;
      expect(tx.reserve(ZC_OFFSETS, ZC_CAPS, 4)).to.equal(4);
      expectEinval(() => tx.commit(new Uint32Array([64, 0]), 2), /length 0 of slot 1 is not in 1\.\.512/);
      expectEinval(() => tx.commit(new Uint32Array([513]), 1), /length 513/);
      expectEinval(() => tx.commit(new Uint32Array([64]), 2), /count 2 exceeds lengths/);
      expectEinval(() => tx.commit(new Uint32Array(8).fill(64), 5), /exceeds the 4 slots reserved/);
      expect(p.s2m.head, 'nothing published').to.equal(0);
      expect(tx.commit(new Uint32Array([64, 64]), 2), 'the reservation survived the refusals').to.equal(2);
      expect(tx.reserve(ZC_OFFSETS, ZC_CAPS, 4)).to.equal(4);
      expect(transmit(tx, [packet(9, 64)])).to.equal(1);
      expectEinval(() => tx.commit(new Uint32Array([64]), 1), /slots reserved/);
      // The two committed slots were never written (a fresh memfd reads as zeros).
      expect(receive(p.serverRx.queue).map(seqOf)).to.deep.equal([0, 0, 9]);
      const rx = p.serverRx.queue;
      const u32 = new Uint32Array(4);
      expectEinval(() => rx.reserve(u32, u32, 1), /only a client tx queue reserves/);
      expectEinval(() => rx.commit(u32, 0), /only a client tx queue commits/);
      expectEinval(() => p.serverTx.queue.reserve(u32, u32, 1), /only a client tx/);
      expectEinval(() => tx.reserve(u32, new Uint32Array(2), 3), /max 3 exceeds/);
      expectEinval(() => tx.reserve(u32, new Int32Array(4) as unknown as Uint32Array, 1), /capacities/);
    });

    it('a hostile tail leaves no room: reserve hands out nothing (badIndex); a closed queue returns 0', () => {
      const p = makePair({ log2: 4 });
      const tx = p.clientTx.queue;
      expect(tx.reserve(ZC_OFFSETS, ZC_CAPS, 4)).to.equal(4);
      p.s2m.tail = 40; // "consumed" slots never published
      expect(tx.commit(new Uint32Array([64, 64, 64, 64]), 4)).to.equal(0);
      expect(count(p.clientTx.counters, 'ringFull')).to.equal(4);
      expect(p.s2m.head).to.equal(0);
      expect(tx.reserve(ZC_OFFSETS, ZC_CAPS, 4)).to.equal(0);
      expect(count(p.clientTx.counters, 'badIndex')).to.be.greaterThan(0);
      p.s2m.tail = 0;
      tx.close();
      expect(tx.reserve(ZC_OFFSETS, ZC_CAPS, 4)).to.equal(0);
      expect(tx.commit(ZC_LENGTHS, 0)).to.equal(0);
    });
  });

  describe('lifetime and arguments', () => {
    it('returns 0 and does nothing once a region is closed', () => {
      const p = makePair();
      p.clientRx.queue.refill();
      transmit(p.clientTx.queue, [packet(1, 64)]);
      p.region.close();
      for (const e of [p.clientTx, p.serverTx]) expect(transmit(e.queue, [packet(2, 64)])).to.equal(0);
      for (const e of [p.serverRx, p.clientRx]) {
        expect(e.queue.receive(SLAB, 0, RX_OFFSETS, RX_LENGTHS, 256)).to.equal(0);
        expect(e.queue.peek(SLAB, 0, ZC_REGIONS, RX_OFFSETS, RX_LENGTHS, 256)).to.equal(0);
        e.queue.release();
        expect(e.queue.setInterruptMask(true)).to.equal(0);
      }
      p.clientRx.queue.refill();
      for (const e of [p.clientTx, p.serverTx, p.serverRx, p.clientRx]) {
        expect(e.queue.pending()).to.equal(0);
        expect(e.queue.closed).to.equal(false);
      }
    });

    it('close is idempotent, counts in liveHandles, and a closed queue returns 0', () => {
      const before = native.liveHandles();
      const p = makePair();
      // 1 region + 2 eventfds + 4 queues.
      expect(native.liveHandles()).to.equal(before + 7);
      p.clientTx.queue.close();
      expect(native.liveHandles()).to.equal(before + 6);
      p.clientTx.queue.close();
      expect(native.liveHandles()).to.equal(before + 6);
      expect(p.clientTx.queue.closed).to.equal(true);
      expect(transmit(p.clientTx.queue, [packet(1, 64)])).to.equal(0);
      expect(p.clientTx.queue.pending()).to.equal(0);
      expect(p.s2m.head).to.equal(0);
      p.serverRx.queue.close();
      expect(p.serverRx.queue.receive(SLAB, 0, RX_OFFSETS, RX_LENGTHS, 1)).to.equal(0);
      // Queues do not close the regions or eventfds they use.
      expect(p.region.closed).to.equal(false);
      expect(p.s2mIrq.closed).to.equal(false);
    });

    for (const ending of ['process.exit', 'terminate'] as const) {
      it(`a worker's open queues are closed by its teardown (${ending})`, async () => {
        const worker = new Worker(
          `const { parentPort, workerData } = require('node:worker_threads');
           const b = require(workerData.addon);
           ${ringScript}
           const region = b.Region.create('worker queue', regionBytes);
           const irq = b.EventFd.create();
           const { tx, rx } = makeQueues(region, irq);
           tx.transmit(...one);
           parentPort.postMessage({ live: b.liveHandles(), pending: rx.pending() });
           parentPort.on('message', () => process.exit(0));`,
          { eval: true, workerData: { addon: addonFile() } },
        );
        const errors: Error[] = [];
        worker.on('error', (e: Error) => errors.push(e));
        const message = await new Promise<unknown>((resolve) => worker.once('message', resolve));
        expect(message).to.deep.equal({ live: 4, pending: 1 });
        const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
        if (ending === 'terminate') await worker.terminate();
        else worker.postMessage('exit');
        expect(await exited).to.equal(ending === 'terminate' ? 1 : 0);
        expect(errors).to.deep.equal([]);
      });
    }

    it('holds its regions while open; an unreachable open queue is finalized', () => {
      const script = `
        const b = require(${JSON.stringify(addonFile())});
        ${ringScript}
        const irq = b.EventFd.create();
        // The region is reachable only through the queues.
        let queues = makeQueues(b.Region.create('held', regionBytes), irq);
        const tick = () => new Promise((resolve) => setImmediate(resolve));
        (async () => {
          for (let i = 0; i < 5; i++) { gc(); await tick(); }
          const sent = queues.tx.transmit(...one);
          const got = queues.rx.receive(new Uint8Array(4096), 0, new Uint32Array(4), new Uint32Array(4), 4);
          const before = b.liveHandles();
          queues = undefined;
          for (let i = 0; i < 10; i++) { gc(); await tick(); }
          console.log(JSON.stringify({ sent, got, before, after: b.liveHandles() }));
        })();`;
      const run = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 20000 });
      expect(run.status, run.stderr).to.equal(0);
      // eventfd + region + 2 queues; then the queues are finalized and the region with them.
      expect(JSON.parse(run.stdout)).to.deep.equal({ sent: 1, got: 1, before: 4, after: 1 });
    });

    it('keeps counting (into scratch) when its counters array was detached', () => {
      const p = makePair();
      const c = p.clientTx.counters;
      const buffer = c.buffer as ArrayBuffer;
      structuredClone(buffer, { transfer: [buffer] });
      expect(c.length).to.equal(0);
      expect(transmit(p.clientTx.queue, [packet(1, 64)])).to.equal(1);
      expect(receive(p.serverRx.queue).map(seqOf)).to.deep.equal([1]);
    });

    it('rejects bad calls with EINVAL and never reads out of bounds', () => {
      const p = makePair();
      const tx = p.clientTx.queue;
      const rx = p.serverRx.queue;
      const u8 = new Uint8Array(100);
      const u32 = new Uint32Array(4);
      const as = <T>(v: unknown): T => v as T;
      expectEinval(() => tx.transmit(as(new Uint16Array(10)), u32, u32, 1), /data must be a Uint8Array/);
      expectEinval(() => tx.transmit(u8, as(new Int32Array(4)), u32, 1), /offsets/);
      expectEinval(() => tx.transmit(u8, u32, u32, 5), /count 5 exceeds/);
      expectEinval(() => tx.transmit(u8, u32, u32, -1));
      expectEinval(() => tx.transmit(u8, u32, u32, 1.5));
      expectEinval(() => tx.transmit(u8, new Uint32Array([0]), new Uint32Array([0]), 1), /empty/);
      expectEinval(() => tx.transmit(u8, new Uint32Array([50]), new Uint32Array([51]), 1), /beyond data/);
      expectEinval(() => tx.transmit(u8, new Uint32Array([0xffffffff]), new Uint32Array([2]), 1), /beyond data/);
      expect(p.s2m.head, 'nothing was sent').to.equal(0);
      expectEinval(() => rx.receive(u8, 101, u32, u32, 1), /slabOffset/);
      expectEinval(() => rx.receive(u8, 0, u32, new Uint32Array(2), 3), /maxPackets 3 exceeds/);
      expectEinval(() => rx.receive(as(new Float64Array(4)), 0, u32, u32, 1), /slab/);
      expectEinval(() => rx.receive(as(undefined), 0, u32, u32, 1), /slab/);
      expectEinval(() => rx.peek(u8, 0, new Int32Array(0), u32, u32, 1), /regions/);
      expectEinval(() => rx.peek(u8, 0, as(new Uint32Array(1)), u32, u32, 1), /regions/);
      expectEinval(() => rx.setInterruptMask(as(1)), /boolean/);
      // Methods of the other direction or role.
      expectEinval(() => rx.transmit(u8, u32, u32, 0), /rx queue/);
      expectEinval(() => tx.receive(u8, 0, u32, u32, 0), /tx queue/);
      expectEinval(() => tx.peek(u8, 0, ZC_REGIONS, u32, u32, 0), /tx queue/);
      expectEinval(() => tx.release(), /tx queue/);
      expectEinval(() => tx.setInterruptMask(true), /tx queue/);
      expectEinval(() => rx.refill(), /client rx/);
      // A packet count of 0 is fine.
      expect(tx.transmit(u8, u32, u32, 0)).to.equal(0);
      expect(rx.receive(u8, 100, u32, u32, 0)).to.equal(0);
    });

    it('validates the configuration at create', () => {
      const p = makePair({ log2: 4 });
      const create = (role: 'client' | 'server', direction: 'rx' | 'tx', extra: Record<string, unknown>) => () =>
        native.Queue.create({ ...p.config(role, direction), ...extra } as NativeQueueConfig);
      const before = native.liveHandles();
      expectEinval(() => native.Queue.create(undefined as unknown as NativeQueueConfig), /config must be an object/);
      expectEinval(create('client', 'tx', { role: 'master' }), /role/);
      expectEinval(create('client', 'tx', { direction: 'both' }), /direction/);
      expectEinval(create('client', 'tx', { log2RingSize: 0 }), /log2RingSize/);
      expectEinval(create('client', 'tx', { log2RingSize: 15 }), /log2RingSize/);
      expectEinval(create('server', 'rx', { ringOffset: p.region.size - 100 }), /does not fit region 0/);
      expectEinval(create('server', 'rx', { ringOffset: 2 ** 53 - 1 }), /does not fit/);
      expectEinval(create('server', 'rx', { ringOffset: 1 }), /odd/);
      expectEinval(create('server', 'rx', { ringRegion: 1 }), /ringRegion/);
      expectEinval(create('client', 'tx', { bufferSize: 0 }), /bufferSize/);
      expectEinval(create('client', 'tx', { bufferSize: 65536 }), /bufferSize/);
      expectEinval(create('client', 'tx', { bufferBase: p.region.size - 2048 }), /do not fit region/);
      expectEinval(create('client', 'tx', { bufferRegion: 3 }), /bufferRegion/);
      expectEinval(create('client', 'tx', { regions: [] }), /regions/);
      expectEinval(create('client', 'tx', { regions: [{}] }), /regions\[0\] must be an open Region/);
      expectEinval(create('client', 'tx', { regions: [p.s2mIrq] }), /open Region/);
      // Another native object dressed up as a Region is refused, not reinterpreted.
      const fake = native.EventFd.create();
      const eventFdPrototype = Object.getPrototypeOf(fake) as object;
      Object.setPrototypeOf(fake, Object.getPrototypeOf(p.region) as object);
      expectEinval(create('client', 'tx', { regions: [fake] }), /open Region/);
      Object.setPrototypeOf(fake, eventFdPrototype);
      fake.close();
      const closed = native.Region.create('closed', 65536);
      closed.close();
      expectEinval(create('server', 'rx', { regions: [closed] }), /open Region/);
      expectEinval(create('client', 'tx', { eventFd: p.region }), /eventFd must be an open EventFd/);
      expectEinval(create('client', 'tx', { eventFd: undefined }), /eventFd/);
      expectEinval(create('client', 'tx', { counters: new Float64Array(13) }), /at least 14/);
      expectEinval(create('client', 'tx', { counters: new Uint32Array(14) }), /Float64Array/);
      expectEinval(create('server', 'rx', { maxPacketSize: 0 }), /maxPacketSize/);
      expect(native.liveHandles(), 'nothing registered by failed creates').to.equal(before);
      // A server does not look at buffer fields.
      const q = create('server', 'tx', { bufferSize: undefined, bufferRegion: undefined, bufferBase: undefined })();
      q.close();
    });
  });
});
