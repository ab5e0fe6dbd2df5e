/**
 * `npm run bench:operators`: nanoseconds per packet of each packet operator (the rows of
 * bench/operator-rows.ts), with tinybench, pinned to CPU 0 by the npm script. Samples are timed
 * in process CPU time (the vCPUs here are shared: wall time would count other processes). The
 * floor rows are RxJS alone: the rest is the operator's own cost above it (see
 * docs/architecture.md, operators).
 *
 * Each row is measured twice, both times from the sources transpiled to plain JS (no TypeScript
 * compiler in the heap for the collector to mark, see bench/compile-tree.ts):
 * - **alone**: in a Node process of its own, as an application with one pipeline runs it;
 * - **shared**: all rows one after the other in one process, as before. V8 then runs each
 *   operator's loop as code shared by every instance made so far, without the constants it
 *   folds in while a single instance exists: the figure of an application that builds many.
 * Prints the table and writes it into bench/RESULTS.md (section `operators`).
 *
 * `npm run bench:operators -- --respond` measures `rx-memif respond --echo-other` against
 * `rx-memif echo` instead (bench/operators-respond.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compileTree } from './compile-tree';
import { linesStartingWith, runNode } from './node-child';
import { BURST, N, rows } from './operator-rows';
import { respondVsEcho } from './operators-respond';
import { writeSection } from './results-file';

const TIME = Number(process.env.BENCH_MS ?? 400);
const root = path.resolve(__dirname, '..');

/** A row's result: ns per packet, mean over samples and the best sample (null: no result). */
interface Result {
  readonly row: number;
  readonly mean: number | null;
  readonly min: number | null;
}

/** Runs rows `which` in a child process from the transpiled tree; its results by row. */
const child = async (tree: string, which: readonly number[]): Promise<Map<number, Result>> => {
  const { stdout } = await runNode(
    [path.join(tree, 'bench', 'operator-child.js'), which.join(',')],
    { ...process.env, NODE_PATH: path.join(root, 'node_modules') },
  );
  const results = new Map<number, Result>();
  for (const line of linesStartingWith(stdout, '{"row"')) {
    const r = JSON.parse(line) as Result;
    results.set(r.row, r);
  }
  return results;
};

const main = async (): Promise<void> => {
  if (process.argv.includes('--respond')) return respondVsEcho();
  const tree = compileTree(root, ['src', 'bench', 'test/operators']);
  try {
    const all = rows.map((_, i) => i);
    const alone = new Map<number, Result>();
    for (const i of all) {
      const r = (await child(tree, [i])).get(i);
      if (r) alone.set(i, r);
      process.stderr.write('.');
    }
    process.stderr.write('\n');
    const shared = await child(tree, all);
    const f = (r: Result | undefined, key: 'mean' | 'min') =>
      r?.[key] == null ? 'error' : r[key].toFixed(1);
    const lines = [
      `Operators, ns per packet (64-byte UDP frames, ${N} per sample, bursts of ${BURST}, ` +
        `tinybench ${TIME} ms per task, process CPU time, CPU 0, Node ${process.versions.node}, ` +
        `${new Date().toISOString().slice(0, 10)}).`,
      'The floor rows are RxJS alone; mean over samples, and the best sample (min). **Alone**: ' +
        'each row in a Node process of its own (an application with one pipeline); **shared**: ' +
        'all rows in one process, one after the other (an application that builds many ' +
        'operators: V8 then runs the loop of each operator as code shared by all its instances).',
      '',
      '| path | operator | alone, mean | alone, min | shared, mean | shared, min |',
      '|---|---|---|---|---|---|',
      ...rows.map((r, i) => {
        const a = alone.get(i);
        const s = shared.get(i);
        return `| ${r.path} | \`${r.name}\` | ${f(a, 'mean')} | ${f(a, 'min')} | ${f(s, 'mean')} | ${f(s, 'min')} |`;
      }),
    ];
    console.log(lines.join('\n'));
    if (process.env.BENCH_NO_WRITE === undefined) writeSection('operators', lines);
  } finally {
    fs.rmSync(tree, { recursive: true, force: true });
  }
};

void main();
