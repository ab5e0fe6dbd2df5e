import { expect } from 'chai';
import * as fs from 'node:fs';
import { firstValueFrom, toArray } from 'rxjs';
import { MemifError } from '../../src/index';
import type { MemifOptions } from '../../src/index';
import { loadNative } from '../../src/native-bridge';
import { decodeFrame, encodeFrame } from '../../src/control/codec';
import { abstractName, recordStates, waitForState } from '../helpers/states';
import { useInterfaces } from '../streams/fixture';

/** Two rx-memif interfaces of one process talking to each other over a real socket. */
describe('control plane, in one process', () => {
  const native = loadNative();
  const { make, socket: inDir } = useInterfaces(100);

  it('connects a client and a server on a filesystem socket', async () => {
    const socket = inDir('memif.sock');
    const server = make({ role: 'server', socket, interfaceName: 'srv0', appName: 'server-app' });
    expect(fs.statSync(socket).isSocket()).to.equal(true);
    const client = make({
      role: 'client',
      socket,
      interfaceName: 'cli0',
      appName: 'client-app',
      rxQueues: 2,
      txQueues: 3,
      log2RingSize: 8,
      bufferSize: 1024,
    });
    const [c, s] = await Promise.all([
      waitForState(client, 'connected'),
      waitForState(server, 'connected'),
    ]);
    // Both ends are this process: SO_PEERCRED names it on either side.
    const me = { pid: process.pid, uid: process.getuid?.(), gid: process.getgid?.() };
    expect(c.peer).to.deep.equal({ appName: 'server-app', interfaceName: 'srv0', ...me });
    expect(s.peer).to.deep.equal({ appName: 'client-app', interfaceName: 'cli0', ...me });
    expect(c.queues).to.deep.equal({ rx: 2, tx: 3 });
    expect(s.queues).to.deep.equal({ rx: 3, tx: 2 });
    expect(c.ringSize).to.equal(256);
    expect(s.ringSize).to.equal(256);
    expect(c.bufferSize).to.equal(1024);
    // 5 rings of (128 + 16 * 256) bytes, then 5 * 256 buffers of 1024 bytes
    const size = 5 * (128 + 16 * 256) + 5 * 256 * 1024;
    expect(c.regions).to.deep.equal([{ index: 0, size }]);
    expect(s.regions).to.deep.equal([{ index: 0, size }]);
  });

  it('connects over an abstract socket name', async () => {
    const socket = abstractName();
    const server = make({ role: 'server', socket });
    const client = make({ role: 'client', socket });
    await Promise.all([waitForState(client, 'connected'), waitForState(server, 'connected')]);
  });

  it('serves two interface ids on one socket and removes the file with the last one', async () => {
    const socket = inDir('shared.sock');
    const s0 = make({ role: 'server', socket, id: 0 });
    const s1 = make({ role: 'server', socket, id: 1 });
    const c0 = make({ role: 'client', socket, id: 0, interfaceName: 'zero' });
    const c1 = make({ role: 'client', socket, id: 1, interfaceName: 'one' });
    const [a, b] = await Promise.all([
      waitForState(s0, 'connected'),
      waitForState(s1, 'connected'),
      waitForState(c0, 'connected'),
      waitForState(c1, 'connected'),
    ]);
    expect(a.peer.interfaceName).to.equal('zero');
    expect(b.peer.interfaceName).to.equal('one');
    await s0.close();
    expect(fs.existsSync(socket), 'socket file kept while id 1 is served').to.equal(true);
    await waitForState(c0, 'disconnected');
    await s1.close();
    expect(fs.existsSync(socket), 'socket file removed with the last interface').to.equal(false);
  });

  it('refuses a client with the wrong secret, and says why on both sides', async () => {
    const socket = inDir('secret.sock');
    const server = make({ role: 'server', socket, secret: 'right' });
    const serverStates = recordStates(server);
    const client = make({ role: 'client', socket, secret: 'wrong' });
    const down = await waitForState(client, 'disconnected');
    expect(down.reason).to.equal('incorrect secret');
    expect(down.by).to.equal('peer');
    expect(down.retry).to.deep.equal({ attempt: 2, inMs: 100 });
    expect(serverStates.map((s) => s.status)).to.include('disconnected');
    expect(serverStates.at(-1)?.status).to.equal('listening');
  });

  it('refuses a client without a secret when the server has one', async () => {
    const socket = inDir('secret2.sock');
    make({ role: 'server', socket, secret: 'right' });
    const client = make({ role: 'client', socket });
    expect((await waitForState(client, 'disconnected')).reason).to.equal('secret required');
  });

  it('connects with a matching secret; a server without secret ignores the client one', async () => {
    const socket = inDir('secret3.sock');
    const s0 = make({ role: 'server', socket, id: 0, secret: 'same' });
    const s1 = make({ role: 'server', socket, id: 1 });
    const c0 = make({ role: 'client', socket, id: 0, secret: 'same' });
    const c1 = make({ role: 'client', socket, id: 1, secret: 'anything' });
    await Promise.all([s0, s1, c0, c1].map((i) => waitForState(i, 'connected')));
  });

  it('refuses an unknown interface id and a mode mismatch', async () => {
    const socket = inDir('id.sock');
    make({ role: 'server', socket, id: 3 });
    const wrongId = make({ role: 'client', socket, id: 4 });
    expect((await waitForState(wrongId, 'disconnected')).reason).to.equal(
      'unmatched interface id 4',
    );
    const wrongMode = make({ role: 'client', socket, id: 3, mode: 'ip' });
    expect((await waitForState(wrongMode, 'disconnected')).reason).to.match(/mode mismatch/);
  });

  it('refuses a second client for a connected id with "already connected"', async () => {
    const socket = inDir('busy.sock');
    const server = make({ role: 'server', socket });
    const first = make({ role: 'client', socket });
    await Promise.all([waitForState(server, 'connected'), waitForState(first, 'connected')]);
    const second = make({ role: 'client', socket });
    expect((await waitForState(second, 'disconnected')).reason).to.equal('already connected');
  });

  it('retries until a server appears, and reconnects after the server goes away', async () => {
    const socket = inDir('later.sock');
    const client = make({ role: 'client', socket });
    const failed = await waitForState(client, 'disconnected');
    expect(failed.by).to.equal('local');
    expect(failed.reason).to.match(/ENOENT|no such file/i);
    await waitForState(client, 'connecting', 2000, (s) => s.attempt >= 2);
    const server = make({ role: 'server', socket });
    await waitForState(client, 'connected');
    await server.close();
    const gone = await waitForState(client, 'disconnected', 2000, (s) => s.by === 'peer');
    expect(gone.reason).to.equal('interface closed');
    expect(gone.retry?.attempt).to.equal(1);
    const again = make({ role: 'server', socket });
    await Promise.all([waitForState(client, 'connected'), waitForState(again, 'connected')]);
  });

  it('closes idempotently; state$ ends with closed and replays it to late subscribers', async () => {
    const socket = inDir('close.sock');
    const server = make({ role: 'server', socket });
    const client = make({ role: 'client', socket });
    await waitForState(client, 'connected');
    const all = firstValueFrom(client.state$.pipe(toArray()));
    await Promise.all([client.close(), client.close()]);
    await client.close();
    const seen = await all;
    expect(seen.at(-1)).to.deep.equal({ status: 'closed', role: 'client' });
    expect(await firstValueFrom(client.state$)).to.deep.equal({ status: 'closed', role: 'client' });
    const down = await waitForState(server, 'disconnected');
    expect(down).to.include({ by: 'peer', reason: 'interface closed' });
    await server.close();
    expect(fs.existsSync(socket)).to.equal(false);
  });

  it('throws typed errors for sockets it cannot listen on', () => {
    const expectCode = (options: MemifOptions, code: string) => {
      let caught: unknown;
      try {
        make(options);
      } catch (e) {
        caught = e;
      }
      expect(caught).to.be.instanceOf(MemifError);
      expect((caught as MemifError).code).to.equal(code);
    };
    expectCode({ role: 'server', socket: inDir('missing/x.sock') }, 'ENOENT');
    const socket = inDir('taken.sock');
    make({ role: 'server', socket, id: 0 });
    expectCode({ role: 'server', socket, id: 0 }, 'EEXIST');
  });

  it('drops a peer that connects and never sends INIT (handshake timeout)', async () => {
    const socket = inDir('silent.sock');
    make({ role: 'server', socket, handshakeTimeoutMs: 200 });
    const channel = native.ControlChannel.connect(socket);
    const received: string[] = [];
    const ended = new Promise<void>((resolve) =>
      channel.start(
        (frame, fds) => {
          fds.forEach((fd) => native.closeFd(fd));
          const m = decodeFrame(frame);
          if (m._tag === 'Right') received.push(m.right.type);
        },
        () => resolve(),
      ),
    );
    await ended;
    channel.close();
    expect(received).to.deep.equal(['hello', 'disconnect']);
  });

  it('disconnects a raw peer whose first message is not INIT', async () => {
    const socket = inDir('rude.sock');
    make({ role: 'server', socket });
    const channel = native.ControlChannel.connect(socket);
    const reasons: string[] = [];
    const ended = new Promise<void>((resolve) =>
      channel.start(
        (frame) => {
          const m = decodeFrame(frame);
          if (m._tag === 'Right' && m.right.type === 'hello')
            channel.send(encodeFrame({ type: 'ack' }));
          if (m._tag === 'Right' && m.right.type === 'disconnect') reasons.push(m.right.reason);
        },
        () => resolve(),
      ),
    );
    await ended;
    channel.close();
    expect(reasons).to.deep.equal(['unexpected ACK message, expected INIT']);
  });
});
