import { expect } from 'chai';
import { OptionsError, resolveOptions } from '../../src/index';

describe('options', () => {
  it('applies the defaults of the seed table', () => {
    const o = resolveOptions({});
    expect(o).to.deep.include({
      id: 0,
      role: 'client',
      socket: '/tmp/memif.sock',
      bufferSize: 2048,
      log2RingSize: 10,
      rxQueues: 1,
      txQueues: 1,
      mode: 'ethernet',
      secret: '',
      zeroCopy: false,
      appName: 'rx-memif',
      interfaceName: 'memif0',
      handshakeTimeoutMs: 5000,
    });
    expect(o.retry).to.deep.equal({ initialMs: 1000, factor: 1, maxMs: 1000, maxAttempts: 0 });
    expect(o.mac).to.match(/^02:fe(:[0-9a-f]{2}){4}$/);
  });

  it('accepts master and slave as role aliases', () => {
    expect(resolveOptions({ role: 'master' }).role).to.equal('server');
    expect(resolveOptions({ role: 'slave' }).role).to.equal('client');
    expect(resolveOptions({ role: 'server' }).role).to.equal('server');
  });

  it('keeps valid edge values', () => {
    const o = resolveOptions({
      id: 0xffffffff,
      log2RingSize: 14,
      bufferSize: 65535,
      rxQueues: 255,
      secret: 'x'.repeat(23),
      socket: '@' + 'a'.repeat(106),
      mac: 'AA:BB:CC:DD:EE:FF',
    });
    expect(o.id).to.equal(0xffffffff);
    expect(o.mac).to.equal('aa:bb:cc:dd:ee:ff');
  });

  const rejects = (input: unknown, pattern: RegExp) => {
    let caught: unknown;
    try {
      resolveOptions(input);
    } catch (e) {
      caught = e;
    }
    expect(caught, JSON.stringify(input)).to.be.instanceOf(OptionsError);
    expect((caught as OptionsError).message).to.match(pattern);
    expect((caught as OptionsError).code).to.equal('ERR_MEMIF_OPTIONS');
  };

  it('names the field, the value and the rule of each mistake', () => {
    rejects({ log2RingSize: 15 }, /options\.log2RingSize: must be an integer in 1\.\.14, got 15/);
    rejects({ log2RingSize: 0 }, /log2RingSize/);
    rejects({ id: -1 }, /options\.id: .*got -1/);
    rejects({ id: 2 ** 32 }, /options\.id/);
    rejects({ id: 1.5 }, /options\.id/);
    rejects({ bufferSize: 0 }, /options\.bufferSize: must be an integer in 1\.\.65535, got 0/);
    rejects({ bufferSize: 65536 }, /bufferSize/);
    rejects({ role: 'boss' }, /options\.role: must be server\|client/);
    rejects({ mode: 'eth' }, /options\.mode/);
    rejects({ secret: 'x'.repeat(24) }, /options\.secret: must be a string of at most 23 bytes/);
    rejects({ secret: 'é'.repeat(12) }, /secret/); // 24 bytes in UTF-8
    rejects({ appName: 'n'.repeat(32) }, /options\.appName/);
    rejects({ socket: '/' + 'p'.repeat(107) }, /options\.socket/);
    rejects({ socket: '' }, /options\.socket/);
    rejects({ mac: '02:fe:00' }, /options\.mac: must be a MAC address/);
    rejects({ rxQueues: 0 }, /options\.rxQueues/);
    rejects({ retry: { initialMs: 0 } }, /options\.retry\.initialMs/);
    rejects({ zeroCopy: 'yes' }, /options\.zeroCopy/);
    rejects({ ringSize: 1024 }, /unknown option "ringSize"/);
    rejects(null, /must be an object/);
  });

  it('txHighWater: a fraction of txQueueSize by default, at most txQueueSize', () => {
    expect(resolveOptions({}).txHighWater).to.equal(1024);
    expect(resolveOptions({ txQueueSize: 100 }).txHighWater).to.equal(12);
    expect(resolveOptions({ txQueueSize: 4 }).txHighWater).to.equal(1);
    expect(resolveOptions({ txQueueSize: 100, txHighWater: 100 }).txHighWater).to.equal(100);
    rejects({ txHighWater: 0 }, /options\.txHighWater: must be an integer in 1\.\.16777216, got 0/);
    rejects(
      { txHighWater: 9000 },
      /options\.txHighWater: must be at most txQueueSize \(8192\), got 9000/,
    );
    rejects({ txQueueSize: 10, txHighWater: 11 }, /at most txQueueSize \(10\)/);
  });

  it('reports every broken field at once', () => {
    rejects({ id: -1, bufferSize: 0 }, /options\.id.*; options\.bufferSize/);
  });
});
