#!/usr/bin/env node
'use strict';
// `npm run demo`: rx-memif processes over a socket in a temporary directory. The server
// (`rx-memif respond --echo-other`) answers ARP and pings for 192.0.2.1 and sends every other
// frame back. A client pings it (ARP first, then 5 echo requests), then `rx-memif gen` sends
// numbered frames and checks every one that returns, then runs a few seconds flat out. Each
// prints its handshake states and results; everything is stopped and removed at the end.
// Runs the built CLI (bin/rx-memif.js uses dist/: `npm run build:ts` after editing src/).
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const bin = path.join(__dirname, '..', 'bin', 'rx-memif.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rx-memif-demo-'));
const socket = path.join(dir, 'memif.sock');

const run = (label, args) => {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let pending = '';
  const print = (b) => {
    const lines = (pending + b.toString()).split('\n');
    pending = lines.pop();
    for (const line of lines) if (line) console.log(`[${label}] ${line}`);
  };
  child.stdout.on('data', print);
  child.stderr.on('data', print);
  const done = new Promise((resolve) =>
    child.on('close', (code) => {
      if (pending) console.log(`[${label}] ${pending}`);
      resolve(code);
    }),
  );
  return { child, done };
};

const main = async () => {
  if (!fs.existsSync(path.join(__dirname, '..', 'dist', 'cli', 'main.js')))
    throw new Error('dist/ is missing: run `npm run build:ts` (or `npm install`) first');
  console.log(`rx-memif demo: socket ${socket}\n`);
  const server = run('respond server', [
    'respond',
    '--role',
    'server',
    '--socket',
    socket,
    '--ip',
    '192.0.2.1/24',
    '--echo-other',
    '--secs',
    '20',
  ]);
  const client = ['--role', 'client', '--socket', socket];
  await new Promise((r) => setTimeout(r, 500));
  const ping = await run('ping client', [
    'ping',
    ...client,
    '--ip',
    '192.0.2.2/24',
    '--target',
    '192.0.2.1',
    '--count',
    '5',
    '--interval',
    '200',
    '--secs',
    '8',
  ]).done;
  console.log('');
  const checked = await run('gen client', [
    'gen',
    ...client,
    '--count',
    '50000',
    '--size',
    '512',
    '--secs',
    '5',
  ]).done;
  console.log('');
  const flat = await run('gen client', ['gen', ...client, '--size', '64', '--secs', '3']).done;
  console.log('');
  server.child.kill('SIGINT');
  const served = await server.done;
  const ok = ping === 0 && checked === 0 && flat === 0 && served !== 2;
  console.log(
    `\ndemo ${ok ? 'done' : 'FAILED'}: ping exit ${ping}, checked run exit ${checked}, ` +
      `throughput run exit ${flat}`,
  );
  return ok ? 0 : 1;
};

main()
  .catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    return 1;
  })
  .then((code) => {
    fs.rmSync(dir, { recursive: true, force: true });
    process.exitCode = code;
  });
