import { expect } from 'chai';
import * as path from 'node:path';
import type { MemifInterface, MemifOptions, QueueStats } from '../../src/index';
import { checkGenFrame, parseMac, writeGenFrame } from '../../src/cli/frames';
import { Testpmd } from '../helpers/testpmd';
import { useInterop } from '../helpers/interop';
import type { PortStats, TestpmdOptions } from '../helpers/testpmd';
import { recordStates, waitForState } from '../helpers/states';

/**
 * The data path against DPDK 22.11's net_memif in dpdk-testpmd: frames through its forwarding
 * modes in both roles, asserting on both sides, ours (`stats()`, every frame checked from byte 12
 * on) and testpmd's own ("Forward statistics" printed on SIGINT, "NIC statistics" every second).
 * testpmd is always stopped before our interface closes: its counters read 0 once the peer is
 * gone (docs/interop.md#testpmd-quirks).
 */

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Holds the event loop (and so every ring we have not released) for `ms`. */
const blockFor = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};
const ANSI = new RegExp(String.fromCharCode(27) + '\\[[0-9;]*[A-Za-z]', 'g');

/** The last periodic "NIC statistics" block of port `port` (bytes are only there). */
const nicStats = (
  t: Testpmd,
  port = 0,
): { rxPackets: number; rxBytes: number; txPackets: number; txBytes: number } | undefined => {
  const re = new RegExp(
    `NIC statistics for port ${port}\\s+#+\\s*\\n\\s*RX-packets: (\\d+)\\s+RX-missed: \\d+\\s+RX-bytes:\\s+(\\d+)[\\s\\S]*?TX-packets: (\\d+)\\s+TX-errors: \\d+\\s+TX-bytes:\\s+(\\d+)`,
    'g',
  );
  const m = [...t.output.replace(ANSI, '').matchAll(re)].at(-1);
  if (!m) return undefined;
  return { rxPackets: +m[1], rxBytes: +m[2], txPackets: +m[3], txBytes: +m[4] };
};

/** Waits until testpmd's periodic NIC statistics show `n` received packets on `port`. */
const waitForNicRx = async (t: Testpmd, n: number, port = 0, ms = 6000) => {
  const deadline = performance.now() + ms;
  for (;;) {
    const s = nicStats(t, port);
    if (s && s.rxPackets >= n) return s;
    if (performance.now() > deadline)
      throw new Error(`testpmd port ${port} NIC RX-packets ${s?.rxPackets} never reached ${n}`);
    await sleep(100);
  }
};

/** Stats of queue `q` in one direction, zeros when the queue never carried anything. */
const queueStats = (iface: MemifInterface, dir: 'rx' | 'tx', q = 0): QueueStats =>
  iface.stats()[dir].find((s) => s.queue === q) ?? { packets: 0, bytes: 0, bursts: 0, drops: {} };

interface TripResult {
  sent: number;
  /** Distinct frames of this run that came back intact. */
  ok: number;
  corrupt: number;
  foreign: number;
  duplicates: number;
  /** Intact frames whose MAC addresses were not as `macs` expects. */
  wrongMacs: number;
  bytes: number;
  secs: number;
}

interface TripOptions {
  n: number;
  size: (seq: number) => number;
  /** Frames in flight at most. */
  window: number;
  runId: number;
  q?: number;
  /** What the MAC addresses of a returned frame must be. */
  macs?: (frame: Uint8Array) => boolean;
  /** Give up after this long without a frame coming back. */
  stallMs?: number;
  /** The interface that receives them [the sending one]. */
  to?: MemifInterface;
  /** Once, when the window is first full and in the tx ring, hold the event loop this long. */
  pauseMs?: number;
}

/**
 * Sends numbered frames on tx(q) with at most `window` in flight and checks what rx(q) of `o.to`
 * returns: every frame from byte 12 on (a reflector may swap the MACs), each sequence number once.
 */
