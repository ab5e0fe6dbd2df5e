#!/usr/bin/env node
'use strict';
// `npm run prebuilds`: the prebuilt addons that ship in the npm tarball, so that `npm install`
// (node-gyp-build) compiles nothing on linux-x64 and linux-arm64. Node-API is ABI-stable: one
// binary per platform and arch serves every Node >= 20. x64 is built natively, arm64 with
// Debian's g++-aarch64-linux-gnu (where ring.h lays rings out for 128-byte cache lines, see
// docs/protocol.md). Each build runs in a scratch copy, so build/ keeps the host's addon, then
// is stripped, tagged `glibc` (a musl system compiles instead), and checked with readelf.
// (Not named `prebuild`: npm would run that before every `npm run build`.)
// `--check` is `prepublishOnly`: publishing without both sound prebuilds fails. `prepack` does
// not build them: that would take a cross toolchain and a minute or two on every `npm pack`, and
// the tarball is to ship the binaries CI built and tested (.ci/run, scripts/test-tarball.js).
//
//   node scripts/prebuild.js [x64] [arm64]   build (both by default) into prebuilds/
//   node scripts/prebuild.js --check          only check that prebuilds/ holds both, sound
//   ... --arm64-node=PATH                      also load the arm64 prebuild with that aarch64
//                                              `node` under qemu-user (qemu-aarch64 with
//                                              libc6-arm64-cross): 128-byte cache lines
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const file = 'node.napi.glibc.node';

/** readelf's `Machine:` for each arch, and the cross tools for an arch that is not the host's. */
const arches = {
  x64: { machine: 'Advanced Micro Devices X86-64', triple: 'x86_64-linux-gnu' },
  arm64: { machine: 'AArch64', triple: 'aarch64-linux-gnu' },
};

/** The libraries a sound prebuild may need: the C/C++ runtime only (no sanitizer, no libnode). */
const allowedNeeded = /^(libc|libm|libstdc\+\+|libgcc_s|ld-linux[-\w]*)\.so(\.[\d.]+)?$/;

const fail = (message) => {
  throw new Error(message);
};

const nodeGyp = () => {
  const fromPath = spawnSync('sh', ['-c', 'command -v node-gyp'], { encoding: 'utf8' });
  if (fromPath.stdout.trim()) return fromPath.stdout.trim();
  const npmRoot = execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim();
  return path.join(npmRoot, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
};

/**
 * The running Node's headers (Node-API is the same in every Node >= 20), so that node-gyp needs
 * no download; npm's `nodedir` setting wins when given.
 */
const nodeDir = () => {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
};

/** The cross toolchain's environment for node-gyp, or {} when building for the host. */
const toolchain = (arch) => {
  if (arch === os.arch()) return {};
  const t = arches[arch].triple;
  const cxx = `${t}-g++`;
  if (spawnSync('sh', ['-c', `command -v ${cxx}`]).status !== 0)
    fail(`${cxx} is missing: apt-get install g++-${t.replace(/_/g, '-')}`);
  return {
    CC: `${t}-gcc`,
    CXX: cxx,
    LINK: cxx,
    AR: `${t}-ar`,
    PREBUILD_STRIP_BIN: `${t}-strip`,
  };
};

const build = (arch) =>
  new Promise((resolve, reject) => {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `rx-memif-prebuild-${arch}-`));
    const cleanup = () => fs.rmSync(scratch, { recursive: true, force: true });
    try {
      for (const f of ['binding.gyp', 'package.json'])
        fs.copyFileSync(path.join(root, f), path.join(scratch, f));
      fs.cpSync(path.join(root, 'native'), path.join(scratch, 'native'), { recursive: true });
      fs.symlinkSync(path.join(root, 'node_modules'), path.join(scratch, 'node_modules'));
    } catch (e) {
      cleanup();
      return reject(e);
    }
    const env = { ...process.env, ...toolchain(arch) };
    const dir = nodeDir();
    if (dir) env.npm_config_nodedir = dir;
    env.JOBS ??= String(os.cpus().length);
    const args = [
      path.join(root, 'node_modules', 'prebuildify', 'bin.js'),
      '--napi',
      // node-gyp-build reads the tags: Node runtime, Node-API (any ABI), glibc.
      '--name=node.napi',
      '--strip',
      '--tag-libc',
      `--target=${process.version}`,
      `--arch=${arch}`,
      `--node-gyp=${nodeGyp()}`,
      `--out=${root}`,
      scratch,
    ];
    const child = spawn(process.execPath, args, {
      cwd: scratch,
      env,
      stdio: 'inherit',
    });
    child.on('exit', (code) => {
      cleanup();
      if (code === 0) resolve();
      else reject(new Error(`prebuildify for linux-${arch} failed (exit ${code})`));
    });
  });

