#!/usr/bin/env node
'use strict';
// Builds the plain C++ unit test of the ring work (test/native-unit/ring_test.cc with
// native/ring_queue.cc, no Node, no N-API) with AddressSanitizer and UndefinedBehaviorSanitizer,
// and runs it. Part of `npm run test:asan`; also runnable alone.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const cxx = process.env.CXX || 'g++';
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'rx-memif-ring-unit-'));
const binary = path.join(scratch, 'ring_test');
try {
  const build = spawnSync(
    cxx,
    [
      '-std=c++20',
      '-O1',
      '-g',
      '-Wall',
      '-Wextra',
      '-Werror',
      '-fno-omit-frame-pointer',
      '-fsanitize=address,undefined',
      '-fno-sanitize-recover=all',
      '-o',
      binary,
      path.join(root, 'test', 'native-unit', 'ring_test.cc'),
      path.join(root, 'native', 'ring_queue.cc'),
    ],
    { stdio: 'inherit' },
  );
  if (build.status !== 0) throw new Error(`${cxx} failed`);
  const run = spawnSync(binary, [], {
    stdio: 'inherit',
    env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1' },
  });
  process.exitCode = run.status ?? 1;
} catch (e) {
  console.error(`test-ring-unit: ${e.message}`);
  process.exitCode = 1;
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
