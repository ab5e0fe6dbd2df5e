import { expect } from 'chai';
import type { MemoryUse } from '../../bench/gc-meter';
import type { Exchange } from '../../bench/in-process';
import { CLI, emptyResults, measuredFrom, memoryByRun, resultTables } from '../../bench/report';
import type { BenchResults } from '../../bench/report';

const exchange = (received: number, sent: number): Exchange => ({
  generatorSent: received * 2,
  generatorDropped: 5,
  reflectorReceived: received,
  reflectorSent: sent,
  generatorReceived: sent,
  reflectorDrops: received > sent ? { queueFull: received - sent } : {},
});

const use = (gcMs: number, wallMs: number, rss = 100 * 2 ** 20): MemoryUse => ({
  gcMs,
  wallMs,
  cpuMs: wallMs / 2,
  gcShare: (100 * gcMs) / wallMs,
  majorGcs: 1,
  rssBefore: rss,
  rssAfter: rss + 2 ** 20,
  heapBefore: 2 ** 20,
  heapAfter: 2 ** 21,
});

const sample = (): BenchResults => {
  const r = emptyResults();
  r.roundTrip.push(
    {
      role: 'server',
      size: 64,
      series: { reference: [10e6, 20e6], ours: { burst: [5e6, 10e6], packet: [1e6, 2e6] } },
    },
    {
      role: 'client',
      size: 64,
      series: { reference: [10e6, 0], ours: { burst: [12e6, 1], packet: [8e6, 9e6] } },
    },
    {
      role: 'server',
      size: 1500,
      series: { reference: [4e6], ours: { burst: [8e6], packet: [4e6] } },
    },
  );
  r.oneWay.push(
    {
      size: 64,
      series: { reference: [20e6], ours: { copy: [10e6], packet: [7e6], zeroCopyRx: [30e6] } },
    },
    {
      size: 1500,
      series: { reference: [10e6], ours: { copy: [2e6], packet: [1e6], zeroCopyRx: [9e6] } },
    },
  );
  r.cli.server = {
    reference: [10e6],
    ours: { [CLI.genEcho]: [3e6], [CLI.genTestpmd]: [5e6], [CLI.echoFlowgen]: [6e6] },
  };
  r.exchanges.push(
    { run: 'a', size: 64, exchange: exchange(100, 95) },
    { run: 'b', size: 64, exchange: exchange(100, 7) },
    { run: 'c', size: 1500, exchange: exchange(100, 1) },
  );
  r.latency.push(
    { mode: 'polling', median: 2, p99: 9 },
    { mode: 'adaptive', median: 3.5, p99: 10 },
  );
  r.memory.push(
    { run: 'x', use: use(10, 1000) },
    { run: 'x', use: use(30, 1000) },
    { run: 'y', use: use(30, 1000) },
  );
  r.childGc.push({ run: 'echo', gc: { gcMs: 10, wallMs: 1000, majorGcs: 0 } });
  return r;
};

describe('bench report', () => {
  it('measures each target from its own comparison', () => {
    const m = measuredFrom(sample());
    expect(m.roundTripBurstServer).to.equal(0.5);
    // Round 2's reference read 0: that round does not count.
    expect(m.roundTripBurstClient).to.equal(1.2);
    expect(m.roundTripPacketServer).to.equal(0.1);
    expect(m.roundTripPacketClient).to.equal(0.8);
    expect(m.oneWayCopy64).to.equal(0.5);
    expect(m.oneWayPacket64).to.equal(0.35);
    expect(m.oneWayCopy1500).to.equal(0.2);
    expect(m.twoProcesses).to.equal(0.3);
    // The worst 64 B reflector; the 1500 B one is not in this target.
    expect(m.overload).to.equal(0.07);
    // The default rx mode.
    expect(m.latencyMedian).to.equal(3.5);
    // Per workload over all its rounds: x is 2 %, y 3 %, the echo child 1 %.
    expect(m.gcShare).to.be.closeTo(3, 1e-9);
    const heavyEcho = sample();
    heavyEcho.childGc.push({ run: 'echo', gc: { gcMs: 190, wallMs: 1000, majorGcs: 2 } });
    expect(measuredFrom(heavyEcho).gcShare).to.be.closeTo(10, 1e-9);
  });

  it('leaves a target unmeasured when its group did not run', () => {
    const m = measuredFrom(emptyResults());
    expect(Object.values(m).every((v) => v === undefined)).to.equal(true);
  });

  it('adds memory windows up per workload, first RSS to last', () => {
    const rows = memoryByRun(sample().memory);
    expect(rows.map((r) => r.run)).to.deep.equal(['x', 'y']);
    expect(rows[0].gcMs).to.equal(40);
    expect(rows[0].wallMs).to.equal(2000);
    expect(rows[0].majorGcs).to.equal(2);
  });

  it('writes a table per group that ran, with Mpps and ratios', () => {
    const text = resultTables(sample()).join('\n');
    expect(text).to.include('| server | 64 B | 15.00 | 7.50 (0.50) | 1.50 (0.10) |');
    expect(text).to.include('| 64 B | 20.00 | 10.00 (0.50) | 7.00 (0.35) | 30.00 (1.50) |');
    expect(text).to.include('| `rx-memif gen` (client) ↔ `rx-memif echo` (server) |');
    expect(text).to.include('| b | 200 | 5 | 100 | 7 | 7 | 0.07 | {"queueFull":93} |');
    expect(text).to.include('| adaptive | 3.5 | 10.0 |');
    expect(text).to.include('| x | 40 / 2.0 | 2.0 % | 50 % | 2 | 100 → 101 | 1 → 2 |');
    expect(text).to.include(
      '| run | GC ms / wall s | GC share (of wall time) | process CPU / wall | major GCs |',
    );
    expect(text).to.include('| echo | 10 / 1.0 | 1.0 % | 0 |');
    expect(resultTables(emptyResults())).to.deep.equal([]);
  });
});
