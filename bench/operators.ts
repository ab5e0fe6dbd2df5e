/**
 * `npm run bench:operators`: nanoseconds per packet of each packet operator, through the public
 * API, on the per-packet path (a `Subject<Uint8Array>` piped through the operator, one `next`
 * per frame) and on the burst path (a `Subject<Burst>`, bursts of 32), with tinybench. The
 * frames are 64-byte Ethernet/IPv4/UDP frames, as testpmd txonly sends; each task pushes 2048
 * of them. Pinned to CPU 0 by the npm script. Prints the table and writes it into
 * bench/RESULTS.md (section `operators`). Samples are timed in process CPU time (the vCPUs here
 * are shared: wall time would count other processes). The floor rows are RxJS alone: the rest is the
 * operator's own cost above it (see docs/architecture.md, operators).
 *
 * `npm run bench:operators -- --respond` measures instead `rx-memif respond --echo-other`
 * against `rx-memif echo`, both fed by a testpmd flowgen client, interleaved (echo, respond,
 * echo, respond: the vCPUs here change placement, so only a ratio within a run means anything):
 * flowgen's receive rate, and our process's CPU time per packet (section `operators-respond`).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Subject, map, type OperatorFunction } from 'rxjs';
import { Bench, type Task } from 'tinybench';
import {
  and,
  Burst,
  decrementTtlBurst,
  decrementTtlOrDrop,
  dstPort,
  filterBurst,
  filterPackets,
  icmpResponder,
  icmpResponderBurst,
  ipProto,
  net,
  parse,
  parsePacket,
  popVlan,
  popVlanBurst,
  pushVlan,
  pushVlanBurst,
  setChecksumsBurst,
  setIpv4Checksum,
  setL4Checksum,
  setVlanBurst,
  swapMacs,
  swapMacsBurst,
  unburst,
  type PacketPredicate,
} from '../src/index';
import { concat, ethernet, ipv4Header, udp } from '../test/operators/build';
import { Testpmd } from '../test/helpers/testpmd';
import { compileTree } from './compile-tree';
import { writeSection } from './results-file';

const N = 2048;
const BURST = 32;
const TIME = Number(process.env.BENCH_MS ?? 400);

const udpFrame = (): Uint8Array => {
  const f = concat(
    ethernet(0x0800),
    ipv4Header(
      { src: Uint8Array.of(10, 0, 0, 2), dst: Uint8Array.of(10, 0, 0, 1), protocol: 17 },
      30,
    ),
    udp(1024, 9, new Uint8Array(22)),
  );
  return setL4Checksum(setIpv4Checksum(f));
};

/** N frames back to back in one slab (the layout of an rx burst), and their pristine bytes. */
const slab = (frame: Uint8Array) => {
  const data = new Uint8Array(N * frame.length);
  for (let i = 0; i < N; i++) data.set(frame, i * frame.length);
  const frames = Array.from({ length: N }, (_, i) =>
    data.subarray(i * frame.length, (i + 1) * frame.length),
  );
  const bursts: Burst[] = [];
  for (let b = 0; b < N / BURST; b++) {
    const offsets = Uint32Array.from({ length: BURST }, (_, i) => (b * BURST + i) * frame.length);
    const lengths = new Uint32Array(BURST).fill(frame.length);
    bursts.push(new Burst(0, BURST, data, offsets, lengths));
  }
  return { data, pristine: data.slice(), frames, bursts };
};

const plain = slab(udpFrame());
const tagged = slab(pushVlan(udpFrame(), 100));

interface Row {
  name: string;
  path: 'packet' | 'burst';
  input: ReturnType<typeof slab>;
  /** Whether the bytes must be restored before each run (the operator rewrites them). */
  restore?: boolean;
}

let sink = 0;
/**
 * CPU time of this process (ms), not wall time: the machine's vCPUs are shared and oversubscribed,
 * so a sample's wall time counts the time other processes ran; CPU time counts ours only.
 */
const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const bench = new Bench({ time: TIME, warmupTime: 100, now: cpuNow });
const rows: Row[] = [];

const perPacket = (
  name: string,
  op: OperatorFunction<Uint8Array, unknown>,
  input = plain,
  restore = false,
): void => {
  const s = new Subject<Uint8Array>();
  s.pipe(op).subscribe(() => sink++);
  const frames = input.frames;
  rows.push({ name, path: 'packet', input, restore });
  bench.add(
    name,
    () => {
      for (let i = 0; i < N; i++) s.next(frames[i]);
    },
    restore ? { beforeEach: () => input.data.set(input.pristine) } : {},
  );
};

