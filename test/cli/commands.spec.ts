import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { memif } from '../../src/index';
import type { MemifInterface } from '../../src/index';
import { arpRequest } from '../../src/cli/packets';
import { genSize, parseMac, writeGenFrame } from '../../src/cli/frames';
import { runCli } from '../helpers/cli';
import type { CliRun } from '../helpers/cli';
import { tempDir, waitForState } from '../helpers/states';
import { Testpmd, requireTestpmd } from '../helpers/testpmd';

type Json = Record<string, unknown>;
const events = (lines: Json[], event: string): Json[] => lines.filter((l) => l.event === event);

describe('cli: respond, ping, dump', function () {
  this.timeout(60000);
  let dir = '';
  let cleanup: () => void = () => undefined;
  let children: CliRun[] = [];
  let peers: Testpmd[] = [];
  let ifaces: MemifInterface[] = [];

  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
  });

  afterEach(async () => {
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(children);
    await Promise.all(peers.map((p) => p.stop()));
    await Promise.all(ifaces.map((i) => i.close()));
    children = [];
    peers = [];
    ifaces = [];
    cleanup();
  });

  const cli = (args: string[]): CliRun => {
    const c = runCli(args);
    children.push(c);
    return c;
  };

  describe('bad options exit 2, --help exits 0', () => {
    const bad: [string, string[], RegExp][] = [
      ['ping without --target', ['ping', '--ip', '192.0.2.2/24'], /--target/],
      ['ping without --ip', ['ping', '--target', '192.0.2.1'], /--ip/],
      [
        'ping with a bad target',
        ['ping', '--ip', '192.0.2.2', '--target', '300.1.1.1'],
        /--target/,
      ],
      [
        'ping --count 0',
        ['ping', '--ip', '10.0.0.1', '--target', '10.0.0.2', '--count', '0'],
        /--count/,
      ],
      [
        'ping --interval x',
        ['ping', '--ip', '10.0.0.1', '--target', '10.0.0.2', '--interval', 'x'],
        /--interval/,
      ],
      ['respond without an address', ['respond'], /--ip/],
      ['respond --ip with IPv6', ['respond', '--ip', 'fd00::1'], /--ip/],
      ['respond --ip6 garbage', ['respond', '--ip6', 'nope/64'], /--ip6/],
      ['respond --mac garbage', ['respond', '--ip', '10.0.0.1', '--mac', 'zz'], /mac/i],
      ['dump --count 0', ['dump', '--count', '0'], /--count/],
      ['dump with an unknown option', ['dump', '--bogus'], /bogus/],
    ];
    for (const [name, args, message] of bad)
      it(name, async () => {
        const r = await cli(args);
        expect(r.code, r.stderr).to.equal(2);
        expect(r.stderr).to.match(message);
      });

    for (const command of ['respond', 'ping', 'dump'])
      it(`${command} --help`, async () => {
        const r = await cli([command, '--help']);
        expect(r.code).to.equal(0);
        expect(r.stdout).to.contain(`Usage: rx-memif ${command}`);
        expect(r.stdout).to.contain('--socket');
      });

    it('the command list names them', async () => {
      const r = await cli(['--help']);
      expect(r.stdout)
        .to.match(/respond/)
        .and.match(/ping/)
        .and.match(/dump/);
    });
  });

  describe('against dpdk-testpmd', () => {
    before(function () {
      requireTestpmd(this);
    });

    it('ping gets replies from testpmd in icmpecho mode', async () => {
      const socket = path.join(dir, 'memif.sock');
      const peer = new Testpmd({ role: 'server', socket, forwardMode: 'icmpecho' });
      peers.push(peer);
      await peer.ready();
      const portMac = (await peer.waitFor(/Port 0: ([0-9A-F:]{17})/))[1].toLowerCase();
      const r = await cli([
        'ping',
        '--socket',
        socket,
        '--ip',
        '192.0.2.2/24',
        '--target',
        '192.0.2.1',
        '--count',
        '4',
        '--interval',
        '100',
        '--secs',
        '30',
        '--json',
      ]);
      expect(r.code, r.stdout + r.stderr).to.equal(0);
      const lines = r.json();
      expect(events(lines, 'arp')[0]).to.deep.include({ target: '192.0.2.1', mac: portMac });
      const replies = events(lines, 'reply');
      expect(replies.map((l) => l.seq)).to.deep.equal([1, 2, 3, 4]);
      for (const l of replies) {
        expect(l).to.include({ bytes: 64, from: '192.0.2.1' });
        expect(l.rttMs).to.be.a('number').and.be.greaterThan(0);
      }
      const [summary] = events(lines, 'summary');
      expect(summary).to.include({ transmitted: 4, received: 4, loss: 0, connected: true });
      const rtt = summary.rttMs as Record<string, number>;
      expect(rtt.min).to.be.at.most(rtt.avg);
      expect(rtt.avg).to.be.at.most(rtt.max);
      expect(rtt.p99).to.be.at.most(rtt.max);
    });

    it("respond takes a testpmd client's traffic: flowgen frames come back with --echo-other", async () => {
      const socket = path.join(dir, 'memif.sock');
      const server = cli([
        'respond',
        '--role',
        'server',
        '--socket',
        socket,
        '--ip',
        '192.0.2.1/24',
        '--echo-other',
        '--secs',
        '6',
        '--json',
      ]);
      await server.waitForLine(/"status":"listening"/);
      const peer = new Testpmd({
        role: 'client',
        socket,
        forwardMode: 'flowgen',
        args: ['--txpkts=64', '--burst=32'],
      });
      peers.push(peer);
      await peer.waitFor(/packet forwarding - ports=/);
      await new Promise((r) => setTimeout(r, 1500));
      const [stats] = await peer.stop(); // testpmd first: its counters read 0 once we are gone
      const r = await server;
      expect(r.code, r.stdout + r.stderr).to.be.oneOf([0, 1]); // 1: the peer left before the end
      const [summary] = events(r.json(), 'summary');
      expect(summary.other as number).to.be.greaterThan(0);
      expect(stats.rxPackets, 'testpmd received our echoes').to.be.greaterThan(0);
      expect(stats.rxPackets).to.be.at.most(summary.other as number);
    });

    it('ping exits 1 when nothing answers (testpmd rxonly)', async () => {
      const socket = path.join(dir, 'memif.sock');
      const peer = new Testpmd({ role: 'server', socket, forwardMode: 'rxonly' });
      peers.push(peer);
      await peer.ready();
      const r = await cli([
        'ping',
        '--socket',
        socket,
        '--ip',
        '192.0.2.2/24',
        '--target',
        '192.0.2.1',
        '--secs',
        '4',
      ]);
      expect(r.code, r.stdout + r.stderr).to.equal(1);
      expect(r.stdout).to.match(/no ARP reply from 192\.0\.2\.1/);
    });
  });

  it('respond (server) answers ping (client), both rx-memif processes', async () => {
    const socket = path.join(dir, 'memif.sock');
    const server = cli([
      'respond',
      '--role',
      'server',
      '--socket',
      socket,
      '--ip',
      '192.0.2.1/24',
      '--mac',
      '02:00:00:00:00:01',
      '--json',
    ]);
    await server.waitForLine(/"listening"/);
    const r = await cli([
      'ping',
      '--role',
      'client',
      '--socket',
      socket,
      '--ip',
      '192.0.2.2/24',
      '--target',
      '192.0.2.1',
      '--count',
      '5',
      '--interval',
      '50',
      '--json',
    ]);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    const lines = r.json();
    expect(events(lines, 'arp')[0]).to.include({ mac: '02:00:00:00:00:01' });
    expect(events(lines, 'reply')).to.have.length(5);
    expect(events(lines, 'summary')[0]).to.include({ transmitted: 5, received: 5, loss: 0 });
    server.kill('SIGINT');
    const s = await server;
    const [summary] = events(s.json(), 'summary');
    expect(summary).to.include({ lost: 0, corrupt: 0 });
    expect(summary.answered).to.deep.include({ arp: 1, icmp: 5 });
    expect((summary.rx as Json).packets).to.equal(6);
    expect((summary.tx as Json).packets).to.equal(6);
  });

  it('dump writes a pcap file that tshark reads, one record per frame', async function () {
    if (spawnSync('sh', ['-c', 'command -v tshark']).status !== 0) {
      if (process.env.CI === 'true') throw new Error('tshark is missing (CI=true)');
      this.skip();
    }
    const socket = path.join(dir, 'memif.sock');
    const file = path.join(dir, 'dump.pcap');
    const dumper = cli([
      'dump',
      '--role',
      'server',
      '--socket',
      socket,
      '--pcap',
      file,
      '--count',
      '7',
      '--secs',
      '30',
      '--json',
    ]);
    await dumper.waitForLine(/"listening"/);
    const client = memif({ role: 'client', socket, mac: '02:00:00:00:00:02' });
    ifaces.push(client);
    await waitForState(client, 'connected');
    const udp = Uint8Array.from(
      Buffer.from(
        'ffffffffffff' +
          '020000000002' +
          '0800' +
          '4500001e000100004011f6cac0000202c0000201' + // 192.0.2.2 > 192.0.2.1 UDP
          '303904d2000a0000' + // 12345 > 1234
          '6869',
        'hex',
      ),
    );
    const frames = Array.from({ length: 7 }, () => udp);
    expect(await client.send(frames)).to.equal(7);
    const r = await dumper;
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    const packets = events(r.json(), 'packet');
    expect(packets).to.have.length(7);
    expect(packets[0]).to.include({
      src: '02:00:00:00:00:02',
      dst: 'ff:ff:ff:ff:ff:ff',
      srcIp: '192.0.2.2',
      dstIp: '192.0.2.1',
      proto: 'udp',
      srcPort: 12345,
      dstPort: 1234,
      length: udp.length,
    });
    expect(events(r.json(), 'summary')[0]).to.include({ packets: 7, pcap: file });
    const t = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'udp.dstport'], {
      encoding: 'utf8',
    });
    expect(t.status, t.stderr).to.equal(0);
    expect(t.stdout.trim().split('\n')).to.deep.equal(Array(7).fill('1234'));
  });

  it('dump prints tcpdump-like lines when stdout is not a terminal', async () => {
    const socket = path.join(dir, 'memif.sock');
    const dumper = cli(['dump', '--role', 'server', '--socket', socket, '--count', '2']);
    await dumper.waitForLine(/listening/);
    const client = memif({ role: 'client', socket, mac: '02:00:00:00:00:02' });
    ifaces.push(client);
    await waitForState(client, 'connected');
    const arp = arpRequest(
      Uint8Array.of(2, 0, 0, 0, 0, 2),
      Uint8Array.of(192, 0, 2, 2),
      Uint8Array.of(192, 0, 2, 1),
    );
    await client.send([arp, arp]);
    const r = await dumper;
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(
      /^\d\d:\d\d:\d\d\.\d{6} 02:00:00:00:00:02 > ff:ff:ff:ff:ff:ff, ARP, Request who-has 192\.0\.2\.1 tell 192\.0\.2\.2, length 42$/m,
    );
    expect(r.stdout).not.to.contain('\r');
  });

  describe('gen --size A..B, gen --one-way, sink --check', () => {
    const bytesOf = (count: number, min: number, max: number): number => {
      let n = 0;
      for (let seq = 0; seq < count; seq++) n += genSize(seq, min, max);
      return n;
    };
    /** `rx-memif sink --check --count N` as the server, with --json. */
    const checkingSink = (count: number, secs: number, more: string[]): CliRun =>
      cli([
        'sink',
        '--role',
        'server',
        '--check',
        '--count',
        String(count),
        '--secs',
        String(secs),
        '--json',
        ...more,
      ]);

    const bad: [string, string[], RegExp][] = [
      ['gen --size range reversed', ['gen', '--size', '300..100'], /--size/],
      ['gen --size range open', ['gen', '--size', '64..'], /--size/],
      ['gen --one-way without --count', ['gen', '--one-way'], /--one-way needs --count/],
      ['sink --count without --check', ['sink', '--count', '5'], /--count needs --check/],
    ];
    for (const [name, args, message] of bad)
      it(`${name} exits 2`, async () => {
        const r = await cli(args);
        expect(r.code, r.stderr).to.equal(2);
        expect(r.stderr).to.match(message);
      });

    it('gen --help and sink --help document the new options', async () => {
      const g = await cli(['gen', '--help']);
      expect(g.stdout).to.contain('--one-way').and.contain('--size A..B');
      const s = await cli(['sink', '--help']);
      expect(s.stdout).to.contain('--check').and.contain('outOfOrder');
    });

    it('gen --count --size 100..3000 round trip against echo: mixed sizes, every one back', async () => {
      const socket = path.join(dir, 'memif.sock');
      const echo = cli(['echo', '--role', 'server', '--socket', socket, '--json']);
      await echo.waitForLine(/"listening"/);
      const r = await cli([
        'gen',
        '--socket',
        socket,
        '--count',
        '3000',
        '--size',
        '100..3000',
        '--secs',
        '30',
        '--json',
      ]);
      expect(r.code, r.stdout + r.stderr).to.equal(0);
      const [summary] = events(r.json(), 'summary');
      const bytes = bytesOf(3000, 100, 3000);
      expect(summary).to.deep.include({ lost: 0, corrupt: 0, sent: 3000, received: 3000 });
      expect(summary.tx).to.deep.include({ packets: 3000, bytes });
      expect(summary.rx).to.deep.include({ packets: 3000, bytes });
    });

    it('gen --one-way (client) into sink --check (server): all N intact and in order, both exit 0', async () => {
      const N = 20000;
      const socket = path.join(dir, 'memif.sock');
      const sink = checkingSink(N, 40, ['--socket', socket]);
      await sink.waitForLine(/"listening"/);
      const g = await cli([
        'gen',
        '--socket',
        socket,
        '--one-way',
        '--count',
        String(N),
        '--size',
        '64..9000',
        '--secs',
        '40',
        '--json',
      ]);
      const s = await sink;
      expect(g.code, g.stdout + g.stderr).to.equal(0);
      expect(s.code, s.stdout + s.stderr).to.equal(0);
      const bytes = bytesOf(N, 64, 9000);
      const [gs] = events(g.json(), 'summary');
      expect(gs).to.deep.include({ sent: N, lost: 0, corrupt: 0, received: 0, drops: {} });
      expect(gs.tx).to.deep.include({ packets: N, bytes });
      const [ss] = events(s.json(), 'summary');
      expect(ss).to.deep.include({
        received: N,
        lost: 0,
        corrupt: 0,
        outOfOrder: 0,
        foreign: 0,
        rxDrops: 0,
        count: N,
        drops: {},
      });
      expect(ss.rx).to.deep.include({ packets: N, bytes });
      expect(ss.secs).to.be.greaterThan(0);
    });

    it('sink --check still gets every frame a gen left in the ring when it went away (sink paused meanwhile)', async () => {
      // One slot a frame (--bsize 9216), all 1000 fit in the 1024-slot ring: gen finishes while
      // the sink is stopped. Resumed, the sink sees the link go down with the ring full, and
      // must deliver all of it (some 8.5 MB, more than one receive call takes).
      const socket = path.join(dir, 'memif.sock');
      const common = ['--socket', socket, '--bsize', '9216', '--json'];
      const sink = checkingSink(1000, 20, common);
      await sink.waitForLine(/"listening"/);
      const gen = cli([
        'gen',
        '--one-way',
        '--count',
        '1000',
        '--size',
        '8000..9000',
        '--secs',
        '20',
        ...common,
      ]);
      await sink.waitForLine(/"status":"connected"/);
      process.kill(sink.pid as number, 'SIGSTOP');
      const g = await gen;
      process.kill(sink.pid as number, 'SIGCONT');
      expect(g.code, g.stdout + g.stderr).to.equal(0);
      const s = await sink;
      const [summary] = events(s.json(), 'summary');
      expect(summary).to.deep.include({ received: 1000, lost: 0, corrupt: 0, outOfOrder: 0 });
      expect(s.code).to.equal(0);
    });

    it('sink --check counts a gap, a duplicate, a corrupt and a foreign frame, and the missing tail; exits 1', async () => {
      const socket = path.join(dir, 'memif.sock');
      const sink = checkingSink(10, 3, ['--socket', socket]);
      await sink.waitForLine(/"listening"/);
      const client = memif({ role: 'client', socket, lossless: true });
      ifaces.push(client);
      await waitForState(client, 'connected');
      const src = parseMac(client.options.mac);
      const frame = (seq: number): Uint8Array => {
        const f = new Uint8Array(genSize(seq, 64, 1500));
        writeGenFrame(f, f.length, seq, 0xc0ffee, src);
        return f;
      };
      const corrupt = frame(5);
      corrupt[corrupt.length - 1] ^= 1;
      const arp = arpRequest(
        Uint8Array.from(src),
        Uint8Array.of(10, 0, 0, 1),
        Uint8Array.of(10, 0, 0, 2),
      );
      // 3 never comes (a gap), 4 twice, 5 damaged, an ARP in between, 9 never comes (the tail).
      const frames = [frame(0), frame(1), frame(2), frame(4), frame(4), corrupt, frame(6), arp];
      frames.push(frame(7), frame(8));
      expect(await client.send(frames)).to.equal(frames.length);
      const s = await sink;
      expect(s.code, s.stdout + s.stderr).to.equal(1);
      const [summary] = events(s.json(), 'summary');
      expect(summary).to.deep.include({
        received: 7,
        lost: 2,
        corrupt: 1,
        outOfOrder: 1,
        foreign: 1,
        rxDrops: 0,
      });
    });
  });
});
