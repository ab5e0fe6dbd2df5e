#!/usr/bin/env node
'use strict';
// `npm run demo`: the main job of rx-memif in three phases, each between two rx-memif processes
// (a server and a client over a socket in a temporary directory), each ending with one result
// line:
//   1. ping        `respond` answers ARP and ICMP; `ping` resolves it and sends 5 echo requests.
//   2. checked     `gen --one-way` sends 10^5 numbered frames of 64..9000 bytes (chains over
//                  2048-byte buffers); `sink --check` verifies sequence and content of each one.
//   3. throughput  `gen` sends 64-byte frames flat out for 3 s to `echo`, which sends every frame
//                  back; every frame sent is accounted for, stage by stage.
// Exit status 0 only when every phase succeeded. `--verbose` also prints the processes' own
// JSON lines. Runs the built CLI (bin/rx-memif.js uses dist/: `npm run build:ts` after editing
// src/).
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const bin = path.join(__dirname, '..', 'bin', 'rx-memif.js');
const verbose = process.argv.includes('--verbose');
const DEMO_LIMIT_MS = 55_000;
const children = new Set();

/** One rx-memif process with `--json`: its events as objects, its exit code. */
const start = (label, args) => {
  const child = spawn(process.execPath, [bin, ...args, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const events = [];
  const waiters = [];
  let pending = '';
  child.stdout.on('data', (b) => {
    const lines = (pending + b.toString()).split('\n');
    pending = lines.pop();
    for (const line of lines) {
      if (!line) continue;
      if (verbose) console.log(`    [${label}] ${line}`);
      let event;
      try {
        event = JSON.parse(line);
      } catch {
        continue;
      }
      events.push(event);
      for (const w of [...waiters]) if (w.test(event)) w.resolve(event);
    }
  });
  let stderr = '';
  child.stderr.on('data', (b) => {
    stderr += b.toString();
    if (verbose) process.stderr.write(b);
  });
  const done = new Promise((resolve) =>
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve(code ?? (signal ? 128 : 1));
    }),
  );
  /** The first event (already seen or to come) that passes `test`; rejects after `ms`. */
  const waitFor = (test, what, ms) => {
    const seen = events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { test, resolve: (e) => (clearTimeout(timer), resolve(e)) };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(w), 1);
        reject(
          new Error(`${label}: no ${what} within ${ms / 1000} s${stderr ? `: ${stderr}` : ''}`),
        );
      }, ms);
      waiters.push(w);
      void done.then(() => {
        if (!waiters.includes(w)) return;
        waiters.splice(waiters.indexOf(w), 1);
        clearTimeout(timer);
        reject(new Error(`${label} exited before ${what}${stderr ? `: ${stderr.trim()}` : ''}`));
      });
    });
  };
  const summary = () => events.find((e) => e.event === 'summary');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    return done;
  };
  return { label, events, done, waitFor, summary, stop, stderr: () => stderr };
};

/** `command --role role options...`: the command comes first. */
const withRole = ([command, ...rest], role) => [command, '--role', role, ...rest];

const isState = (status) => (e) => e.event === 'state' && e.state?.status === status;

/** Starts a server and waits until it listens. */
const server = async (label, args) => {
  const s = start(label, withRole(args, 'server'));
  await s.waitFor(isState('listening'), 'listening state', 10_000);
  return s;
};

const n = (x) => x.toLocaleString('en-US');
const pct = (part, whole) =>
  whole === 0 ? '0' : part === whole ? '100' : Math.min(99.9, (part / whole) * 100).toFixed(1);
const show = (args) => `    $ npx rx-memif ${args.join(' ')}`;

/** Drop reasons that mean damaged or hostile input, as opposed to a full queue or a link down. */
const faultDrops = (drops) =>
  Object.entries(drops ?? {})
    .filter(([reason]) => reason !== 'queueFull' && reason !== 'linkDown')
    .reduce((a, [, v]) => a + v, 0);