/** Checks one prebuild: ELF for the right machine, stripped, needing only the C/C++ runtime. */
const check = (arch) => {
  const addon = path.join(root, 'prebuilds', `linux-${arch}`, file);
  if (!fs.existsSync(addon)) fail(`${addon} is missing (npm run prebuild)`);
  const header = execFileSync('readelf', ['-h', addon], { encoding: 'utf8' });
  const machine = /Machine:\s+(.*)/.exec(header)?.[1].trim();
  if (machine !== arches[arch].machine)
    fail(`${addon} is built for ${machine}, not ${arches[arch].machine}`);
  const sections = execFileSync('readelf', ['-S', '-W', addon], { encoding: 'utf8' });
  if (/\.symtab|\.debug_/.test(sections)) fail(`${addon} is not stripped`);
  const dynamic = execFileSync('readelf', ['-d', '-W', addon], { encoding: 'utf8' });
  const needed = [...dynamic.matchAll(/\(NEEDED\).*\[(.*)\]/g)].map((m) => m[1]);
  const foreign = needed.filter((lib) => !allowedNeeded.test(lib));
  if (foreign.length) fail(`${addon} needs ${foreign.join(', ')}`);
  const versions = execFileSync('readelf', ['-V', '-W', addon], { encoding: 'utf8' });
  // The newest symbol versions it needs: the oldest glibc and libstdc++ it loads with (an
  // older system fails node-gyp-build's load test at install and compiles instead).
  const newest = (prefix) =>
    [...versions.matchAll(new RegExp(`${prefix}_([\\d.]+)`, 'g'))]
      .map((m) => m[1])
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
      .pop();
  const size = fs.statSync(addon).size;
  console.log(
    `prebuild: ${path.relative(root, addon)}: ${machine}, ${size} bytes, stripped, ` +
      `needs ${needed.join(' ')}, GLIBC_${newest('GLIBC')}, GLIBCXX_${newest('GLIBCXX')}`,
  );
};

/** Loads the arm64 prebuild in an aarch64 Node under qemu-user and checks its ring layout. */
const runArm64 = (node) => {
  const addon = path.join(root, 'prebuilds', 'linux-arm64', file);
  const out = execFileSync(
    'qemu-aarch64',
    ['-L', '/usr/aarch64-linux-gnu', node, '-p', `require(${JSON.stringify(addon)}).cacheLineSize`],
    { encoding: 'utf8' },
  ).trim();
  if (out !== '128') fail(`the arm64 prebuild under qemu says cacheLineSize ${out}, not 128`);
  console.log(
    `prebuild: ${path.relative(root, addon)} loads in ${node} under qemu-aarch64, 128-byte cache lines`,
  );
};

const main = async () => {
  const argv = process.argv.slice(2);
  const checkOnly = argv.includes('--check');
  const arm64Node = argv.find((a) => a.startsWith('--arm64-node='))?.slice('--arm64-node='.length);
  const wanted = argv.filter((a) => a !== '--check' && !a.startsWith('--arm64-node='));
  for (const a of wanted) if (!arches[a]) fail(`unknown arch ${a} (x64, arm64)`);
  const targets = wanted.length ? wanted : Object.keys(arches);
  if (!checkOnly) {
    // One arch at a time: each build uses every CPU node-gyp is given.
    for (const arch of targets) {
      fs.rmSync(path.join(root, 'prebuilds', `linux-${arch}`), { recursive: true, force: true });
      await build(arch);
    }
  }
  for (const arch of targets) check(arch);
  if (arm64Node) runArm64(arm64Node);
};

main().catch((e) => {
  console.error(`prebuild: ${e.message}`);
  process.exitCode = 1;
});
