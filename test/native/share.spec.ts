import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadNative, MemifError } from '../../src/native-bridge';
import { until } from '../helpers/expect';
import type { NativeRegion } from '../../src/native-bridge';
import { QUEUE_COUNTERS, QueueCounter } from '../../src/native-bridge/native';

/*
 * Regions and eventfds shared with worker threads: one mapping per process, refcounted; each
 * environment has its own Region/EventFd objects and ArrayBuffers, freed by its own teardown.
 * See docs/architecture.md#worker-threads-what-is-shared-what-is-per-env.
 */

const native = loadNative();
const CL = native.cacheLineSize;

const addonFile = (): string => {
  const root = path.resolve(__dirname, '..', '..');
  const preferred = process.env.RX_MEMIF_ADDON;
  if (preferred) return path.resolve(preferred);
  const builds = ['Release', 'Debug'].map((k) => path.join(root, 'build', k, 'rx_memif.node'));
  return builds.find((f) => fs.existsSync(f)) ?? builds[0];
};

let nameCounter = 0;
/** A memfd name no other test uses, so its lines in /proc/self/maps are ours. */
const uniqueName = (): string => `rx-memif-share-${process.pid}-${nameCounter++}`;

/** How many mappings of the memfd `name` this process has. */
const mapsOf = (name: string): number =>
  fs
    .readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((line) => line.includes(`/memfd:${name} `)).length;

/** How many eventfds this process has open. */
const eventFds = (): number =>
  fs.readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[eventfd]';
    } catch {
      return false;
    }
  }).length;

interface WorkerError {
  code?: string;
  message: string;
}

type Event = { event: 'signal'; id: number; count: number } | { event: 'packets'; packets: Uint8Array[] };

/** A thread running share-worker.js, driven by calls. */
class Remote {
  readonly worker: Worker;
  readonly events: Event[] = [];
  readonly errors: Error[] = [];
  exitCode: number | undefined;
  private seq = 0;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: WorkerError) => void }
  >();
  private readonly ready: Promise<void>;

  constructor() {
    this.worker = new Worker(path.join(__dirname, 'share-worker.js'), {
      workerData: { addon: addonFile() },
    });
    let markReady: () => void = () => undefined;
    this.ready = new Promise((resolve) => (markReady = resolve));
    this.worker.on('message', (message: { seq?: number; result?: unknown; error?: WorkerError; event?: string }) => {
      if (message.event === 'ready') markReady();
      else if (message.event !== undefined) this.events.push(message as Event);
      else {
        const call = this.pending.get(message.seq!)!;
        this.pending.delete(message.seq!);
        if (message.error) call.reject(message.error);
        else call.resolve(message.result);
      }
    });
    this.worker.on('error', (error: Error) => this.errors.push(error));
    this.worker.on('exit', (code: number) => (this.exitCode = code));
  }

  async call<T>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    await this.ready;
    const seq = this.seq++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ seq, op, args });
    });
  }

  /** The error a call failed with (fails the test when it succeeded). */
  async failure(op: string, args: Record<string, unknown>): Promise<WorkerError> {
    try {
      await this.call(op, args);
    } catch (error) {
      return error as WorkerError;
    }
    throw new Error(`${op} succeeded in the worker`);
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
    await until(() => this.exitCode !== undefined, 'the worker to exit');
    expect(this.errors, 'worker errors').to.deep.equal([]);
  }
}

const nativeError = (run: () => unknown): MemifError => {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(MemifError);
    return error as MemifError;
  }
  throw new Error('expected a native error');
};

// The ring layout of test/native/queue.spec.ts's worker cases: one ring at offset 0, 16 slots,
// 2048-byte buffers after the descriptors.
const LOG2 = 4;
const BUFFER_SIZE = 2048;
const ringLayout = {
  ringRegion: 0,
  ringOffset: 0,
  log2RingSize: LOG2,
  bufferSize: 0,
  bufferRegion: 0,
  bufferBase: 0,
  maxPacketSize: 65536,
};
const regionBytes = 2 * CL + 16 * (1 << LOG2) + (1 << LOG2) * BUFFER_SIZE;

/** A packet whose bytes encode its sequence number and length. */
const packet = (seq: number, length: number): Uint8Array => {
  const p = new Uint8Array(length);
  for (let i = 0; i < length; i++) p[i] = (seq * 131 + i * 7 + (i >> 8)) & 0xff;
  new DataView(p.buffer).setUint32(0, seq, true);
  return p;
};

