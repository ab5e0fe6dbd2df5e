#!/usr/bin/env node
'use strict';
// `npm run test:tarball` (and .ci/run, after `npm run prebuilds`): what a user without a compiler
// gets. Packs the package, installs the tarball into a fresh project with cc, gcc, g++, c++,
// clang, make and python shadowed by failing stubs on PATH and npm offline (its cache only),
// then loads the package, runs `rx-memif --help` and passes 10^5 frames gen -> echo between two
// processes, nothing lost. A control install that forces a build from source must fail on the
// stubs, or the stubs prove nothing.
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const frames = Number(process.env.TARBALL_FRAMES || 100000);
const arch = `${process.platform}-${process.arch}`;
const started = Date.now();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rx-memif-tarball-'));
const children = new Set();

const step = (text) =>
  console.log(`test:tarball: ${text} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
const fail = (text) => {
  throw new Error(text);
};

/** Runs a command to completion; throws with its output when it fails. */
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0)
    fail(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};

/** Failing stand-ins for every tool a build from source would need. */
const stubTools = () => {
  const dir = path.join(work, 'no-toolchain');
  fs.mkdirSync(dir);
  for (const tool of ['cc', 'gcc', 'g++', 'c++', 'clang', 'clang++', 'make', 'python3', 'python']) {
    const file = path.join(dir, tool);
    fs.writeFileSync(
      file,
      `#!/bin/sh\necho "test:tarball: ${tool} called, no toolchain here" >&2\nexit 127\n`,
    );
    fs.chmodSync(file, 0o755);
  }
  return dir;
};

/**
 * A fresh project depending on the tarball, with a lockfile that pins the registry
 * dependencies to the versions and integrity of ours: `npm ci --offline` then needs only their
 * tarballs, which our own `npm ci` left in npm's cache (registry metadata need not be there).
 */
const freshProject = (tarball) => {
  const dir = path.join(work, 'project');
  fs.mkdirSync(dir);
  const spec = `file:${path.relative(dir, tarball)}`;
  const pkg = JSON.parse(
    execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }),
  );
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  const registry = run('npm', ['config', 'get', 'registry']).trim().replace(/\/$/, '');
  const manifest = { name: 'rx-memif-tarball-test', version: '1.0.0', private: true };
  const packages = {
    '': { ...manifest, dependencies: { 'rx-memif': spec } },
    'node_modules/rx-memif': {
      version: pkg.version,
      resolved: spec,
      hasInstallScript: true,
      license: pkg.license,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
      os: pkg.os,
    },
  };
  const add = (name) => {
    const key = `node_modules/${name}`;
    if (packages[key]) return;
    const entry = lock.packages[key];
    if (!entry) fail(`${name} is not in package-lock.json`);
    const base = name.split('/').pop();
    packages[key] = { ...entry, resolved: `${registry}/${name}/-/${base}-${entry.version}.tgz` };
    for (const dep of Object.keys(entry.dependencies ?? {})) add(dep);
  };
  for (const dep of Object.keys(pkg.dependencies ?? {})) add(dep);
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ ...manifest, dependencies: { 'rx-memif': spec } }, null, 2),
  );
  fs.writeFileSync(
    path.join(dir, 'package-lock.json'),
    JSON.stringify({ ...manifest, lockfileVersion: 3, requires: true, packages }, null, 2),
  );
  return dir;
};

