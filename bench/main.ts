/**
 * The bench itself (launched by bench/run.ts). What runs, each group interleaved round by round
 * (reference, then every rx-memif variant, then the next round), so that a placement change
 * between the two vCPUs' "near" and "far" hosts hits all alike (docs/tuning.md):
 *
 * - round trip, 64 / 1500 / 9000 B (9000 B frames are chains of 2048 B buffers): testpmd
 *   flowgen generating ↔ {testpmd io | rx-memif burst API | rx-memif `rx()` → `tx()`}
 *   reflecting, with the reflector as server and as client; flowgen's receive rate
 * - one way, 64 / 1500 B: testpmd txonly → {testpmd rxonly | rx-memif copy mode | `rx()` |
 *   zeroCopyRx}; the receiver's rate
 * - the command line: `rx-memif gen` ↔ `rx-memif echo`, gen ↔ testpmd io, testpmd flowgen ↔
 *   echo in both roles, against testpmd flowgen ↔ testpmd io
 * - overload: every reflector's received / sent against the generator's sent / received
 * - queues in worker threads: testpmd flowgen with 2 queue pairs ↔ `rx-memif echo --queues 2`
 *   with its queues on the main thread, in 1 and in 2 workers; CPU time per packet per thread
 * - back-to-back latency per rx mode; GC share and RSS of the rx-memif side
 *
 * Writes the generated section "bench" of bench/RESULTS.md (the hand-written text around it
 * stays) and bench/results.svg.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { testpmdPath } from '../test/helpers/testpmd';
import { CLI, WORKERS, emptyResults, measuredFrom, resultTables } from './report';
import type { BenchResults, Series } from './report';
import { echoFromTestpmd, genToEcho, genToTestpmd } from './cli-runs';
import type { CliCommand } from './cli-runs';
import { latency } from './in-process';
import { isolated } from './isolated';
import type { Exchange, OneWayApi, ReflectApi } from './in-process';
import { BenchUsageError, HELP, parseBenchArgs } from './options';
import { removeSockets, testpmdPair } from './peers';
import type { Role } from './peers';
import { writeSection } from './results-file';
import { chartBars, renderChart } from './svg-chart';
import { targetsTable } from './targets';
import { echoWorkersFromTestpmd } from './workers-runs';

const root = process.env.RX_MEMIF_BENCH_ROOT ?? path.resolve(__dirname, '..');

/** `rx-memif` from the same tree as this file (plain JS when launched by run.ts). */
const cliCommand = (): CliCommand =>
  __filename.endsWith('.js')
    ? { command: process.execPath, args: [path.join(__dirname, '..', 'src', 'cli', 'main.js')] }
    : {
        command: process.execPath,
        args: ['-r', 'ts-node/register/transpile-only', path.join(root, 'src', 'cli', 'main.ts')],
      };

const fmt = (pps: number) => (pps / 1e6).toFixed(2);

