import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MemifOptions } from '../../src/index';
import type { TestpmdOptions } from '../helpers/testpmd';
import { useInterop } from '../helpers/interop';
import { abstractName, waitForState } from '../helpers/states';
import { runCli } from '../helpers/cli';

/**
 * The control plane against DPDK 22.11's net_memif in dpdk-testpmd, in both roles, asserting on
 * both sides: our state$ and testpmd's own log (`--log-level=pmd.net.memif:debug`).
 */
describe('interop: control plane with dpdk-testpmd', function () {
  this.timeout(60000);
  const live = useInterop(200);
  const testpmd = (options: TestpmdOptions) => live.testpmd(options);
  const ours = (options: MemifOptions) => live.ours(options);

  const DPDK_CONNECTED = /memif_connect\(\): Connected\./;

  for (const kind of ['file', 'abstract'] as const) {
    const address = () =>
      kind === 'file'
        ? { socket: path.join(live.dir, 'memif.sock'), abstract: false }
        : { socket: abstractName().slice(1), abstract: true };
    const ourSocket = (a: { socket: string; abstract: boolean }) =>
      a.abstract ? '@' + a.socket : a.socket;

    it(`rx-memif client connects to a testpmd server (${kind} socket)`, async () => {
      const a = address();
      const peer = testpmd({ role: 'server', ...a });
      await peer.ready();
      const client = ours({ role: 'client', socket: ourSocket(a), interfaceName: 'rxm-client' });
      const up = await waitForState(client, 'connected');
      expect(up.peer.appName).to.match(/^DPDK 22\.11/);
      expect(up.peer.interfaceName).to.equal('net_memif0');
      expect(up.queues).to.deep.equal({ rx: 1, tx: 1 });
      await peer.waitFor(DPDK_CONNECTED);
      await peer.waitFor(/Remote interface rxm-client connected/);
    });

    it(`rx-memif server accepts a testpmd client (${kind} socket)`, async () => {
      const a = address();
      const server = ours({ role: 'server', socket: ourSocket(a), interfaceName: 'rxm-server' });
      await waitForState(server, 'listening');
      const peer = testpmd({ role: 'client', ...a });
      const up = await waitForState(server, 'connected');
      expect(up.peer.appName).to.match(/^DPDK 22\.11/);
      expect(up.peer.interfaceName).to.equal('net_memif0');
      await peer.waitFor(DPDK_CONNECTED);
      await peer.waitFor(/Remote interface rxm-server connected/);
    });
  }

  it('connects with a matching secret (both roles)', async () => {
    const socket = path.join(live.dir, 'secret.sock');
    const peer = testpmd({ role: 'server', socket, devargs: ['secret=open-sesame'] });
    await peer.ready();
    const client = ours({ role: 'client', socket, secret: 'open-sesame' });
    await waitForState(client, 'connected');
    await peer.waitFor(DPDK_CONNECTED);

    const socket2 = path.join(live.dir, 'secret2.sock');
    const server = ours({ role: 'server', socket: socket2, secret: 'open-sesame' });
    const peer2 = testpmd({ role: 'client', socket: socket2, devargs: ['secret=open-sesame'] });
    await waitForState(server, 'connected');
    await peer2.waitFor(DPDK_CONNECTED);
  });

  it('surfaces a testpmd server refusing a wrong secret', async () => {
    const socket = path.join(live.dir, 'secret.sock');
    const peer = testpmd({ role: 'server', socket, devargs: ['secret=open-sesame'] });
    await peer.ready();
    const client = ours({ role: 'client', socket, secret: 'wrong' });
    const down = await waitForState(client, 'disconnected');
    expect(down.by).to.equal('peer');
    expect(down.reason).to.equal('Incorrect secret');
    expect(down.retry).to.not.equal(null);
    expect(peer.output).to.not.match(DPDK_CONNECTED);
  });

  it('refuses a testpmd client with a wrong secret and says so to it', async () => {
    const socket = path.join(live.dir, 'secret.sock');
    const server = ours({ role: 'server', socket, secret: 'open-sesame' });
    await waitForState(server, 'listening');
    const peer = testpmd({ role: 'client', socket, devargs: ['secret=wrong'] });
    const down = await waitForState(server, 'disconnected');
    expect(down).to.deep.include({ by: 'local', reason: 'incorrect secret', retry: null });
    await peer.waitFor(/Disconnect received: incorrect secret/);
  });

  it('surfaces a wrong interface id', async () => {
    const socket = path.join(live.dir, 'id.sock');
    const peer = testpmd({ role: 'server', socket, id: 0 });
    await peer.ready();
    const client = ours({ role: 'client', socket, id: 1 });
    const down = await waitForState(client, 'disconnected');
    expect(down.reason).to.equal('ID not found');
  });

  it('connects two interfaces (ids 0 and 1) on one socket, both roles', async () => {
    const socket = path.join(live.dir, 'two.sock');
    const peer = testpmd({ role: 'server', socket, ids: [0, 1], args: ['--nb-cores=1'] });
    await peer.ready();
    const c0 = ours({ role: 'client', socket, id: 0, interfaceName: 'zero' });
    const c1 = ours({ role: 'client', socket, id: 1, interfaceName: 'one' });
    await Promise.all([waitForState(c0, 'connected'), waitForState(c1, 'connected')]);
    await peer.waitFor(/Remote interface zero connected/);
    await peer.waitFor(/Remote interface one connected/);

    const socket2 = path.join(live.dir, 'two-servers.sock');
    const s0 = ours({ role: 'server', socket: socket2, id: 0 });
    const s1 = ours({ role: 'server', socket: socket2, id: 1 });
    const peer2 = testpmd({ role: 'client', socket: socket2, ids: [0, 1] });
    const [a, b] = await Promise.all([
      waitForState(s0, 'connected'),
      waitForState(s1, 'connected'),
    ]);
    expect(a.peer.interfaceName).to.equal('net_memif0');
    expect(b.peer.interfaceName).to.equal('net_memif1');
    await peer2.waitFor(DPDK_CONNECTED);
  });

  it('sees a testpmd server killed with SIGKILL, then reconnects to a new one', async () => {
    const socket = path.join(live.dir, 'kill.sock');
    const first = testpmd({ role: 'server', socket });
    await first.ready();
    const client = ours({ role: 'client', socket });
    await waitForState(client, 'connected');
    const lost = waitForState(client, 'disconnected');
    await first.kill();
    const down = await lost;
    expect(down.by, JSON.stringify(down)).to.equal('peer');
    expect(down.retry).to.deep.equal({ attempt: 1, inMs: 200 });
    // testpmd leaves its socket file behind; a new server needs it gone
    // (docs/interop.md#stale-socket-files).
    fs.rmSync(socket, { force: true });
    const second = testpmd({ role: 'server', socket });
    await second.ready();
    const again = await waitForState(client, 'connected', 20000);
    expect(again.peer.appName).to.match(/^DPDK/);
    await second.waitFor(DPDK_CONNECTED);
  });

  describe('rx-memif connect (CLI)', () => {
    for (const abstract of [false, true]) {
      const label = abstract ? '@name' : 'file';
      it(`as client against a testpmd server (${label}): connected, exit 0`, async () => {
        const name = abstract ? abstractName().slice(1) : path.join(live.dir, 'cli.sock');
        const peer = testpmd({ role: 'server', socket: name, abstract });
        await peer.ready();
        const run = await runCli([
          'connect',
          '--role',
          'client',
          '--socket',
          abstract ? '@' + name : name,
          '--secs',
          '3',
          '--json',
        ]);
        expect(run.code, run.stderr).to.equal(0);
        const lines = run.json();
        expect(
          lines.some(
            (l) => l.event === 'state' && (l.state as { status: string }).status === 'connected',
          ),
        ).to.equal(true);
        expect(lines.at(-1)).to.deep.include({ event: 'summary', connected: true });
        await peer.waitFor(DPDK_CONNECTED);
      });

      it(`as server against a testpmd client (${label}): connected, exit 0`, async () => {
        const name = abstract ? abstractName().slice(1) : path.join(live.dir, 'cli-srv.sock');
        const run = runCli([
          'connect',
          '--role',
          'server',
          '--socket',
          abstract ? '@' + name : name,
          '--secs',
          '5',
          '--json',
        ]);
        await run.waitForLine(/"status":"listening"/);
        const peer = testpmd({ role: 'client', socket: name, abstract });
        const done = await run;
        expect(done.code, done.stderr).to.equal(0);
        expect(done.json().at(-1)).to.deep.include({ event: 'summary', connected: true });
        await peer.waitFor(DPDK_CONNECTED);
      });
    }
  });
});