const phases = [
  {
    name: 'ping',
    what: 'respond (server) answers ARP and ICMP for 192.0.2.1; ping (client) sends 5 echo requests',
    async run(sock) {
      const serverArgs = ['respond', '--socket', sock, '--ip', '192.0.2.1/24'];
      const clientArgs = [
        'ping',
        '--socket',
        sock,
        '--ip',
        '192.0.2.2/24',
        '--target',
        '192.0.2.1',
        '--count',
        '5',
        '--interval',
        '200',
        '--secs',
        '10',
      ];
      console.log(show(withRole(serverArgs, 'server')));
      console.log(show(withRole(clientArgs, 'client')));
      const srv = await server('respond', serverArgs);
      const cli = start('ping', withRole(clientArgs, 'client'));
      const code = await cli.done;
      await srv.stop();
      const rtts = cli.events
        .filter((e) => e.event === 'reply')
        .map((e) => e.rttMs)
        .sort((a, b) => a - b);
      const s = cli.summary();
      const sent = s?.transmitted ?? 0;
      const us = (ms) => `${Math.round(ms * 1000)} µs`;
      const median = rtts.length ? rtts[Math.floor((rtts.length - 1) / 2)] : undefined;
      const ok = code === 0 && sent === 5 && rtts.length === 5;
      const line =
        `${rtts.length}/${sent} replies` +
        (median === undefined
          ? ''
          : `, median ${us(median)} (min ${us(rtts[0])}, max ${us(rtts[rtts.length - 1])})`);
      return { ok, line: ok ? line : `${line}; ping exit ${code}${problem(cli)}` };
    },
  },
  {
    name: 'checked',
    what: 'gen --one-way sends numbered frames of 64..9000 bytes; sink --check verifies every one',
    async run(sock) {
      const count = 100_000;
      const serverArgs = ['sink', '--socket', sock, '--check', '--count', String(count)];
      const clientArgs = ['gen', '--socket', sock, '--one-way', '--count', String(count)];
      clientArgs.push('--size', '64..9000', '--secs', '30');
      console.log(show(withRole(serverArgs, 'server')));
      console.log(show(withRole(clientArgs, 'client')));
      const srv = await server('sink', [...serverArgs, '--secs', '40']);
      const cli = start('gen', withRole(clientArgs, 'client'));
      const genCode = await cli.done;
      // The sink stops by itself once all frames are accounted for.
      const sinkCode = await Promise.race([
        srv.done,
        new Promise((r) => setTimeout(r, 10_000)).then(() => srv.stop()),
      ]);
      const g = cli.summary() ?? {};
      const k = srv.summary() ?? {};
      const received = k.received ?? 0;
      const line =
        `${n(received)} frames verified (${n(g.tx?.bytes ?? 0)} bytes), ` +
        `${n(k.lost ?? 0)} lost, ${n(k.corrupt ?? 0)} corrupt, ${n(k.outOfOrder ?? 0)} out of order`;
      const ok =
        genCode === 0 &&
        sinkCode === 0 &&
        received === count &&
        k.lost === 0 &&
        k.corrupt === 0 &&
        k.outOfOrder === 0 &&
        k.rxDrops === 0;
      return {
        ok,
        line: ok ? line : `${line}; gen exit ${genCode}, sink exit ${sinkCode}${problem(cli, srv)}`,
      };
    },
  },
  {
    name: 'throughput',
    what: 'gen sends 64-byte frames flat out for 3 s; echo sends every frame back',
    async run(sock) {
      const serverArgs = ['echo', '--socket', sock];
      const clientArgs = ['gen', '--socket', sock, '--size', '64', '--secs', '3'];
      console.log(show(withRole(serverArgs, 'server')));
      console.log(show(withRole(clientArgs, 'client')));
      const srv = await server('echo', serverArgs);
      const cli = start('gen', withRole(clientArgs, 'client'));
      const genCode = await cli.done;
      // echo exits 1 when its peer has gone, which is the case here: its summary is what counts.
      await srv.stop();
      const g = cli.summary() ?? {};
      const e = srv.summary() ?? {};
      return throughputResult(g, e, genCode, cli, srv);
    },
  },
];

/**
 * Every frame gen handed over, followed stage by stage: gen's own queue → gen's ring → echo's
 * rx → echo's tx (or refused there) → back in gen. Only a drop for a fault (a bad descriptor,
 * a corrupt frame) is a loss; a reflector that refuses what it cannot send back is saturated,
 * and frames still in a ring when the run stopped were in flight.
 */