const roundTrip = async (iface: MemifInterface, o: TripOptions): Promise<TripResult> => {
  const q = o.q ?? 0;
  const seen = new Uint8Array(o.n);
  const r: TripResult = {
    sent: 0,
    ok: 0,
    corrupt: 0,
    foreign: 0,
    duplicates: 0,
    wrongMacs: 0,
    bytes: 0,
    secs: 0,
  };
  let received = 0;
  let paused = false;
  const sub = (o.to ?? iface).rx(q).subscribe((f) => {
    received++;
    const v = checkGenFrame(f, o.runId);
    if (v.kind === 'corrupt') r.corrupt++;
    else if (v.kind === 'foreign' || v.seq >= o.n) r.foreign++;
    else if (seen[v.seq]) r.duplicates++;
    else {
      seen[v.seq] = 1;
      r.ok++;
      r.bytes += f.length;
      if (o.macs && !o.macs(f)) r.wrongMacs++;
    }
  });
  const src = parseMac(iface.options.mac);
  const tx = iface.tx(q);
  const started = performance.now();
  let lastProgress = started;
  let lastReceived = 0;
  try {
    while (r.ok + r.corrupt < o.n) {
      while (r.sent < o.n && r.sent - received < o.window) {
        const size = o.size(r.sent);
        const f = new Uint8Array(size);
        writeGenFrame(f, size, r.sent, o.runId, src);
        tx.next(f);
        r.sent++;
      }
      if (o.pauseMs !== undefined && !paused && r.sent - received >= o.window) {
        paused = true;
        // The frames go to the ring in a microtask queued before this one; nothing reads between.
        await null;
        blockFor(o.pauseMs);
      }
      await tick();
      const now = performance.now();
      if (received !== lastReceived) {
        lastReceived = received;
        lastProgress = now;
      } else if (now - lastProgress > (o.stallMs ?? 5000)) break;
    }
  } finally {
    sub.unsubscribe();
  }
  r.secs = (performance.now() - started) / 1000;
  return r;
};

const sizeOf = (lo: number, hi: number) => (seq: number) => lo + ((seq * 131) % (hi - lo + 1));
const sumSizes = (n: number, size: (seq: number) => number): number => {
  let s = 0;
  for (let i = 0; i < n; i++) s += size(i);
  return s;
};

const FORWARDING = /packet forwarding - ports=/;

