/**
 * `npm run soak`: the long lossless soak of issue #7 item 5. Two rx-memif processes, `sink
 * --check` (server) and `gen --one-way` (client), move N frames of mixed sizes; the sink checks
 * every frame's sequence number and content. Prints the sink's stats a second, then one result
 * line and one JSON line.
 *
 *   npm run soak                                 # 10^8 frames of 64..9000 bytes
 *   npm run soak -- --frames 1e7                 # shorter
 *   npm run soak -- --size 1500 -- --rsize 12    # one size; interface options after a second --
 *
 * The result goes into bench/RESULTS.md (section "soak", the latest run; `--no-record` leaves
 * the file alone). Exit status 0 when all N frames came intact and in order with no drop, 1
 * otherwise (also on SIGINT, which stops both processes), 2 for bad options.
 */
import * as os from 'node:os';
import { parseArgs } from 'node:util';
import { writeSection } from '../bench/results-file';
import { formatSoak, runSoak, sourcesCli } from './soak-run';
import type { SoakResult } from './soak-run';

/** The RESULTS.md record of a run: what ran, where, and every count. */
const record = (r: SoakResult, sizes: string, interfaceArgs: readonly string[]): string[] => {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const command = ['npm run soak --', `--frames ${r.frames}`, `--size ${sizes}`];
  if (interfaceArgs.length) command.push('--', ...interfaceArgs);
  return [
    '## Lossless soak (latest `npm run soak`, generated)',
    '',
    `${new Date().toISOString()}, \`${command.join(' ')}\`, on ${os.cpus().length} vCPU ` +
      `(${cpu}), Node ${process.version}: \`rx-memif sink --check\` (server, copy-mode ` +
      'receive) ← `rx-memif gen --one-way` (client, lossless), two processes.',
    '',
    '| frames | received intact | bytes | secs | Mpps | Gbit/s | lost | corrupt | out of order | drops sink / gen | result |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    `| ${r.frames} | ${r.received} | ${r.bytes} | ${r.secs.toFixed(1)} | ${r.mpps.toFixed(3)} | ` +
      `${r.gbps.toFixed(2)} | ${r.lost} | ${r.corrupt} | ${r.outOfOrder} | ` +
      `${JSON.stringify(r.drops.sink)} / ${JSON.stringify(r.drops.gen)} | ` +
      `${r.ok ? 'PASS' : `FAIL${r.interrupted ? ` (${r.interrupted})` : ''}`} |`,
  ];
};

const main = async (): Promise<number> => {
  const split = process.argv.indexOf('--', 2);
  const own = split < 0 ? process.argv.slice(2) : process.argv.slice(2, split);
  const interfaceArgs = split < 0 ? [] : process.argv.slice(split + 1);
  let frames: number;
  let sizes: string;
  let save = true;
  try {
    const { values } = parseArgs({
      args: own,
      options: {
        frames: { type: 'string' },
        size: { type: 'string' },
        'no-record': { type: 'boolean' },
      },
      strict: true,
    });
    frames = Number(values.frames ?? 1e8);
    if (!Number.isInteger(frames) || frames < 1 || frames > 2 ** 40)
      throw new Error(`--frames must be a positive integer, got ${JSON.stringify(values.frames)}`);
    sizes = values.size ?? '64..9000';
    save = values['no-record'] !== true;
  } catch (e) {
    process.stderr.write(`soak: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  console.log(
    `rx-memif soak: ${frames} frames of ${sizes} bytes, sink --check (server) <- gen --one-way ` +
      `(client)${interfaceArgs.length ? `, ${interfaceArgs.join(' ')}` : ''}`,
  );
  try {
    const result = await runSoak({
      frames,
      sizes,
      interfaceArgs,
      cli: sourcesCli(),
      progress: (line) => console.log(line),
      signal: abort.signal,
    });
    console.log(formatSoak(result));
    console.log(JSON.stringify({ event: 'soak', sizes, ...result }));
    if (save) {
      writeSection('soak', record(result, sizes, interfaceArgs));
      console.log('written to bench/RESULTS.md (section "soak")');
    }
    return result.ok ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
};

void main().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    process.stderr.write(`soak: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
