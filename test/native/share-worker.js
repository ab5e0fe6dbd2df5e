'use strict';
// The worker side of test/native/share.spec.ts: loads the addon file the spec names and runs the
// operations the main thread posts ({ seq, op, args } -> { seq, result } or { seq, error }).
// Native objects live in `objects` under ids; events the worker raises by itself (eventfd wakes,
// received packets) are posted as { event, ... }.
const { parentPort, workerData } = require('node:worker_threads');

const b = require(workerData.addon);
const objects = new Map();
let nextId = 1;
const keep = (object) => {
  const id = nextId++;
  objects.set(id, object);
  return id;
};
const get = (id) => {
  const object = objects.get(id);
  if (object === undefined) throw new Error(`no object ${id}`);
  return object;
};
// Slabs kept reachable until the worker ends.
const slabs = [];

const ops = {
  live: () => b.liveHandles(),
  attachRegion: ({ token }) => {
    const region = b.Region.attach(token);
    return { id: keep(region), fd: region.fd, seals: region.seals, size: region.size };
  },
  attachEventFd: ({ token }) => {
    const eventFd = b.EventFd.attach(token);
    return { id: keep(eventFd), fd: eventFd.fd };
  },
  share: ({ id }) => get(id).share(),
  read: ({ id, offset, length }) => Array.from(new Uint8Array(get(id).buffer, offset, length)),
  write: ({ id, offset, bytes }) => new Uint8Array(get(id).buffer).set(bytes, offset),
  byteLength: ({ id }) => get(id).buffer.byteLength,
  close: ({ id }) => get(id).close(),
  signal: ({ id }) => get(id).signal(),
  watch: ({ id }) =>
    get(id).watch((count) => parentPort.postMessage({ event: 'signal', id, count })),
  unwatch: ({ id }) => get(id).unwatch(),
  takeSlabs: ({ count }) => {
    for (let i = 0; i < count; i++) {
      const slab = b.takeSlab();
      if (slab === undefined) break;
      // Every page touched, so the slab counts in the process's resident memory.
      new Uint8Array(slab).fill(i + 1);
      slabs.push(slab);
    }
    return slabs.length;
  },
  // A server rx queue on an attached region and eventfd (the ring layout of share.spec.ts), with
  // its counters in the given SharedArrayBuffer at `counterOffset`; every packet it receives on a
  // wake is posted back as { event: 'packets', packets }.
  serveRx: ({ regionId, eventFdId, layout, counters, counterOffset }) => {
    const eventFd = get(eventFdId);
    const queue = b.Queue.create({
      ...layout,
      role: 'server',
      direction: 'rx',
      regions: [get(regionId)],
      eventFd,
      counters: new Float64Array(counters, counterOffset, 14),
    });
    const slab = new Uint8Array(256 * 1024);
    const offsets = new Uint32Array(64);
    const lengths = new Uint32Array(64);
    eventFd.watch(() => {
      const packets = [];
      for (;;) {
        const n = queue.receive(slab, 0, offsets, lengths, 64);
        if (n === 0) break;
        for (let i = 0; i < n; i++) packets.push(slab.slice(offsets[i], offsets[i] + lengths[i]));
      }
      parentPort.postMessage({ event: 'packets', packets });
    });
    return keep(queue);
  },
  exit: ({ code }) => process.exit(code),
};

parentPort.on('message', ({ seq, op, args }) => {
  try {
    parentPort.postMessage({ seq, result: ops[op](args ?? {}) });
  } catch (error) {
    parentPort.postMessage({ seq, error: { code: error.code, message: error.message } });
  }
});
parentPort.postMessage({ event: 'ready' });