const transmitAll = (
  queue: { transmit(d: Uint8Array, o: Uint32Array, l: Uint32Array, n: number): number },
  packets: readonly Uint8Array[],
): number => {
  const total = packets.reduce((sum, p) => sum + p.length, 0);
  const data = new Uint8Array(total);
  const offsets = new Uint32Array(packets.length);
  const lengths = new Uint32Array(packets.length);
  let at = 0;
  packets.forEach((p, i) => {
    data.set(p, at);
    offsets[i] = at;
    lengths[i] = p.length;
    at += p.length;
  });
  return queue.transmit(data, offsets, lengths, packets.length);
};

describe('native sharing with worker threads', () => {
  let live: number;
  let remotes: Remote[];
  let regions: NativeRegion[];
  beforeEach(() => {
    live = native.liveHandles();
    remotes = [];
    regions = [];
  });
  afterEach(async () => {
    for (const remote of remotes) if (remote.exitCode === undefined) await remote.terminate();
    for (const region of regions) region.close();
    expect(native.liveHandles(), 'objects left open in the main thread').to.equal(live);
  });

  const remote = (): Remote => {
    const r = new Remote();
    remotes.push(r);
    return r;
  };
  const region = (name: string, size = 4096): NativeRegion => {
    const r = native.Region.create(name, size);
    regions.push(r);
    return r;
  };

  describe('regions', () => {
    it('a worker attaches by token, reads what main wrote and writes what main reads', async () => {
      const name = uniqueName();
      const owner = region(name, 8192);
      const token = owner.share();
      expect(token).to.be.a('number').that.is.above(0);
      expect(Number.isInteger(token)).to.equal(true);
      expect(owner.share(), 'the same token every time').to.equal(token);
      new Uint8Array(owner.buffer).set([1, 2, 3, 4], 8000);

      const w = remote();
      const attached = await w.call<{ id: number; fd: number; seals: number; size: number }>(
        'attachRegion',
        { token },
      );
      expect(attached).to.include({ fd: -1, seals: -1, size: 8192 });
      expect(await w.call('live'), 'the attachment is counted in the worker').to.equal(1);
      expect(native.liveHandles(), 'and not in main').to.equal(live + 1);
      expect(mapsOf(name), 'no second mmap').to.equal(1);
      expect(await w.call('read', { id: attached.id, offset: 8000, length: 4 })).to.deep.equal([
        1, 2, 3, 4,
      ]);
      await w.call('write', { id: attached.id, offset: 10, bytes: [9, 8, 7] });
      expect(Array.from(new Uint8Array(owner.buffer, 10, 3))).to.deep.equal([9, 8, 7]);
      expect(await w.call('share', { id: attached.id }), 'an attachment tells its token').to.equal(
        token,
      );
      await w.call('close', { id: attached.id });
      expect(await w.call('live')).to.equal(0);
      expect(owner.buffer.byteLength, "the worker's close leaves main's buffer").to.equal(8192);
      expect(mapsOf(name)).to.equal(1);
    });

    it('the mapping outlives the owner while a worker holds it, and goes with the last holder', async () => {
      const name = uniqueName();
      const owner = native.Region.create(name, 4096);
      const token = owner.share();
      new Uint8Array(owner.buffer)[100] = 77;
      const w = remote();
      const { id } = await w.call<{ id: number }>('attachRegion', { token });

      owner.close();
      expect(owner.buffer.byteLength, "main's view is detached").to.equal(0);
      expect(native.liveHandles()).to.equal(live);
      expect(mapsOf(name), 'still mapped for the worker').to.equal(1);
      expect(await w.call('read', { id, offset: 100, length: 1 })).to.deep.equal([77]);
      await w.call('write', { id, offset: 101, bytes: [78] });
      expect(await w.call('read', { id, offset: 100, length: 2 })).to.deep.equal([77, 78]);

      const late = await w.failure('attachRegion', { token });
      expect(late.code, 'no attach once the owner closed').to.equal('ENOENT');
      expect(nativeError(() => native.Region.attach(token)).code).to.equal('ENOENT');

      await w.call('close', { id });
      expect(await w.call('byteLength', { id })).to.equal(0);
      expect(mapsOf(name), 'unmapped with the last holder').to.equal(0);
    });

    it('an attachment in the same thread: closing either side detaches only its own buffer', () => {
      const name = uniqueName();
      const owner = region(name);
      const attached = native.Region.attach(owner.share());
      expect(native.liveHandles()).to.equal(live + 2);
      expect(attached.buffer).to.not.equal(owner.buffer);
      new Uint8Array(owner.buffer)[0] = 5;
      expect(new Uint8Array(attached.buffer)[0]).to.equal(5);
      attached.close();
      attached.close();
      expect(attached.closed).to.equal(true);
      expect(attached.buffer.byteLength).to.equal(0);
      expect(owner.buffer.byteLength).to.equal(4096);
      expect(mapsOf(name)).to.equal(1);

      const again = native.Region.attach(owner.share());
      owner.close();
      expect(new Uint8Array(again.buffer)[0], 'alive after the owner closed').to.equal(5);
      expect(mapsOf(name)).to.equal(1);
      again.close();
      expect(mapsOf(name)).to.equal(0);
      expect(nativeError(() => again.share()).code, 'share once closed').to.equal('EBADF');
    });

    it('a region mapped from a received fd (the server side) is shared the same way', async () => {
      const name = uniqueName();
      const created = region(name, 4096);
      new Uint8Array(created.buffer)[7] = 99;
      // Another fd of the same memfd, as a peer would send it.
      const mapped = native.Region.map(fs.openSync(`/proc/self/fd/${created.fd}`, 'r+'), 4096);
      created.close();
      expect(mapsOf(name)).to.equal(1);
      const w = remote();
      const { id } = await w.call<{ id: number }>('attachRegion', { token: mapped.share() });
      expect(await w.call('read', { id, offset: 7, length: 1 })).to.deep.equal([99]);
      mapped.close();
      expect(mapsOf(name), "the worker's attachment holds the mapping").to.equal(1);
      await w.call('close', { id });
      expect(mapsOf(name)).to.equal(0);
    });

    it('refuses bad tokens: ENOENT for unknown ones, EINVAL for non-tokens', async () => {
      const owner = region(uniqueName());
      const eventFd = native.EventFd.create();
      const regionToken = owner.share();
      const eventToken = eventFd.share();
      expect(eventToken).to.not.equal(regionToken);
      expect(nativeError(() => native.EventFd.attach(regionToken)).code).to.equal('ENOENT');
      expect(nativeError(() => native.Region.attach(eventToken)).code).to.equal('ENOENT');
      expect(nativeError(() => native.Region.attach(2 ** 52)).code).to.equal('ENOENT');
      for (const bad of [0, -1, 1.5, NaN, Infinity, 2 ** 53, '1', undefined, {}]) {
        const error = nativeError(() => native.Region.attach(bad as number));
        expect(error.code, String(bad)).to.equal('EINVAL');
        expect(nativeError(() => native.EventFd.attach(bad as number)).code).to.equal('EINVAL');
      }
      eventFd.close();
      const w = remote();
      expect((await w.failure('attachRegion', { token: 2 ** 52 })).code).to.equal('ENOENT');
      expect((await w.failure('attachRegion', { token: 0 })).code).to.equal('EINVAL');
      expect((await w.failure('attachEventFd', { token: eventToken })).code).to.equal('ENOENT');
      expect(native.liveHandles()).to.equal(live + 1);
    });
  });

  describe('eventfds', () => {
    it('main signals an eventfd the worker watches; the worker signals one main watches', async () => {
      const w = remote();
      // After the worker is up: its loop has eventfds of its own.
      await w.call('live');
      const before = eventFds();
      const toWorker = native.EventFd.create();
      const toMain = native.EventFd.create();
      const inWorker = await w.call<{ id: number; fd: number }>('attachEventFd', {
        token: toWorker.share(),
      });
      expect(inWorker.fd, 'the same fd').to.equal(toWorker.fd);
      const fromWorker = await w.call<{ id: number }>('attachEventFd', { token: toMain.share() });
      expect(await w.call('live')).to.equal(2);

      await w.call('watch', { id: inWorker.id });
      toWorker.signal();
      toWorker.signal();
      // One wake drains both, or each wakes the worker once: the counts add up either way.
      const seen = () => w.events.reduce((sum, e) => sum + (e as { count: number }).count, 0);
      await until(() => seen() >= 2, 'the worker to see the signals');
      expect(seen()).to.equal(2);
      for (const e of w.events) expect(e).to.include({ event: 'signal', id: inWorker.id });

      const counts: number[] = [];
      toMain.watch((count) => counts.push(count));
      await w.call('signal', { id: fromWorker.id });
      await until(() => counts.length > 0, 'main to see the signal');
      expect(counts).to.deep.equal([1]);

      // The owner closes first: the worker's attachment still works (the fd stays open).
      toWorker.close();
      toMain.close();
      expect(eventFds(), 'still open for the worker').to.equal(before + 2);
      await w.call('signal', { id: fromWorker.id });
      await w.call('close', { id: fromWorker.id });
      await w.call('close', { id: inWorker.id });
      expect(eventFds(), 'closed with the last holder').to.equal(before);
    });

    it('only one EventFd per eventfd may watch in one thread (EBUSY)', async () => {
      const owner = native.EventFd.create();
      const attached = native.EventFd.attach(owner.share());
      expect(attached.fd).to.equal(owner.fd);
      owner.watch(() => undefined);
      const busy = nativeError(() => attached.watch(() => undefined));
      expect(busy.code).to.equal('EBUSY');
      owner.unwatch();
      const counts: number[] = [];
      attached.watch((count) => counts.push(count));
      owner.signal();
      await until(() => counts.length > 0, 'the attachment to see the signal');
      expect(counts).to.deep.equal([1]);
      attached.close();
      expect(owner.fd, 'the owner keeps its fd').to.be.at.least(0);
      owner.signal();
      expect(owner.drain()).to.equal(1);
      owner.close();
    });
  });

  describe('queues', () => {
    it('counters may be a Float64Array over a SharedArrayBuffer, at a byteOffset', () => {
      const r = region(uniqueName(), regionBytes);
      const irq = native.EventFd.create();
      const shared = new SharedArrayBuffer(8 * (QUEUE_COUNTERS + 6));
      const all = new Float64Array(shared);
      all.fill(-1);
      const txCounters = new Float64Array(shared, 8 * 3, QUEUE_COUNTERS);
      txCounters.fill(0);
      const rxCounters = new Float64Array(QUEUE_COUNTERS);
      const base = { ...ringLayout, regions: [r], eventFd: irq };
      const tx = native.Queue.create({
        ...base,
        role: 'client',
        direction: 'tx',
        bufferSize: BUFFER_SIZE,
        bufferBase: 2 * CL + 16 * (1 << LOG2),
        counters: txCounters,
      });
      const rx = native.Queue.create({ ...base, role: 'server', direction: 'rx', counters: rxCounters });
      expect(transmitAll(tx, [packet(1, 100), packet(2, 60)])).to.equal(2);
      expect(txCounters[QueueCounter.packets]).to.equal(2);
      expect(txCounters[QueueCounter.bytes]).to.equal(160);
      expect(all[3 + QueueCounter.packets], 'the same memory').to.equal(2);
      expect(Array.from(all.subarray(0, 3)), 'nothing written before the view').to.deep.equal([-1, -1, -1]);
      expect(Array.from(all.subarray(3 + QUEUE_COUNTERS)), 'nor after it').to.deep.equal([-1, -1, -1]);
      expect(rx.pending()).to.equal(2);
      tx.close();
      rx.close();
      irq.close();
    });

    it('a queue in a worker over attached region and eventfd moves packets with a queue in main', async () => {
      const name = uniqueName();
      const r = native.Region.create(name, regionBytes);
      const irq = native.EventFd.create();
      const w = remote();
      const attachedRegion = await w.call<{ id: number }>('attachRegion', { token: r.share() });
      const attachedIrq = await w.call<{ id: number }>('attachEventFd', { token: irq.share() });
      // The worker's counters: in a SharedArrayBuffer main reads, after 2 doubles of something else.
      const shared = new SharedArrayBuffer(8 * (2 + QUEUE_COUNTERS));
      const workerCounters = new Float64Array(shared, 16, QUEUE_COUNTERS);
      await w.call('serveRx', {
        regionId: attachedRegion.id,
        eventFdId: attachedIrq.id,
        layout: ringLayout,
        counters: shared,
        counterOffset: 16,
      });
      const tx = native.Queue.create({
        ...ringLayout,
        role: 'client',
        direction: 'tx',
        regions: [r],
        eventFd: irq,
        bufferSize: BUFFER_SIZE,
        bufferBase: 2 * CL + 16 * (1 << LOG2),
        counters: new Float64Array(QUEUE_COUNTERS),
      });

      const received: Uint8Array[] = [];
      const sent: Uint8Array[] = [];
      for (let batch = 0; batch < 20; batch++) {
        const packets = Array.from({ length: 1 + (batch % 16) }, (_, i) =>
          packet(sent.length + i, 4 + ((batch * 251 + i * 97) % BUFFER_SIZE)),
        );
        expect(transmitAll(tx, packets)).to.equal(packets.length);
        sent.push(...packets);
        // The ring holds 16: wait until the worker has taken this batch.
        await until(() => {
          for (const e of w.events.splice(0)) if (e.event === 'packets') received.push(...e.packets);
          return received.length === sent.length;
        }, `batch ${batch} in the worker`);
      }
      expect(received.length).to.equal(sent.length);
      received.forEach((p, i) => expect(Buffer.compare(p, sent[i]), `packet ${i}`).to.equal(0));
      expect(workerCounters[QueueCounter.packets], "the worker's counters, read in main").to.equal(
        sent.length,
      );
      expect(workerCounters[QueueCounter.bytes]).to.equal(sent.reduce((s, p) => s + p.length, 0));

      // Main closes its side while the worker's queue still holds its attachments.
      tx.close();
      r.close();
      irq.close();
      expect(mapsOf(name)).to.equal(1);
      await w.terminate();
      expect(mapsOf(name), "freed by the worker's teardown").to.equal(0);
    });
  });

  describe('worker teardown', () => {
    for (const ending of ['terminate', 'process.exit'] as const) {
      it(`a worker that ends (${ending}) holding attachments, a watched eventfd and slabs frees them`, async () => {
        const name = uniqueName();
        const fdsBefore = eventFds();
        const w = remote();
        // The worker's loop has eventfds of its own.
        await w.call('live');
        const fdsWithWorker = eventFds();
        const owner = native.Region.create(name, 4096);
        const irq = native.EventFd.create();
        const attached = await w.call<{ id: number }>('attachRegion', { token: owner.share() });
        const attachedIrq = await w.call<{ id: number }>('attachEventFd', { token: irq.share() });
        await w.call('watch', { id: attachedIrq.id });
        expect(await w.call('takeSlabs', { count: 4 }), 'slabs out in the worker').to.equal(4);
        await w.call('write', { id: attached.id, offset: 0, bytes: [1, 2, 3] });
        expect(native.liveHandles()).to.equal(live + 2);
        // Only the worker holds them now.
        owner.close();
        irq.close();
        expect(mapsOf(name)).to.equal(1);
        expect(eventFds()).to.equal(fdsWithWorker + 1);

        if (ending === 'terminate') await w.terminate();
        else {
          w.worker.postMessage({ seq: -1, op: 'exit', args: { code: 0 } });
          await until(() => w.exitCode !== undefined, 'the worker to exit');
          expect(w.exitCode).to.equal(0);
        }
        expect(w.errors).to.deep.equal([]);
        expect(native.liveHandles(), "main's objects are untouched").to.equal(live);
        expect(mapsOf(name), 'unmapped').to.equal(0);
        expect(eventFds(), 'the eventfd is closed').to.equal(fdsBefore);
      });
    }

    for (const ending of ['terminate', 'process.exit'] as const) {
      it(`slabs a worker holds go back to the system when it ends (${ending})`, async function () {
        // Under ASan the worker's freed heap waits in ASan's quarantine: RSS tells nothing there
        // (the teardown itself is checked by the spec above, and ASan watches the unmapping).
        if (process.env.ASAN_OPTIONS !== undefined) this.skip();
        const resident = (): number => process.memoryUsage.rss();
        const before = resident();
        const w = remote();
        // 6 slabs of 4.5 MiB, every page written.
        expect(await w.call('takeSlabs', { count: 6 })).to.equal(6);
        const slabBytes = 6 * (4 * 1024 * 1024 + 2 * 64 * 1024 * 4);
        expect(resident() - before, 'the slabs are resident').to.be.above(slabBytes);
        if (ending === 'terminate') await w.terminate();
        else {
          w.worker.postMessage({ seq: -1, op: 'exit', args: { code: 0 } });
          await until(() => w.exitCode !== undefined, 'the worker to exit');
        }
        // What the worker's own heap leaves behind is well under the slabs' size.
        expect(resident() - before, 'the slabs were unmapped').to.be.below(slabBytes / 2);
      });
    }

    it('a worker terminated while main keeps the owner: main is unaffected', async () => {
      const name = uniqueName();
      const owner = region(name);
      const w = remote();
      const { id } = await w.call<{ id: number }>('attachRegion', { token: owner.share() });
      await w.call('write', { id, offset: 0, bytes: [42] });
      await w.terminate();
      expect(mapsOf(name)).to.equal(1);
      expect(owner.buffer.byteLength).to.equal(4096);
      expect(new Uint8Array(owner.buffer)[0]).to.equal(42);
      // The token is still attachable: the owner is open.
      const again = native.Region.attach(owner.share());
      expect(new Uint8Array(again.buffer)[0]).to.equal(42);
      again.close();
    });
  });
});
