import { expect } from 'chai';
import * as path from 'node:path';
import { genSize } from '../../src/cli/frames';
import { runCli } from '../helpers/cli';
import type { CliRun } from '../helpers/cli';
import { tempDir } from '../helpers/states';
import { Testpmd, requireTestpmd } from '../helpers/testpmd';
import type { TestpmdOptions } from '../helpers/testpmd';

/**
 * `--workers N` of the CLI (issue 14): the queues' data path in worker threads, the main thread
 * printing the same summary plus "workers" and the packets by queue. Against testpmd, between
 * two rx-memif processes, across a peer that is SIGKILLed and comes back.
 */

type Json = Record<string, unknown>;
interface QueueCount {
  queue: number;
  rx: number;
  tx: number;
}

const summaryOf = (r: { json(): Json[] }): Json => {
  const s = r.json().filter((l) => l.event === 'summary');
  expect(s, 'one summary line').to.have.length(1);
  return s[0];
};
const packets = (s: Json, dir: 'rx' | 'tx'): number => (s[dir] as { packets: number }).packets;
const queuesOf = (s: Json): QueueCount[] => s.queues as QueueCount[];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const bytesOf = (count: number, min: number, max: number): number => {
  let n = 0;
  for (let seq = 0; seq < count; seq++) n += genSize(seq, min, max);
  return n;
};
/** Bytes of `count` gen frames spread over `queues` (each queue numbers its own from 0). */
const spreadBytes = (count: number, queues: number, min: number, max: number): number => {
  let n = 0;
  for (let q = 0; q < queues; q++)
    n += bytesOf(Math.floor(count / queues) + (q < count % queues ? 1 : 0), min, max);
  return n;
};

const LISTENING = /"status":"listening"/;

