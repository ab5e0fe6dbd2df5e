#!/usr/bin/env node
// Checks (or with --fix, rewrites) the formatting of native/*.{cc,h} against .clang-format.
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const fix = process.argv.includes('--fix');
const binary = process.env.CLANG_FORMAT || 'clang-format';

const files = fs
  .readdirSync(path.join(root, 'native'))
  .filter((name) => /\.(cc|h)$/.test(name))
  .sort()
  .map((name) => path.join('native', name));

if (files.length === 0) {
  console.log('clang-format: no native sources');
  process.exit(0);
}

const args = fix ? ['-i', ...files] : ['--dry-run', '--Werror', ...files];
const result = spawnSync(binary, args, { cwd: root, stdio: 'inherit' });

if (result.error) {
  if (result.error.code === 'ENOENT') {
    console.error(
      `clang-format is not installed (looked for "${binary}"). Install it ` +
        '(e.g. `apt-get install clang-format`) or point CLANG_FORMAT at the binary.',
    );
  } else {
    console.error(`clang-format could not run: ${result.error.message}`);
  }
  process.exit(2);
}
if (result.status !== 0) {
  if (!fix) {
    console.error(
      '\nnative sources are not formatted: run `node scripts/clang-format-check.js --fix`',
    );
  }
  process.exit(result.status ?? 1);
}
console.log(`clang-format: ${files.length} files ${fix ? 'formatted' : 'ok'}`);