const main = async (): Promise<number> => {
  let opts;
  try {
    opts = parseBenchArgs(process.argv.slice(2), process.env);
  } catch (e) {
    if (!(e instanceof BenchUsageError)) throw e;
    console.error(`bench: ${e.message}\n\n${HELP}`);
    return 2;
  }
  if (opts.help) {
    console.log(HELP);
    return 0;
  }
  if (!testpmdPath()) {
    console.error('bench: dpdk-testpmd is missing (apt-get install -y dpdk dpdk-dev)');
    return 1;
  }
  const { secs, rounds } = opts;
  const results: BenchResults = emptyResults();
  const notes: string[] = [];
  const cli = cliCommand();
  const began = Date.now();

  /** Runs again (up to `opts.retries` times) while `good` says the run is not usable. */
  const attempt = async <T extends { rate: number }>(
    what: string,
    run: () => Promise<T>,
    good: (t: T) => boolean,
  ): Promise<T> => {
    let r = await run();
    for (let i = 1; i < opts.retries && !good(r); i++) {
      const why = r.rate > 0 ? 'testpmd crashed' : 'read 0';
      console.error(`  ${what}: ${why}, measuring again`);
      notes.push(`${what}: ${why} once, measured again`);
      r = await run();
    }
    if (!good(r)) notes.push(`${what}: no usable run in ${opts.retries} attempts`);
    return r;
  };
  const reference = (what: string, run: () => Promise<{ rate: number }>) =>
    attempt(`reference, ${what}`, run, (r) => r.rate > 0).then((r) => r.rate);
  const progress = (what: string, s: Series, round: number) =>
    console.error(
      `  ${what}, round ${round + 1}: reference ${fmt(s.reference[round])}` +
        Object.entries(s.ours)
          .map(([k, v]) => `, ${k} ${fmt(v[round] ?? 0)}`)
          .join('') +
        ' Mpps',
    );
  const exchange = (run: string, size: number, e: Exchange | undefined) => {
    if (e) results.exchanges.push({ run, size, exchange: e });
  };

  if (opts.rows.has('round-trip'))
    for (const size of opts.roundTripSizes)
      for (const role of ['server', 'client'] as Role[]) {
        const series: Series = { reference: [], ours: { burst: [], packet: [] } };
        results.roundTrip.push({ role, size, series });
        for (let round = 0; round < rounds; round++) {
          const what = `round trip ${size} B, reflector ${role}`;
          series.reference.push(
            await reference(what, () => testpmdPair(role, 'io', 'flowgen', size, secs)),
          );
          for (const api of ['burst', 'packet'] as ReflectApi[]) {
            const label = `${what}, ${api === 'burst' ? 'burst API' : 'rx() → tx()'}`;
            const r = await attempt(
              label,
              () => isolated({ kind: 'round-trip', role, size, api, secs }),
              (x) => x.ok,
            );
            series.ours[api].push(r.rate);
            if (round === rounds - 1) exchange(label, size, r.exchange);
            if (r.memory) results.memory.push({ run: label, use: r.memory });
          }
          progress(what, series, round);
        }
      }

  if (opts.rows.has('one-way'))
    for (const size of opts.oneWaySizes) {
      const series: Series = { reference: [], ours: { copy: [], packet: [], zeroCopyRx: [] } };
      results.oneWay.push({ size, series });
      for (let round = 0; round < rounds; round++) {
        const what = `one way ${size} B`;
        series.reference.push(
          await reference(what, () => testpmdPair('server', 'rxonly', 'txonly', size, secs)),
        );
        for (const api of ['copy', 'packet', 'zeroCopyRx'] as OneWayApi[]) {
          const label = `${what}, ${api === 'copy' ? 'copy mode' : api === 'packet' ? 'rx()' : api}`;
          const r = await attempt(
            label,
            () => isolated({ kind: 'one-way', size, api, secs }),
            (x) => x.ok,
          );
          series.ours[api].push(r.rate);
          if (r.memory) results.memory.push({ run: label, use: r.memory });
        }
        progress(what, series, round);
      }
    }

  if (opts.rows.has('cli')) {
    const server: Series = {
      reference: [],
      ours: { [CLI.genEcho]: [], [CLI.genTestpmd]: [], [CLI.echoFlowgen]: [] },
    };
    const client: Series = { reference: [], ours: { [CLI.echoFlowgen]: [] } };
    results.cli.server = server;
    results.cli.client = client;
    for (let round = 0; round < rounds; round++) {
      const last = round === rounds - 1;
      server.reference.push(
        await reference('CLI, 64 B, flowgen client ↔ io server', () =>
          testpmdPair('server', 'io', 'flowgen', 64, secs),
        ),
      );
      const ge = await attempt(
        'gen ↔ echo',
        () => genToEcho(cli, secs),
        (x) => x.ok,
      );
      server.ours[CLI.genEcho].push(ge.rate);
      if (last) exchange('`rx-memif echo` (server) ← `rx-memif gen`', 64, ge.exchange);
      if (ge.gc) results.childGc.push({ run: 'echo (server) ← gen', gc: ge.gc });
      const gt = await attempt(
        'gen → testpmd io',
        () => genToTestpmd(cli, secs),
        (x) => x.ok,
      );
      server.ours[CLI.genTestpmd].push(gt.rate);
      const es = await attempt(
        'echo (server) ← flowgen',
        () => echoFromTestpmd(cli, 'server', secs),
        (x) => x.ok,
      );
      server.ours[CLI.echoFlowgen].push(es.rate);
      if (last) exchange('`rx-memif echo` (server) ← testpmd flowgen', 64, es.exchange);
      if (es.gc) results.childGc.push({ run: 'echo (server) ← testpmd flowgen', gc: es.gc });
      progress('CLI, reference flowgen client ↔ io server', server, round);
      client.reference.push(
        await reference('CLI, 64 B, flowgen server ↔ io client', () =>
          testpmdPair('client', 'io', 'flowgen', 64, secs),
        ),
      );
      const ec = await attempt(
        'echo (client) ← flowgen',
        () => echoFromTestpmd(cli, 'client', secs),
        (x) => x.ok,
      );
      client.ours[CLI.echoFlowgen].push(ec.rate);
      if (last) exchange('`rx-memif echo` (client) ← testpmd flowgen', 64, ec.exchange);
      if (ec.gc) results.childGc.push({ run: 'echo (client) ← testpmd flowgen', gc: ec.gc });
      progress('CLI, reference flowgen server ↔ io client', client, round);
    }
  }

  if (opts.rows.has('workers')) {
    const series: Series = {
      reference: [],
      ours: { [WORKERS.main]: [], [WORKERS.one]: [], [WORKERS.two]: [] },
    };
    results.workers.series = series;
    const variants: [string, number][] = [
      [WORKERS.main, 0],
      [WORKERS.one, 1],
      [WORKERS.two, 2],
    ];
    for (let round = 0; round < rounds; round++) {
      const what = 'workers, 64 B, 2 queue pairs';
      series.reference.push(
        await reference(`${what}, flowgen client ↔ io server`, () =>
          testpmdPair('server', 'io', 'flowgen', 64, secs, ['--rxq=2', '--txq=2']),
        ),
      );
      for (const [variant, workers] of variants) {
        const r = await attempt(
          `echo --queues 2 --workers ${workers} ← flowgen`,
          () => echoWorkersFromTestpmd(cli, 2, workers, secs),
          (x) => x.ok,
        );
        series.ours[variant].push(r.rate);
        results.workers.threads.push({ variant, threads: r.threads });
      }
      progress(what, series, round);
    }
  }

  if (opts.rows.has('latency'))
    for (const mode of ['adaptive', 'polling', 'interrupt'] as const) {
      const l = await latency(mode, opts.latencySamples);
      if (l) results.latency.push({ mode, ...l });
      else notes.push(`latency ${mode}: no result (see the run's output)`);
      console.error(
        `  latency ${mode}: ${l ? `${l.median.toFixed(1)} / ${l.p99.toFixed(1)} µs` : 'failed'}`,
      );
    }

  const measured = measuredFrom(results);
  const when = new Date().toISOString();
  const flags = process.argv.slice(2).join(' ');
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const svgFile = path.join(root, 'bench', 'results.svg');
  fs.writeFileSync(
    svgFile,
    renderChart(
      chartBars(measured),
      `rx-memif / testpmd↔testpmd, same run: ${when.slice(0, 16).replace('T', ' ')} UTC${opts.quick ? ' (--quick)' : ''}`,
    ),
  );
  const lines = [
    `Latest run: ${when}, \`npm run bench${flags ? ` -- ${flags}` : ''}\` (${secs} s a run, ` +
      `${rounds} round${rounds > 1 ? 's' : ''}, ${((Date.now() - began) / 60000).toFixed(1)} min), ` +
      `on ${os.cpus().length} vCPU (${cpu}), Node ${process.version}, DPDK testpmd 22.11 (Debian).`,
    'Reference = the same traffic between two testpmd processes in the same placement, measured',
    'in the same run, interleaved; ratios are rx-memif / reference (round trips: Mpps per',
    'direction, received back by the generator).',
    ...(opts.quick
      ? ['', '**A `--quick` run: short runs, one round; the figures are indicative only.**']
      : []),
    '',
    '### Targets (issue 11; 64 B unless said)',
    '',
    ...targetsTable(measured),
    '',
    '![rx-memif / testpmd↔testpmd per workload, against the targets](results.svg)',
    '',
    ...resultTables(results),
    ...(notes.length ? ['Notes of the run:', '', ...notes.map((n) => `- ${n}`), ''] : []),
  ];
  while (lines[lines.length - 1] === '') lines.pop();
  writeSection('bench', lines, path.join(root, 'bench', 'RESULTS.md'));
  console.log(lines.join('\n'));
  console.log(`\nwritten to bench/RESULTS.md (section "bench") and bench/results.svg`);
  return 0;
};

// Ctrl-C reaches testpmd and the CLI children too (one process group): give their exit
// handlers (which remove testpmd's runtime directory) a moment, then leave without results.
process.once('SIGINT', () => {
  console.error('bench: interrupted, no results written');
  setTimeout(() => {
    removeSockets();
    process.exit(130);
  }, 1500);
});

main()
  .then((code) => (process.exitCode = code))
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(removeSockets);
