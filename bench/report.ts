import type { MemoryUse } from './gc-meter';
import type { ChildGc } from './cli-runs';
import type { Exchange } from './in-process';
import { markdownTable, mpps, ratioText } from './markdown';
import { mean, pairedRatio } from './stats';
import type { Measured } from './targets';
import type { ThreadCost } from './workers-runs';

/** Rates (packets/s) of one comparison, one entry a round: the reference and each variant. */
export interface Series {
  readonly reference: number[];
  readonly ours: Record<string, number[]>;
}

export interface BenchResults {
  readonly roundTrip: { role: 'server' | 'client'; size: number; series: Series }[];
  readonly oneWay: { size: number; series: Series }[];
  readonly cli: { server?: Series; client?: Series };
  /** The reflectors' counts (overload table); `size` in bytes. */
  readonly exchanges: { run: string; size: number; exchange: Exchange }[];
  readonly latency: { mode: string; median: number; p99: number }[];
  readonly memory: { run: string; use: MemoryUse }[];
  /** GC of the `rx-memif echo` children (`--trace-gc`), per run. */
  readonly childGc: { run: string; gc: ChildGc }[];
  /** `echo --queues 2 --workers W` ← flowgen with 2 queue pairs; thread costs of every round. */
  readonly workers: { series?: Series; threads: { variant: string; threads: ThreadCost[] }[] };
}

export const emptyResults = (): BenchResults => ({
  roundTrip: [],
  oneWay: [],
  cli: {},
  exchanges: [],
  latency: [],
  memory: [],
  childGc: [],
  workers: { threads: [] },
});

/** The `--workers` comparison's variants: `echo --queues 2 --workers W`. */
export const WORKERS = {
  main: 'main thread (--workers 0)',
  one: '1 worker',
  two: '2 workers',
} as const;

/** The CLI comparisons' variant names. */
export const CLI = {
  genEcho: 'gen ↔ echo',
  genTestpmd: 'gen → testpmd io',
  echoFlowgen: 'echo ← testpmd flowgen',
} as const;

const ratioOf = (s: Series | undefined, variant: string): number | undefined =>
  s && s.ours[variant] ? pairedRatio(s.ours[variant], s.reference) : undefined;

const sentOverReceived = (e: Exchange): number | undefined =>
  e.reflectorReceived > 0 ? e.reflectorSent / e.reflectorReceived : undefined;

const worst = (values: (number | undefined)[], pick: (a: number, b: number) => number) => {
  const known = values.filter((v): v is number => v !== undefined && !Number.isNaN(v));
  return known.length ? known.reduce((a, b) => pick(a, b)) : undefined;
};

export interface MemoryRow {
  readonly run: string;
  readonly gcMs: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  /** GC time over wall time of all of the workload's windows, in %. */
  readonly gcShare: number;
  readonly majorGcs: number;
  readonly first: MemoryUse;
  readonly last: MemoryUse;
}

/** The memory windows added up per workload (all rounds), in the order they first ran. */
export const memoryByRun = (memory: BenchResults['memory']): MemoryRow[] => {
  const byRun = new Map<string, MemoryUse[]>();
  for (const m of memory) byRun.set(m.run, [...(byRun.get(m.run) ?? []), m.use]);
  return [...byRun].map(([run, uses]) => {
    const gcMs = uses.reduce((n, u) => n + u.gcMs, 0);
    const wallMs = uses.reduce((n, u) => n + u.wallMs, 0);
    return {
      run,
      gcMs,
      wallMs,
      cpuMs: uses.reduce((n, u) => n + u.cpuMs, 0),
      gcShare: wallMs > 0 ? (100 * gcMs) / wallMs : 0,
      majorGcs: uses.reduce((n, u) => n + u.majorGcs, 0),
      first: uses[0],
      last: uses[uses.length - 1],
    };
  });
};

/** The children's GC added up per run (all rounds), in %. */
export const childGcByRun = (
  childGc: BenchResults['childGc'],
): { run: string; gcMs: number; wallMs: number; majorGcs: number; gcShare: number }[] => {
  const byRun = new Map<string, ChildGc[]>();
  for (const c of childGc) byRun.set(c.run, [...(byRun.get(c.run) ?? []), c.gc]);
  return [...byRun].map(([run, gcs]) => {
    const gcMs = gcs.reduce((n, g) => n + g.gcMs, 0);
    const wallMs = gcs.reduce((n, g) => n + g.wallMs, 0);
    const majorGcs = gcs.reduce((n, g) => n + g.majorGcs, 0);
    return { run, gcMs, wallMs, majorGcs, gcShare: wallMs > 0 ? (100 * gcMs) / wallMs : 0 };
  });
};