describe('interop: data path with dpdk-testpmd', function () {
  this.timeout(60000);
  const live = useInterop(100);
  const testpmd = (options: TestpmdOptions) => live.testpmd(options);
  const ours = (options: MemifOptions) => live.ours(options);

  /** testpmd listens, we connect; resolves once testpmd forwards. */
  const withTestpmdServer = async (
    peer: Omit<TestpmdOptions, 'role' | 'socket'>,
    options: MemifOptions = {},
  ): Promise<{ peer: Testpmd; iface: MemifInterface }> => {
    const socket = path.join(live.dir, 'memif.sock');
    const t = testpmd({
      role: 'server',
      socket,
      ...peer,
      args: ['--no-flush-rx', ...(peer.args ?? [])],
    });
    await t.ready();
    const iface = ours({ role: 'client', socket, ...options });
    await waitForState(iface, 'connected');
    await t.waitFor(FORWARDING);
    return { peer: t, iface };
  };

  /** We listen, testpmd connects (it decides ring and buffer sizes); resolves once it forwards. */
  const withTestpmdClient = async (
    peer: Omit<TestpmdOptions, 'role' | 'socket'>,
    options: MemifOptions = {},
  ): Promise<{ peer: Testpmd; iface: MemifInterface }> => {
    const socket = path.join(live.dir, 'memif.sock');
    const iface = ours({ role: 'server', socket, ...options });
    await waitForState(iface, 'listening');
    // A testpmd client flushes its rx queues when forwarding starts unless told not to.
    const t = testpmd({
      role: 'client',
      socket,
      ...peer,
      args: ['--no-flush-rx', ...(peer.args ?? [])],
    });
    await waitForState(iface, 'connected');
    await t.waitFor(FORWARDING);
    return { peer: t, iface };
  };

  /** Stops testpmd first (while the link is up, so its counters are still there). */
  const stopPeer = async (t: Testpmd, port = 0): Promise<PortStats> => {
    const stats = await t.stop();
    expect(stats[port], `testpmd port ${port} statistics:\n${t.tail()}`).to.not.equal(undefined);
    return stats[port];
  };

  const macsOf = (iface: MemifInterface, mode: 'macswap' | 'io') => {
    const mine = parseMac(iface.options.mac);
    // Our frames go to the broadcast address from our MAC; macswap swaps the two.
    const [first, second] =
      mode === 'macswap'
        ? [mine, [255, 255, 255, 255, 255, 255]]
        : [[255, 255, 255, 255, 255, 255], mine];
    return (f: Uint8Array) =>
      first.every((b, i) => f[i] === b) && second.every((b, i) => f[6 + i] === b);
  };

  describe('round trips (20000 numbered frames of 60..1514 bytes, at most 512 in flight)', () => {
    const N = 20000;
    const size = sizeOf(60, 1514);
    const cases = [
      { mode: 'macswap', peerRole: 'server', rxMode: 'interrupt' },
      { mode: 'io', peerRole: 'server', rxMode: 'polling' },
      { mode: 'macswap', peerRole: 'client', rxMode: 'adaptive' },
      { mode: 'io', peerRole: 'client', rxMode: 'adaptive', zeroCopyRx: true },
    ] as const;
    for (const c of cases) {
      const us = c.peerRole === 'server' ? 'our client' : 'our server';
      const extra = 'zeroCopyRx' in c ? ', zeroCopyRx' : '';
      it(`through testpmd ${c.mode}: testpmd ${c.peerRole}, ${us} (${c.rxMode} rx${extra}): every frame back intact`, async () => {
        const options: MemifOptions = { rxMode: c.rxMode, zeroCopyRx: 'zeroCopyRx' in c };
        const { peer, iface } =
          c.peerRole === 'server'
            ? await withTestpmdServer({ forwardMode: c.mode }, options)
            : await withTestpmdClient({ forwardMode: c.mode }, options);
        const r = await roundTrip(iface, {
          n: N,
          size,
          window: 512,
          runId: 0x5100 + N,
          macs: macsOf(iface, c.mode),
        });
        console.log(
          `      ${N} frames in ${r.secs.toFixed(2)} s (${((2 * N) / r.secs / 1e3).toFixed(0)} kpps both ways)`,
        );
        expect(r).to.deep.include({
          sent: N,
          ok: N,
          corrupt: 0,
          foreign: 0,
          duplicates: 0,
          wrongMacs: 0,
        });
        const bytes = sumSizes(N, size);
        expect(r.bytes).to.equal(bytes);
        expect(queueStats(iface, 'tx')).to.deep.include({ packets: N, bytes, drops: {} });
        expect(queueStats(iface, 'rx')).to.deep.include({ packets: N, bytes, drops: {} });
        const theirs = await stopPeer(peer);
        expect(theirs).to.deep.equal({ rxPackets: N, rxDropped: 0, txPackets: N, txDropped: 0 });
      });
    }
  });

  it('testpmd txonly (client, 3 ports) → our three servers, one per rx mode: each receives exactly what testpmd sent', async () => {
    // One testpmd for all three rx modes: ports 0..2 are interfaces 0..2 of one socket.
    const socket = path.join(live.dir, 'txonly.sock');
    const modes = ['interrupt', 'polling', 'adaptive'] as const;
    const servers = modes.map((rxMode, id) => ours({ role: 'server', socket, id, rxMode }));
    await Promise.all(servers.map((s) => waitForState(s, 'listening')));
    const received = modes.map(() => 0);
    const subs = servers.map((s, i) => s.rxBursts().subscribe((b) => (received[i] += b.count)));
    const peer = testpmd({
      role: 'client',
      socket,
      ids: [0, 1, 2],
      forwardMode: 'txonly',
      args: ['--txpkts=64', '--burst=32', '--port-topology=loop'],
    });
    await Promise.all(servers.map((s) => waitForState(s, 'connected')));
    await peer.waitFor(FORWARDING);
    await sleep(2000);
    const midway = [...received];
    // testpmd first: it stops its cores, prints its totals, then disconnects.
    const down = servers.map((s) => waitForState(s, 'disconnected'));
    const stats = await peer.stop();
    await Promise.all(down);
    subs.forEach((s) => s.unsubscribe());
    modes.forEach((mode, port) => {
      const theirs = stats[port];
      const rx = queueStats(servers[port], 'rx');
      console.log(
        `      ${mode}: testpmd TX-packets ${theirs.txPackets} (TX-dropped ${theirs.txDropped}: ring full), ours ${rx.packets} in ${rx.bursts} bursts`,
      );
      expect(midway[port], `${mode} received while running`).to.be.greaterThan(0);
      expect(theirs.txPackets).to.be.greaterThan(0);
      expect(rx.packets, mode).to.equal(theirs.txPackets);
      expect(rx.bytes, mode).to.equal(64 * theirs.txPackets);
      expect(rx.drops, mode).to.deep.equal({});
      expect(received[port]).to.equal(rx.packets);
    });
  });

  it('two queue pairs through testpmd io (--rxq=2 --txq=2): what tx(k) sends comes back on rx(k)', async () => {
    const N = 5000;
    const size = sizeOf(60, 1000);
    const { peer, iface } = await withTestpmdServer(
      { forwardMode: 'io', args: ['--rxq=2', '--txq=2'] },
      { rxQueues: 2, txQueues: 2 },
    );
    // A frame of the other queue's run counts as foreign.
    const [r0, r1] = await Promise.all([
      roundTrip(iface, { n: N, size, window: 256, runId: 0xa0, q: 0 }),
      roundTrip(iface, { n: N, size, window: 256, runId: 0xa1, q: 1 }),
    ]);
    for (const r of [r0, r1])
      expect(r).to.deep.include({ sent: N, ok: N, corrupt: 0, foreign: 0, duplicates: 0 });
    for (const q of [0, 1]) {
      expect(queueStats(iface, 'tx', q), `tx ${q}`).to.deep.include({ packets: N, drops: {} });
      expect(queueStats(iface, 'rx', q), `rx ${q}`).to.deep.include({ packets: N, drops: {} });
    }
    expect(peer.output).to.match(/port 0: RX queue number: 2 Tx queue number: 2/);
    expect(await stopPeer(peer)).to.deep.equal({
      rxPackets: 2 * N,
      rxDropped: 0,
      txPackets: 2 * N,
      txDropped: 0,
    });
  });

  describe('chained frames (9000 bytes over 2048-byte buffers)', () => {
    it('our chains into testpmd rxonly: its RX-packets and RX-bytes match', async () => {
      const N = 2000;
      const SIZE = 9000;
      const { peer, iface } = await withTestpmdServer({ forwardMode: 'rxonly' });
      const src = parseMac(iface.options.mac);
      function* frames() {
        for (let seq = 0; seq < N; seq++) {
          const f = new Uint8Array(SIZE);
          writeGenFrame(f, SIZE, seq, 0x9000, src);
          yield f;
        }
      }
      expect(await iface.send(frames())).to.equal(N);
      expect(queueStats(iface, 'tx')).to.deep.include({ packets: N, bytes: N * SIZE, drops: {} });
      const nic = await waitForNicRx(peer, N);
      expect(nic).to.deep.include({ rxPackets: N, rxBytes: N * SIZE });
      expect(await stopPeer(peer)).to.deep.include({ rxPackets: N, rxDropped: 0 });
    });

    it('9000-byte round trip through testpmd macswap, at most 100 in flight: every frame back intact', async () => {
      const { peer, iface } = await withTestpmdServer({ forwardMode: 'macswap' });
      // 100 frames are 500 descriptors: testpmd's TX always finds room in our 1024-slot ring.
      const r = await roundTrip(iface, {
        n: 3000,
        size: () => 9000,
        window: 100,
        runId: 0x9001,
        macs: macsOf(iface, 'macswap'),
      });
      expect(r).to.deep.include({
        sent: 3000,
        ok: 3000,
        corrupt: 0,
        foreign: 0,
        duplicates: 0,
        wrongMacs: 0,
      });
      expect(queueStats(iface, 'rx')).to.deep.include({
        packets: 3000,
        bytes: 3000 * 9000,
        drops: {},
      });
      expect(await stopPeer(peer)).to.deep.include({
        rxPackets: 3000,
        txPackets: 3000,
        txDropped: 0,
      });
    });

    it('testpmd io between two of our interfaces: its chained TX writes past our head when it meets our full ring; we count it, stay connected and carry clean traffic after', async () => {
      // DPDK 22.11 eth_memif_tx: a chain's first slot is not checked against its u16 free count,
      // so a 5-slot chain that meets exactly 4 free slots takes 5 and the count wraps to 65535;
      // it then writes on past the head we offered. Frames of 9000 bytes take 5 of our 2048-byte
      // buffers and 1024 = 5 * 204 + 4: whenever our 1024-slot rx ring fills, this happens.
      const socket = path.join(live.dir, 'memif.sock');
      const peer = testpmd({ role: 'server', socket, ids: [0, 1], forwardMode: 'io' });
      await peer.ready();
      // `from`'s tx ring holds 409 such frames, twice what `to`'s rx ring holds.
      const from = ours({ role: 'client', socket, id: 0, log2RingSize: 11 });
      const to = ours({ role: 'client', socket, id: 1, log2RingSize: 10 });
      await Promise.all([waitForState(from, 'connected'), waitForState(to, 'connected')]);
      await peer.waitFor(FORWARDING);
      const states = [recordStates(from), recordStates(to)];
      const trip = (o: Omit<TripOptions, 'to'>) => roundTrip(from, { ...o, to });
      const size = () => 9000;

      const clean = await trip({ n: 2000, size, window: 100, runId: 0x9001 });
      expect(clean).to.deep.include({ sent: 2000, ok: 2000, corrupt: 0, foreign: 0 });
      expect(queueStats(to, 'rx').drops).to.deep.equal({});

      // 500 in flight, and we stop reading for 300 ms right after they reached our tx ring:
      // testpmd then has at least 205 frames for a ring that holds 204 (409 waiting in our tx
      // ring, or all 500 between the two rings). What it writes is bounded by what is in flight,
      // so its tail cannot wrap around the u16 space, and our next read finds it beyond our head.
      const storm = await trip({
        n: 3000,
        size,
        window: 500,
        runId: 0x9002,
        stallMs: 1500,
        pauseMs: 300,
      });
      const rx = queueStats(to, 'rx');
      console.log(
        `      overrun: ${storm.ok} intact, ${storm.corrupt} corrupt, ${storm.foreign} foreign, ${storm.duplicates} dup of ${storm.sent}; our rx drops ${JSON.stringify(rx.drops)}`,
      );
      expect(rx.drops.badIndex ?? 0, 'overrun counted').to.be.greaterThan(0);
      // Whatever it wrote stayed inside the buffers we gave it.
      expect(rx.drops).to.not.have.any.keys('badRegion', 'badBounds', 'badLength', 'badFlags');
      expect(storm.ok, 'frames damaged by the overrun').to.be.lessThan(storm.sent);

      await sleep(200);
      const after = await trip({ n: 2000, size: sizeOf(60, 1514), window: 100, runId: 0x9003 });
      expect(after).to.deep.include({ sent: 2000, corrupt: 0, duplicates: 0 });
      for (const s of states) expect(s.map((x) => x.status)).to.deep.equal(['connected']);
      const theirs = await peer.stop();
      console.log(`      testpmd: ${JSON.stringify(theirs)}; after: ${after.ok} of 2000 intact`);
      expect(theirs[0].rxPackets).to.equal(2000 + storm.sent + 2000);
      // Everything it received it sent or dropped. Drops happen only once the overrun has begun:
      // until then a frame meets 4 free slots and overruns; after it, the lengths it reads back
      // from slots it was never offered break the multiple of 5 (seen: 0 and 409 of 7000), for a
      // while after the storm too (CI saw 2 of the 2000 clean frames after it dropped so).
      expect(theirs[1].txPackets + theirs[1].txDropped).to.equal(2000 + storm.sent + 2000);
      const lostAfter = 2000 - after.ok;
      expect(lostAfter, 'clean frames missing, beyond what testpmd dropped').to.be.at.most(
        theirs[1].txDropped,
      );
      expect(theirs[1].txDropped).to.be.at.most(storm.sent - storm.ok + lostAfter);
    });
  });

  it('zero-copy client transmit into testpmd rxonly: its RX-packets and RX-bytes equal what we committed', async () => {
    const N = 100_000;
    const size = sizeOf(60, 1514);
    const { peer, iface } = await withTestpmdServer({ forwardMode: 'rxonly' }, { zeroCopy: true });
    const zc = iface.txZeroCopy();
    const src = parseMac(iface.options.mac);
    let seq = 0;
    let committed = 0;
    const started = performance.now();
    while (seq < N) {
      const s = zc.alloc(Math.min(256, N - seq));
      if (s.count === 0) {
        await tick();
        continue;
      }
      const n = s.count;
      for (let i = 0; i < n; i++) {
        const bytes = size(seq + i);
        writeGenFrame(s.slot(i), bytes, seq + i, 0x2c, src);
        s.lengths[i] = bytes;
      }
      committed += zc.commit(n);
      seq += n;
    }
    const secs = (performance.now() - started) / 1000;
    console.log(
      `      ${N} frames committed in ${secs.toFixed(2)} s (${(N / secs / 1e6).toFixed(2)} Mpps)`,
    );
    const bytes = sumSizes(N, size);
    expect(committed).to.equal(N);
    expect(queueStats(iface, 'tx')).to.deep.include({ packets: N, bytes, drops: {} });
    const nic = await waitForNicRx(peer, N);
    expect(nic).to.deep.include({ rxPackets: N, rxBytes: bytes });
    expect(await stopPeer(peer)).to.deep.include({ rxPackets: N, rxDropped: 0 });
  });
});