const perBurst = (
  name: string,
  op: OperatorFunction<Burst, unknown>,
  input = plain,
  restore = false,
): void => {
  const s = new Subject<Burst>();
  s.pipe(op).subscribe(() => sink++);
  const bursts = input.bursts;
  rows.push({ name, path: 'burst', input, restore });
  bench.add(
    name + ' ',
    () => {
      for (let i = 0; i < bursts.length; i++) s.next(bursts[i]);
    },
    restore ? { beforeEach: () => input.data.set(input.pristine) } : {},
  );
};

const same =
  <T>(): OperatorFunction<T, T> =>
  (x) =>
    x;
const udp9: PacketPredicate = and(ipProto('udp'), dstPort(9), net('10.0.0.0/8'));
const handWritten: PacketPredicate = (p) => p.transport?.kind === 'udp';

perPacket('floor: Subject → subscriber', same());
perPacket(
  'map(parsePacket) (eager, the old parse)',
  map((f: Uint8Array) => parsePacket(f)),
);
perPacket('parse()', parse());
{
  const s = new Subject<Uint8Array>();
  s.pipe(parse()).subscribe((p) => {
    if (p.transport?.kind === 'udp') sink += p.transport.dstPort;
  });
  rows.push({ name: 'parse(), reading transport.dstPort', path: 'packet', input: plain });
  bench.add('parse(), reading transport.dstPort', () => {
    for (let i = 0; i < N; i++) s.next(plain.frames[i]);
  });
}
perPacket("filterPackets(ipProto('udp'))", filterPackets(ipProto('udp')));
perPacket('filterPackets(and(udp, dstPort, net))', filterPackets(udp9));
perPacket('filterPackets(hand-written predicate)', filterPackets(handWritten));
perPacket('map(swapMacs)', map(swapMacs));
perPacket('decrementTtlOrDrop()', decrementTtlOrDrop(), plain, true);
perPacket(
  'map(pushVlan)',
  map((f: Uint8Array) => pushVlan(f, 100)),
);
perPacket('map(popVlan)', map(popVlan), tagged, true);
perPacket(
  'map(setIpv4Checksum)',
  map((f: Uint8Array) => setIpv4Checksum(f)),
);
perPacket(
  'map(setL4Checksum)',
  map((f: Uint8Array) => setL4Checksum(f)),
);
perPacket(
  'icmpResponder (not for it)',
  icmpResponder({ ip: '10.9.9.9', mac: '02:00:00:00:00:09' }),
);

perBurst('floor: Subject → subscriber', same());
perBurst('unburst()', unburst());
perBurst("filterBurst(ipProto('udp'))", filterBurst(ipProto('udp')));
perBurst('filterBurst(and(udp, dstPort, net))', filterBurst(udp9));
perBurst("filterBurst(ipProto('tcp')) (drops all)", filterBurst(ipProto('tcp')));
perBurst('filterBurst(hand-written predicate)', filterBurst(handWritten));
perBurst('swapMacsBurst()', swapMacsBurst());
perBurst('decrementTtlBurst()', decrementTtlBurst(), plain, true);
perBurst('pushVlanBurst(100)', pushVlanBurst(100));
perBurst('popVlanBurst()', popVlanBurst(), tagged, true);
perBurst('setVlanBurst(200) (tagged: in place)', setVlanBurst(200), tagged, true);
perBurst('setChecksumsBurst()', setChecksumsBurst());
perBurst(
  'icmpResponderBurst (not for it: respond --echo-other)',
  icmpResponderBurst({ ip: '10.9.9.9', mac: '02:00:00:00:00:09', passThrough: () => sink++ }),
);

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

const respondVsEcho = async (): Promise<void> => {
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

const main = async (): Promise<void> => {
  if (process.argv.includes('--respond')) return respondVsEcho();
  await bench.warmup();
  await bench.run();
  const ns = (t: Task, key: 'mean' | 'min'): string =>
    t.result ? ((t.result[key] * 1e6) / N).toFixed(1) : 'error';
  const lines = [
    `Operators, ns per packet (64-byte UDP frames, ${N} per sample, bursts of ${BURST}, ` +
      `tinybench ${TIME} ms per task, process CPU time, CPU 0, Node ${process.versions.node}, ${new Date().toISOString().slice(0, 10)}).`,
    'The floor rows are RxJS alone; mean over samples, and the best sample (min).',
    '',
    '| path | operator | ns/packet (mean) | ns/packet (min) |',
    '|---|---|---|---|',
  ];
  bench.tasks.forEach((t, i) => {
    const r = rows[i];
    lines.push(`| ${r.path} | \`${r.name}\` | ${ns(t, 'mean')} | ${ns(t, 'min')} |`);
  });
  console.log(lines.join('\n'));
  if (process.env.BENCH_NO_WRITE === undefined) writeSection('operators', lines);
  if (sink < 0) console.log(sink);
};

void main();