/** The figures the targets are checked against (see targets.ts). */
export const measuredFrom = (r: BenchResults): Measured => {
  const rt = (role: string, api: string) =>
    ratioOf(r.roundTrip.find((x) => x.role === role && x.size === 64)?.series, api);
  const ow = (size: number, api: string) =>
    ratioOf(r.oneWay.find((x) => x.size === size)?.series, api);
  const adaptive = r.latency.find((l) => l.mode === 'adaptive');
  return {
    roundTripBurstServer: rt('server', 'burst'),
    roundTripBurstClient: rt('client', 'burst'),
    roundTripPacketServer: rt('server', 'packet'),
    roundTripPacketClient: rt('client', 'packet'),
    oneWayCopy64: ow(64, 'copy'),
    oneWayPacket64: ow(64, 'packet'),
    oneWayCopy1500: ow(1500, 'copy'),
    twoProcesses: ratioOf(r.cli.server, CLI.genEcho),
    overload: worst(
      r.exchanges.filter((x) => x.size === 64).map((x) => sentOverReceived(x.exchange)),
      Math.min,
    ),
    latencyMedian: adaptive?.median,
    gcShare: worst(
      [
        ...memoryByRun(r.memory).map((m) => m.gcShare),
        ...childGcByRun(r.childGc).map((c) => c.gcShare),
      ],
      Math.max,
    ),
  };
};

const cell = (s: Series, variant: string): string => {
  const rates = s.ours[variant];
  if (!rates || rates.length === 0) return '—';
  return `${mpps(mean(rates))} (${ratioText(pairedRatio(rates, s.reference))})`;
};

const referenceCell = (s: Series): string => mpps(mean(s.reference.filter((v) => v > 0)));

const count = (n: number | undefined): string => (n === undefined ? '—' : String(n));
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);

/** The thread costs added up per variant and thread (all rounds). */
const threadRows = (runs: BenchResults['workers']['threads']): string[][] => {
  const sums = new Map<string, { variant: string; thread: string; packets: number; ms: number }>();
  for (const { variant, threads } of runs)
    for (const t of threads) {
      const key = `${variant}\0${t.thread}`;
      const sum = sums.get(key) ?? { variant, thread: t.thread, packets: 0, ms: 0 };
      sum.packets += t.packets;
      sum.ms += t.cpuMs;
      sums.set(key, sum);
    }
  return [...sums.values()].map((t) => [
    t.variant,
    t.thread === 'main' ? 'main' : `worker ${t.thread}`,
    String(t.packets),
    t.ms.toFixed(0),
    t.packets > 0 ? ((t.ms * 1e6) / t.packets).toFixed(0) : '—',
  ]);
};