/** Starts `rx-memif ...args` from the installed package; resolves with its exit and stdout. */
const cli = (project, env, args) => {
  const child = spawn(path.join(project, 'node_modules', '.bin', 'rx-memif'), args, {
    cwd: project,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b) => (stdout += b));
  child.stderr.on('data', (b) => (stderr += b));
  const done = new Promise((resolve) =>
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  const waitFor = (pattern, ms) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${pattern} in ${ms} ms: ${stdout}${stderr}`)),
        ms,
      );
      const check = () => {
        if (!pattern.test(stdout)) return;
        clearTimeout(timer);
        child.stdout.off('data', check);
        resolve();
      };
      child.stdout.on('data', check);
      check();
    });
  return { child, done, waitFor };
};

const summaryOf = (stdout) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .find((e) => e.event === 'summary');

const main = async () => {
  run(process.execPath, [path.join(root, 'scripts', 'prebuild.js'), '--check'], {
    stdio: 'inherit',
  });
  const tarball = path.join(
    work,
    run('npm', ['pack', '--silent', '--pack-destination', work], { cwd: root })
      .trim()
      .split('\n')
      .pop(),
  );
  const listing = run('tar', ['-tzf', tarball]).split('\n');
  for (const a of ['linux-x64', 'linux-arm64'])
    if (!listing.includes(`package/prebuilds/${a}/node.napi.glibc.node`))
      fail(`the tarball holds no ${a} prebuild`);
  if (listing.some((f) => f.startsWith('package/build/'))) fail('the tarball holds build/');
  step(`packed ${path.basename(tarball)}, ${fs.statSync(tarball).size} bytes, with both prebuilds`);

  const project = freshProject(tarball);
  const env = { ...process.env, PATH: `${stubTools()}${path.delimiter}${process.env.PATH}` };
  delete env.RX_MEMIF_ADDON;
  delete env.npm_config_build_from_source;
  const ci = ['ci', '--offline', '--no-audit', '--no-fund', '--foreground-scripts'];
  // The control: node-gyp-build told to compile must trip over the stubs.
  const forced = spawnSync('npm', ci, {
    cwd: project,
    env: { ...env, npm_config_build_from_source: 'true' },
    encoding: 'utf8',
  });
  if (forced.status === 0) fail('a build from source succeeded with the toolchain stubbed out');
  // node-gyp runs python first and, finding only the stub, says there is none.
  if (!/no toolchain here|Could not find any Python/.test(forced.stdout + forced.stderr))
    fail(`the forced build failed, but not on a stub:\n${forced.stdout}\n${forced.stderr}`);
  step('control: a forced build from source fails on the stubbed toolchain');

  fs.rmSync(path.join(project, 'node_modules'), { recursive: true, force: true });
  run('npm', ci, { cwd: project, env });
  const installed = path.join(project, 'node_modules', 'rx-memif');
  if (fs.existsSync(path.join(installed, 'build'))) fail('npm install compiled the addon');
  step('installed offline, nothing compiled');

  // The package entry loads, and the addon it finds is the prebuild (dist/ is no export, so by
  // file path).
  const loaded = run(
    process.execPath,
    [
      '-e',
      `const m = require('rx-memif');
      const load = require(require('path').join(${JSON.stringify(installed)}, 'dist/native-bridge/load.js'));
      const native = load.loadNative();
      console.log(JSON.stringify({ exports: Object.keys(m).length, file: load.findAddon(${JSON.stringify(installed)}), cacheLineSize: native.cacheLineSize }));`,
    ],
    { cwd: project, env },
  );
  const { exports, file } = JSON.parse(loaded);
  const expected = path.join(installed, 'prebuilds', arch, 'node.napi.glibc.node');
  if (file !== expected) fail(`loaded ${file}, expected ${expected}`);
  if (!exports) fail('rx-memif exports nothing');
  step(`require('rx-memif') loads ${path.relative(project, file)}`);

  const help = run('npx', ['--offline', 'rx-memif', '--help'], { cwd: project, env });
  if (!/Usage: rx-memif/.test(help)) fail(`npx rx-memif --help printed:\n${help}`);
  step('npx rx-memif --help');

  const socket = path.join(work, 'memif.sock');
  const echo = cli(project, env, ['echo', '--role', 'server', '--socket', socket, '--json']);
  await echo.waitFor(/"listening"/, 30000);
  const gen = cli(project, env, [
    'gen',
    '--socket',
    socket,
    '--count',
    String(frames),
    '--size',
    '64',
    '--secs',
    '120',
    '--json',
  ]);
  const g = await gen.done;
  echo.child.kill('SIGTERM');
  const e = await echo.done;
  const gs = summaryOf(g.stdout);
  const es = summaryOf(e.stdout);
  if (g.code !== 0 || !gs) fail(`gen exited ${g.code}:\n${g.stdout}\n${g.stderr}`);
  if (gs.sent !== frames || gs.received !== frames || gs.lost !== 0 || gs.corrupt !== 0)
    fail(`gen: ${JSON.stringify(gs)}`);
  if (!es || es.rx.packets !== frames || es.tx.packets !== frames)
    fail(`echo: ${JSON.stringify(es)}\n${e.stderr}`);
  step(
    `${frames} frames gen -> echo: sent ${gs.sent}, received ${gs.received}, lost ${gs.lost}, ` +
      `corrupt ${gs.corrupt}; echo rx ${es.rx.packets} tx ${es.tx.packets}`,
  );
};

main()
  .then(() => step('passed'))
  .catch((e) => {
    console.error(`test:tarball: FAILED: ${e.message}`);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const child of children) child.kill('SIGKILL');
    fs.rmSync(work, { recursive: true, force: true });
  });
