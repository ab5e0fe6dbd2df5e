import { markdownTable } from './markdown';

/**
 * The targets of issue 11 (64 B unless said; ratios to testpmd↔testpmd measured in the same
 * run), one row per figure: where the issue gives one target for two figures (each role, copy /
 * per-packet) each gets its own row, so that a miss says which one.
 */
export type MeasureKey =
  | 'roundTripBurstServer'
  | 'roundTripBurstClient'
  | 'roundTripPacketServer'
  | 'roundTripPacketClient'
  | 'oneWayCopy64'
  | 'oneWayPacket64'
  | 'oneWayCopy1500'
  | 'twoProcesses'
  | 'overload'
  | 'latencyMedian'
  | 'gcShare';

/** What the bench measured, by key; a key that is absent was not run (`--only`). */
export type Measured = Partial<Record<MeasureKey, number>>;

export interface Target {
  readonly key: MeasureKey;
  readonly workload: string;
  /** The chart's shorter label (ratio targets). */
  readonly chart?: string;
  /** The "now" column. */
  readonly before: string;
  readonly op: '>=' | '<=' | '<';
  readonly value: number;
  readonly unit: 'ratio' | 'µs' | '%';
}

export const TARGETS: readonly Target[] = [
  {
    key: 'roundTripBurstServer',
    chart: 'round trip 64 B, burst API, reflector server',
    workload: 'round trip, burst API, rx-memif reflecting as server',
    before: '0.05',
    op: '>=',
    value: 1.2,
    unit: 'ratio',
  },
  {
    key: 'roundTripBurstClient',
    chart: 'round trip 64 B, burst API, reflector client',
    workload: 'round trip, burst API, rx-memif reflecting as client',
    before: '0.05',
    op: '>=',
    value: 1.2,
    unit: 'ratio',
  },
  {
    key: 'roundTripPacketServer',
    chart: 'round trip 64 B, rx() → tx(), reflector server',
    workload: 'round trip, per-packet `rx()` → `tx()`, as server',
    before: '0.03',
    op: '>=',
    value: 0.8,
    unit: 'ratio',
  },
  {
    key: 'roundTripPacketClient',
    chart: 'round trip 64 B, rx() → tx(), reflector client',
    workload: 'round trip, per-packet `rx()` → `tx()`, as client',
    before: '0.03',
    op: '>=',
    value: 0.8,
    unit: 'ratio',
  },
  {
    key: 'oneWayCopy64',
    chart: 'one way 64 B, copy mode',
    workload: 'one way, copy mode (default)',
    before: '0.38',
    op: '>=',
    value: 1.0,
    unit: 'ratio',
  },
  {
    key: 'oneWayPacket64',
    chart: 'one way 64 B, per-packet rx()',
    workload: 'one way, per-packet',
    before: '0.21',
    op: '>=',
    value: 0.7,
    unit: 'ratio',
  },
  {
    key: 'oneWayCopy1500',
    chart: 'one way 1500 B, copy mode',
    workload: 'one way 1500 B, copy mode',
    before: '0.14',
    op: '>=',
    value: 1.0,
    unit: 'ratio',
  },
  {
    key: 'twoProcesses',
    chart: 'two processes, gen ↔ echo',
    workload: 'two rx-memif processes, `gen` ↔ `echo`',
    before: '≈ 0.2',
    op: '>=',
    value: 1.0,
    unit: 'ratio',
  },
  {
    key: 'overload',
    chart: 'overload: reflector sent / received (worst)',
    workload:
      'reflector under overload, sent / received (worst 64 B reflector: either API, role or `echo`)',
    before: '0.07',
    op: '>=',
    value: 0.9,
    unit: 'ratio',
  },
  {
    key: 'latencyMedian',
    workload: 'back-to-back latency median (µs), default rx mode',
    before: '3.0',
    op: '<=',
    value: 3.0,
    unit: 'µs',
  },
  {
    key: 'gcShare',
    workload: 'GC share of wall time, worst rx-memif workload (bench process or `echo`; item 3)',
    before: '—',
    op: '<',
    value: 5,
    unit: '%',
  },
];

export type Verdict = 'met' | 'missed' | 'not run';

export const verdict = (t: Target, measured: number | undefined): Verdict => {
  if (measured === undefined || Number.isNaN(measured)) return 'not run';
  const ok =
    t.op === '>=' ? measured >= t.value : t.op === '<=' ? measured <= t.value : measured < t.value;
  return ok ? 'met' : 'missed';
};

const opText = { '>=': '≥', '<=': '≤', '<': '<' } as const;

export const targetText = (t: Target): string =>
  `${opText[t.op]} ${t.unit === 'ratio' || t.unit === 'µs' ? t.value.toFixed(1) : t.value}${t.unit === '%' ? ' %' : ''}`;

export const measuredText = (t: Target, m: number | undefined): string =>
  m === undefined || Number.isNaN(m)
    ? '—'
    : t.unit === 'ratio'
      ? m.toFixed(2)
      : t.unit === 'µs'
        ? m.toFixed(1)
        : `${m.toFixed(1)} %`;

/** The targets table with the measured value and met / missed. */
export const targetsTable = (measured: Measured): string[] =>
  markdownTable(
    ['workload', 'issue 11 "now"', 'target', 'measured', ''],
    TARGETS.map((t) => [
      t.workload,
      t.before,
      targetText(t),
      measuredText(t, measured[t.key]),
      verdict(t, measured[t.key]),
    ]),
  );