/** Every table of a run, in Markdown; a group that did not run (`--only`) is left out. */
export const resultTables = (r: BenchResults): string[] => {
  const out: string[] = [];
  const section = (title: string, lines: string[]) => out.push(`#### ${title}`, '', ...lines, '');
  if (r.roundTrip.length)
    section(
      'Round trip: testpmd flowgen (generator) ↔ reflector; Mpps per direction received back by flowgen (ratio)',
      markdownTable(
        [
          'reflector role',
          'size',
          'testpmd io',
          'rx-memif burst API',
          'rx-memif per-packet `rx()` → `tx()`',
        ],
        r.roundTrip.map(({ role, size, series }) => [
          role,
          `${size} B`,
          referenceCell(series),
          cell(series, 'burst'),
          cell(series, 'packet'),
        ]),
      ),
    );
  if (r.oneWay.length)
    section(
      'One way: testpmd txonly → receiver (server); Mpps received (ratio)',
      markdownTable(
        [
          'size',
          'testpmd rxonly',
          'rx-memif copy mode (bursts)',
          'rx-memif per-packet `rx()`',
          'rx-memif zeroCopyRx (bursts)',
        ],
        r.oneWay.map(({ size, series }) => [
          `${size} B`,
          referenceCell(series),
          cell(series, 'copy'),
          cell(series, 'packet'),
          cell(series, 'zeroCopyRx'),
        ]),
      ),
    );
  const cliRows: string[][] = [];
  const cliRow = (s: Series | undefined, variant: string, what: string, reference: string) => {
    if (s?.ours[variant]) cliRows.push([what, reference, referenceCell(s), cell(s, variant)]);
  };
  const flowgenIo = 'testpmd flowgen (client) ↔ testpmd io (server)';
  cliRow(
    r.cli.server,
    CLI.genEcho,
    '`rx-memif gen` (client) ↔ `rx-memif echo` (server)',
    flowgenIo,
  );
  cliRow(r.cli.server, CLI.genTestpmd, '`rx-memif gen` (client) ↔ testpmd io (server)', flowgenIo);
  cliRow(
    r.cli.server,
    CLI.echoFlowgen,
    'testpmd flowgen (client) ↔ `rx-memif echo` (server)',
    flowgenIo,
  );
  cliRow(
    r.cli.client,
    CLI.echoFlowgen,
    'testpmd flowgen (server) ↔ `rx-memif echo` (client)',
    'testpmd flowgen (server) ↔ testpmd io (client)',
  );
  if (cliRows.length)
    section(
      'The command line, 64 B, two processes; Mpps per direction received back by the generator (ratio)',
      markdownTable(['run', 'reference', 'reference Mpps', 'rx-memif Mpps (ratio)'], cliRows),
    );
  if (r.exchanges.length)
    section(
      "Overload: a flat-out generator against each reflector (its own counters and the generator's, whole run)",
      markdownTable(
        [
          'run',
          'generator sent',
          'generator TX-dropped',
          'reflector received',
          'reflector sent',
          'generator received',
          'reflector sent / received',
          'reflector drops',
        ],
        r.exchanges.map(({ run, exchange: e }) => [
          run,
          count(e.generatorSent),
          count(e.generatorDropped),
          count(e.reflectorReceived),
          count(e.reflectorSent),
          count(e.generatorReceived),
          ratioText(sentOverReceived(e)),
          Object.keys(e.reflectorDrops).length ? JSON.stringify(e.reflectorDrops) : '—',
        ]),
      ),
    );
  const w = r.workers.series;
  if (w)
    section(
      'Queues in worker threads: testpmd flowgen (client, 2 queue pairs) ↔ `rx-memif echo --queues 2` (server, all its threads on one CPU); Mpps per direction received back by flowgen (ratio to testpmd io with 2 queue pairs)',
      markdownTable(
        ['testpmd io Mpps', ...Object.values(WORKERS)],
        [[referenceCell(w), ...Object.values(WORKERS).map((v) => cell(w, v))]],
      ),
    );
  if (r.workers.threads.length)
    section(
      'CPU time per packet of each thread of that echo (all rounds; packets received, each sent back)',
      markdownTable(
        ['run', 'thread', 'packets', 'CPU ms', 'CPU ns / packet'],
        threadRows(r.workers.threads),
      ),
    );
  if (r.latency.length)
    section(
      'Back-to-back latency: one 64 B frame in flight, rx-memif client ↔ testpmd io (server)',
      markdownTable(
        ['rx mode', 'median µs', 'p99 µs'],
        r.latency.map((l) => [l.mode, l.median.toFixed(1), l.p99.toFixed(1)]),
      ),
    );
  if (r.memory.length)
    section(
      'GC and memory of the rx-memif side (its own process per run; per workload, all rounds)',
      markdownTable(
        [
          'run',
          'GC ms / wall s',
          'GC share (of wall time)',
          'process CPU / wall',
          'major GCs',
          'RSS MiB first → last',
          'heap used MiB first → last',
        ],
        memoryByRun(r.memory).map((m) => [
          m.run,
          `${m.gcMs.toFixed(0)} / ${(m.wallMs / 1000).toFixed(1)}`,
          `${m.gcShare.toFixed(1)} %`,
          `${m.wallMs > 0 ? ((100 * m.cpuMs) / m.wallMs).toFixed(0) : '0'} %`,
          String(m.majorGcs),
          `${mib(m.first.rssBefore)} → ${mib(m.last.rssAfter)}`,
          `${mib(m.first.heapBefore)} → ${mib(m.last.heapAfter)}`,
        ]),
      ),
    );
  if (r.childGc.length)
    section(
      'GC of the `rx-memif echo` process (`node --trace-gc`, whole life of the child, all rounds)',
      markdownTable(
        ['run', 'GC ms / wall s', 'GC share (of wall time)', 'major GCs'],
        childGcByRun(r.childGc).map((c) => [
          c.run,
          `${c.gcMs.toFixed(0)} / ${(c.wallMs / 1000).toFixed(1)}`,
          `${c.gcShare.toFixed(1)} %`,
          String(c.majorGcs),
        ]),
      ),
    );
  return out;
};
