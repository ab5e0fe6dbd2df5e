import { expect } from 'chai';
import { runCli } from '../helpers/cli';
import type { CliRun } from '../helpers/cli';
import { waitForState } from '../helpers/states';
import { SequenceChecker, genFrames, totals, until, useInterfaces, within } from './fixture';

/** The JSON summary of `rx-memif gen|echo|sink --json`. */
interface Summary {
  event: 'summary';
  secs: number;
  rx: { packets: number; bytes: number; mpps: number };
  tx: { packets: number; bytes: number; mpps: number };
  lost: number;
  corrupt: number;
  drops: Record<string, number>;
  connected: boolean;
  sent?: number;
  received?: number;
}

const summaryOf = (lines: Record<string, unknown>[]): Summary => {
  const s = lines.filter((l) => l.event === 'summary');
  expect(s, 'one summary line').to.have.length(1);
  return s[0] as unknown as Summary;
};

const LISTENING = /"status":"listening"/;

describe('streams: two processes (rx-memif CLI)', () => {
  const { socket, make } = useInterfaces();
  let children: CliRun[] = [];

  const cli = (args: string[]): CliRun => {
    const run = runCli(args);
    children.push(run);
    return run;
  };

  afterEach(async () => {
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(children);
    children = [];
  });

  for (const { size, count } of [
    { size: 64, count: 1_000_000 },
    { size: 9000, count: 20_000 },
  ]) {
    it(`gen --count ${count} --size ${size} against echo --role server: 0 lost, 0 corrupt, exit 0`, async () => {
      const sock = socket();
      const echo = cli(['echo', '--role', 'server', '--socket', sock, '--json']);
      await echo.waitForLine(LISTENING);
      const gen = await cli([
        'gen',
        '--socket',
        sock,
        '--count',
        String(count),
        '--size',
        String(size),
        '--json',
        '--secs',
        '40',
      ]);
      expect(gen.code, gen.stderr).to.equal(0);
      const g = summaryOf(gen.json());
      echo.kill('SIGTERM');
      const e = await echo;
      const es = summaryOf(e.json());
      console.log(
        `      gen ${count} x ${size} B: ${g.secs} s, tx ${g.tx.mpps} Mpps, rx ${g.rx.mpps} Mpps` +
          ` (${((g.rx.bytes * 8) / g.secs / 1e9).toFixed(2)} Gbit/s back)`,
      );
      expect(g).to.deep.include({ lost: 0, corrupt: 0, sent: count, received: count, drops: {} });
      expect(g).to.deep.include({ notSent: 0, notReturned: 0 });
      expect(g.tx).to.deep.include({ packets: count, bytes: count * size });
      expect(g.rx).to.deep.include({ packets: count, bytes: count * size });
      expect(g.secs).to.be.greaterThan(0);
      expect(g.tx.mpps).to.be.closeTo(count / g.secs / 1e6, 0.001);
      expect(g.rx.mpps).to.be.greaterThan(0);
      // The echo saw and returned every frame, and dropped none.
      expect(es.rx).to.deep.include({ packets: count, bytes: count * size });
      expect(es.tx).to.deep.include({ packets: count, bytes: count * size });
      expect(es.drops).to.deep.equal({});
      // echo's exit status says whether it was connected when stopped: gen had already left.
      expect(es.connected).to.equal(false);
      expect(e.code).to.equal(1);
    });
  }

  it('gen flat out against echo: every frame sent is either back, not sent or not returned', async () => {
    const sock = socket();
    const echo = cli(['echo', '--role', 'server', '--socket', sock, '--json']);
    await echo.waitForLine(LISTENING);
    const gen = await cli(['gen', '--socket', sock, '--size', '64', '--secs', '1', '--json']);
    expect(gen.code, gen.stderr).to.equal(0);
    const g = summaryOf(gen.json()) as Summary & { notSent: number; notReturned: number };
    echo.kill('SIGTERM');
    await echo;
    expect(g.sent).to.be.greaterThan(0);
    expect(g.notSent).to.equal(Math.max(0, (g.sent ?? 0) - g.tx.packets));
    expect(g.lost).to.equal(g.notSent + g.notReturned);
    expect((g.received ?? 0) + g.corrupt + g.lost).to.equal(g.sent);
  });

  it('an in-test client against an echo child: every frame comes back intact; echo exits 0 while connected', async () => {
    const N = 20000;
    const sock = socket();
    const echo = cli(['echo', '--role', 'server', '--socket', sock, '--json']);
    await echo.waitForLine(LISTENING);
    const client = make({ role: 'client', socket: sock, lossless: true, bufferSize: 1024 });
    await waitForState(client, 'connected');
    const back = new SequenceChecker(N, 1500);
    client.rx().subscribe((f) => back.check(f));
    await client.send(genFrames(N, 1500));
    const arrived = await within(back.done, 15000, () => `back ${back.next} of ${N}`).then(
      () => undefined,
      (error: unknown) => error,
    );
    echo.kill('SIGTERM');
    const e = await echo;
    const es = summaryOf(e.json());
    // echo's own account first: a drop it counted says where missing frames went.
    expect(es.drops, 'drops counted by echo').to.deep.equal({});
    if (arrived !== undefined) throw arrived;
    back.assertComplete();
    expect(e.code, e.stderr).to.equal(0);
    expect(es).to.deep.include({ connected: true, lost: 0, corrupt: 0, drops: {} });
    expect(es.rx).to.deep.include({ packets: N, bytes: N * 1500 });
    expect(es.tx).to.deep.include({ packets: N, bytes: N * 1500 });
    expect(totals(client.stats(), 'rx')).to.deep.include({
      packets: N,
      bytes: N * 1500,
      drops: {},
    });
  });

  for (const rxMode of ['interrupt', 'polling', 'adaptive'])
    it(`echo --rx-mode ${rxMode} --tx-high-water 32: a lossless sender gets every frame back, no drops anywhere`, async () => {
      const N = 20000;
      const sock = socket();
      const echo = cli([
        'echo',
        '--role',
        'server',
        '--socket',
        sock,
        '--rx-mode',
        rxMode,
        '--tx-high-water',
        '32',
        '--json',
      ]);
      await echo.waitForLine(LISTENING);
      const client = make({ role: 'client', socket: sock, lossless: true, log2RingSize: 8 });
      await waitForState(client, 'connected');
      const back = new SequenceChecker(N, 64);
      client.rx().subscribe((f) => back.check(f));
      await client.send(genFrames(N, 64));
      await within(back.done, 15000, () => `back ${back.next} of ${N}`);
      back.assertComplete();
      echo.kill('SIGTERM');
      const e = await echo;
      expect(e.code, e.stderr).to.equal(0);
      const es = summaryOf(e.json());
      expect(es).to.deep.include({ connected: true, drops: {} });
      expect(es.tx).to.deep.include({ packets: N });
    });

  for (const [flag, value, message] of [
    ['--tx-high-water', '0', /--tx-high-water must be an integer/],
    ['--tx-high-water', '9000', /txHighWater: must be at most txQueueSize \(8192\)/],
    ['--rx-mode', 'busy', /rxMode: must be interrupt\|polling\|adaptive/],
  ] as const)
    it(`echo ${flag} ${value} exits 2 with the reason`, async () => {
      const r = await cli(['echo', flag, value, '--socket', socket()]);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.match(message);
    });

  it('the echo process is killed (SIGKILL) mid-burst: the client survives and works with a new echo', async () => {
    const sock = socket();
    const first = cli(['echo', '--role', 'server', '--socket', sock, '--json']);
    await first.waitForLine(LISTENING);
    const client = make({ role: 'client', socket: sock, lossless: true });
    await waitForState(client, 'connected');
    let back = 0;
    client.rx().subscribe(() => back++);
    const sending = client.send(genFrames(400_000, 64));
    await until(
      () => back >= 20000,
      10000,
      () => `back ${back}`,
    );
    first.kill('SIGKILL');
    const down = await waitForState(client, 'disconnected', 5000);
    expect(down.by).to.equal('peer');
    expect(await within(sending, 20000, () => 'send() did not settle')).to.equal(400_000);
    const s = totals(client.stats(), 'tx');
    expect(s.packets + (s.drops.linkDown ?? 0)).to.equal(400_000);
    await first;

    const second = cli(['echo', '--role', 'server', '--socket', sock, '--json']);
    await second.waitForLine(LISTENING);
    await waitForState(client, 'connected', 5000);
    const checker = new SequenceChecker(3000, 200);
    const sub = client.rx().subscribe((f) => checker.check(f));
    await client.send(genFrames(3000, 200));
    await within(checker.done, 5000, () => `back ${checker.next} of 3000`);
    sub.unsubscribe();
    checker.assertComplete();
  });
});
