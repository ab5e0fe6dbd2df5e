import { expect } from 'chai';
import { helloMessage, routeFirstMessage } from '../../../src/control/handshake/accept';
import type { RouteTable } from '../../../src/control/handshake/accept';
import { ack, addRegion, connect, disconnect, hello, init, memifName, none } from './fixtures';

/** A route table with interfaces 7 (free) and 8 (busy), recording what it was asked. */
const table = (): RouteTable & { readonly asked: number[] } => {
  const asked: number[] = [];
  const known = new Map([
    [7, { busy: false }],
    [8, { busy: true }],
  ]);
  return { asked, lookup: (id) => (asked.push(id), known.get(id)) };
};

describe('handshake/accept: helloMessage', () => {
  it('advertises version 0x0200 only and the limits 255/255/255/14', () => {
    expect(helloMessage(memifName('rx-memif 0.1.0'))).to.deep.equal({
      type: 'hello',
      name: 'rx-memif 0.1.0',
      minVersion: 0x200,
      maxVersion: 0x200,
      maxRegion: 255,
      maxM2SRing: 255,
      maxS2MRing: 255,
      maxLog2RingSize: 14,
    });
  });
});

describe('handshake/accept: routeFirstMessage', () => {
  for (const [name, message] of [
    ['ACK', ack()],
    ['HELLO', hello()],
    ['ADD_REGION', addRegion(0, 4096)],
    ['CONNECT', connect()],
    ['DISCONNECT', disconnect('x')],
    ['NONE', none()],
  ] as const)
    it(`rejects ${name} as first message without looking up any interface`, () => {
      const t = table();
      const route = routeFirstMessage(message, t);
      expect(route.kind).to.equal('reject');
      expect(route)
        .to.have.property('reason')
        .that.matches(/unexpected/)
        .and.matches(/expected INIT/);
      expect(route).to.have.property('reason').that.includes(name);
      expect(t.asked).to.deep.equal([]);
    });

  for (const version of [0x0100, 0x0201, 0x0300, 0])
    it(`rejects INIT version 0x${version.toString(16)} before looking up the id`, () => {
      const t = table();
      const route = routeFirstMessage(init({ version }), t);
      expect(route).to.deep.equal({
        kind: 'reject',
        reason: `incompatible memif version 0x${version.toString(16).padStart(4, '0')}, expected 0x0200`,
      });
      expect(t.asked).to.deep.equal([]);
    });

  it('rejects an id no interface has', () => {
    const t = table();
    expect(routeFirstMessage(init({ id: 9 }), t)).to.deep.equal({
      kind: 'reject',
      reason: 'unmatched interface id 9',
    });
    expect(t.asked).to.deep.equal([9]);
  });

  it('rejects an id whose interface is busy with "already connected"', () => {
    expect(routeFirstMessage(init({ id: 8 }), table())).to.deep.equal({
      kind: 'reject',
      reason: 'already connected',
    });
  });

  it('binds a good INIT to its interface, passing the message on unchanged', () => {
    const t = table();
    const message = init({ id: 7, mode: 'ip', secret: 'whatever', name: 'dpdk' });
    const route = routeFirstMessage(message, t);
    expect(route).to.deep.equal({ kind: 'bind', init: message });
    expect(route).to.have.property('init').that.equals(message);
    expect(t.asked).to.deep.equal([7]);
  });

  it('leaves mode and secret to the interface (checked in serverStep)', () => {
    expect(routeFirstMessage(init({ mode: 'punt-inject', secret: '' }), table()).kind).to.equal(
      'bind',
    );
  });
});