const throughputResult = (g, e, genCode, ...procs) => {
  const sent = g.sent ?? 0;
  const back = g.received ?? 0;
  const corrupt = g.corrupt ?? 0;
  const inGenRing = g.tx?.packets ?? 0;
  const notSent = sent - inGenRing; // waited in gen's own queue (its ring was full)
  const echoRead = e.rx?.packets ?? 0;
  const echoSent = e.tx?.packets ?? 0;
  const refused = e.drops?.queueFull ?? 0; // echo's tx queue was full: reflector saturated
  const faults = faultDrops(g.drops) + faultDrops(e.drops) + corrupt;
  // Still in a ring or a queue when gen stopped: in gen's ring to echo, in echo's queue when gen
  // left (echo counts those as linkDown), in echo's ring back to gen.
  const inFlight =
    Math.max(0, inGenRing - echoRead) +
    (e.drops?.linkDown ?? 0) +
    Math.max(0, echoSent - back - corrupt - faultDrops(g.drops));
  // Whatever no stage accounts for: a loss without a counter, which must not exist.
  const unaccounted = sent - back - corrupt - notSent - refused - inFlight - faultDrops(e.drops);
  const secs = g.secs ?? 0;
  const out = g.tx?.mpps ?? 0;
  const ret = g.rx?.mpps ?? 0;
  const each =
    Math.abs(out - ret) <= 0.01 * Math.max(out, ret)
      ? `${out.toFixed(2)} Mpps each way`
      : `${out.toFixed(2)} Mpps out, ${ret.toFixed(2)} Mpps back`;
  const lost = faults + Math.max(0, unaccounted);
  let line = `${each} for ${secs.toFixed(1)} s, ${n(sent)} sent, echo returned ${pct(back, sent)} %`;
  line +=
    lost === 0
      ? ', 0 lost'
      : `, ${n(lost)} LOST (corrupt ${n(corrupt)}, unaccounted ${n(unaccounted)}, ` +
        `drops: gen ${JSON.stringify(g.drops)}, echo ${JSON.stringify(e.drops)})`;
  const notes = [];
  if (refused > 0)
    notes.push(`${n(refused)} refused by echo's full tx queue (the reflector was saturated)`);
  if (notSent > 0)
    notes.push(`${n(notSent)} still queued in gen at the end (its ring was full: never sent)`);
  if (inFlight > 0) notes.push(`${n(inFlight)} in flight when the run stopped`);
  if (notes.length) line += `; not returned: ${notes.join(', ')}`;
  const ok = genCode === 0 && sent > 0 && back > 0 && lost === 0;
  return { ok, line: ok ? line : `${line}; gen exit ${genCode}${problem(...procs)}` };
};

/** What a failed process said on stderr, briefly. */
const problem = (...procs) =>
  procs
    .map((p) => p.stderr().trim())
    .filter(Boolean)
    .map((t) => `: ${t.split('\n').slice(-3).join(' ')}`)
    .join('');

const main = async () => {
  if (!fs.existsSync(path.join(__dirname, '..', 'dist', 'cli', 'main.js')))
    throw new Error('dist/ is missing: run `npm run build:ts` (or `npm install`) first');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rx-memif-demo-'));
  const watchdog = setTimeout(() => {
    console.error(`demo: still running after ${DEMO_LIMIT_MS / 1000} s, stopping`);
    for (const c of children) c.kill('SIGKILL');
  }, DEMO_LIMIT_MS);
  const results = [];
  try {
    console.log(`rx-memif demo: two rx-memif processes per phase, sockets in ${dir}\n`);
    for (const [i, phase] of phases.entries()) {
      console.log(`${i + 1}. ${phase.name}: ${phase.what}`);
      let result;
      try {
        result = await phase.run(path.join(dir, `${phase.name}.sock`));
      } catch (err) {
        result = { ok: false, line: err instanceof Error ? err.message : String(err) };
      }
      for (const c of [...children]) c.kill('SIGKILL');
      results.push({ name: phase.name, ...result });
      console.log(`${result.ok ? '   ✓' : '   ✗'} ${phase.name}: ${result.line}\n`);
    }
  } finally {
    clearTimeout(watchdog);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const failed = results.filter((r) => !r.ok).map((r) => r.name);
  console.log(
    failed.length === 0
      ? `demo: all ${results.length} phases succeeded`
      : `demo FAILED: ${failed.join(', ')}`,
  );
  return failed.length === 0 ? 0 : 1;
};

main()
  .catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    return 1;
  })
  .then((code) => {
    for (const c of children) c.kill('SIGKILL');
    process.exitCode = code;
  });
