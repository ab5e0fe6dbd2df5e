/**
 * `npm run bench:operators -- --respond`: `rx-memif respond --echo-other` against
 * `rx-memif echo`, both fed by a testpmd flowgen client, interleaved (echo, respond, echo,
 * respond: the vCPUs here change placement, so only a ratio within a run means anything):
 * flowgen's receive rate, and our process's CPU time per packet (section `operators-respond`
 * of bench/RESULTS.md).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Testpmd } from '../test/helpers/testpmd';
import { compileTree } from './compile-tree';
import { writeSection } from './results-file';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** utime + stime of a process, in ms (clock ticks of 10 ms). */
const cpuMs = (pid: number): number => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};

/** Median of the per-second "Rx-pps" lines of a piece of testpmd output. */
const medianRxPps = (output: string): number => {
  const v = [...output.matchAll(/Rx-pps:\s+(\d+)/g)].map((m) => Number(m[1]));
  const steady = v.filter((x) => x > 0);
  steady.sort((a, b) => a - b);
  return steady.length ? steady[Math.floor(steady.length / 2)] : 0;
};

const root = path.resolve(__dirname, '..');

/**
 * One run: our CLI as server on CPU 0, a testpmd flowgen client forwarding on CPU 1. The CLI
 * runs from `tree`, the sources as plain JS: under ts-node the TypeScript compiler would sit in
 * its heap, and every full collection would mark it too (see bench/compile-tree.ts).
 */
const serve = async (tree: string, args: string[], secs: number) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-ops-'));
  const socket = path.join(dir, 'memif.sock');
  const run =
    `require(${JSON.stringify(path.join(tree, 'src', 'cli', 'main.js'))})` +
    '.main(process.argv.slice(1)).then((c) => { process.exitCode = c; })';
  const child = spawn(
    'taskset',
    ['-c', '0', process.execPath, '--cpu-prof', `--cpu-prof-dir=${dir}`, '-e', run].concat(args, [
      '--role',
      'server',
      '--socket',
      socket,
      '--secs',
      '600',
      '--json',
    ]),
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NODE_PATH: path.join(root, 'node_modules'),
        RX_MEMIF_ADDON: path.join(root, 'build', 'Release', 'rx_memif.node'),
      },
    },
  );
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const closed = new Promise((r) => child.on('close', r));
  // Our server listens first.
  for (let i = 0; i < 600 && !/"status":"listening"|listening/.test(out); i++) await sleep(100);
  const peer = new Testpmd({
    role: 'client',
    socket,
    forwardMode: 'flowgen',
    lcores: '0-1',
    mainLcore: 0,
    devargs: ['rsize=10', 'bsize=2048'],
    args: ['--txpkts=64', '--burst=32'],
  });
  try {
    await peer.waitFor(/packet forwarding - ports=/, 30000);
    await sleep(2000);
    const c0 = cpuMs(child.pid!);
    const t0 = performance.now();
    const before = peer.output.length;
    await sleep(secs * 1000);
    const c1 = cpuMs(child.pid!);
    const t1 = performance.now();
    const pps = medianRxPps(peer.output.slice(before));
    const cpuShare = (c1 - c0) / (t1 - t0);
    await peer.stop();
    child.kill('SIGINT');
    await closed;
    const summary = out.split('\n').find((l) => l.includes('"event":"summary"'));
    const rx = summary ? (JSON.parse(summary) as { rx: { packets: number } }).rx.packets : 0;
    const prof = profileShare(dir);
    return {
      pps,
      cpuShare,
      nsPerPacket: pps > 0 ? (cpuShare * 1e9) / pps : NaN,
      busyNs: (prof.busyMs * 1e6) / rx,
      ownNs: (prof.ownMs * 1e6) / rx,
    };
  } finally {
    await peer.stop();
    child.kill('SIGINT');
    await closed;
    fs.rmSync(dir, { recursive: true, force: true });
    if (!/summary/.test(out)) console.error(out.slice(-2000));
  }
};

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string } }[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * From the `--cpu-prof` profile of a run: the busy time (all but idle) and the time spent in
 * the command's own code, the operators and the CLI command (self time of functions in
 * src/streams/operators/, src/cli/commands/ and src/cli/per-queue/), the rest being the data path, RxJS and GC.
 */
const profileShare = (dir: string): { busyMs: number; ownMs: number } => {
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) return { busyMs: NaN, ownMs: NaN };
  const p = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  let busy = 0;
  let own = 0;
  p.samples.forEach((id, i) => {
    const n = byId.get(id);
    const us = p.timeDeltas[i] ?? 0;
    if (n === undefined || n.callFrame.functionName === '(idle)') return;
    busy += us;
    if (/src\/(streams\/operators|cli\/commands|cli\/per-queue)\//.test(n.callFrame.url)) own += us;
  });
  return { busyMs: busy / 1000, ownMs: own / 1000 };
};

export const respondVsEcho = async (): Promise<void> => {
  const secs = Number(process.env.BENCH_SECS ?? 5);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
  const tree = compileTree(root, ['src']);
  const runs: {
    name: string;
    pps: number;
    cpuShare: number;
    nsPerPacket: number;
    busyNs: number;
    ownNs: number;
  }[] = [];
  for (let r = 0; r < rounds; r++)
    for (const [name, args] of [
      ['echo', ['echo']],
      ['respond --echo-other', ['respond', '--ip', '192.0.2.1/24', '--echo-other']],
    ] as const) {
      const m = await serve(tree, [...args], secs);
      console.log(name, m);
      runs.push({ name, ...m });
    }
  const mean = (name: string, key: 'pps' | 'nsPerPacket'): number => {
    const v = runs.filter((x) => x.name === name && x.pps > 0).map((x) => x[key]);
    return v.reduce((a, b) => a + b, 0) / v.length;
  };
  const ratio = mean('respond --echo-other', 'pps') / mean('echo', 'pps');
  const lines = [
    `\`rx-memif respond --echo-other\` against \`rx-memif echo\`, each a server on CPU 0 fed by a ` +
      `testpmd flowgen client (64 B, bursts of 32) forwarding on CPU 1, ${rounds} interleaved ` +
      `rounds of ${secs} s, ${new Date().toISOString().slice(0, 10)}. Rate: flowgen's receive ` +
      `rate (median of its per-second figures); CPU: our process's CPU time per packet echoed; ` +
      `profile: from \`--cpu-prof\` (both runs profiled alike), busy time per packet received ` +
      `and the self time of src/streams/operators/, src/cli/commands/ and src/cli/per-queue/ in it.`,
    '',
    '| run | command | Mpps back at flowgen | CPU share | CPU ns per packet | profile: busy ns per packet received | of which the command and operators |',
    '|---|---|---|---|---|---|---|',
    ...runs.map(
      (x, i) =>
        `| ${i + 1} | \`${x.name}\` | ${(x.pps / 1e6).toFixed(2)} | ${x.cpuShare.toFixed(2)} | ` +
        `${x.nsPerPacket.toFixed(0)} | ${x.busyNs.toFixed(0)} | ${x.ownNs.toFixed(1)} |`,
    ),
    '',
    `respond --echo-other / echo, rate: **${ratio.toFixed(2)}**.`,
  ];
  console.log(lines.join('\n'));
  fs.rmSync(tree, { recursive: true, force: true });
  if (process.env.BENCH_NO_WRITE === undefined) writeSection('operators-respond', lines);
};