describe('interop: rx-memif --workers N (queues in worker threads)', function () {
  this.timeout(180000);
  let dir = '';
  let cleanup: () => void = () => undefined;
  let children: CliRun[] = [];
  let peers: Testpmd[] = [];
  /** stdout of each child so far, for the tests that read stats lines while it runs. */
  const outputs = new Map<CliRun, string>();

  before(function () {
    requireTestpmd(this);
  });

  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
  });

  afterEach(async () => {
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(children);
    await Promise.all(peers.map((p) => p.stop()));
    children = [];
    peers = [];
    outputs.clear();
    cleanup();
  });

  const cli = (args: string[]): CliRun => {
    const c = runCli(args);
    children.push(c);
    return c;
  };
  const testpmd = (o: TestpmdOptions): Testpmd => {
    const t = new Testpmd(o);
    peers.push(t);
    return t;
  };

  it('gen --queues 2 --workers 2 --count 200000 through a testpmd io server (--rxq=2 --txq=2): 0 lost, 0 corrupt, both queues carried packets', async () => {
    const socket = path.join(dir, 'memif.sock');
    const peer = testpmd({
      role: 'server',
      socket,
      forwardMode: 'io',
      args: ['--no-flush-rx', '--rxq=2', '--txq=2'],
    });
    await peer.ready();
    const N = 200_000;
    const r = await cli([
      'gen',
      '--socket',
      socket,
      '--queues',
      '2',
      '--workers',
      '2',
      '--count',
      String(N),
      '--size',
      '64..1500',
      '--secs',
      '60',
      '--json',
    ]);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    const s = summaryOf(r);
    expect(s).to.deep.include({ lost: 0, corrupt: 0, sent: N, received: N, workers: 2 });
    const bytes = spreadBytes(N, 2, 64, 1500);
    expect(s.tx).to.deep.include({ packets: N, bytes });
    expect(s.rx).to.deep.include({ packets: N, bytes });
    expect(queuesOf(s)).to.deep.equal([
      { queue: 0, rx: N / 2, tx: N / 2 },
      { queue: 1, rx: N / 2, tx: N / 2 },
    ]);
    // testpmd's own counters read 0 once gen has left (docs/interop.md#testpmd-quirks): ours it is.
    expect(peer.output).to.match(/port 0: RX queue number: 2 Tx queue number: 2/);
  });

  it('gen --queues 4 --workers 4 ↔ echo --queues 4 --workers 2, 10^6 mixed-size frames: nothing lost', async () => {
    const socket = path.join(dir, 'memif.sock');
    const common = ['--socket', socket, '--queues', '4', '--json'];
    const echo = cli(['echo', '--role', 'server', '--workers', '2', ...common]);
    await echo.waitForLine(LISTENING);
    const N = 1_000_000;
    const g = await cli([
      'gen',
      '--workers',
      '4',
      '--count',
      String(N),
      '--size',
      '64..1500',
      '--secs',
      '60',
      ...common,
    ]);
    expect(g.code, g.stdout + g.stderr).to.equal(0);
    const s = summaryOf(g);
    console.log(`      ${N} frames in ${String(s.secs)} s`);
    expect(s).to.deep.include({ lost: 0, corrupt: 0, sent: N, received: N, workers: 4 });
    const bytes = spreadBytes(N, 4, 64, 1500);
    expect(s.rx).to.deep.include({ packets: N, bytes });
    for (const q of queuesOf(s)) expect(q).to.deep.equal({ queue: q.queue, rx: N / 4, tx: N / 4 });
    echo.kill('SIGINT');
    const e = summaryOf(await echo);
    expect(e).to.deep.include({ workers: 2, drops: {} });
    expect(packets(e, 'rx')).to.equal(N);
    expect(packets(e, 'tx')).to.equal(N);
    expect(queuesOf(e).map((q) => q.rx)).to.deep.equal([N / 4, N / 4, N / 4, N / 4]);
  });

  it('echo --workers 2 (server) keeps serving when its gen is SIGKILLed mid-traffic: after the reconnection the counters grow again and the new gen loses nothing', async () => {
    const socket = path.join(dir, 'memif.sock');
    const common = ['--socket', socket, '--queues', '2', '--json'];
    const echo = cli(['echo', '--role', 'server', '--workers', '2', ...common]);
    await echo.waitForLine(LISTENING);
    const first = cli(['gen', '--secs', '60', ...common]);
    // Worker threads under ts-node take seconds to start on a loaded machine: echo answers then.
    await first.waitForLine(/"event":"stats".*"rx":\{"packets":[1-9]/, 60000);
    first.kill('SIGKILL');
    await first;
    await echo.waitForLine(/"status":"disconnected"/);
    await sleep(1100); // a stats line while nobody is connected

    const N = 100_000;
    const second = await cli([
      'gen',
      '--count',
      String(N),
      '--size',
      '64..1500',
      '--secs',
      '60',
      ...common,
    ]);
    expect(second.code, second.stdout + second.stderr).to.equal(0);
    const s = summaryOf(second);
    expect(s).to.deep.include({ lost: 0, corrupt: 0, sent: N, received: N });
    expect(queuesOf(s).map((q) => q.rx)).to.deep.equal([N / 2, N / 2]);
    await sleep(1100); // a stats line after the second gen
    echo.kill('SIGINT');
    const e = await echo;
    expect(e.code, e.stderr).to.equal(1); // not connected at the end
    const lines = e.json();
    const connects = lines.flatMap((l, i) =>
      l.event === 'state' && (l.state as Json).status === 'connected' ? [i] : [],
    );
    expect(connects, 'two connections').to.have.length(2);
    const rxAt = (l: Json) => packets(l, 'rx');
    const statsBefore = lines.slice(0, connects[1]).filter((l) => l.event === 'stats');
    const statsAfter = lines.slice(connects[1]).filter((l) => l.event === 'stats');
    const rxBefore = rxAt(statsBefore[statsBefore.length - 1]);
    expect(rxBefore, 'echo carried the first gen').to.be.greaterThan(0);
    expect(rxAt(statsAfter[statsAfter.length - 1]), 'counters grew again').to.equal(rxBefore + N);
    const es = summaryOf(e);
    expect(es.workers).to.equal(2);
    expect(packets(es, 'rx')).to.equal(rxBefore + N);
  });

  it('gen --one-way --queues 2 into sink --check --count N --workers 2: all N intact and in order', async () => {
    const socket = path.join(dir, 'memif.sock');
    const common = ['--socket', socket, '--queues', '2', '--secs', '60', '--json'];
    const N = 50_000;
    const sink = cli([
      'sink',
      '--role',
      'server',
      '--check',
      '--count',
      String(N),
      '--workers',
      '2',
      ...common,
    ]);
    await sink.waitForLine(LISTENING);
    const g = await cli([
      'gen',
      '--one-way',
      '--count',
      String(N),
      '--size',
      '64..9000',
      ...common,
    ]);
    expect(g.code, g.stdout + g.stderr).to.equal(0);
    const s = await sink;
    expect(s.code, s.stdout + s.stderr).to.equal(0);
    const ss = summaryOf(s);
    expect(ss).to.deep.include({
      received: N,
      lost: 0,
      corrupt: 0,
      outOfOrder: 0,
      foreign: 0,
      rxDrops: 0,
      count: N,
      workers: 2,
    });
    expect(ss.rx).to.deep.include({ packets: N, bytes: spreadBytes(N, 2, 64, 9000) });
    expect(queuesOf(ss).map((q) => q.rx)).to.deep.equal([N / 2, N / 2]);
  });

  it('respond --workers 2 --echo-other: gen frames come back on both queues, and ping is answered', async () => {
    const socket = path.join(dir, 'memif.sock');
    const common = ['--socket', socket, '--queues', '2', '--json'];
    const respond = cli([
      'respond',
      '--role',
      'server',
      '--ip',
      '192.0.2.1/24',
      '--echo-other',
      '--workers',
      '2',
      ...common,
    ]);
    await respond.waitForLine(LISTENING);
    const N = 20_000;
    const g = await cli(['gen', '--count', String(N), '--secs', '60', ...common]);
    expect(g.code, g.stdout + g.stderr).to.equal(0);
    expect(summaryOf(g)).to.deep.include({ lost: 0, corrupt: 0, received: N });
    const p = await cli([
      'ping',
      '--ip',
      '192.0.2.2/24',
      '--target',
      '192.0.2.1',
      '--count',
      '3',
      '--interval',
      '50',
      '--secs',
      '20',
      ...common,
    ]);
    expect(p.code, p.stdout + p.stderr).to.equal(0);
    respond.kill('SIGINT');
    const r = await respond;
    const rs = summaryOf(r);
    expect(rs).to.deep.include({ workers: 2, other: N });
    const answered = rs.answered as Record<string, number>;
    expect(answered.arp).to.be.at.least(1);
    expect(answered.icmp).to.be.at.least(3);
    const [q0, q1] = queuesOf(rs);
    expect(q0.rx).to.be.at.least(N / 2 + 4); // ping's ARP and requests come on queue 0
    expect(q1.rx).to.equal(N / 2);
  });
});

describe('cli: --workers usage', function () {
  // Each run is a ts-node start-up, several seconds on a loaded machine: all at once.
  this.timeout(60000);
  it('echo, gen, sink and respond: --queues 2 --workers 3 exits 2; --help documents --workers', async () => {
    const check = async (command: string): Promise<void> => {
      const extra = command === 'respond' ? ['--ip', '192.0.2.1'] : [];
      const [r, h] = await Promise.all([
        runCli([command, '--queues', '2', '--workers', '3', ...extra]),
        runCli([command, '--help']),
      ]);
      expect(r.code, `${command}: ${r.stderr}`).to.equal(2);
      expect(r.stderr, command).to.match(/--workers must be at most --queues \(2\)/);
      expect(h.stdout, command).to.contain('--workers N').and.contain('"workers"');
    };
    await Promise.all(['echo', 'gen', 'sink', 'respond'].map(check));
  });
});
