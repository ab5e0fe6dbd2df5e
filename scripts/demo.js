#!/usr/bin/env node
'use strict';
// `npm run demo`: two rx-memif processes over a socket in a temporary directory. One echoes
// every frame back (server); the other connects, sends numbered frames, checks every one that
// returns, then runs a few seconds flat out. Both print their states and stats; all is cleaned up.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const bin = path.join(__dirname, '..', 'bin', 'rx-memif.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rx-memif-demo-'));
const socket = path.join(dir, 'memif.sock');

const run = (label, args) => {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout.on('data', (b) => {
    for (const line of b.toString().split('\n')) if (line) console.log(`[${label}] ${line}`);
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ child, code })));
};

const main = async () => {
  console.log(`rx-memif demo: socket ${socket}\n`);
  const server = run('echo server', [
    'echo',
    '--role',
    'server',
    '--socket',
    socket,
    '--secs',
    '12',
  ]);
  await new Promise((r) => setTimeout(r, 500));
  const checked = await run('gen client', [
    'gen',
    '--role',
    'client',
    '--socket',
    socket,
    '--count',
    '100000',
    '--size',
    '512',
    '--secs',
    '5',
  ]);
  const flat = await run('gen client', [
    'gen',
    '--role',
    'client',
    '--socket',
    socket,
    '--size',
    '64',
    '--secs',
    '3',
  ]);
  const echo = await server;
  fs.rmSync(dir, { recursive: true, force: true });
  const ok = checked.code === 0 && flat.code === 0 && echo.code !== 2;
  console.log(
    `\ndemo ${ok ? 'done' : 'FAILED'}: checked run exit ${checked.code}, throughput run exit ${flat.code}`,
  );
  process.exitCode = ok ? 0 : 1;
};

main().catch((e) => {
  console.error(e);
  fs.rmSync(dir, { recursive: true, force: true });
  process.exitCode = 1;
});
