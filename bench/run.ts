/**
 * `npm run bench [-- --quick] [-- --only ROW]`: rx-memif against DPDK testpmd, every figure a
 * ratio to testpmd↔testpmd measured in the same run, interleaved (see bench/main.ts for what
 * runs and bench/peers.ts for the placement).
 *
 * This file only launches: it transpiles src/, bench/ and test/helpers/ to plain JS in a
 * temporary directory and runs bench/main.js from there in a child (same CPU affinity, set by
 * taskset in the npm script), so that the process measured is a plain Node process, as a
 * user's would be, and not one holding ts-node and the TypeScript compiler.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compileTree } from './compile-tree';

const root = path.resolve(__dirname, '..');
const tree = compileTree(root, ['src', 'bench', 'test/helpers']);
// BENCH_NODE_ARGS: flags for the measured process only, e.g. "--trace-gc" or "--cpu-prof" (Node
// refuses most V8 flags in NODE_OPTIONS, and these must not reach the launcher or testpmd).
const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter((a) => a !== '');
const child = spawn(
  process.execPath,
  [...nodeArgs, path.join(tree, 'bench', 'main.js'), ...process.argv.slice(2)],
  {
    stdio: 'inherit',
    env: {
      ...process.env,
      NODE_PATH: path.join(root, 'node_modules'),
      RX_MEMIF_ADDON: path.join(root, 'build', 'Release', 'rx_memif.node'),
      RX_MEMIF_BENCH_ROOT: root,
    },
  },
);
// Ctrl-C reaches the child too (same process group): wait for it to stop its peers.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('close', (code, signal) => {
  fs.rmSync(tree, { recursive: true, force: true });
  process.exitCode = code ?? (signal ? 1 : 0);
});
