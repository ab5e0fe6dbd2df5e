#!/usr/bin/env node
'use strict';
// `npm run test:asan`: first the plain C++ unit test of the ring work (scripts/test-ring-unit.js),
// then builds the native core with AddressSanitizer and UndefinedBehavior-Sanitizer in a scratch
// copy (so build/Release stays as it is) and runs the native, data-path and control-runtime specs
// and the hostile-ring campaign against that build. Node itself is not
// instrumented, so libasan is preloaded; leak detection is off (V8 keeps allocations alive until
// exit by design).
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'rx-memif-asan-'));
const cleanup = () => fs.rmSync(scratch, { recursive: true, force: true });

const nodeGyp = () => {
  const fromPath = spawnSync('sh', ['-c', 'command -v node-gyp'], {
    encoding: 'utf8',
  }).stdout.trim();
  if (fromPath) return [fromPath];
  const npmRoot = execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim();
  return [
    process.execPath,
    path.join(npmRoot, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
};

try {
  const unit = spawnSync(process.execPath, [path.join(__dirname, 'test-ring-unit.js')], {
    stdio: 'inherit',
  });
  if (unit.status !== 0) throw new Error('the ring unit test failed');
  for (const f of ['binding.gyp', 'package.json'])
    fs.copyFileSync(path.join(root, f), path.join(scratch, f));
  fs.cpSync(path.join(root, 'native'), path.join(scratch, 'native'), { recursive: true });
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(scratch, 'node_modules'));
  const [cmd, ...pre] = nodeGyp();
  const nodedir = process.env.npm_config_nodedir || '/usr';
  const build = spawnSync(
    cmd,
    [
      ...pre,
      'rebuild',
      '-j',
      String(os.cpus().length),
      `--nodedir=${nodedir}`,
      '--',
      '-Drx_memif_sanitize=1',
    ],
    { cwd: scratch, stdio: 'inherit' },
  );
  if (build.status !== 0) throw new Error('sanitizer build failed');
  const addon = path.join(scratch, 'build', 'Release', 'rx_memif.node');
  // Guard against a build that silently dropped the sanitizer flags.
  const needed = execFileSync('readelf', ['-d', addon], { encoding: 'utf8' });
  if (!/libasan/.test(needed) || !/libubsan/.test(needed))
    throw new Error('the addon was built without ASan/UBSan (no libasan/libubsan in NEEDED)');
  const libasan = execFileSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
  const specs = process.argv.slice(2).length
    ? process.argv.slice(2)
    : [
        'test/native/**/*.spec.ts',
        'test/streams/**/*.spec.ts',
        'test/workers/**/*.spec.ts', // queues in worker threads: attachments, teardown of a killed env
        'test/control/runtime.spec.ts',
        'test/control/access.spec.ts', // socket file mode/group at bind, SO_PEERCRED
        'test/hardening/hostile-ring.spec.ts',
      ];
  const run = spawnSync(
    process.execPath,
    [
      path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js'),
      '--no-config',
      '-r',
      'ts-node/register/transpile-only',
      '--extension',
      'ts',
      '--timeout',
      '120000',
      // The spec reporter, which also writes the counts .ci/run sums (RX_MEMIF_TEST_SUMMARY).
      '--reporter',
      path.join(root, 'test', 'helpers', 'summary-reporter.js'),
      ...specs,
    ],
    {
      cwd: root,
      stdio: 'inherit',
      env: {
        ...process.env,
        RX_MEMIF_ADDON: addon,
        // The hostile-ring campaign at a tenth of its npm test scale (10^5 bad descriptors).
        HOSTILE_DESCRIPTORS: process.env.HOSTILE_DESCRIPTORS || '100000',
        // The instrumented addon is slower: hang detectors in the specs wait longer (never speed).
        RX_MEMIF_TEST_TIME_SCALE: process.env.RX_MEMIF_TEST_TIME_SCALE || '3',
        LD_PRELOAD: libasan,
        ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1:halt_on_error=1',
        UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
      },
    },
  );
  cleanup();
  process.exitCode = run.status ?? 1;
} catch (e) {
  cleanup();
  console.error(`test:asan: ${e.message}`);
  process.exitCode = 1;
}
