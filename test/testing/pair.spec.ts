import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { firstValueFrom, take, toArray } from 'rxjs';
import { loadNative } from '../../src/native-bridge';
import { connectedPair, ethernet, hex } from '../../src/testing';

describe('testing: connectedPair', () => {
  const native = loadNative();
  let baseline = 0;

  beforeEach(() => {
    baseline = native.liveHandles();
  });

  afterEach(() => {
    expect(native.liveHandles(), 'native handles left open').to.equal(baseline);
  });

  it('resolves with both sides connected on a unique abstract socket', async () => {
    const a = await connectedPair();
    const b = await connectedPair();
    try {
      expect(a.socket).to.match(/^@rx-memif-pair-/);
      expect(a.socket).to.not.equal(b.socket);
      for (const iface of [a.server, a.client, b.server, b.client]) {
        const state = await firstValueFrom(iface.state$);
        expect(state.status).to.equal('connected');
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('carries traffic both ways', async () => {
    const pair = await connectedPair({ both: { rxQueues: 2, txQueues: 2 } });
    try {
      const toServer = ethernet({ payload: '01' });
      const toClient = ethernet({ payload: '0202' });
      const atServer = firstValueFrom(pair.server.rx(1).pipe(take(2), toArray()));
      const atClient = firstValueFrom(pair.client.rx(0).pipe(take(1), toArray()));
      pair.client.tx(1).next(toServer);
      pair.client.tx(1).next(toServer);
      pair.server.tx(0).next(toClient);
      expect((await atServer).map((p) => hex(p))).to.deep.equal([hex(toServer), hex(toServer)]);
      expect((await atClient).map((p) => hex(p))).to.deep.equal([hex(toClient)]);
      const rx = pair.server.stats().rx.find((q) => q.queue === 1);
      expect(rx).to.deep.include({ packets: 2, bytes: 2 * toServer.length });
    } finally {
      await pair.close();
    }
  });

  it('with abstract: false, uses a socket file in a temporary directory that close() removes', async () => {
    const pair = await connectedPair({ abstract: false });
    const dir = path.dirname(pair.socket);
    expect(fs.statSync(pair.socket).isSocket()).to.equal(true);
    await pair.close();
    await pair.close();
    expect(fs.existsSync(dir)).to.equal(false);
  });

  it('closes both sides with `await using`', async () => {
    let closed: string[] = [];
    {
      await using pair = await connectedPair();
      pair.server.state$.subscribe((s) => s.status === 'closed' && closed.push('server'));
      pair.client.state$.subscribe((s) => s.status === 'closed' && closed.push('client'));
    }
    closed = closed.sort();
    expect(closed).to.deep.equal(['client', 'server']);
  });

  it('rejects after timeoutMs when the sides cannot connect, leaving nothing open', async () => {
    const error = await connectedPair({
      server: { secret: 'one' },
      client: { secret: 'two' },
      abstract: false,
      timeoutMs: 300,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message).to.match(/not connected within 300 ms/);
  });

  it('rejects invalid options at once', async () => {
    const error = await connectedPair({ client: { bufferSize: 0 } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.have.property('name', 'OptionsError');
  });
});
