import { parseArgs } from 'node:util';

/** The groups of rows `--only` can pick. */
export const ROWS = ['round-trip', 'one-way', 'cli', 'workers', 'latency'] as const;
export type Row = (typeof ROWS)[number];

export interface BenchOptions {
  /** Seconds measured per run (after a warm-up second). */
  readonly secs: number;
  /** Rounds per comparison, each measuring the reference and then every rx-memif variant. */
  readonly rounds: number;
  readonly rows: ReadonlySet<Row>;
  /** Frame sizes of the round trips (the one-way rows use 64 and 1500). */
  readonly roundTripSizes: readonly number[];
  readonly oneWaySizes: readonly number[];
  /** Round-trip samples per rx mode for the latency rows. */
  readonly latencySamples: number;
  /** How often a reference that reads 0 (a crashed testpmd) is measured again. */
  readonly retries: number;
  readonly quick: boolean;
  readonly help: boolean;
}

export const HELP = `Usage: npm run bench -- [--quick] [--only ROW[,ROW...]] [--secs N] [--rounds N]

rx-memif against DPDK testpmd, every figure a ratio to testpmd↔testpmd measured in the same run,
interleaved (reference, then each rx-memif variant, round after round). Writes bench/RESULTS.md
(generated section "bench") and bench/results.svg.

  --quick          1 s per run, 1 round, fewer latency samples (about 2 minutes; a smoke run)
  --only ROWS      ${ROWS.join(', ')} (comma-separated) [all]
  --secs N         seconds measured per run [3; --quick 1]
  --rounds N       rounds per comparison [2; --quick 1]
  -h, --help       this help

BENCH_SECS and BENCH_ROUNDS in the environment do the same as --secs and --rounds.`;

export class BenchUsageError extends Error {}

const positive = (name: string, text: string | undefined, fallback: number): number => {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0)
    throw new BenchUsageError(`--${name} must be > 0, got ${text}`);
  return n;
};

export const parseBenchArgs = (
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
): BenchOptions => {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        quick: { type: 'boolean' },
        only: { type: 'string', multiple: true },
        secs: { type: 'string' },
        rounds: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    throw new BenchUsageError(e instanceof Error ? e.message.split('\n')[0] : String(e));
  }
  const quick = values.quick === true;
  const only = (values.only ?? []).flatMap((s) => s.split(',')).filter((s) => s !== '');
  for (const r of only)
    if (!(ROWS as readonly string[]).includes(r))
      throw new BenchUsageError(`--only: unknown row ${JSON.stringify(r)} (${ROWS.join(', ')})`);
  const rounds = positive('rounds', values.rounds ?? env.BENCH_ROUNDS, quick ? 1 : 2);
  if (!Number.isInteger(rounds)) throw new BenchUsageError(`--rounds must be an integer`);
  return {
    secs: positive('secs', values.secs ?? env.BENCH_SECS, quick ? 1 : 3),
    rounds,
    rows: new Set(only.length > 0 ? (only as Row[]) : ROWS),
    roundTripSizes: [64, 1500, 9000],
    oneWaySizes: [64, 1500],
    latencySamples: quick ? 5000 : 20000,
    retries: 3,
    quick,
    help: values.help === true,
  };
};
